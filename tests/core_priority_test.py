"""Priorities chosen by simulating the scheduler: literal graphs where longest path first
is not the best, properties over random graphs, and the effort limits."""

from __future__ import annotations

import contextlib
import random
from collections.abc import Iterator, Mapping, Sequence

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from huskycat.core import graph, priority, stats
from huskycat.core.parallel_executor import ParallelExecutor
from huskycat.core.priority import plan_priorities
from huskycat.core.results import ToolEvent, ToolStatus

Deps = dict[str, tuple[str, ...]]


def makespan(
    deps: Mapping[str, Sequence[str]],
    durations: Mapping[str, float],
    plan: Mapping[str, float] | None,
    *,
    slots: int,
    weights: Mapping[str, int] | None = None,
) -> float:
    """The simulated makespan of ``plan``; ``None`` for bottom levels."""
    return stats.simulate(deps, durations, slots=slots, weights=weights, priority=plan).makespan


class CountingSimulate:
    """Stands in for stats.simulate and counts the calls."""

    def __init__(self) -> None:
        self.calls = 0
        self.real = stats.simulate

    def __call__(self, *args: object, **kwargs: object) -> stats.Simulation:
        self.calls += 1
        return self.real(*args, **kwargs)  # type: ignore[arg-type]


@contextlib.contextmanager
def counting_simulations() -> Iterator[CountingSimulate]:
    counter = CountingSimulate()
    stats.simulate = counter
    try:
        yield counter
    finally:
        stats.simulate = counter.real


@pytest.fixture
def simulations() -> Iterator[CountingSimulate]:
    with counting_simulations() as counter:
        yield counter


def random_dag(n: int, seed: int) -> tuple[Deps, dict[str, float]]:
    """Wide and deep: each tool depends on up to 3 of the 50 before it."""
    rng = random.Random(seed)
    names = [f"t{i}" for i in range(n)]
    deps = {
        name: tuple(sorted(rng.sample(names[max(0, i - 50) : i], rng.randint(0, min(3, i)))))
        for i, name in enumerate(names)
    }
    return deps, {name: rng.uniform(0.02, 0.25) for name in names}


# --- literal graphs where longest remaining path first is not the best -------------------
def test_a_short_tool_that_unlocks_work_starts_before_long_independent_ones() -> None:
    # Longest path first runs both long tools, then the chain: 4 + 1 + 1. Starting the
    # generator next to one long tool hides the chain behind it: 5, the work bound.
    deps: Deps = {"generate": (), "check_generated": ("generate",), "mypy": (), "pylint": ()}
    durations = {"generate": 1.0, "check_generated": 1.0, "mypy": 4.0, "pylint": 4.0}
    plan = plan_priorities(deps, durations, slots=2)
    assert makespan(deps, durations, None, slots=2) == 6.0
    assert makespan(deps, durations, plan, slots=2) == 5.0
    assert plan["generate"] > min(plan["mypy"], plan["pylint"])


def test_independent_tools_are_packed_better_than_longest_first() -> None:
    # Graham's example: longest first gives 4+2+2 on one worker and 3+3 on the other (8);
    # 4+3 and 3+2+2 is 7. No ordering rule finds it here; the local search does.
    deps: Deps = {"a": (), "b": (), "c": (), "d": (), "e": ()}
    durations = {"a": 4.0, "b": 2.0, "c": 3.0, "d": 3.0, "e": 2.0}
    plan = plan_priorities(deps, durations, slots=2)
    assert makespan(deps, durations, None, slots=2) == 8.0
    assert makespan(deps, durations, plan, slots=2) == 7.0


def test_a_tool_that_needs_every_slot_goes_first_instead_of_waiting_out_a_long_one() -> None:
    # 'pytest' takes both slots. Behind 'mypy' it waits 4; first, it costs 1.
    deps: Deps = {"pytest": (), "coverage": ("pytest",), "mypy": ()}
    durations = {"pytest": 1.0, "coverage": 1.0, "mypy": 4.0}
    weights = {"pytest": 2}
    planned = plan_priorities(deps, durations, slots=2, weights=weights)
    unweighted = plan_priorities(deps, durations, slots=2)
    assert makespan(deps, durations, None, slots=2, weights=weights) == 6.0
    assert makespan(deps, durations, unweighted, slots=2, weights=weights) == 6.0
    assert makespan(deps, durations, planned, slots=2, weights=weights) == 5.0


def test_the_executor_starts_tools_in_the_planned_order() -> None:
    deps = {"generate": [], "check_generated": ["generate"], "mypy": [], "pylint": []}
    durations = {"generate": 1.0, "check_generated": 1.0, "mypy": 4.0, "pylint": 4.0}
    started: list[str] = []

    def on_event(event: ToolEvent) -> None:
        if event.status is ToolStatus.RUNNING:
            started.append(event.tool_name)

    executor = ParallelExecutor(deps, max_workers=2, expected_durations=durations)
    executor.execute_tools({n: lambda: None for n in deps}, event_callback=on_event)
    assert "generate" in started[:2]


