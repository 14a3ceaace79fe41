"""Plan statistics (estimated from expected durations) and run statistics (measured). Pure.

The estimate simulates the scheduler's own policy, not ``tools / levels``: a tool starts
when its dependencies are done and enough of ``max_workers`` slots are free, in the
priority order the executor plans (see :mod:`huskycat.core.priority`). So the estimated
speed-up can never exceed the worker count.
"""

from __future__ import annotations

import heapq
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from huskycat.core import graph


@dataclass(frozen=True)
class Simulation:
    """A list schedule computed from expected durations."""

    makespan: float
    peak: int  # most tools running at once
    starts: dict[str, float]


def simulate(
    deps: Mapping[str, Sequence[str]],
    durations: Mapping[str, float],
    *,
    slots: int,
    weights: Mapping[str, int] | None = None,
    priority: Mapping[str, float] | None = None,
) -> Simulation:
    """Event simulation of the scheduler on ``deps`` with ``slots`` workers.

    Among ready tools the one with the highest ``priority`` starts first, ties by name;
    without ``priority``, the longest remaining path first (bottom levels).
    """
    weights = weights or {}
    if priority is None:
        priority = graph.bottom_levels(deps, durations)
    left = {n: len(d) for n, d in deps.items()}
    succ = graph.successors(deps)
    ready = [(-priority[n], n) for n in deps if left[n] == 0]
    heapq.heapify(ready)
    running: list[tuple[float, str]] = []
    busy = 0
    now = 0.0
    starts: dict[str, float] = {}
    peak = 0
    while ready or running:
        held = []
        while ready and busy < slots:
            item = heapq.heappop(ready)
            weight = min(weights.get(item[1], 1), slots)
            if busy + weight > slots:
                held.append(item)
                continue
            busy += weight
            starts[item[1]] = now
            heapq.heappush(running, (now + durations.get(item[1], 1.0), item[1]))
        for item in held:
            heapq.heappush(ready, item)
        peak = max(peak, len(running))
        end, name = heapq.heappop(running)
        now = end
        finished = [name]
        while running and running[0][0] <= now:
            finished.append(heapq.heappop(running)[1])
        for done in finished:
            busy -= min(weights.get(done, 1), slots)
            for nxt in succ[done]:
                left[nxt] -= 1
                if left[nxt] == 0:
                    heapq.heappush(ready, (-priority[nxt], nxt))
    return Simulation(now, peak, starts)


def plan_statistics(
    deps: Mapping[str, Sequence[str]],
    durations: Mapping[str, float],
    *,
    slots: int,
    weights: Mapping[str, int] | None = None,
    duration_source: str = "expected",
    priority: Mapping[str, float] | None = None,
) -> dict[str, Any]:
    """The seed's statistics keys, computed honestly, plus what they rest on.
    ``priority`` is the order the scheduler will use (default: bottom levels)."""
    levels = graph.levels(deps)
    sim = simulate(deps, durations, slots=slots, weights=weights, priority=priority)
    sequential = sum(durations.get(n, 1.0) for n in deps)
    cp_length, cp_tools = graph.critical_path(deps, durations)
    return {
        "total_tools": len(deps),
        "total_levels": len(levels),
        "max_parallelism": sim.peak,
        "avg_parallelism": (sequential / sim.makespan) if sim.makespan else 0.0,
        "speedup_factor": (sequential / sim.makespan) if sim.makespan else 1.0,
        "speedup_is_estimate": True,
        "max_workers": slots,
        "estimated_sequential_time": sequential,
        "estimated_makespan": sim.makespan,
        "estimated_critical_path": cp_length,
        "critical_path_tools": cp_tools,
        "duration_source": duration_source,
        "widest_level": max((len(level) for level in levels), default=0),
    }


def run_statistics(
    deps: Mapping[str, Sequence[str]],
    durations: Mapping[str, float],
    *,
    wall_time: float,
    slots: int,
    peak_busy: int,
    elapsed: Mapping[str, float] | None = None,
) -> dict[str, Any]:
    """What a finished run measured. ``durations`` are the measured ones of the tools
    that ran (skipped tools count as 0): their work, summed over the shards of a tool
    that ran in shards. ``elapsed`` gives such a tool's time from its first shard's start
    to its last one's end, which is what it adds to a chain (its work may be longer)."""
    total = sum(durations.values())
    along = {**durations, **(elapsed or {})}
    cp_length, cp_tools = graph.critical_path(deps, {n: along.get(n, 0.0) for n in deps})
    bound = max(cp_length, total / slots) if slots else cp_length
    return {
        "wall_time": wall_time,
        "sum_of_durations": total,
        # Tool time over wall time: how many tools ran at once on average. Tools that
        # share CPUs each take longer than alone, so against a one-by-one run this
        # overstates the gain; benchmarks/large_project.py measures that for real.
        "measured_speedup": (total / wall_time) if wall_time > 0 else 0.0,
        "measured_speedup_basis": "sum of tool durations / wall time",
        "critical_path": cp_length,
        "measured_critical_path_tools": cp_tools,
        "lower_bound": bound,
        "efficiency": (bound / wall_time) if wall_time > 0 else 0.0,
        "peak_busy_slots": peak_busy,
    }
