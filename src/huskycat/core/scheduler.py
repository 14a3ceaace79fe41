"""The one loop that owns a run's state: ready set -> priority -> submit -> done -> skip.

State, all owned and mutated by :meth:`Scheduler.run` on the calling thread only:

- ``waiting``: tools with unfinished dependencies, with a count of those left;
- ``ready``: a heap of tools whose dependencies are all done, ordered by ``-priority``
  (planned: the longest remaining path, refined by simulation), then by name;
- ``running``: ``{future: _Running}`` for calls handed to the backend, each with its
  :class:`~huskycat.core.process.RunContext` (deadline, cancellation, processes);
- ``results``: the final :class:`ToolResult` of each finished tool;
- ``busy``: worker slots in use (a tool takes ``weight`` slots).

Data flow::

    ready --(fits in free slots)--> backend.submit(call) --> worker runs the tool
      ^                                                         |
      |   dependents whose last dependency finished              v
    finish(name, result) <--- wait(FIRST_COMPLETED or the next deadline)

Workers only call the tool and hand back what it returned, its exception and how long
it took; they never touch this state, so the loop needs no locks. Progress callbacks
are called from this loop, so they are never concurrent.

Dependency edges come in two kinds. A ``requires`` edge is satisfied only by a
dependency that succeeded or was skipped as not applicable. An ``after`` edge only
orders: it is satisfied too by a dependency that failed with findings (a formatter that
would reformat), and blocks only when the dependency could not do its work (crashed,
timed out, or was itself skipped because something it needed did not succeed).
"""

from __future__ import annotations

import dataclasses
import heapq
import logging
import queue
import time
import traceback
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import NamedTuple

from huskycat.core.backend import Backend
from huskycat.core.calls import Returned, call, error_result, with_notes
from huskycat.core.process import RunContext
from huskycat.core.results import (
    OUTCOME_FINDINGS,
    SKIP_DEPENDENCY,
    SKIP_FAIL_FAST,
    SKIP_INTERRUPTED,
    SKIP_NOT_APPLICABLE,
    ToolEvent,
    ToolResult,
    ToolStatus,
    coerce_result,
)

logger = logging.getLogger("huskycat")

# After a tool's deadline its processes get SIGTERM; a tool that started processes gets
# this much longer than the kill grace to return what it captured before it is abandoned.
_RETURN_MARGIN = 0.5
_MAX_WAIT = 3600.0  # seconds; the loop wakes up and looks again

EventSink = Callable[[ToolEvent], None]


class Task(NamedTuple):
    """One tool to run: its callable and everything the loop needs to place it."""

    name: str
    fn: Callable[[], object]
    requires: tuple[str, ...] = ()
    after: tuple[str, ...] = ()
    weight: int = 1
    timeout: float | None = None
    priority: float = 1.0  # higher starts first (planned by huskycat.core.priority)
    # The longest path from its start to the end of the graph (its bottom level, in
    # expected seconds): the tools at the head of the longest one are the critical path,
    # whatever order the priorities chose. None: the priority stands in for it.
    path: float | None = None
    level: int = 0  # barrier level; only used when the run has barriers
    # Sharding: split(n) returns up to n callables that together do the tool's work;
    # merge(their results, in order) returns the tool's one result.
    split: Callable[[int], Sequence[Callable[[], object]]] | None = None
    merge: Callable[[list[ToolResult]], object] | None = None
    max_shards: int = 1


def _path(task: Task) -> float:
    return task.priority if task.path is None else task.path


@dataclass(slots=True)
class _Running:
    task: Task
    ctx: RunContext
    started: float
    timed_out_at: float | None = None  # set once the deadline passed
    shard: int = -1  # which shard of the task this call is, -1 for the whole task
    lanes: tuple[int, ...] = ()  # the worker slots it holds, numbered from 0
    nice: int = 0  # the niceness it started with (it may be raised to 0 later)