# --- when bottom levels stay ---------------------------------------------------------------
def test_bottom_levels_are_kept_when_no_order_is_strictly_faster(
    simulations: CountingSimulate,
) -> None:
    deps: Deps = {"a": (), "b": ("a",), "c": ("b",), "x": (), "y": ()}
    durations = {"x": 10.0}
    bottom = graph.bottom_levels(deps, durations)
    assert plan_priorities(deps, durations, slots=1) == bottom  # one slot: any order
    assert plan_priorities(deps, durations, slots=5) == bottom  # everything fits at once
    assert simulations.calls == 0
    # Two slots: longest path first already reaches the lower bound, so one simulation.
    assert plan_priorities(deps, durations, slots=2) == bottom
    assert simulations.calls == 1


def test_no_budget_means_bottom_levels_without_simulating(simulations: CountingSimulate) -> None:
    deps, durations = random_dag(40, seed=3)
    assert plan_priorities(deps, durations, slots=3, budget=0) == graph.bottom_levels(
        deps, durations
    )
    assert simulations.calls == 0


# --- properties ----------------------------------------------------------------------------
@st.composite
def cases(
    draw: st.DrawFn,
) -> tuple[Deps, dict[str, float], dict[str, int], int]:
    n = draw(st.integers(min_value=1, max_value=9))
    names = [f"t{i}" for i in range(n)]
    deps = {
        name: tuple(sorted(draw(st.sets(st.sampled_from(names[:i]), max_size=3)) if i else []))
        for i, name in enumerate(names)
    }
    durations = {
        name: draw(st.sampled_from([0.0, 0.5, 1.0, 2.0, 3.0, 5.0, 0.123])) for name in names
    }
    weights = {name: draw(st.integers(min_value=1, max_value=3)) for name in names}
    slots = draw(st.integers(min_value=1, max_value=4))
    return deps, durations, weights, slots


@given(cases(), st.booleans())
@settings(max_examples=300, deadline=None)
def test_never_worse_than_bottom_levels_in_simulation(
    case: tuple[Deps, dict[str, float], dict[str, int], int], weighted: bool
) -> None:
    deps, durations, weights, slots = case
    used = weights if weighted else None
    plan = plan_priorities(deps, durations, slots=slots, weights=used)
    assert set(plan) == set(deps)
    bottom = makespan(deps, durations, None, slots=slots, weights=used)
    assert makespan(deps, durations, plan, slots=slots, weights=used) <= bottom


@given(cases())
@settings(max_examples=100, deadline=None)
def test_never_simulates_more_than_the_budget(
    case: tuple[Deps, dict[str, float], dict[str, int], int],
) -> None:
    deps, durations, weights, slots = case
    with counting_simulations() as counter:
        plan_priorities(deps, durations, slots=slots, weights=weights, budget=7)
    assert counter.calls <= 7


def test_the_same_graph_always_gets_the_same_plan() -> None:
    for seed in range(5):
        deps, durations = random_dag(30, seed)
        first = plan_priorities(deps, durations, slots=3)
        assert plan_priorities(deps, durations, slots=3) == first
        # Nor does the order in which the map lists its tools matter.
        reordered = dict(reversed(list(deps.items())))
        assert plan_priorities(reordered, dict(reversed(list(durations.items()))), slots=3) == (
            first
        )


def test_random_graphs_come_closer_to_the_lower_bound() -> None:
    total_bottom = total_planned = 0.0
    for seed in range(20):
        deps, durations = random_dag(25, seed)
        slots = 2 + seed % 3
        total_bottom += makespan(deps, durations, None, slots=slots)
        plan = plan_priorities(deps, durations, slots=slots)
        total_planned += makespan(deps, durations, plan, slots=slots)
    assert total_planned < total_bottom


# --- effort --------------------------------------------------------------------------------
def test_large_graphs_get_bottom_levels_without_simulating(
    simulations: CountingSimulate,
) -> None:
    deps, durations = random_dag(20_000, seed=1)
    assert plan_priorities(deps, durations, slots=4) == graph.bottom_levels(deps, durations)
    assert simulations.calls == 0


def test_mid_sized_graphs_only_try_the_cheap_rules(simulations: CountingSimulate) -> None:
    deps, durations = random_dag(priority.SEARCH_LIMIT + 1, seed=2)
    plan_priorities(deps, durations, slots=3)
    assert 1 <= simulations.calls <= 3  # bottom levels and the two linear-time rules


def test_small_graphs_search_within_the_default_budget(simulations: CountingSimulate) -> None:
    deps, durations = random_dag(priority.SEARCH_LIMIT, seed=2)
    plan_priorities(deps, durations, slots=3)
    assert simulations.calls <= priority.DEFAULT_BUDGET
