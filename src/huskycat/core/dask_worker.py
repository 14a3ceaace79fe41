"""The worker's side of :mod:`huskycat.core.dask_backend`: what a task does.

State, per worker process, shared by the tasks' threads under one lock:

- ``_ACTIVE``: the RunContext of every call running here, by task key;
- ``_CANCELLED``: cancellations that arrived before their call started (bounded);
- ``_DEADLINES``: a heap of the running calls' deadlines, nearest first;
- ``LOCAL``: in-process clusters only, the calls of this process's client by key.

One watchdog thread per worker process (started by the first task) cancels a call at its
deadline, tells the process's :class:`~huskycat.core.reaper.Reaper` which process groups
to kill if the worker dies, and stops every call when the worker has lost its scheduler.
Cancellations from the client arrive on the lane (``cancel``), or, for one Dask task per
call, through ``client.run(cancel_keys, ...)``.

:class:`Lane` is the fast path: a client opens a connection to each worker and asks for
the :data:`LANE_OP` handler (installed by :func:`install_lane_handler`), which serves
one lane: calls received in bulk, run on threads of its own (as many as the worker's
capacity), completions written back as they end, so that a call costs the Dask
scheduler nothing. On ``tcp://`` clusters the handler offers a wire of the lane's own
(:mod:`huskycat.core.dask_wire`): a reader thread starts the calls and each call's
thread writes its result itself, no event loop in between; otherwise the lane speaks
:class:`Channel` messages on the Dask connection.
"""

from __future__ import annotations

import asyncio
import atexit
import contextlib
import functools
import heapq
import itertools
import pickle  # nosec B403 - only between huskycat's own client and its workers
import threading
import time
import traceback
from collections.abc import Callable, Iterable
from concurrent.futures import Future
from typing import Any, NamedTuple

import cloudpickle  # type: ignore[import-untyped]
import distributed
from distributed.comm.addressing import get_address_host
from distributed.comm.core import CommClosedError

from huskycat.core.backend import ThreadBackend
from huskycat.core.calls import Returned
from huskycat.core.dask_wire import Listener, Wire
from huskycat.core.process import RunContext
from huskycat.core.reaper import Reaper
from huskycat.core.results import ToolResult, ToolStatus


class ContextSpec(NamedTuple):
    """What a worker needs to build the RunContext of a call made on the client."""

    key: str
    remaining: float | None
    kill_grace: float
    nice: int


_ACTIVE: dict[str, RunContext] = {}
# In-process clusters only: the calls submitted by this process's client, by task key.
LOCAL: dict[str, tuple[Callable[..., Any], tuple[Any, ...]]] = {}
_CANCELLED: dict[str, str] = {}  # cancellations that arrived before their call started
_CANCELLED_LIMIT = 100_000
_WORKER_LOCK = threading.Condition()
_ATEXIT: list[bool] = []
# Deadlines of the calls running here, nearest first, watched by one thread per worker
# process: at its deadline a call's context is cancelled (its commands' own deadline
# kills them too; this also wakes a tool that waits on its context).
_DEADLINES: list[tuple[float, int, str, RunContext]] = []
_SEQUENCE = itertools.count()
_WATCH_INTERVAL = 0.2  # seconds between the watchdog's looks at processes and the scheduler
_WORKER: list[Any] = []  # the distributed.Worker of this process, once a task ran here


def run_local(key: str) -> Any:
    """The task on a worker in the client's process: the call is found by its key."""
    fn, args = LOCAL[key]
    return fn(*args)


def run_remote(fn: Callable[..., Any], args: tuple[Any, ...]) -> Any:
    """The task: ``fn(*args)`` with each context spec made a RunContext of this process."""
    contexts: list[tuple[str, RunContext]] = []
    real: list[Any] = []
    for arg in args:
        if isinstance(arg, ContextSpec):
            deadline = None if arg.remaining is None else time.monotonic() + arg.remaining
            ctx = RunContext(deadline, kill_grace=arg.kill_grace, nice=arg.nice)
            contexts.append((arg.key, ctx))
            real.append(ctx)
        else:
            real.append(arg)
    with _WORKER_LOCK:
        _start_watchdog()
        for key, ctx in contexts:
            _ACTIVE[key] = ctx
            reason = _CANCELLED.pop(key, None)
            if reason is not None:
                ctx.cancel(reason)
            if ctx.deadline is not None:
                heapq.heappush(_DEADLINES, (ctx.deadline, next(_SEQUENCE), key, ctx))
                _WORKER_LOCK.notify()
    try:
        value = fn(*real)
    finally:
        with _WORKER_LOCK:
            for key, _ in contexts:
                _ACTIVE.pop(key, None)
    for _, ctx in contexts:
        overran = ctx.deadline is not None and time.monotonic() >= ctx.deadline
        if isinstance(value, Returned) and (ctx.cancel_reason == "timeout" or overran):
            value = _timed_out(value, ctx, spec_timeout(args))
    return value


