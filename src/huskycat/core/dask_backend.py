"""Run the scheduler's calls on a Dask ``distributed`` cluster.

huskycat's scheduler stays on the client and owns the graph; this backend only places
the calls it submits (ready tools) on the cluster's workers. Imported only when a
cluster is asked for: importing ``distributed`` costs the CLI about a second.

Two ways (``lanes``). By default each worker serves one lane for this client
(:class:`~huskycat.core.dask_worker.Lane`), opened through a handler that ``client.run``
installs on the workers; the Dask scheduler does no work per call (a Dask task costs it
about 1.5 ms)::

    scheduler loop: submit --> outbox --> sender thread: places each call on the lane
      ^                                   with the most free slots that has room for
      |                                   its weight; one "run" message per lane
      |                                          |  wire (tcp://): pickles on a socket
      |                                          v  of the lane's own; else Dask messages
      |                                   worker: the lane's reader thread starts the
      |                                   calls on the lane's threads; each call's
      |                                   thread writes its result ("done") itself
    futures <-- a reader thread per lane: every message that arrived, as one batch

A worker that dies breaks its lane's connection: its calls are retried elsewhere. With
``lanes=False``, one Dask task per call, as drawn here:

::

    client (this process)                      worker process
    ---------------------                      --------------
    scheduler loop
      submit(call, tool, ctx) --- task key --> run_remote: a fresh RunContext with the
        ctx stays here; the task gets           same time left, kill grace and niceness;
        a ContextSpec in its place              call(tool, ctx) -> Returned
      abandon(future) -- canceller thread -->  cancel_keys: ctx.cancel(): SIGTERM, grace,
                         (client.run)           SIGKILL of the tool's process groups
    collector thread <-- done futures, gathered in batches --- Returned
      KilledWorker: resubmit (bounded), note it in the result
      scheduler lost: ClusterError on the future; the run ends

Dask cannot stop a running task, so the task enforces the tool's deadline itself (the
tool's commands run under the worker-side RunContext) and a cancellation reaches it as a
message (the worker's side: :mod:`huskycat.core.dask_worker`). Workers need huskycat
installed (the tasks call into it); tool callables are pickled with cloudpickle,
closures included.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import os
import pickle  # nosec B403 - only between huskycat's own client and its workers
import queue
import threading
import time
import traceback
import uuid
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, NamedTuple, TypeVar

import cloudpickle  # type: ignore[import-untyped]
import distributed
from distributed.comm.addressing import get_address_host
from distributed.comm.core import connect

from huskycat.core.calls import Returned
from huskycat.core.dask_wire import Wire
from huskycat.core.dask_wire import connect as wire_connect
from huskycat.core.dask_worker import (
    LANE_OP,
    LOCAL,
    LOST_SCHEDULER,
    Channel,
    ContextSpec,
    cancel_keys,
    install_lane_handler,
    run_local,
    run_remote,
)
from huskycat.core.process import RunContext

T = TypeVar("T")

logger = logging.getLogger("huskycat")

DEFAULT_RETRIES = 2  # times a call is run again after its worker died while running it
RESOURCE = "slots"  # the worker resource that holds tools' weights, when workers declare it
_ANSWER_MARGIN = 1.0  # seconds a worker has past a call's deadline and kill grace to answer
_WIRE_TIMEOUT = 30.0  # seconds to connect to a worker's lane port
_WIRE_POLL = 1.0  # seconds a wire's reader waits before it looks at the client's status
_FLUSH_TIMEOUT = 10.0  # seconds shutdown waits for cancellations to reach the workers


class ClusterError(Exception):
    """The cluster cannot run the graph: unreachable, lost, or too small for a tool."""


class Prepared(NamedTuple):
    """What a tool with a client side (``prepare()``) hands over:
    its value when the client alone could make it, else the part to run on a worker
    and what the client does with that part's value."""

    value: object | None
    remote: Callable[[], object] | None = None
    finish: Callable[[object], object] | None = None


