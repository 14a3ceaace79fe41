"""The scheduler through ParallelExecutor, with fake tools (plus real processes where the
behaviour is about killing them)."""

from __future__ import annotations

import functools
import logging
import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from huskycat.core import parallel_executor as pe
from huskycat.core.parallel_executor import ParallelExecutor, ToolResult, ToolStatus
from huskycat.core.process import current_context, run
from huskycat.core.results import ToolEvent

from .core_process_test import wait_dead


class Tracker:
    """Counts how many fake tools run at once, and in which order they start."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.active = 0
        self.peak = 0
        self.started: list[str] = []

    def tool(self, name: str, seconds: float = 0.0, value: object = None) -> Callable[[], object]:
        def call() -> object:
            with self.lock:
                self.active += 1
                self.peak = max(self.peak, self.active)
                self.started.append(name)
            try:
                time.sleep(seconds)
                return value
            finally:
                with self.lock:
                    self.active -= 1

        return call


def statuses(results: list[ToolResult]) -> dict[str, str]:
    return {r.tool_name: r.status.value for r in results}


def test_a_tool_starts_when_its_own_dependencies_are_done_not_its_level() -> None:
    released = threading.Event()

    def slow() -> bool:
        # Succeeds only if 'after_fast' ran while this level-0 tool was still running.
        return released.wait(5)

    executor = ParallelExecutor({"fast": [], "slow": [], "after_fast": ["fast"]}, max_workers=3)
    results = executor.execute_tools(
        {"fast": lambda: None, "slow": slow, "after_fast": released.set}
    )
    assert statuses(results) == {"fast": "success", "slow": "success", "after_fast": "success"}


def test_ready_tools_start_longest_remaining_path_first_ties_by_name() -> None:
    tracker = Tracker()
    deps = {"a": [], "b": ["a"], "c": ["b"], "x": [], "y": []}
    executor = ParallelExecutor(deps, max_workers=1)
    executor.execute_tools({n: tracker.tool(n) for n in ["y", "x", "c", "b", "a"]})
    assert tracker.started == ["a", "b", "c", "x", "y"]

    tracker = Tracker()
    executor = ParallelExecutor(deps, max_workers=1, expected_durations={"x": 10.0})
    executor.execute_tools({n: tracker.tool(n) for n in deps})
    assert tracker.started == ["x", "a", "b", "c", "y"]


def test_measured_durations_steer_the_next_run() -> None:
    deps: dict[str, list[str]] = {"quick": [], "slow": []}
    executor = ParallelExecutor(deps, max_workers=1)
    first = Tracker()
    executor.execute_tools({"quick": first.tool("quick"), "slow": first.tool("slow", 0.05)})
    assert first.started == ["quick", "slow"]  # unknown durations: by name
    second = Tracker()
    executor.execute_tools({"quick": second.tool("quick"), "slow": second.tool("slow", 0.05)})
    assert second.started == ["slow", "quick"]  # measured: the long one first
    assert executor.get_statistics()["duration_source"] == "measured"


def test_statistics_say_what_a_run_knew_of_durations_before_it_not_after() -> None:
    executor = ParallelExecutor({"a": [], "b": []}, max_workers=1, expected_durations={"a": 1.0})
    executor.execute_tools({"a": lambda: True, "b": lambda: True})
    assert executor.get_statistics()["duration_source"].startswith("default")
    executor.execute_tools({"a": lambda: True, "b": lambda: True})
    assert executor.get_statistics()["duration_source"] == "measured"


def test_never_more_tools_at_once_than_max_workers() -> None:
    tracker = Tracker()
    executor = ParallelExecutor({}, max_workers=3)
    results = executor.execute_tools({f"t{i}": tracker.tool(f"t{i}", 0.02) for i in range(12)})
    assert tracker.peak <= 3 and len(results) == 12
    assert executor.get_statistics()["peak_busy_slots"] <= 3


def test_a_heavy_tool_takes_its_slots_and_is_capped_at_max_workers() -> None:
    running: set[str] = set()
    seen: list[frozenset[str]] = []
    lock = threading.Lock()

    def tool(name: str) -> Callable[[], None]:
        def call() -> None:
            with lock:
                running.add(name)
                seen.append(frozenset(running))
            time.sleep(0.03)
            with lock:
                running.discard(name)

        return call

    executor = ParallelExecutor({}, max_workers=3, tool_resources={"mypy": 2, "huge": 99})
    results = executor.execute_tools({n: tool(n) for n in ["mypy", "huge", "a", "b", "c"]})
    assert all(r.success for r in results)  # 'huge' ran although it asks for 99 slots
    for group in seen:
        slots = sum({"mypy": 2, "huge": 3}.get(n, 1) for n in group)
        assert slots <= 3, group


def test_skipping_is_transitive_and_names_the_blocking_dependency() -> None:
    deps = {"a": [], "b": ["a"], "c": ["b"], "d": []}
    results = ParallelExecutor(deps).execute_tools(
        {"a": lambda: False, "b": lambda: None, "c": lambda: None, "d": lambda: None}
    )
    by_name = {r.tool_name: r for r in results}
    assert statuses(results) == {"a": "failed", "b": "skipped", "c": "skipped", "d": "success"}
    assert by_name["b"].error_message == "dependency 'a' failed"
    assert by_name["c"].error_message == "dependency 'b' was skipped: dependency 'a' failed"
    assert by_name["c"].metadata["skip_reason"] == "dependency"
    assert by_name["c"].metadata["blocked_by"] == "b"
    assert not by_name["c"].success


def test_a_dependency_skipped_as_not_applicable_counts_as_satisfied() -> None:
    results = ParallelExecutor({"black": [], "mypy": ["black"]}).execute_tools(
        {
            "black": lambda: ToolResult(
                "black", True, 0, status=ToolStatus.SKIPPED, error_message="no files to check"
            ),
            "mypy": lambda: None,
        }
    )
    assert statuses(results) == {"black": "skipped", "mypy": "success"}
    assert results[0].success and results[0].metadata["skip_reason"] == "not_applicable"


def test_after_edges_let_findings_through_but_not_crashes_or_timeouts() -> None:
    findings = ToolResult("black", False, 0, metadata={"outcome": "findings"})
    crash = ToolResult("black", False, 0, metadata={"outcome": "error"})

    def run_with(black: Callable[[], object], timeout: float | None = None) -> dict[str, str]:
        executor = ParallelExecutor(
            {"black": [], "mypy": [], "yamllint": [], "helm": ["yamllint"]},
            after={"mypy": ["black"]},
            tool_timeouts={"black": timeout},
        )
        return statuses(
            executor.execute_tools(
                {
                    "black": black,
                    "mypy": lambda: None,
                    "yamllint": lambda: findings,
                    "helm": lambda: None,
                }
            )
        )

    assert run_with(lambda: findings)["mypy"] == "success"
    assert run_with(lambda: crash)["mypy"] == "skipped"
    hung = run_with(lambda: current_context().wait(5), timeout=0.1)  # type: ignore[union-attr]
    assert hung["black"] == "timeout" and hung["mypy"] == "skipped"
    # a requires edge is blocked even by findings
    assert run_with(lambda: None)["helm"] == "skipped"


def test_exceptions_become_failed_and_timeout_error_becomes_timeout() -> None:
    def crash() -> None:
        raise KeyError("boom")

    def tool_timeout() -> None:
        raise TimeoutError("server did not answer")

    results = ParallelExecutor({}).execute_tools({"crash": crash, "slow": tool_timeout})
    assert statuses(results) == {"crash": "failed", "slow": "timeout"}
    assert results[0].error_message == "KeyError: 'boom'"
    assert results[1].error_message == "TimeoutError: server did not answer"


def test_a_hung_python_tool_times_out_without_holding_the_run_or_its_slot() -> None:
    stop = threading.Event()
    tracker = Tracker()
    executor = ParallelExecutor({}, max_workers=1, timeout_per_tool=0.2)
    ended: list[bool] = []
    results = executor.execute_tools(
        {"hang": lambda: ended.append(stop.wait(30)), "next": tracker.tool("next")}
    )
    # The run, "next" included, was over while the hung call still hung.
    assert ended == []
    stop.set()
    assert statuses(results) == {"hang": "timeout", "next": "success"}
    assert results[0].error_message == "timed out after 0.2s"


def test_timeout_keeps_the_output_captured_so_far() -> None:
    executor = ParallelExecutor({}, timeout_per_tool=0.5)
    code = "import time; print('checking 1 of 2', flush=True); time.sleep(60)"
    (result,) = executor.execute_tools({"mypy": lambda: run([sys.executable, "-c", code])})
    assert result.status is ToolStatus.TIMEOUT
    assert "checking 1 of 2" in result.output


def test_per_tool_timeouts_override_the_default() -> None:
    executor = ParallelExecutor({}, timeout_per_tool=0.1, tool_timeouts={"mypy": None})

    def hang() -> bool:
        ctx = current_context()
        assert ctx is not None
        return ctx.wait(5)

    results = executor.execute_tools({"mypy": lambda: time.sleep(0.3), "ruff": hang})
    assert statuses(results) == {"mypy": "success", "ruff": "timeout"}


def test_fail_fast_cancels_running_tools_kills_their_processes_and_skips_the_rest(
    tmp_path: Path,
) -> None:
    pidfile, late = tmp_path / "pid", tmp_path / "late"

    def long_running() -> int:
        return run(["sh", "-c", f"echo $$ > {pidfile}; sleep 60; touch {late}"]).returncode

    def failing() -> bool:
        while not pidfile.exists() or not pidfile.read_text().strip():
            time.sleep(0.01)
        return False

    executor = ParallelExecutor({"a": [], "b": [], "c": ["a"]}, max_workers=2, fail_fast=True)
    results = executor.execute_tools({"a": long_running, "b": failing, "c": lambda: None})
    assert not late.exists()  # stopped, not left to finish its minute
    by_name = {r.tool_name: r for r in results}
    assert statuses(results) == {"a": "skipped", "b": "failed", "c": "skipped"}
    assert by_name["a"].error_message == "cancelled: fail-fast after 'b' failed"
    assert by_name["c"].error_message == "not started: fail-fast after 'b' failed"
    assert wait_dead(int(pidfile.read_text()))


def test_progress_callback_order_per_tool_and_from_one_thread() -> None:
    events: list[tuple[str, str, int]] = []
    executor = ParallelExecutor({"a": [], "b": ["a"], "c": [], "d": ["c"]}, max_workers=2)
    executor.execute_tools(
        {"a": lambda: False, "b": lambda: None, "c": lambda: time.sleep(0.01), "d": lambda: None},
        progress_callback=lambda n, s: events.append((n, s, threading.get_ident())),
    )
    assert {tid for _, _, tid in events} == {threading.get_ident()}
    per_tool: dict[str, list[str]] = {}
    for name, status, _ in events:
        per_tool.setdefault(name, []).append(status)
    assert per_tool == {
        "a": ["running", "failed"],
        "b": ["skipped"],
        "c": ["running", "success"],
        "d": ["running", "success"],
    }


def test_event_callback_receives_results_with_counts() -> None:
    events: list[ToolEvent] = []
    ParallelExecutor({}).execute_tools(
        {"flake8": lambda: {"success": False, "errors": 3, "warnings": 2}},
        event_callback=events.append,
    )
    assert [e.status.value for e in events] == ["running", "failed"]
    assert events[0].result is None
    assert events[1].result is not None and (
        events[1].result.errors,
        events[1].result.warnings,
    ) == (3, 2)


def test_a_raising_callback_is_logged_once_and_does_not_break_the_run(
    caplog: pytest.LogCaptureFixture,
) -> None:
    def bad(name: str, status: str) -> None:
        raise RuntimeError("display gone")

    with caplog.at_level(logging.ERROR, logger="huskycat"):
        results = ParallelExecutor({}).execute_tools({"a": lambda: None, "b": lambda: None}, bad)
    assert all(r.success for r in results)
    assert len([r for r in caplog.records if "display gone" in (r.exc_text or "")]) == 1


def test_only_requested_tools_get_exactly_one_result_each() -> None:
    results = ParallelExecutor().execute_tools({"mypy": lambda: None, "custom": lambda: None})
    assert [r.tool_name for r in results] == ["mypy", "custom"]


def test_an_empty_map_is_not_the_default() -> None:
    executor = ParallelExecutor({})
    assert executor.get_execution_plan() == []
    assert executor.get_statistics()["total_tools"] == 0


def test_bad_arguments_raise_clear_errors() -> None:
    with pytest.raises(ValueError, match="timeout_per_tool must be a positive number.*-1"):
        ParallelExecutor(timeout_per_tool=-1)
    with pytest.raises(TypeError, match="max_workers must be an int or None, got '4'"):
        ParallelExecutor(max_workers="4")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match=r"tool_resources\['mypy'\] must be an int >= 1, got 0"):
        ParallelExecutor(tool_resources={"mypy": 0})
    with pytest.raises(TypeError, match="tool 'black' is not callable"):
        ParallelExecutor().execute_tools({"black": "black --check"})  # type: ignore[dict-item]
    with pytest.raises(ValueError, match="'lint' depends on 'fmt', which is not a tool"):
        ParallelExecutor({"lint": ["fmt"]})


def test_max_workers_none_means_the_cpus_this_process_may_use() -> None:
    assert ParallelExecutor().max_workers == len(os.sched_getaffinity(0))
    assert ParallelExecutor(max_workers=0).max_workers == 1


def test_a_subclass_execution_order_runs_as_barriers() -> None:
    tracker = Tracker()

    class Reversed(ParallelExecutor):
        def _get_execution_order(self) -> list[list[str]]:
            return [["b", "c"], ["a"]]

    executor = Reversed({"a": [], "b": [], "c": []}, max_workers=4)
    executor.execute_tools(
        {"a": tracker.tool("a"), "b": tracker.tool("b", 0.05), "c": tracker.tool("c")}
    )
    assert tracker.started[-1] == "a"


def test_statistics_after_a_run_are_measured() -> None:
    executor = ParallelExecutor({"a": [], "b": ["a"], "c": []}, max_workers=2)
    executor.execute_tools(
        {
            "a": lambda: time.sleep(0.05),
            "b": lambda: time.sleep(0.05),
            "c": lambda: time.sleep(0.05),
        }
    )
    stats = executor.get_statistics()
    assert stats["measured"] is True
    assert stats["sum_of_durations"] >= 0.15
    assert stats["measured_critical_path_tools"] == ["a", "b"]
    assert stats["lower_bound"] == pytest.approx(
        max(stats["critical_path"], stats["sum_of_durations"] / 2)
    )
    assert stats["wall_time"] >= stats["critical_path"]
    assert stats["measured_speedup"] == pytest.approx(
        stats["sum_of_durations"] / stats["wall_time"]
    )


def test_graph_renders_as_mermaid_and_dot() -> None:
    executor = ParallelExecutor({"fmt": [], "lint": ["fmt"], "types": []}, after={"types": ["fmt"]})
    mermaid = executor.visualize_dependencies("mermaid")
    assert mermaid.splitlines() == [
        "graph TD",
        "    fmt[fmt] --> lint[lint]",
        "    fmt[fmt] -.-> types[types]",
    ]
    dot = executor.visualize_dependencies("dot")
    assert '"fmt" -> "lint";' in dot and '"fmt" -> "types" [style=dashed];' in dot
    with pytest.raises(ValueError, match="unknown graph format 'svg'"):
        executor.visualize_dependencies("svg")


def test_ctrl_c_kills_running_tools_before_keyboard_interrupt_propagates(tmp_path: Path) -> None:
    pidfile = tmp_path / "pid"
    script = tmp_path / "runner.py"
    script.write_text(textwrap.dedent(f"""
        import sys
        from huskycat.core.parallel_executor import ParallelExecutor
        from huskycat.core.process import run
        def tool():
            return run(["sh", "-c", "echo $$ > {pidfile}; sleep 60"]).returncode
        try:
            ParallelExecutor({{}}).execute_tools({{"slow": tool}})
        except KeyboardInterrupt:
            print("interrupted", flush=True)
            sys.exit(130)
    """))
    proc = subprocess.Popen([sys.executable, str(script)], stdout=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 20
    while (not pidfile.exists() or not pidfile.read_text().strip()) and time.monotonic() < deadline:
        time.sleep(0.02)
    proc.send_signal(signal.SIGINT)
    out, _ = proc.communicate(timeout=20)
    assert proc.returncode == 130 and out == "interrupted\n"
    assert wait_dead(int(pidfile.read_text()), seconds=15)  # a loaded machine


def test_available_cpus_follows_affinity(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: {0})
    assert pe.available_cpus() == 1


def test_tools_off_the_critical_path_run_their_processes_at_a_lower_cpu_priority() -> None:
    def niceness() -> int:
        return int(run([sys.executable, "-c", "import os; print(os.nice(0))"]).stdout)

    base = os.nice(0)
    seen: dict[str, int] = {}
    seen_order = ("long", "short", "after")
    executor = ParallelExecutor(
        {"long": [], "short": [], "after": ["long"]},
        max_workers=2,
        expected_durations={"long": 5.0, "short": 1.0, "after": 1.0},
        background_nice=10,
    )

    def record(name: str) -> None:
        if name == "long":  # ends after 'short' looked: it would then head the longest path
            deadline = time.monotonic() + 20
            while "short" not in seen and time.monotonic() < deadline:
                time.sleep(0.01)
        seen[name] = niceness()

    executor.execute_tools({name: functools.partial(record, name) for name in seen_order})
    # 'long' heads the longest chain; 'after' is all that is left when it starts
    assert seen == {"long": base, "short": min(19, base + 10), "after": base}
    # Each result says how its processes ran: niced or not, and their CPU time.
    results = {r.tool_name: r.metadata for r in executor.last_results}
    assert results["short"]["nice"] == 10 and "nice" not in results["long"]
    assert all(m["cpu_seconds"] >= 0 for m in results.values())  # in clock ticks: 0 or more
    plain = ParallelExecutor({}, max_workers=2)
    plain.execute_tools({"x": lambda: seen.__setitem__("x", niceness())})
    assert seen["x"] == base
    with pytest.raises(ValueError, match="background_nice must be 0 to 19, got 20"):
        ParallelExecutor(background_nice=20)


def test_per_tool_records_give_timeouts_weights_and_expected_durations() -> None:
    from huskycat.core.parallel_executor import ToolOptions

    executor = ParallelExecutor(
        {},
        max_workers=2,
        timeout_per_tool=None,
        tool_timeouts={"ruff": 30.0},  # the record's field wins over the map's entry
        tool_options={
            "ruff": ToolOptions(timeout=0.1, weight=2, expected_duration=3.0),
            "mypy": ToolOptions(expected_duration=0.5),
        },
    )
    assert executor.tool_timeouts == {"ruff": 0.1}
    assert executor.tool_resources == {"ruff": 2}
    assert executor.expected_durations == {"ruff": 3.0, "mypy": 0.5}

    def hang() -> bool:
        ctx = current_context()
        assert ctx is not None
        return ctx.wait(5)

    results = executor.execute_tools({"mypy": lambda: time.sleep(0.2), "ruff": hang})
    assert statuses(results) == {"mypy": "success", "ruff": "timeout"}


def test_the_niceness_follows_the_longest_path_not_the_order_the_priorities_chose() -> None:
    # The priority search may start a short tool first (it ties in the simulation); the
    # tool heading the longest path must still not be niced when it starts second.
    from huskycat.core.backend import ThreadBackend
    from huskycat.core.scheduler import Scheduler, Task

    def niceness() -> int:
        return int(run([sys.executable, "-c", "import os; print(os.nice(0))"]).stdout)

    base = os.nice(0)
    seen: dict[str, int] = {}

    def long() -> None:
        seen["long"] = niceness()
        deadline = time.monotonic() + 20  # ends after the others looked (see _promote)
        while len(seen) < 3 and time.monotonic() < deadline:
            time.sleep(0.01)

    tasks = [
        Task("quick", lambda: seen.__setitem__("quick", niceness()), priority=3.0, path=0.1),
        Task("long", long, priority=2.0, path=9.0),
        Task("mid", lambda: seen.__setitem__("mid", niceness()), priority=1.0, path=1.0),
    ]
    Scheduler(tasks, slots=2, backend=ThreadBackend(2), background_nice=10).run()
    niced = min(19, base + 10)
    assert seen == {"quick": niced, "long": base, "mid": niced}


def test_one_worker_nices_nothing() -> None:
    # No tool of the run competes with another: niceness would only cost it against the
    # rest of the machine.
    from huskycat.core.backend import ThreadBackend
    from huskycat.core.scheduler import Scheduler, Task

    def niceness() -> int:
        return int(run([sys.executable, "-c", "import os; print(os.nice(0))"]).stdout)

    base = os.nice(0)
    seen: dict[str, int] = {}
    tasks = [  # 'short' starts first, off the longest path
        Task(n, functools.partial(lambda n: seen.__setitem__(n, niceness()), n), priority=x, path=p)
        for n, x, p in (("long", 1.0, 9.0), ("short", 2.0, 1.0))
    ]
    results = Scheduler(tasks, slots=1, backend=ThreadBackend(1), background_nice=10).run()
    assert seen == {"long": base, "short": base}
    assert "nice" not in results["short"].metadata


# Prints its niceness once it is back at argv[2] or after 10 s; touches argv[1] first.
WAIT_FOR_NICENESS = """
import os, sys, time
open(sys.argv[1], "w").close()
end = time.monotonic() + 10
while os.nice(0) != int(sys.argv[2]) and time.monotonic() < end:
    time.sleep(0.02)