def _start_watchdog(worker: Any = None) -> None:
    """Once per process, under ``_WORKER_LOCK``: the watchdog thread and the atexit kill."""
    if _ATEXIT:
        return
    _ATEXIT.append(True)
    if worker is None:
        with contextlib.suppress(ValueError):  # not in a worker (a test calls it)
            worker = distributed.get_worker()
    if worker is not None:
        _WORKER.append(worker)
    atexit.register(_kill_active)
    threading.Thread(target=_watch_deadlines, name="huskycat-deadlines", daemon=True).start()


# What a lane hands back for one call: its key, then the pickled Returned (remote
# clients) or the Returned itself (a client in this process), or LOST_SCHEDULER.
Done = tuple[str, Any]
LOST_SCHEDULER = "lost-scheduler"
LANE_OP = "huskycat-lane"  # the worker's handler that serves a lane on a connection


class Channel:
    """The messages of one lane's connection, once Dask's handshake opened it: over TCP
    (or TLS), length-prefixed pickles written straight to the connection's stream (a
    quarter of the CPU of a Dask message: no msgpack, frames or size estimates); on
    other comms (in-process), Dask's own messages, objects passed as they are.
    Messages are tuples: ``("run", keys, payload)``, ``("cancel", keys)``,
    ``("done", items)``, ``("refused", keys, why)``."""

    def __init__(self, comm: Any, raw: bool) -> None:
        self.comm = comm
        self.stream: Any = getattr(comm, "stream", None) if raw else None

    @staticmethod
    def can_be_raw(comm: Any) -> bool:
        """Whether ``comm`` has a byte stream to write messages to directly."""
        return getattr(comm, "stream", None) is not None

    async def write(self, message: tuple[Any, ...]) -> None:
        if self.stream is None:
            await self.comm.write({"m": message})
            return
        data = pickle.dumps(message, protocol=pickle.HIGHEST_PROTOCOL)
        await self.stream.write(len(data).to_bytes(8, "little") + data)

    async def read(self) -> tuple[Any, ...]:
        if self.stream is None:
            message: tuple[Any, ...] = (await self.comm.read())["m"]
            return message
        head = await self.stream.read_bytes(8)
        data = await self.stream.read_bytes(int.from_bytes(head, "little"))
        # nosec: written by huskycat's own client or lane on this cluster, which trusts
        # its peers as Dask itself does (it unpickles what they send too)
        return pickle.loads(data)  # type: ignore[no-any-return]  # nosec B301


def install_lane_handler(dask_worker: Any) -> None:
    """Run on every worker (``client.run``): let clients open lanes on its connections.
    Idempotent: a second client installs the same handler again."""
    dask_worker.handlers[LANE_OP] = _LaneServer(dask_worker).serve


class _LaneServer:
    """The worker's handler of :data:`LANE_OP`: one connection from a client, one lane."""

    def __init__(self, worker: Any) -> None:
        self.worker = worker

    async def serve(self, comm: Any, threads: int, raw: bool = False, wire: bool = False) -> None:
        """Serve one lane until its client goes: over a :class:`~huskycat.core.dask_wire.Wire`
        if asked (``tcp://`` clusters), else over this connection (:class:`Channel`). The
        client gone (or the connection broken), the lane's calls are cancelled: their
        results could never arrive."""
        if wire:
            await self._serve_wire(comm, threads)
            return
        channel = Channel(comm, raw)
        lane = Lane(threads, self.worker)
        writer = asyncio.ensure_future(lane.send_done(channel))
        try:
            while True:
                try:
                    message = await channel.read()
                except (CommClosedError, OSError):
                    return
                if message[0] == "run":
                    refused = lane.run(message[1], message[2])
                    if refused:
                        await channel.write(("refused", message[1], refused))
                elif message[0] == "cancel":
                    lane.cancel(message[1])
        finally:
            writer.cancel()
            lane.close("the client went away")

    async def _serve_wire(self, comm: Any, threads: int) -> None:
        listener = Listener(get_address_host(self.worker.address))
        await comm.write({"port": listener.port, "token": listener.token})
        try:
            connection = await asyncio.to_thread(listener.accept)
        except OSError:  # the client never came: nothing was started
            return
        loop = asyncio.get_running_loop()
        ended = asyncio.Event()
        lane = Lane(threads, self.worker, connection)
        reader = threading.Thread(
            target=lane.read_wire,
            args=(functools.partial(loop.call_soon_threadsafe, ended.set),),
            name="huskycat-lane-reader",
            daemon=True,
        )
        reader.start()
        try:
            await ended.wait()
        finally:
            connection.close()
            lane.close("the client went away")


