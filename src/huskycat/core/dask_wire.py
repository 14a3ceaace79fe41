"""A Dask lane's wire: length-prefixed pickles on a plain TCP connection between the
client and one worker, written and read by threads with blocking sockets.

Why not Dask's own messages for a lane's calls: on ``benchmarks/distributed_scale.py``
a Dask message cost about 90 µs of CPU (msgpack, frames, size estimates, tornado) and
each one went through the event loops of both sides, a thread hand-off each way; here a
message is one ``pickle.dumps`` and one ``sendall``, and a tool's thread on the worker
writes its result itself.

The wire is opened through Dask: the worker's lane handler, reached over Dask's comm
(with the cluster's security settings), listens on a fresh port of the worker's own
host and tells the client that port and a random token; the client connects and sends
the token first; a connection without it is closed unread. Only for ``tcp://``
clusters, whose comms are not encrypted either: on others (``tls://``, in-process) the
lane's messages stay Dask messages.
"""

from __future__ import annotations

import contextlib
import hmac
import pickle  # nosec B403 - only between huskycat's own client and its workers
import secrets
import select
import socket
import struct
import threading
from typing import Any

_HEADER = struct.Struct("<Q")  # the length of the pickle that follows
_CHUNK = 1 << 20  # bytes asked of one recv: every message that already arrived
ACCEPT_TIMEOUT = 30.0  # seconds a worker waits for its client to connect and authenticate
TOKEN_BYTES = 16


class WireClosed(ConnectionError):
    """The other side closed the connection (its process ended or it closed the lane)."""


class Wire:
    """One connection; :meth:`send` from any thread, :meth:`receive` from one."""

    def __init__(self, sock: socket.socket) -> None:
        sock.settimeout(None)
        if sock.family in (socket.AF_INET, socket.AF_INET6):
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)  # small messages now
        self._sock = sock
        self._send_lock = threading.Lock()
        self._buffer = bytearray()

    def send(self, message: tuple[Any, ...]) -> None:
        """Pickle ``message`` and write it whole (raises OSError if the peer is gone)."""
        data = pickle.dumps(message, protocol=pickle.HIGHEST_PROTOCOL)
        with self._send_lock:
            self._sock.sendall(_HEADER.pack(len(data)) + data)

    def receive(self, timeout: float | None = None) -> list[tuple[Any, ...]]:
        """Block until a message arrives (or ``timeout`` passes: then []); return every
        whole message received so far. Raises :class:`WireClosed` at the end of the
        stream."""
        while True:
            if timeout is not None:
                readable, _, _ = select.select([self._sock], [], [], timeout)
                if not readable:
                    return []
            chunk = self._sock.recv(_CHUNK)
            if not chunk:
                raise WireClosed("the other side closed the lane's connection")
            self._buffer += chunk
            messages = self._parse()
            if messages:
                return messages

    def _parse(self) -> list[tuple[Any, ...]]:
        messages: list[tuple[Any, ...]] = []
        buffer, start = self._buffer, 0
        while len(buffer) - start >= _HEADER.size:
            (size,) = _HEADER.unpack_from(buffer, start)
            end = start + _HEADER.size + size
            if len(buffer) < end:
                break
            # nosec: from a peer that presented this lane's token, huskycat's own client
            # or worker, trusted as Dask trusts them (it unpickles what they send too)
            messages.append(pickle.loads(buffer[start + _HEADER.size : end]))  # nosec B301
            start = end
        del buffer[:start]
        return messages

    def close(self) -> None:
        """Close the connection; a :meth:`receive` in progress ends with WireClosed."""
        with contextlib.suppress(OSError):
            self._sock.shutdown(socket.SHUT_RDWR)
        with contextlib.suppress(OSError):
            self._sock.close()


class Listener:
    """The worker's side of opening a wire: a port on ``host`` and the token to present."""

    def __init__(self, host: str) -> None:
        self._sock = socket.create_server((host, 0))
        self._sock.settimeout(ACCEPT_TIMEOUT)
        self.port = int(self._sock.getsockname()[1])
        self.token = secrets.token_bytes(TOKEN_BYTES)

    def accept(self) -> Wire:
        """The first connection that presents the token (others are closed), within
        :data:`ACCEPT_TIMEOUT` seconds (else OSError). The port is closed after."""
        try:
            while True:
                conn, _ = self._sock.accept()
                conn.settimeout(ACCEPT_TIMEOUT)
                try:
                    presented = _read_exactly(conn, TOKEN_BYTES)
                except OSError:
                    conn.close()
                    continue
                if hmac.compare_digest(presented, self.token):
                    return Wire(conn)
                conn.close()
        finally:
            self._sock.close()


def connect(host: str, port: int, token: bytes, timeout: float) -> Wire:
    """The client's side: connect to a worker's listener and present its token."""
    sock = socket.create_connection((host, port), timeout=timeout)
    try:
        sock.sendall(token)
    except OSError:
        sock.close()
        raise
    return Wire(sock)


def _read_exactly(conn: socket.socket, size: int) -> bytes:
    data = b""
    while len(data) < size:
        chunk = conn.recv(size - len(data))
        if not chunk:
            raise WireClosed("closed before presenting a token")
        data += chunk
    return data