@dataclass(slots=True)
class _Shards:
    """The shards of one task: how many, what came back, when the first started."""

    total: int
    started: float
    results: dict[int, ToolResult] = field(default_factory=dict)
    cpu: dict[int, float | None] = field(default_factory=dict)  # each shard's processes'


class CallSpan(NamedTuple):
    """One call of a run as reports draw it: which worker slots it held and when
    (seconds from the run's start, until its slots were free again)."""

    tool: str
    shard: int  # -1: the whole tool
    lanes: tuple[int, ...]
    start: float
    end: float


@dataclass
class RunRecord:
    """What a run measured, for statistics."""

    started: float = 0.0
    wall_time: float = 0.0
    starts: dict[str, float] = field(default_factory=dict)  # seconds from run start
    ends: dict[str, float] = field(default_factory=dict)
    peak_busy: int = 0
    calls: list[CallSpan] = field(default_factory=list)


class Scheduler:
    """Runs a set of tasks once; create a new one per run."""

    def __init__(
        self,
        tasks: Sequence[Task],
        *,
        slots: int,
        backend: Backend,
        fail_fast: bool = False,
        barriers: bool = False,
        on_event: EventSink | None = None,
        kill_grace: float = 2.0,
        background_nice: int = 0,
    ) -> None:
        self.tasks = {t.name: t for t in tasks}
        self.slots = slots
        self.backend = backend
        self.fail_fast = fail_fast
        self.barriers = barriers
        self.on_event = on_event
        self.kill_grace = kill_grace
        # Niceness for the processes of tools that are not on the critical path (0: off).
        self.background_nice = background_nice
        self._unfinished: list[tuple[float, str]] = sorted(
            (-_path(t), t.name) for t in tasks
        )  # a heap: the longest remaining path among unfinished tools first
        self.results: dict[str, ToolResult] = {}
        self.record = RunRecord()
        self._dependents: dict[str, list[str]] = {n: [] for n in self.tasks}
        self._left: dict[str, int] = {}
        for task in self.tasks.values():
            deps = set(task.requires) | set(task.after)
            self._left[task.name] = len(deps)
            for dep in sorted(deps):
                self._dependents[dep].append(task.name)
        self._ready: list[tuple[float, str]] = []
        self._held: dict[int, list[str]] = {}  # barrier level -> ready but not yet allowed
        self._level = min((t.level for t in tasks), default=0)
        self._running: dict[Future[Returned], _Running] = {}
        # Futures put themselves here when done (from the worker thread): one queue to
        # wait on, instead of a waiter installed on every running future each time.
        self._done: queue.SimpleQueue[Future[Returned]] = queue.SimpleQueue()
        self._busy = 0
        self._free_lanes = list(range(slots))  # a heap: the lowest free slot number first
        self._shards: dict[str, _Shards] = {}
        self._stopped_by: str | None = None  # fail-fast: the first tool that failed
        self._callback_errors = 0

    # --- the loop --------------------------------------------------------------------
    def run(self) -> dict[str, ToolResult]:
        """Run every task; return ``{name: result}``. Ctrl-C cancels and kills, then
        re-raises ``KeyboardInterrupt``."""
        self.record.started = time.monotonic()
        try:
            for name in sorted(self.tasks):
                if self._left[name] == 0:
                    self._make_ready(name)
            while len(self.results) < len(self.tasks):
                self._start_ready()
                if not self._running:
                    # Nothing can run: only possible if barrier levels left tools behind.
                    self._advance_barrier(force=True)
                    if not self._running and not self._ready:
                        break
                    continue
                try:
                    first = self._done.get(timeout=self._next_timeout())
                except queue.Empty:
                    done = []
                else:
                    done = [first]
                    while True:  # take everything else that is already done
                        try:
                            done.append(self._done.get_nowait())
                        except queue.Empty:
                            break
                now = time.monotonic()
                # Several done at once: finish them in name order, so runs are reproducible.
                done = [f for f in done if f in self._running]
                if len(done) > 1:
                    done.sort(key=lambda f: self._running[f].task.name)
                for future in done:
                    self._collect(future, now)
                self._promote()
                self._check_deadlines(now)
            self._end_overruns()
        except KeyboardInterrupt:
            self._interrupt()
            raise
        finally:
            self.record.wall_time = time.monotonic() - self.record.started
            self.backend.shutdown(cancel_futures=True)
        if self._callback_errors > 1:
            logger.warning("progress callback raised %d times", self._callback_errors)
        return self.results

    def _make_ready(self, name: str) -> None:
        task = self.tasks[name]
        if self.barriers and task.level > self._level:
            self._held.setdefault(task.level, []).append(name)
            return
        heapq.heappush(self._ready, (-task.priority, name))

    def _start_ready(self) -> None:
        if not self._ready or self._busy >= self.slots:
            return
        skipped: list[tuple[float, str]] = []
        while self._ready and self._busy < self.slots:
            prio, name = heapq.heappop(self._ready)
            task = self.tasks[name]
            weight = min(task.weight, self.slots)
            if self._busy + weight > self.slots:
                skipped.append((prio, name))  # let a lighter tool use the free slots
                continue
            if task.split is not None and task.max_shards > 1:
                # As many shards as there are slots left once every other ready tool
                # has one: what the critical path leaves free.
                free = self.slots - self._busy - len(self._ready) - len(skipped)
                self._start_sharded(task, max(1, min(task.max_shards, free)))
                continue
            self._submit(task, weight, task.fn)
        for item in skipped:
            heapq.heappush(self._ready, item)

    def _start_sharded(self, task: Task, wanted: int) -> None:
        assert task.split is not None
        try:
            parts = list(task.split(wanted))
        except Exception as exc:  # noqa: BLE001 - a failed split is that tool's failure
            returned = Returned(None, exc, traceback.format_exc(), 0.0)
            self._finish(task.name, error_result(task.name, returned), time.monotonic())
            return
        if len(parts) <= 1:
            self._submit(task, 1, parts[0] if parts else task.fn)
            return
        self._shards[task.name] = _Shards(len(parts), time.monotonic())
        for index, part in enumerate(parts):
            self._submit(task, 1, part, shard=index)

    def _submit(
        self, task: Task, weight: int, fn: Callable[[], object], *, shard: int = -1
    ) -> None:
        now = time.monotonic()
        deadline = now + task.timeout if task.timeout is not None else None
        nice = self._nice_for(task)
        ctx = RunContext(deadline, kill_grace=self.kill_grace, nice=nice)
        self._busy += weight
        self.record.peak_busy = max(self.record.peak_busy, self._busy)
        lanes = tuple(self._take_lane() for _ in range(weight))
        if shard <= 0:
            self.record.starts[task.name] = now - self.record.started
            if self.on_event is not None:
                self._emit(ToolEvent(task.name, ToolStatus.RUNNING, now))
        key = task.name if shard < 0 else f"{task.name}[{shard}]"
        future = self.backend.submit(call, fn, ctx, name=key, weight=weight)
        self._running[future] = _Running(task, ctx, now, shard=shard, lanes=lanes, nice=nice)
        future.add_done_callback(self._done.put)

    def _nice_for(self, task: Task) -> int:
        """0 for a tool on the longest remaining path of what is left, else the
        background niceness: when the CPUs are short, the critical path gets them. With
        one slot no tool of the run competes with another: none is niced."""
        if not self.background_nice or self.slots < 2:
            return 0
        return 0 if _path(task) >= self._longest_left(_path(task)) else self.background_nice

    def _longest_left(self, default: float) -> float:
        while self._unfinished and self._unfinished[0][1] in self.results:
            heapq.heappop(self._unfinished)
        return -self._unfinished[0][0] if self._unfinished else default

    def _promote(self) -> None:
        """A niced tool that now heads the longest remaining path (the tools ahead of
        it ended) gets the CPUs first from here on, as if it had started there."""
        if not self.background_nice:
            return
        for run in self._running.values():
            if run.ctx.nice and _path(run.task) >= self._longest_left(_path(run.task)):
                run.ctx.raise_priority()

    def _next_timeout(self) -> float | None:
        now = time.monotonic()
        nearest: float | None = None
        for run in self._running.values():
            if run.timed_out_at is not None:
                limit = run.timed_out_at + self.kill_grace + _RETURN_MARGIN
            elif run.ctx.deadline is not None:
                limit = run.ctx.deadline
            else:
                continue
            nearest = limit if nearest is None else min(nearest, limit)
        # Capped: a wait past the clock's range (timeout_per_tool=1e300) would overflow.
        return None if nearest is None else min(max(0.0, nearest - now), _MAX_WAIT)

    # --- finishing ---------------------------------------------------------------------
    def _collect(self, future: Future[Returned], now: float) -> None:
        run = self._running.pop(future)
        self._release(run)
        if run.timed_out_at is not None:
            return  # already final as TIMEOUT; this only frees its slot
        returned = future.result()
        name = run.task.name
        if returned.error is not None:
            result = error_result(name, returned)
        else:
            result = coerce_result(name, returned.value, returned.duration)
        if result.status is not ToolStatus.SUCCESS and self._past_deadline(run, now):
            # The tool's own process met the deadline (killed, or TimeoutError) and the
            # call returned before this loop looked at the clock: the same timeout, told
            # in the loop's words. A success that came back late stays a success.
            own = self._timeout_result(run)
            own.output = result.output or own.output
            result = own
        result = with_notes(result, returned.notes)
        if run.shard >= 0:
            self._collect_shard(run, result, now)
        else:
            facts = _process_facts(run.ctx.cpu_seconds(), run.nice)
            self._finish(name, _with_facts(result, facts), now)

    def _collect_shard(self, run: _Running, result: ToolResult, now: float) -> None:
        name = run.task.name
        if name in self.results:
            return  # the tool already ended (a sibling shard timed out, fail-fast)
        group = self._shards[name]
        group.results[run.shard] = result
        group.cpu[run.shard] = run.ctx.cpu_seconds()
        if result.status is ToolStatus.TIMEOUT:
            self._cancel_shards(name, now)
            self._finish(name, result, now)
            return
        if len(group.results) < group.total:
            return
        parts = [group.results[i] for i in range(group.total)]
        work = sum(r.duration for r in parts)
        assert run.task.merge is not None
        try:
            merged = coerce_result(name, run.task.merge(parts), work)
        except Exception as exc:  # noqa: BLE001 - a failed merge is that tool's failure
            returned = Returned(None, exc, traceback.format_exc(), work)
            merged = error_result(name, returned)
        cpu = list(group.cpu.values())
        facts: dict[str, object] = {
            "shards": group.total,
            "wall_duration": now - group.started,
            **_process_facts(None if None in cpu else sum(c or 0.0 for c in cpu), run.nice),
        }
        self._finish(name, _with_facts(merged, facts), now)

    def _cancel_shards(self, name: str, now: float) -> None:
        """A shard timed out: its siblings stop too, keeping their slots until they return."""
        for run in self._running.values():
            if run.task.name == name and run.shard >= 0 and run.timed_out_at is None:
                run.timed_out_at = now
                run.ctx.cancel("timeout of a sibling shard")

    def _check_deadlines(self, now: float) -> None:
        """At a tool's deadline its result is TIMEOUT at once and its processes get
        SIGTERM; it keeps its slot until the call returns or the kill grace is over."""
        for future, run in list(self._running.items()):
            if run.timed_out_at is None:
                if run.ctx.deadline is not None and now >= run.ctx.deadline:
                    run.timed_out_at = now
                    run.ctx.cancel("timeout")
                    if run.shard >= 0:
                        self._cancel_shards(run.task.name, now)
                    self._finish(run.task.name, self._timeout_result(run), now)
            elif now >= run.timed_out_at + self.kill_grace + _RETURN_MARGIN:
                run.ctx.kill_all(0.0)
                self._drop(future, run)

    def _end_overruns(self) -> None:
        """Every result is in: kill what overrunning tools left, without waiting for
        the calls themselves."""
        now = time.monotonic()
        for run in self._running.values():
            run.ctx.cancel("run finished")
        for future, run in list(self._running.items()):
            started = run.timed_out_at if run.timed_out_at is not None else now
            run.ctx.kill_all(max(0.0, started + self.kill_grace - time.monotonic()))
            self._drop(future, run)

    def _drop(self, future: Future[Returned], run: _Running) -> None:
        del self._running[future]
        self._release(run)
        self.backend.abandon(future)

    def _release(self, run: _Running) -> None:
        self._busy -= min(run.task.weight, self.slots)
        for lane in run.lanes:
            heapq.heappush(self._free_lanes, lane)
        origin = self.record.started
        self.record.calls.append(
            CallSpan(
                run.task.name, run.shard, run.lanes, run.started - origin, time.monotonic() - origin
            )
        )

    def _take_lane(self) -> int:
        if self._free_lanes:
            return heapq.heappop(self._free_lanes)
        return self.slots + len(self._running)  # never expected: busy never exceeds slots

    @staticmethod
    def _past_deadline(run: _Running, now: float) -> bool:
        deadline = run.ctx.deadline
        return deadline is not None and now >= deadline

    def _timeout_result(self, run: _Running) -> ToolResult:
        limit = run.task.timeout or 0.0
        return ToolResult(
            run.task.name,
            False,
            (run.timed_out_at or time.monotonic()) - run.started,
            output=run.ctx.captured_output(),
            status=ToolStatus.TIMEOUT,
            error_message=f"timed out after {limit:g}s",
            metadata={"timeout": limit},
        )

    def _finish(self, name: str, result: ToolResult, now: float) -> None:
        """Record a final result, then unblock, skip or cancel what follows from it."""
        if name in self.results:
            return
        self.results[name] = result
        self.record.ends[name] = now - self.record.started
        if self.on_event is not None:
            self._emit(ToolEvent(name, result.status, now, result))
        failed = result.status in (ToolStatus.FAILED, ToolStatus.TIMEOUT)
        if failed and self.fail_fast and self._stopped_by is None:
            self._stopped_by = name
            self._stop_everything(now)
            return
        if self._stopped_by is not None:
            return  # fail-fast is skipping everything itself, naming the first failure
        succeeded = result.status is ToolStatus.SUCCESS
        for dependent in self._dependents[name]:
            if dependent in self.results:
                continue
            if not succeeded and _blocks(result, requires=name in self.tasks[dependent].requires):
                if result.status is ToolStatus.SKIPPED:
                    why = f"was skipped: {result.error_message}"
                elif result.status is ToolStatus.TIMEOUT:
                    why = "timed out"
                else:
                    why = "failed"
                self._skip(
                    dependent,
                    f"dependency {name!r} {why}",
                    SKIP_DEPENDENCY,
                    now,
                    blocked_by=name,
                )
                continue
            self._left[dependent] -= 1
            if self._left[dependent] == 0:
                self._make_ready(dependent)
        if self.barriers:
            self._advance_barrier()

    def _skip(self, name: str, message: str, reason: str, now: float, **meta: str) -> None:
        result = ToolResult(
            name,
            False,
            0.0,
            status=ToolStatus.SKIPPED,
            error_message=message,
            metadata={"skip_reason": reason, **meta},
        )
        self._finish(name, result, now)

    def _advance_barrier(self, *, force: bool = False) -> None:
        """Open the next barrier level once every tool at or below the current one is
        done. ``force`` opens it anyway: the loop found nothing running and nothing
        ready, which a custom order that puts a tool before its dependency can cause."""
        while self._held:
            unfinished = any(
                t.level <= self._level and t.name not in self.results for t in self.tasks.values()
            )
            if unfinished and not force:
                return
            force = False
            self._level = min(self._held)
            for name in self._held.pop(self._level):
                heapq.heappush(self._ready, (-self.tasks[name].priority, name))

    # --- stopping ----------------------------------------------------------------------
    def _stop_everything(self, now: float) -> None:
        first = self._stopped_by
        cancelled = list(self._running.items())
        for _, run in cancelled:
            run.ctx.cancel(f"fail-fast after {first!r} failed")
        for future, run in cancelled:
            self._drop(future, run)
            self._skip(
                run.task.name,
                f"cancelled: fail-fast after {first!r} failed",
                SKIP_FAIL_FAST,
                now,
                blocked_by=str(first),
            )
        for _, run in cancelled:
            run.ctx.kill_all()
        for name in sorted(self.tasks):
            if name not in self.results:
                self._skip(
                    name,
                    f"not started: fail-fast after {first!r} failed",
                    SKIP_FAIL_FAST,
                    now,
                    blocked_by=str(first),
                )
        self._ready.clear()
        self._held.clear()

    def _interrupt(self) -> None:
        runs = list(self._running.values())
        for run in runs:
            run.ctx.cancel("interrupted")
        for run in runs:
            run.ctx.kill_all()
        now = time.monotonic()
        for run in runs:
            self.results.setdefault(
                run.task.name,
                ToolResult(
                    run.task.name,
                    False,
                    now - run.started,
                    status=ToolStatus.SKIPPED,
                    error_message="cancelled: interrupted",
                    metadata={"skip_reason": SKIP_INTERRUPTED},
                ),
            )
        for future in list(self._running):
            self.backend.abandon(future)
        self._running.clear()

    def _emit(self, event: ToolEvent) -> None:
        if self.on_event is None:
            return
        try:
            self.on_event(event)
        except KeyboardInterrupt:
            raise
        except Exception:
            self._callback_errors += 1
            if self._callback_errors == 1:
                logger.exception("progress callback raised on %s %s", event.tool_name, event.status)