class Lane:
    """One client's lane on one worker: calls in bulk, run on ``threads`` daemon threads of
    its own, completions out in bulk (:meth:`send_done`), as many at a time as finished
    while the last message was written. A call that cannot be unpickled here, or whose
    result cannot be pickled, is that call's failure."""

    def __init__(self, threads: int, worker: Any = None, wire: Wire | None = None) -> None:
        self._pool = ThreadBackend(threads)
        self._wire = wire  # None: completions go out through the event loop (send_done)
        self._lock = threading.Lock()
        self._done: list[Done] = []
        self._running: dict[str, Future[Any]] = {}
        self._loop = asyncio.get_running_loop()
        self._wake = asyncio.Event()
        self._worker = worker
        with _WORKER_LOCK:
            _start_watchdog(worker)

    def run(self, keys: list[str], payload: bytes | None) -> str:
        """Start the calls of ``keys``: ``payload`` is the cloudpickled list of their
        ``(fn, args)`` for :func:`run_remote`, or None for the calls of a client in this
        process (found in ``LOCAL``). Returns "", or why ``payload`` of several calls
        cannot be unpickled: the client then sends them one at a time, so that only a
        call that cannot be unpickled fails, as its failure."""
        calls: list[tuple[Callable[..., Any], tuple[Any, ...]]] | None = None
        if payload is not None:
            try:
                calls = cloudpickle.loads(payload)
            except Exception as exc:  # noqa: BLE001 - told to the client, or that call's failure
                if len(keys) > 1:
                    return f"{type(exc).__name__}: {exc}"
                failed = Returned(None, exc, traceback.format_exc(), 0.0)
                self._report(keys[0], pickle.dumps(failed))
                return ""
        local = calls is None
        for index, key in enumerate(keys):
            if calls is None:
                future = self._pool.submit(run_local, key)
            else:
                fn, args = calls[index]
                future = self._pool.submit(_lane_call, fn, args)
            with self._lock:
                self._running[key] = future
            future.add_done_callback(functools.partial(self._finished, key, local))
        return ""

    def read_wire(self, ended: Callable[[], object]) -> None:
        """The wire's reader thread: start and cancel calls until the client goes."""
        assert self._wire is not None
        try:
            while True:
                for message in self._wire.receive():
                    if message[0] == "run":
                        refused = self.run(message[1], message[2])
                        if refused:
                            self._wire.send(("refused", message[1], refused))
                    elif message[0] == "cancel":
                        self.cancel(message[1])
        except OSError:  # WireClosed included: the client went away
            pass
        finally:
            with contextlib.suppress(RuntimeError):  # the worker's loop closed: exiting
                ended()

    async def send_done(self, channel: Channel) -> None:
        """Write what finished, many calls a message, until cancelled."""
        while True:
            await self._wake.wait()
            self._wake.clear()
            with self._lock:
                done, self._done = self._done, []
            if done:
                try:
                    await channel.write(("done", done))
                except (CommClosedError, OSError):
                    return

    def cancel(self, keys: list[str]) -> int:
        """Cancel these calls (as :func:`cancel_keys`) and give each a thread's
        replacement, as the thread backend does for a call the client walked away from."""
        with self._lock:
            futures = [self._running[k] for k in keys if k in self._running]
        for future in futures:
            self._pool.abandon(future)
        return cancel_keys(keys)

    def close(self, reason: str) -> None:
        """The client is gone: stop its calls (their process groups are killed) and let
        the threads end."""
        with self._lock:
            keys = list(self._running)
        cancel_keys(keys, reason)
        self._pool.shutdown(cancel_futures=True)

    def _finished(self, key: str, local: bool, future: Future[Any]) -> None:
        try:
            returned = future.result()
        except BaseException as exc:  # noqa: BLE001 - _lane_call reports, this is a backstop
            returned = Returned(None, exc, traceback.format_exc(), 0.0)
        item: Any = returned
        if self._worker is not None and _scheduler_lost(self._worker):
            item = LOST_SCHEDULER  # its result could be a cancellation the loss caused
        elif not local:
            try:
                item = pickle.dumps(returned, protocol=pickle.HIGHEST_PROTOCOL)
            except Exception as exc:  # noqa: BLE001 - an unpicklable result: its failure
                failure = TypeError(f"the result of {key!r} cannot be sent back: {exc}")
                item = pickle.dumps(Returned(None, failure, "", returned.duration))
        self._report(key, item)

    def _report(self, key: str, item: Any) -> None:
        with self._lock:
            self._running.pop(key, None)
            first = not self._done
            self._done.append((key, item))
        if not first:
            return  # whoever found the list empty sends it, this one included
        if self._wire is not None:
            # This tool's thread writes the message itself: no event loop to wake.
            with self._lock:
                done, self._done = self._done, []
            with contextlib.suppress(OSError):  # the client went away: the reader sees it
                self._wire.send(("done", done))
            return
        # The loop's writer takes everything that came meanwhile: one wake-up for many.
        with contextlib.suppress(RuntimeError):  # the worker's loop closed: it is exiting
            self._loop.call_soon_threadsafe(self._wake.set)