@dataclass(slots=True)
class _Call:
    """One submitted call: its client-side future and the Dask task currently running it."""

    future: Future[Any]
    fn: Callable[..., Any]
    args: tuple[Any, ...]
    name: str
    resources: dict[str, int] | None
    task: Any = None  # distributed.Future
    attempts: int = 1
    notes: list[str] = field(default_factory=list)
    abandoned: bool = False
    finish: Callable[[object], object] | None = None
    weight: int = 1
    key: str = ""
    lane: _Lane | None = None  # lanes: where it runs, once placed
    specs: tuple[Any, ...] = ()  # lanes: the args as sent (contexts made specs)


@dataclass(slots=True, eq=False)
class _Lane:
    """The client's side of one worker's :class:`~huskycat.core.dask_worker.Lane`."""

    address: str
    free: int
    channel: Channel | None = None  # its messages as Dask messages (not tcp://)...
    wire: Wire | None = None  # ...or on a wire of its own (tcp://)
    comm: Any = None  # the Dask connection that opened the wire
    calls: dict[str, _Call] = field(default_factory=dict)
    alive: bool = True


class DaskBackend:
    """A :class:`~huskycat.core.backend.Backend` over a ``distributed.Client``.

    One instance serves any number of runs (``shutdown`` ends a run, not the client;
    closing the client is its owner's business).

    Args:
        client: a connected ``distributed.Client``.
        retries: times a call runs again on another worker after the worker running it
            died; each retry is noted in the tool's result.
        resource: when every worker declares this resource (``dask worker --resources
            "slots=4"``), a tool of weight ``w`` takes ``w`` of it; otherwise each
            worker's thread count is its capacity.
        lanes: run calls through one lane per worker (a ``Lane``) that takes calls and
            hands back completions in bulk, over direct connections to the workers,
            instead of one Dask task per call: the scheduler does no work per call. The
            client places each call on a worker with room for its weight; a worker
            that dies is found by its lane's connection, its calls retried. Off: one
            task per call (``pure=False``, a key naming the tool), placed by Dask's
            scheduler with the weight as a resource.
        wire: on ``tcp://`` clusters, each lane's messages go on a TCP connection of
            its own (:mod:`huskycat.core.dask_wire`: a port the worker offers, with a
            token), read and written by threads, a quarter of a Dask message's CPU and
            no event loop in between; a worker whose port cannot be reached keeps Dask
            messages. Off: Dask messages on every lane.
    """

    def __init__(
        self,
        client: distributed.Client,
        *,
        retries: int = DEFAULT_RETRIES,
        resource: str = RESOURCE,
        lanes: bool = True,
        wire: bool = True,
    ) -> None:
        self.client = client
        self.retries = retries
        self.address = str(client.scheduler.address) if client.scheduler else "?"
        workers = client.scheduler_info(n_workers=-1).get("workers", {})
        if not workers:
            raise ClusterError(f"the Dask cluster at {self.address} has no workers")
        declared = [w.get("resources", {}).get(resource) for w in workers.values()]
        self.resource: str | None = resource if all(d for d in declared) else None
        if self.resource is not None:
            capacities = [int(d) for d in declared]
        else:
            capacities = [int(w.get("nthreads", 1)) for w in workers.values()]
        self.capacities = tuple(capacities)
        self.inprocess = self.address.startswith("inproc://")
        self._lock = threading.Lock()
        self._calls: dict[str, _Call] = {}  # task key -> call, while not resolved
        self._by_future: dict[Future[Any], _Call] = {}
        self._done: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self._cancels: queue.SimpleQueue[tuple[list[str], threading.Event | None]] = (
            queue.SimpleQueue()
        )
        self._lost: str | None = None  # why the scheduler is gone, once it is
        self._prefix = uuid.uuid4().hex[:10]
        self._count = itertools.count()
        # Client-side parts of tools (e.g. results looked up), off the scheduler's loop.
        self._client_side = ThreadPoolExecutor(
            max(2, os.cpu_count() or 2), thread_name_prefix="huskycat-client-side"
        )
        self._lanes: list[_Lane] = []
        # Lanes: calls to place, and None to look again at those waiting for room.
        self._outbox: queue.SimpleQueue[_Call | None] = queue.SimpleQueue()
        self._pending: list[_Call] = []  # lanes: calls no worker has room for yet
        self.wire = wire
        # Lanes: messages exchanged with the workers, for benchmarks: "run" (calls sent),
        # "done" (completions received).
        self.messages = {"run": 0, "done": 0}
        for target, name in ((self._collect, "collector"), (self._cancel, "canceller")):
            threading.Thread(target=target, name=f"huskycat-dask-{name}", daemon=True).start()
        if lanes:
            self._lanes = self._open_lanes(list(workers), capacities)
            for lane in self._lanes:
                if lane.wire is not None:
                    threading.Thread(
                        target=self._read_wire, args=(lane,), name="huskycat-lane", daemon=True
                    ).start()
                else:
                    self._loop().add_callback(self._read, lane)
            threading.Thread(target=self._sender, name="huskycat-dask-sender", daemon=True).start()

    def _open_lanes(self, addresses: list[str], capacities: list[int]) -> list[_Lane]:
        try:
            self.client.run(install_lane_handler, workers=addresses)
            lanes: list[_Lane] = self.client.sync(  # type: ignore[no-untyped-call]
                self._connect, addresses, capacities
            )
        except Exception as exc:
            raise ClusterError(
                f"cannot start huskycat's lanes on the Dask cluster at {self.address}: "
                f"{type(exc).__name__}: {exc}"
            ) from exc
        return lanes

    async def _connect(self, addresses: list[str], capacities: list[int]) -> list[_Lane]:
        """One connection to each worker, serving a lane (``LANE_OP``); with the
        client's security settings, straight to the worker."""
        lanes: list[_Lane] = []
        for address, capacity in zip(addresses, capacities, strict=True):
            lane = None
            if self.wire and address.startswith("tcp://"):
                lane = await self._connect_wire(address, capacity)
            if lane is None:
                comm = await connect(  # type: ignore[no-untyped-call]
                    address, timeout=60, **self.client.connection_args
                )
                raw = Channel.can_be_raw(comm)
                await comm.write({"op": LANE_OP, "threads": capacity, "raw": raw, "reply": False})
                lane = _Lane(address, capacity, channel=Channel(comm, raw))
            lanes.append(lane)
        return lanes

    async def _connect_wire(self, address: str, capacity: int) -> _Lane | None:
        """A lane on a wire of its own; None if the worker's port cannot be reached (a
        firewall): the lane then speaks Dask messages."""
        comm = await connect(  # type: ignore[no-untyped-call]
            address, timeout=60, **self.client.connection_args
        )
        await comm.write({"op": LANE_OP, "threads": capacity, "wire": True, "reply": False})
        offer = await comm.read()
        host = get_address_host(address)
        try:
            wire = await asyncio.to_thread(
                wire_connect, host, int(offer["port"]), offer["token"], _WIRE_TIMEOUT
            )
        except OSError as exc:
            logger.warning(
                "cannot reach the lane port %s:%s of %s (%s): its calls go as Dask messages",
                host,
                offer["port"],
                address,
                exc,
            )
            comm.abort()
            return None
        return _Lane(address, capacity, wire=wire, comm=comm)

    def close(self) -> None:
        """Close the lanes (their workers stop what is left of their calls). The client
        stays open: it is its owner's."""
        loop = self.client.loop
        for lane in self._lanes:
            lane.alive = False
            if lane.wire is not None:
                lane.wire.close()
            comm = lane.comm if lane.channel is None else lane.channel.comm
            if comm is not None and loop is not None:
                with contextlib.suppress(RuntimeError):  # the loop is closed: so is the comm
                    loop.add_callback(comm.abort)  # comms belong to the client's loop

    # --- what the scheduler asks -----------------------------------------------------
    def total_slots(self) -> int:
        """Every worker's capacity added up: the scheduler's slots."""
        return sum(self.capacities)

    def check_weight(self, name: str, weight: int) -> None:
        """Raise :class:`ClusterError` if no worker could ever take a call of ``weight``."""
        if weight > max(self.capacities):
            what = f"{self.resource!r} resource" if self.resource else "threads"
            raise ClusterError(
                f"tool {name!r} needs {weight} slots but no worker of the Dask cluster at "
                f"{self.address} has that many {what} (most: {max(self.capacities)})"
            )

    def submit(
        self, fn: Callable[..., T], /, *args: Any, name: str = "", weight: int = 1
    ) -> Future[T]:
        if self._lost is not None:
            raise ClusterError(self._lost)
        self.check_weight(name, weight)
        future: Future[T] = Future()
        future.set_running_or_notify_cancel()
        resources = {self.resource: weight} if self.resource is not None else None
        call = _Call(future, fn, args, name or getattr(fn, "__name__", "call"), resources)
        call.weight = weight
        with self._lock:
            self._by_future[future] = call
        if any(hasattr(a, "prepare") for a in args):
            self._client_side.submit(self._prepare, call)
        else:
            self._start(call)
        return future

    def abandon(self, future: Future[Any]) -> None:
        with self._lock:
            call = self._by_future.pop(future, None)
            if call is None or call.abandoned:
                return
            call.abandoned = True
            if call.lane is not None:
                call.lane.free += call.weight  # its lane starts a thread in its place
            key = call.key or None
        if key is not None:
            self._cancels.put(([key], None))

    def shutdown(self, *, cancel_futures: bool = False) -> None:
        """End a run: abandon what is left and wait (bounded) until the workers were told."""
        with self._lock:
            left = list(self._by_future)
        for future in left:
            self.abandon(future)
        flushed = threading.Event()
        self._cancels.put(([], flushed))
        flushed.wait(_FLUSH_TIMEOUT)

    # --- submitting --------------------------------------------------------------------
    def _start(self, call: _Call) -> None:
        # Unique on the scheduler, which other clients may share: this backend's own
        # random prefix, then a count (a uuid per task cost 0.15 ms of the client's time).
        key = f"huskycat-{call.name}-{self._prefix}-{next(self._count)}"
        with self._lock:
            self._calls[key] = call
            call.key = key
        if self._lanes:
            self._start_in_lane(call)
            return
        if self.inprocess:
            # Workers share this process: hand the call over by reference, context
            # included, so that tools need not be picklable and the scheduler's own
            # cancellations reach them directly (as on the thread backend).
            LOCAL[key] = (call.fn, call.args)
            task_fn: Callable[..., Any] = run_local
            task_args: tuple[Any, ...] = (key,)
        else:
            specs = tuple(_spec(a, key) for a in call.args)
            task_fn, task_args = run_remote, (call.fn, specs)
        try:
            task = self.client.submit(
                task_fn, *task_args, key=key, pure=False, resources=call.resources
            )
        except Exception as exc:
            with self._lock:
                del self._calls[key]
            LOCAL.pop(key, None)
            if self.client.status != "running":
                self._lose(f"{type(exc).__name__}: {exc}")
                raise ClusterError(self._lost or str(exc)) from exc
            # The client works but cannot send this call (a tool that cannot be
            # pickled): that tool's failure, as if it had crashed.
            failure = ClusterError(f"cannot send {call.name!r} to the cluster: {exc}")
            _set(call, Returned(None, failure, traceback.format_exc(), 0.0, tuple(call.notes)))
            with self._lock:
                self._by_future.pop(call.future, None)
            return
        call.task = task
        task.add_done_callback(self._done.put)  # type: ignore[no-untyped-call]

    # --- lanes -------------------------------------------------------------------------
    def _start_in_lane(self, call: _Call) -> None:
        if self.inprocess:
            LOCAL[call.key] = (call.fn, call.args)
        else:
            call.specs = tuple(_spec(a, call.key) for a in call.args)
        self._outbox.put(call)

    def _kick(self) -> None:
        """Have the sender look again at the calls waiting for room."""
        self._outbox.put(None)

    def _loop(self) -> Any:
        """The client's event loop, where lanes' Dask messages are sent and received."""
        loop = self.client.loop
        if loop is None:
            raise ClusterError(f"the client of the Dask cluster at {self.address} is closed")
        return loop

    def _sender(self) -> None:
        """The sender thread: takes every call submitted since it last looked (one
        wake-up for the scheduler's burst of submissions), places them, sends each lane
        its calls in one message."""
        while True:
            items = [self._outbox.get()]
            while True:
                try:
                    items.append(self._outbox.get_nowait())
                except queue.Empty:
                    break
            try:
                for lane, batch in self._place([c for c in items if c is not None]).items():
                    if lane.wire is not None:
                        self._send_wire(lane, batch)
                    else:
                        self._loop().add_callback(self._send, lane, batch)
            except Exception:  # this thread must live as long as the backend
                logger.exception("huskycat's Dask sender failed")

    def _place(self, items: list[_Call]) -> dict[_Lane, list[_Call]]:
        """Place the calls waiting on lanes with room for them (the lane with the most
        free slots first), by lane."""
        batches: dict[_Lane, list[_Call]] = {}
        with self._lock:
            self._pending.extend(items)
            waiting: list[_Call] = []
            for call in self._pending:
                if call.abandoned or call.future.done():
                    self._calls.pop(call.key, None)
                    LOCAL.pop(call.key, None)
                    continue
                lane = max((w for w in self._lanes if w.alive), key=lambda w: w.free, default=None)
                if lane is None or lane.free < call.weight:
                    waiting.append(call)
                    continue
                lane.free -= call.weight
                lane.calls[call.key] = call
                call.lane = lane
                batches.setdefault(lane, []).append(call)
            self._pending = waiting
            stranded = bool(waiting) and not any(w.alive for w in self._lanes)
        if stranded:
            self._lose("no worker is left")
        return batches

    def _payload(self, lane: _Lane, calls: list[_Call]) -> bytes | None | list[list[_Call]]:
        """The calls pickled together (a function pickled by value once, not once per
        call), None in-process; if they cannot be pickled together, the calls one by one
        to send alone, so that only a call that cannot be sent fails."""
        if self.inprocess:
            return None
        try:
            payload: bytes = cloudpickle.dumps([(c.fn, c.specs) for c in calls])
            return payload
        except Exception as exc:  # noqa: BLE001 - that call's failure, not the others'
            if len(calls) > 1:
                return [[call] for call in calls]
            self._cannot_send(lane, calls[0], exc)
            return []

    def _send_wire(self, lane: _Lane, calls: list[_Call]) -> None:
        """Send a lane its calls in one message on its wire (from any thread)."""
        assert lane.wire is not None
        payload = self._payload(lane, calls)
        if isinstance(payload, list):
            for alone in payload:
                self._send_wire(lane, alone)
            return
        self.messages["run"] += 1
        try:
            lane.wire.send(("run", [c.key for c in calls], payload))
        except Exception as exc:  # noqa: BLE001 - its worker died: retried elsewhere
            self._lane_failed(lane, exc)

    async def _send(self, lane: _Lane, calls: list[_Call]) -> None:
        """Send a lane its calls in one Dask message (on the client's event loop)."""
        assert lane.channel is not None
        payload = self._payload(lane, calls)
        if isinstance(payload, list):
            for alone in payload:
                await self._send(lane, alone)
            return
        self.messages["run"] += 1
        try:
            # A message's bytes are queued at once: concurrent writes of several
            # messages on one connection do not interleave.
            await lane.channel.write(("run", [c.key for c in calls], payload))
        except Exception as exc:  # noqa: BLE001 - its worker died: retried elsewhere
            self._lane_failed(lane, exc)

    def _refused(self, lane: _Lane, keys: list[str], why: str) -> list[_Call]:
        """The worker could not unpickle these calls together: they go one at a time."""
        logger.debug("%s cannot unpickle %d calls at once: %s", lane.address, len(keys), why)
        with self._lock:
            return [lane.calls[k] for k in keys if k in lane.calls]

    async def _resend(self, lane: _Lane, keys: list[str], why: str) -> None:
        for call in self._refused(lane, keys, why):
            await self._send(lane, [call])

    def _cannot_send(self, lane: _Lane, call: _Call, exc: Exception) -> None:
        """The client works but cannot send this call (a tool that cannot be pickled):
        that tool's failure, as if it had crashed."""
        with self._lock:
            if lane.calls.pop(call.key, None) is not None and not call.abandoned:
                lane.free += call.weight
            self._calls.pop(call.key, None)
            self._by_future.pop(call.future, None)
        failure = ClusterError(f"cannot send {call.name!r} to the cluster: {exc}")
        tb = "".join(traceback.format_exception(exc))
        _set(call, Returned(None, failure, tb, 0.0, tuple(call.notes)))
        self._kick()

    async def _read(self, lane: _Lane) -> None:
        """Hand back what one lane's worker finished, many at a time, until it is gone
        (Dask messages, on the client's event loop)."""
        assert lane.channel is not None
        while lane.alive:
            try:
                message = await lane.channel.read()
            except Exception as exc:  # noqa: BLE001 - the worker died, or the client closed
                self._lane_failed(lane, exc)
                return
            if message[0] == "refused":
                asyncio.ensure_future(self._resend(lane, message[1], message[2]))
            elif not self._completed(lane, message[1]):
                return

    def _read_wire(self, lane: _Lane) -> None:
        """A wire's reader thread: every message that arrived, resolved as one batch."""
        assert lane.wire is not None
        while lane.alive:
            try:
                messages = lane.wire.receive(_WIRE_POLL)
            except Exception as exc:  # noqa: BLE001 - the worker died, or the client closed
                self._lane_failed(lane, exc)
                return
            if not messages and self.client.status in ("closing", "closed"):
                self.close()  # its owner closed the client without closing this backend
                return
            done: list[tuple[str, Any]] = []
            for message in messages:
                if message[0] == "refused":
                    for call in self._refused(lane, message[1], message[2]):
                        self._send_wire(lane, [call])
                else:
                    done.extend(message[1])
            if done and not self._completed(lane, done):
                return

    def _completed(self, lane: _Lane, done: list[tuple[str, Any]]) -> bool:
        """Resolve what a lane finished; False once the client is closing."""
        self.messages["done"] += 1
        if self.client.status != "running" or any(v == LOST_SCHEDULER for _, v in done):
            self._lose(f"the client is {self.client.status}")
            return self.client.status not in ("closing", "closed")
        try:
            self._resolve_lane(lane, done)
        except Exception:  # the reader must live as long as the lane
            logger.exception("huskycat's Dask lane reader failed")
        if done and self._pending:
            self._kick()  # room on this lane for a call that waits
        return True

    def _resolve_lane(self, lane: _Lane, done: list[tuple[str, Any]]) -> None:
        """Resolve a batch: first the bookkeeping and unpickling of every call, then the
        futures one after the other, so that the scheduler's thread, woken by the first,
        finds the whole batch (not one call per wake-up)."""
        calls: list[_Call | None] = []
        with self._lock:
            for key, _ in done:
                call = lane.calls.pop(key, None)
                if call is not None:
                    if not call.abandoned:
                        lane.free += call.weight
                    self._calls.pop(key, None)
                    self._by_future.pop(call.future, None)
                LOCAL.pop(key, None)
                calls.append(call)
        ready: list[tuple[_Call, Returned]] = []
        for call, (_, item) in zip(calls, done, strict=True):
            if call is None or call.abandoned:
                continue
            # nosec: pickled by huskycat's own lane on a worker of this cluster
            returned: Returned = pickle.loads(item) if isinstance(item, bytes) else item  # nosec
            returned = returned._replace(notes=tuple(call.notes))
            if call.finish is not None and returned.error is None:
                self._client_side.submit(self._finish, call, returned)
            else:
                ready.append((call, returned))
        for call, returned in ready:
            _set(call, returned)

    def _lane_failed(self, lane: _Lane, exc: BaseException) -> None:
        """A lane's connection failed: its worker died (retry its calls elsewhere), or
        the client or scheduler is gone (the run ends)."""
        if self.client.status != "running":
            self._lose(f"the client is {self.client.status}")
            return
        with self._lock:
            if not lane.alive:
                return
            lane.alive = False
            calls = [c for c in lane.calls.values() if not c.abandoned]
            lane.calls.clear()
            for call in calls:
                self._calls.pop(call.key, None)
                LOCAL.pop(call.key, None)
        if lane.wire is not None:
            lane.wire.close()
        logger.warning("lane on %s failed: %s: %r", lane.address, type(exc).__name__, exc)
        for call in calls:
            call.lane = None
            note = f"worker {lane.address} died while running {call.name!r}"
            if self._retried(call, note):
                continue
            died = ClusterError(note)
            _set(call, Returned(None, died, "", 0.0, tuple(call.notes)))
        self._kick()

    # --- results -----------------------------------------------------------------------
    def _collect(self) -> None:
        """Gather finished tasks in batches (one round trip for many) and resolve futures."""
        while True:
            batch = [self._done.get()]
            while True:
                try:
                    batch.append(self._done.get_nowait())
                except queue.Empty:
                    break
            try:
                self._resolve(batch)
            except Exception:  # this thread must live as long as the backend
                logger.exception("huskycat's Dask collector failed")

    def _resolve(self, tasks: list[Any]) -> None:
        finished = {t.key: t for t in tasks if t.status == "finished"}
        values: dict[str, Any] = {}
        if finished:
            try:
                # "skip": a task abandoned (cancelled) since it finished is left out.
                gather = self.client.gather
                values = gather(finished, errors="skip")  # type: ignore[no-untyped-call]
            except Exception as exc:  # noqa: BLE001 - gathering needs the scheduler
                self._lose(f"{type(exc).__name__}: {exc}")
                return
        for task in tasks:
            call = self._pop(task.key)
            if call is None or call.abandoned:
                continue
            if task.key in values:
                returned = values[task.key]._replace(notes=tuple(call.notes))
                if call.finish is not None and returned.error is None:
                    self._client_side.submit(self._finish, call, returned)
                else:
                    _set(call, returned)
            elif task.status == "error":
                self._failed(call, task)
            else:  # cancelled, or its result lost, without being abandoned
                if self.client.status == "running":
                    why = f"the cluster dropped {task.key!r} ({task.status})"
                else:
                    why = f"the client is {self.client.status}"
                self._lose(why)
                call.future.set_exception(ClusterError(self._lost or why))

    def _prepare(self, call: _Call) -> None:
        """Run the client side of a tool, then send the rest to the cluster (or not)."""
        start = time.perf_counter()
        try:
            args = list(call.args)
            for index, arg in enumerate(args):
                if hasattr(arg, "prepare"):
                    prepared: Prepared = arg.prepare()
                    if prepared.remote is None:
                        value = Returned(prepared.value, None, "", time.perf_counter() - start)
                        self._forget(call)
                        _set(call, value)
                        return
                    args[index] = prepared.remote
                    call.finish = prepared.finish
            call.args = tuple(args)
            if not call.abandoned:
                self._start(call)
        except ClusterError as lost:
            call.future.set_exception(lost)
        except Exception as exc:  # noqa: BLE001 - the tool's failure, as on a thread
            self._forget(call)
            tb = traceback.format_exc()
            _set(call, Returned(None, exc, tb, time.perf_counter() - start))

    def _finish(self, call: _Call, returned: Returned) -> None:
        assert call.finish is not None
        try:
            value = call.finish(returned.value)
        except Exception as exc:  # noqa: BLE001 - the tool's failure, as on a thread
            tb = traceback.format_exc()
            _set(call, Returned(None, exc, tb, returned.duration, returned.notes))
            return
        _set(call, returned._replace(value=value))

    def _forget(self, call: _Call) -> None:
        with self._lock:
            self._by_future.pop(call.future, None)

    def _failed(self, call: _Call, task: Any) -> None:
        try:
            exc = task.exception()
            tb = "".join(traceback.format_tb(task.traceback()))
        except Exception as lost:  # noqa: BLE001 - the scheduler went away meanwhile
            self._lose(f"{type(lost).__name__}: {lost}")
            call.future.set_exception(ClusterError(self._lost or str(lost)))
            return
        if isinstance(exc, distributed.scheduler.KilledWorker):
            note = _died_note(call, exc)
            if self._retried(call, note):
                return
        # A task that raised outside the tool (it could not be unpickled or its result
        # could not be pickled): that tool's failure, like a crash.
        _set(call, Returned(None, exc, tb, 0.0, tuple(call.notes)))

    def _pop(self, key: str) -> _Call | None:
        with self._lock:
            call = self._calls.pop(key, None)
            if call is not None and call.task is not None and call.task.key != key:
                return None  # an older attempt of a retried call
            if call is not None:
                self._by_future.pop(call.future, None)
            LOCAL.pop(key, None)
            return call

    def _lose(self, why: str) -> None:
        """The scheduler cannot be reached: every call waiting on it fails with the reason."""
        with self._lock:
            if self._lost is None:
                self._lost = f"lost the Dask scheduler at {self.address}: {why}"
            waiting = [c for c in self._calls.values() if not c.abandoned]
            self._calls.clear()
        for call in waiting:
            if not call.future.done():
                call.future.set_exception(ClusterError(self._lost))

    # --- cancelling ----------------------------------------------------------------------
    def _cancel(self) -> None:
        """Tell the workers which calls to stop, many at a time, off the scheduler's thread."""
        while True:
            items = [self._cancels.get()]
            while True:
                try:
                    items.append(self._cancels.get_nowait())
                except queue.Empty:
                    break
            keys = list(itertools.chain.from_iterable(k for k, _ in items))
            if keys and self._lost is None and self._lanes:
                self._cancel_in_lanes(keys)
            elif keys and self._lost is None:
                try:
                    tasks = [self._task_of(k) for k in keys if self._task_of(k)]
                    self.client.cancel(tasks)  # type: ignore[no-untyped-call]
                    self.client.run(cancel_keys, keys, on_error="ignore")
                except Exception:  # lost scheduler: nothing left to tell
                    logger.debug("cancelling %d Dask tasks failed", len(keys), exc_info=True)
            for _, flushed in items:
                if flushed is not None:
                    flushed.set()

    def _cancel_in_lanes(self, keys: list[str]) -> None:
        by_lane: dict[_Lane, list[str]] = {}
        with self._lock:
            for key in keys:
                call = self._calls.get(key)
                if call is not None and call.lane is not None and call.lane.alive:
                    by_lane.setdefault(call.lane, []).append(key)
        for lane in [w for w in by_lane if w.wire is not None]:
            with contextlib.suppress(OSError):  # its worker is gone: so are its calls
                lane.wire.send(("cancel", by_lane.pop(lane)))  # type: ignore[union-attr]
        if by_lane:
            try:
                self.client.sync(self._write_cancels, by_lane)  # type: ignore[no-untyped-call]
            except Exception:
                logger.debug("cancelling %d calls failed", len(keys), exc_info=True)

    async def _write_cancels(self, by_lane: dict[_Lane, list[str]]) -> None:
        for lane, some in by_lane.items():
            assert lane.channel is not None
            try:
                await lane.channel.write(("cancel", some))
            except Exception:  # noqa: BLE001 - its worker is gone: so are its calls
                logger.debug("cancelling %d calls on %s failed", len(some), lane.address)

    def _task_of(self, key: str) -> Any:
        with self._lock:
            call = self._calls.get(key)
        return call.task if call is not None else None

    def _retried(self, call: _Call, note: str) -> bool:
        """Start ``call`` again elsewhere after its worker died, while retries are left
        (True); else note that it gave up (False: the caller sets its outcome)."""
        if call.attempts > self.retries:
            call.notes.append(f"{note}; gave up after {call.attempts} attempts")
            return False
        call.attempts += 1
        call.notes.append(f"{note}; retried on another worker (attempt {call.attempts})")
        logger.warning("%s: %s", call.name, call.notes[-1])
        try:
            self._start(call)
        except ClusterError as lost:
            call.future.set_exception(lost)
        return True


def _spec(arg: Any, key: str) -> Any:
    if isinstance(arg, RunContext):
        spec = ContextSpec(key, arg.remaining(), arg.kill_grace, arg.nice)
        if arg.deadline is not None:
            # The worker enforces the deadline and returns the timeout with the output
            # captured so far; the client's own deadline is a backstop for a worker that
            # does not answer, late enough for that answer to arrive first.
            arg.deadline += arg.kill_grace + _ANSWER_MARGIN
        return spec
    return arg


def _set(call: _Call, value: Any) -> None:
    if not call.future.done():
        call.future.set_result(value)


def _died_note(call: _Call, exc: BaseException) -> str:
    worker = getattr(getattr(exc, "last_worker", None), "address", None) or "a worker"
    return f"worker {worker} died while running {call.name!r}"