print(os.nice(0))
"""


def may_lower_niceness() -> bool:
    """Whether this process may lower a niceness (root with CAP_SYS_NICE, RLIMIT_NICE)."""
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        os.setpriority(os.PRIO_PROCESS, child.pid, min(19, os.nice(0) + 5))
        os.setpriority(os.PRIO_PROCESS, child.pid, os.nice(0))
        return True
    except PermissionError:
        return False
    finally:
        child.kill()
        child.wait()


def test_a_niced_tool_that_comes_to_head_the_longest_path_gets_our_priority_back(
    tmp_path: Path,
) -> None:
    from huskycat.core.backend import ThreadBackend
    from huskycat.core.scheduler import Scheduler, Task

    if not may_lower_niceness():
        pytest.skip("this process may not lower a niceness (not root, or no CAP_SYS_NICE)")
    base = os.nice(0)
    started = tmp_path / "started"
    out: dict[str, str] = {}

    def short() -> ToolResult:
        argv = [sys.executable, "-c", WAIT_FOR_NICENESS, str(started), str(base)]
        out["short"] = run(argv).stdout.strip()
        return ToolResult("short", True, 0.0)

    def long() -> ToolResult:
        deadline = time.monotonic() + 20
        while not started.exists() and time.monotonic() < deadline:
            time.sleep(0.02)
        return ToolResult("long", True, 0.0)

    tasks = [Task("long", long, path=9.0), Task("short", short, path=1.0)]
    results = Scheduler(tasks, slots=2, backend=ThreadBackend(2), background_nice=10).run()
    assert out["short"] == str(base)  # it was niced, and the end of 'long' took it back
    assert results["short"].metadata["nice"] == 10  # how it started