def _process_facts(cpu: float | None, nice: int) -> dict[str, object]:
    """What the loop knows of a tool's processes, for its result: their CPU seconds
    (``cpu_seconds``, when known) and the niceness it gave them (``nice``, when not 0).
    A niced tool waits for the CPUs by design; its CPU time says what it takes itself
    (the history records that, :mod:`huskycat.history`)."""
    facts: dict[str, object] = {}
    if cpu is not None:
        facts["cpu_seconds"] = round(cpu, 3)
    if nice:
        facts["nice"] = nice
    return facts


def _with_facts(result: ToolResult, facts: dict[str, object]) -> ToolResult:
    """``result`` with ``facts`` added to its metadata, where it has no such key."""
    if all(k in result.metadata for k in facts):
        return result
    metadata = {**result.metadata, **{k: v for k, v in facts.items() if k not in result.metadata}}
    return dataclasses.replace(result, metadata=metadata)


def _blocks(result: ToolResult, *, requires: bool) -> bool:
    """Whether a finished dependency keeps its dependent from running."""
    status = result.status
    if status is ToolStatus.SUCCESS:
        return False
    if status is ToolStatus.SKIPPED:
        return result.skip_reason != SKIP_NOT_APPLICABLE
    if requires:
        return True
    # An ordering-only edge: findings do not block; a crash or a timeout does.
    return not (status is ToolStatus.FAILED and result.metadata.get("outcome") == OUTCOME_FINDINGS)


# Public for ``huskycat merge``, which applies the same rule to the results of shards.
blocks = _blocks