def _lane_call(fn: Callable[..., Any], args: tuple[Any, ...]) -> Returned:
    start = time.perf_counter()
    try:
        value = run_remote(fn, args)
    except BaseException as exc:  # noqa: BLE001 - the call's failure, as a task's would be
        return Returned(None, exc, traceback.format_exc(), time.perf_counter() - start)
    if isinstance(value, Returned):
        return value
    return Returned(value, None, "", time.perf_counter() - start)


def spec_timeout(args: tuple[Any, ...]) -> float | None:
    """The call's time limit: what was left at submission, which the client's scheduler
    made a moment after it set the deadline (microseconds: rounded to milliseconds)."""
    for arg in args:
        if isinstance(arg, ContextSpec) and arg.remaining is not None:
            return round(arg.remaining, 3)
    return None


def _timed_out(returned: Returned, ctx: RunContext, limit: float | None) -> Returned:
    """A call whose deadline passed on this worker: the TIMEOUT result the scheduler
    makes on threads (same message, the output the tool's commands printed), unless the
    tool made a TIMEOUT result of its own."""
    value = returned.value
    if getattr(value, "status", None) == ToolStatus.TIMEOUT:
        return returned
    seconds = limit or 0.0
    result = ToolResult(
        "",  # named by the scheduler (coerce_result)
        False,
        returned.duration,
        output=ctx.captured_output(),
        status=ToolStatus.TIMEOUT,
        error_message=f"timed out after {seconds:g}s",
        metadata={"timeout": seconds},
    )
    return Returned(result, None, "", returned.duration, returned.notes)


def _watch_deadlines() -> None:
    """The worker's one watchdog: deadlines, the reaper's list of process groups, and
    the scheduler connection (a worker cut off from it stops its tools: their results
    could never arrive)."""
    reaper = Reaper()
    while True:
        with _WORKER_LOCK:
            while _DEADLINES and _ACTIVE.get(_DEADLINES[0][2]) is not _DEADLINES[0][3]:
                heapq.heappop(_DEADLINES)  # that call has returned
            wait = _DEADLINES[0][0] - time.monotonic() if _DEADLINES else None
            if wait is None or wait > 0:
                _WORKER_LOCK.wait(_WATCH_INTERVAL if wait is None else min(wait, _WATCH_INTERVAL))
                active = list(_ACTIVE.values())
                due = None
            else:
                due = heapq.heappop(_DEADLINES)[3]
                active = []
        if due is not None:
            due.cancel("timeout")
            continue
        reaper.watch(g for ctx in active for g in ctx.process_groups())
        if active and _scheduler_lost():
            for ctx in active:
                ctx.cancel("the worker lost the Dask scheduler")


def _scheduler_lost(worker: Any = None) -> bool:
    """Whether ``worker`` (default: the first worker a task of this process ran on) has
    lost its scheduler."""
    if worker is None:
        worker = _WORKER[0] if _WORKER else None
    if worker is None:
        return False
    if getattr(worker.status, "name", "running") in ("closing", "closed", "failed"):
        return True
    comm = getattr(getattr(worker, "batched_stream", None), "comm", None)
    return comm is None or bool(comm.closed())


def cancel_keys(keys: Iterable[str], reason: str = "cancelled by the client") -> int:
    """Run on every worker: cancel the calls of ``keys`` (SIGTERM, grace, SIGKILL of their
    process groups, done by the tool's own wait), or remember them if not yet started."""
    found: list[RunContext] = []
    with _WORKER_LOCK:
        for key in keys:
            ctx = _ACTIVE.get(key)
            if ctx is not None:
                found.append(ctx)
            elif len(_CANCELLED) < _CANCELLED_LIMIT:
                _CANCELLED[key] = reason
    for ctx in found:
        ctx.cancel(reason)
    return len(found)


def _kill_active() -> None:
    """The worker process is exiting: no tool process outlives it."""
    with _WORKER_LOCK:
        contexts = list(_ACTIVE.values())
    for ctx in contexts:
        ctx.cancel("worker shutting down")
    for ctx in contexts:
        ctx.kill_all(0.0)
