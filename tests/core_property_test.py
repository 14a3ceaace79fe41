"""Scheduler invariants over random DAGs with random outcomes and worker counts."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from huskycat.core.parallel_executor import ParallelExecutor
from huskycat.core.process import current_context, run
from huskycat.core.results import ToolEvent, ToolStatus

from .core_process_test import alive, wait_dead

OUTCOMES = ["ok", "ok", "ok", "fail", "raise", "hang", "hang_process"]
TIMEOUT = 0.5  # a quick tool submitted to a loaded machine (or Dask) still starts in time


@st.composite
def dags(draw: st.DrawFn) -> tuple[dict[str, list[str]], dict[str, str], int]:
    n = draw(st.integers(min_value=1, max_value=8))
    names = [f"t{i}" for i in range(n)]
    deps = {
        name: sorted(draw(st.sets(st.sampled_from(names[:i]), max_size=3)) if i else [])
        for i, name in enumerate(names)
    }
    outcomes = {name: draw(st.sampled_from(OUTCOMES)) for name in names}
    workers = draw(st.integers(min_value=1, max_value=4))
    return deps, outcomes, workers


class Probe:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.active = 0
        self.peak = 0
        self.pids: list[int] = []

    def tool(self, outcome: str) -> Callable[[], object]:
        def call() -> object:
            with self.lock:
                self.active += 1
                self.peak = max(self.peak, self.active)
            try:
                if outcome == "ok":
                    return None
                if outcome == "fail":
                    return False
                if outcome == "raise":
                    raise RuntimeError("crash")
                if outcome == "hang":
                    ctx = current_context()
                    assert ctx is not None
                    ctx.wait(30)  # wakes when the scheduler cancels it at the deadline
                    return None
                result = run(["sh", "-c", "echo $$; exec sleep 30"])
                with self.lock:
                    if result.stdout.strip():
                        self.pids.append(int(result.stdout.split()[0]))
                return result.returncode
            finally:
                with self.lock:
                    self.active -= 1

        return call


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(dags())
def test_scheduler_invariants_hold_on_random_dags(
    case: tuple[dict[str, list[str]], dict[str, str], int],
) -> None:
    deps, outcomes, workers = case
    probe = Probe()
    events: list[ToolEvent] = []
    executor = ParallelExecutor(deps, max_workers=workers, timeout_per_tool=TIMEOUT, kill_grace=0.2)
    results = executor.execute_tools(
        {name: probe.tool(outcomes[name]) for name in deps}, event_callback=events.append
    )

    # every requested tool gets exactly one result, in the order given
    assert [r.tool_name for r in results] == list(deps)
    by_name = {r.tool_name: r for r in results}

    # expected final status, computed from the outcomes alone
    expected: dict[str, ToolStatus] = {}
    for name in deps:  # names are in topological order by construction
        if any(expected[d] is not ToolStatus.SUCCESS for d in deps[name]):
            expected[name] = ToolStatus.SKIPPED
        else:
            expected[name] = {
                "ok": ToolStatus.SUCCESS,
                "fail": ToolStatus.FAILED,
                "raise": ToolStatus.FAILED,
                "hang": ToolStatus.TIMEOUT,
                "hang_process": ToolStatus.TIMEOUT,
            }[outcomes[name]]
    assert {n: r.status for n, r in by_name.items()} == expected

    # a tool is skipped iff a dependency failed, timed out or was skipped for that reason
    for name, result in by_name.items():
        blocked = any(by_name[d].status is not ToolStatus.SUCCESS for d in deps[name])
        assert (result.status is ToolStatus.SKIPPED) == blocked

    # no tool starts before all of its dependencies succeeded
    finished: dict[str, ToolStatus] = {}
    for event in events:
        if event.status is ToolStatus.RUNNING:
            assert all(finished.get(d) is ToolStatus.SUCCESS for d in deps[event.tool_name])
        else:
            finished[event.tool_name] = event.status

    # never more than max_workers at once
    assert probe.peak <= workers

    # no child process survives
    for pid in probe.pids:
        assert wait_dead(pid, 2.0), pid


@settings(max_examples=10, deadline=None)
@given(
    quick=st.integers(min_value=0, max_value=6),
    workers=st.integers(min_value=1, max_value=3),
    with_process=st.booleans(),
)
def test_wall_time_of_a_run_with_a_hung_tool_is_close_to_its_timeout(
    quick: int, workers: int, with_process: bool
) -> None:
    ended_by_itself = threading.Event()  # the hung call's own 30 s ran out

    def hang() -> object:
        if with_process:
            code = run(["sleep", "30"]).returncode
            if code == 0:
                ended_by_itself.set()
            return code
        ctx = current_context()
        assert ctx is not None
        cancelled = ctx.wait(30)
        if not cancelled:
            ended_by_itself.set()
        return cancelled

    tools: dict[str, Callable[[], object]] = {"hang": hang}
    tools.update({f"q{i}": (lambda: None) for i in range(quick)})
    executor = ParallelExecutor({}, max_workers=workers, timeout_per_tool=0.3, kill_grace=0.2)
    start = time.monotonic()
    results = executor.execute_tools(tools)
    elapsed = time.monotonic() - start
    assert results[0].status is ToolStatus.TIMEOUT
    assert all(r.status is ToolStatus.SUCCESS for r in results[1:])
    # Not before the timeout (the clock cannot run backwards), and before the hung call
    # could end by itself: an ordering, not a bound a loaded machine could miss.
    assert elapsed >= 0.3 and not ended_by_itself.is_set()


def test_alive_helper_sees_this_process() -> None:
    import os

    assert alive(os.getpid())
