"""Demo: the seed's 15-tool graph with simulated tools of realistic durations.

Each tool is a real subprocess (``sleep``) run through huskycat's process runner, so the
demo also shows timeouts killing processes. Prints the plan, live progress, the results
and the measured statistics next to the estimate.

    python examples/demo_parallel_executor.py [--workers N] [--scale 0.5] [--fail yamllint]
"""

from __future__ import annotations

import argparse
import sys
import time

from huskycat.core.parallel_executor import ParallelExecutor, ToolResult, ToolStatus
from huskycat.core.process import run
from huskycat.core.results import ToolEvent

# Typical wall times (seconds) of each tool on a mid-sized repository.
DURATIONS = {
    "black": 0.6,
    "isort": 0.4,
    "autoflake": 0.3,
    "ruff": 0.2,
    "mypy": 2.4,
    "flake8": 1.1,
    "bandit": 0.9,
    "yamllint": 0.5,
    "taplo": 0.1,
    "shellcheck": 0.3,
    "hadolint": 0.2,
    "ansible-lint": 1.6,
    "helm-lint": 0.4,
    "gitlab-ci": 0.3,
    "chapel-format": 0.1,
}


def simulated(seconds: float, fail: bool) -> ToolResult | int:
    result = run(["sleep", f"{seconds:.3f}"])
    if fail:
        return ToolResult("", False, 0.0, errors=2, error_message="2 errors (simulated)")
    return result.returncode


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Run the seed's graph with simulated tools.")
    parser.add_argument("--workers", type=int, default=None, help="worker slots (default: CPUs)")
    parser.add_argument("--scale", type=float, default=0.5, help="multiply every duration")
    parser.add_argument("--fail", action="append", default=[], help="make this tool fail")
    parser.add_argument("--timeout", type=float, default=30.0, help="per-tool timeout")
    args = parser.parse_args(argv)

    durations = {name: d * args.scale for name, d in DURATIONS.items()}
    executor = ParallelExecutor(
        max_workers=args.workers,
        timeout_per_tool=args.timeout,
        expected_durations=durations,
    )
    print(f"huskycat demo: 15 tools, {executor.max_workers} workers\n")
    print(executor.visualize_dependencies())
    estimate = executor.get_statistics()
    print(
        f"\nestimate: {estimate['estimated_sequential_time']:.2f}s one after another, "
        f"{estimate['estimated_makespan']:.2f}s in parallel "
        f"({estimate['speedup_factor']:.2f}x, an estimate from expected durations)\n"
    )

    start = time.monotonic()

    def show(event: ToolEvent) -> None:
        at = event.time - start
        if event.status is ToolStatus.RUNNING:
            print(f"  {at:6.2f}s  start   {event.tool_name}")
        else:
            assert event.result is not None
            note = f"  ({event.result.error_message})" if event.result.error_message else ""
            print(f"  {at:6.2f}s  {event.status.value:<7} {event.tool_name}{note}")

    tools = {
        name: (lambda s=seconds, f=name in args.fail: simulated(s, f))
        for name, seconds in durations.items()
    }
    results = executor.execute_tools(tools, event_callback=show)

    print("\nresults:")
    for result in results:
        print(f"  {result.tool_name:<14} {result.status.value:<8} {result.duration:5.2f}s")
    stats = executor.get_statistics()
    print(
        f"\nmeasured: wall {stats['wall_time']:.2f}s, tools' sum {stats['sum_of_durations']:.2f}s, "
        f"speed-up {stats['measured_speedup']:.2f}x; lower bound {stats['lower_bound']:.2f}s "
        f"(critical path {' -> '.join(stats['measured_critical_path_tools'])}), "
        f"efficiency {stats['efficiency']:.0%}"
    )
    return 0 if all(r.success for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
