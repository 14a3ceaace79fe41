"""A lane's wire: messages whole and in order however the bytes arrive, a connection
without the token closed unread, the end of the stream told as WireClosed."""

from __future__ import annotations

import socket
import threading

import pytest

from huskycat.core.dask_wire import TOKEN_BYTES, Listener, Wire, WireClosed, connect


def _pair() -> tuple[Wire, Wire]:
    listener = Listener("127.0.0.1")
    accepted: list[Wire] = []
    thread = threading.Thread(target=lambda: accepted.append(listener.accept()))
    thread.start()
    client = connect("127.0.0.1", listener.port, listener.token, timeout=10)
    thread.join(10)
    return client, accepted[0]


def test_messages_arrive_whole_and_in_order_many_per_receive() -> None:
    client, worker = _pair()
    sent = [("run", [f"k{i}"], bytes(i * 1000)) for i in range(50)]
    for message in sent:
        client.send(message)
    received: list[tuple[object, ...]] = []
    while len(received) < len(sent):
        received.extend(worker.receive(timeout=10))
    assert received == sent
    client.close()
    worker.close()


def test_a_message_split_across_reads_is_put_back_together() -> None:
    capture_in, capture_out = socket.socketpair()
    Wire(capture_in).send(("done", [("key", b"x" * 5000)]))
    capture_in.close()
    frame = b""
    while chunk := capture_out.recv(65536):
        frame += chunk
    left, right = socket.socketpair()
    wire = Wire(right)
    received: list[tuple[object, ...]] = []
    reader = threading.Thread(target=lambda: received.extend(wire.receive(timeout=10)))
    reader.start()
    for start in range(0, len(frame), 7):  # seven bytes at a time
        left.sendall(frame[start : start + 7])
    reader.join(10)
    assert received == [("done", [("key", b"x" * 5000)])]
    left.close()
    with pytest.raises(WireClosed):
        wire.receive(timeout=10)


def test_receive_with_a_timeout_returns_nothing_when_nothing_came() -> None:
    client, worker = _pair()
    assert worker.receive(timeout=0.05) == []
    client.close()
    worker.close()


def test_a_connection_without_the_token_is_closed_and_the_right_one_accepted() -> None:
    listener = Listener("127.0.0.1")
    accepted: list[Wire] = []
    thread = threading.Thread(target=lambda: accepted.append(listener.accept()))
    thread.start()
    intruder = socket.create_connection(("127.0.0.1", listener.port), timeout=10)
    intruder.sendall(b"\0" * TOKEN_BYTES)
    assert intruder.recv(1) == b""  # closed unread
    intruder.close()
    client = connect("127.0.0.1", listener.port, listener.token, timeout=10)
    thread.join(10)
    client.send(("cancel", ["k"]))
    assert accepted[0].receive(timeout=10) == [("cancel", ["k"])]
    client.close()
    accepted[0].close()
