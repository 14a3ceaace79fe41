"""Pure graph functions on literal graphs."""

from __future__ import annotations

import pytest

from huskycat.core import graph, stats


def test_normalize_sorts_and_deduplicates_dependencies() -> None:
    assert graph.normalize({"a": [], "b": ["a", "a"], "c": ["b", "a"]}) == {
        "a": (),
        "b": ("a",),
        "c": ("a", "b"),
    }


def test_normalize_names_both_tools_when_a_dependency_is_unknown() -> None:
    with pytest.raises(ValueError, match=r"tool 'mypy' depends on 'isort', which is not a tool"):
        graph.normalize({"mypy": ["isort"]})


def test_normalize_rejects_a_string_as_a_dependency_list() -> None:
    with pytest.raises(TypeError, match=r"dependencies of 'mypy' must be a list.*'black'"):
        graph.normalize({"mypy": "black", "black": []})


def test_cycles_are_reported_closed_and_starting_at_the_smallest_name() -> None:
    deps = {"c": ["a"], "a": ["b"], "b": ["c"], "d": ["d"], "e": []}
    assert graph.find_cycles(deps) == [["a", "b", "c", "a"], ["d", "d"]]
    with pytest.raises(ValueError) as info:
        graph.normalize(deps)
    assert str(info.value) == "Circular dependencies detected: [['a', 'b', 'c', 'a'], ['d', 'd']]"


def test_find_cycles_handles_a_long_chain_without_recursion() -> None:
    n = 5000
    deps = {f"t{i}": [f"t{i + 1}"] if i + 1 < n else [] for i in range(n)}
    assert graph.find_cycles(deps) == []
    deps[f"t{n - 1}"] = ["t0"]
    (cycle,) = graph.find_cycles(deps)
    assert len(cycle) == n + 1 and cycle[0] == cycle[-1] == "t0"


def test_levels_follow_the_longest_dependency_chain() -> None:
    deps = {"a": (), "b": ("a",), "c": ("b",), "d": ("a",), "e": ()}
    assert graph.levels(deps) == [["a", "e"], ["b", "d"], ["c"]]


def test_restrict_drops_dependencies_outside_the_run_and_adds_unknown_tools() -> None:
    deps = {"black": (), "isort": (), "mypy": ("black", "isort")}
    assert graph.restrict(deps, ["mypy", "black", "buggy"]) == {
        "mypy": ("black",),
        "black": (),
        "buggy": (),
    }


def test_bottom_levels_sum_durations_along_the_longest_remaining_path() -> None:
    deps = {"a": (), "b": ("a",), "c": ("a",), "d": ("b", "c")}
    durations = {"a": 1.0, "b": 5.0, "c": 2.0, "d": 1.0}
    assert graph.bottom_levels(deps, durations) == {"a": 7.0, "b": 6.0, "c": 3.0, "d": 1.0}


def test_critical_path_returns_length_and_tools() -> None:
    deps = {"a": (), "b": ("a",), "c": ("a",), "d": ("b", "c")}
    assert graph.critical_path(deps, {"a": 1, "b": 5, "c": 2, "d": 1}) == (7.0, ["a", "b", "d"])
    assert graph.critical_path({}, {}) == (0.0, [])


def test_simulated_speedup_never_exceeds_the_worker_count() -> None:
    deps = {f"t{i}": () for i in range(15)}
    plan = stats.plan_statistics(deps, {n: 1.0 for n in deps}, slots=4)
    assert plan["estimated_makespan"] == 4.0
    assert plan["speedup_factor"] == pytest.approx(15 / 4)
    assert plan["max_parallelism"] == 4
    assert plan["speedup_is_estimate"] is True


def test_simulation_respects_weights() -> None:
    deps = {"mypy": (), "a": (), "b": ()}
    sim = stats.simulate(deps, {"mypy": 2.0, "a": 1.0, "b": 1.0}, slots=2, weights={"mypy": 4})
    # mypy takes both slots (capped at 2) and runs alone first, being on the longest path
    assert sim.starts == {"mypy": 0.0, "a": 2.0, "b": 2.0}
    assert sim.makespan == 3.0


def test_run_statistics_lower_bound_and_efficiency() -> None:
    deps = {"a": (), "b": ("a",), "c": ()}
    measured = stats.run_statistics(
        deps, {"a": 1.0, "b": 1.0, "c": 1.0}, wall_time=2.5, slots=1, peak_busy=1
    )
    assert measured["lower_bound"] == 3.0  # total work / 1 worker beats the 2 s chain
    assert measured["critical_path"] == 2.0
    assert measured["measured_speedup"] == pytest.approx(3.0 / 2.5)
    assert measured["efficiency"] == pytest.approx(3.0 / 2.5)


def test_a_sharded_tool_adds_its_elapsed_time_to_a_chain_and_its_work_to_the_total() -> None:
    deps = {"lint": (), "types": ("lint",)}
    # lint ran in 4 shards: 4 s of work in 1 s on 4 slots; then types took 1 s.
    measured = stats.run_statistics(
        deps, {"lint": 4.0, "types": 1.0}, wall_time=2.1, slots=4, peak_busy=4,
        elapsed={"lint": 1.0},
    )  # fmt: skip
    assert measured["critical_path"] == 2.0
    assert measured["lower_bound"] == 2.0  # never above what the run achieved
    assert measured["sum_of_durations"] == 5.0


def test_the_default_graph_has_the_catalogs_edges() -> None:
    # The engine's default for ParallelExecutor() is the tools layer's, edge for edge.
    from huskycat.core.parallel_executor import TOOL_DEPENDENCIES, ParallelExecutor
    from huskycat.tools.catalog import DEFAULT_AFTER, DEFAULT_DEPENDS_ON

    executor = ParallelExecutor()
    assert set(executor.tool_dependencies) == set(TOOL_DEPENDENCIES)
    for name, predecessors in TOOL_DEPENDENCIES.items():
        assert executor.tool_dependencies[name] == list(DEFAULT_DEPENDS_ON.get(name, ()))
        assert set(predecessors) == {
            *DEFAULT_DEPENDS_ON.get(name, ()),
            *DEFAULT_AFTER.get(name, ()),
        }
    assert "black" not in executor.tool_dependencies["mypy"]  # only after it


def test_mypy_runs_after_black_that_found_something_in_the_default_graph() -> None:
    from huskycat.core.parallel_executor import ParallelExecutor
    from huskycat.core.results import OUTCOME_FINDINGS, ToolResult, ToolStatus

    order: list[str] = []

    def black() -> ToolResult:
        order.append("black")
        return ToolResult(
            "black", False, 0.0, status=ToolStatus.FAILED, metadata={"outcome": OUTCOME_FINDINGS}
        )

    def mypy() -> bool:
        order.append("mypy")
        return True

    results = ParallelExecutor(max_workers=1).execute_tools({"mypy": mypy, "black": black})
    assert order == ["black", "mypy"]  # after it, and not skipped for its findings
    assert [r.status for r in results] == [ToolStatus.SUCCESS, ToolStatus.FAILED]


def test_the_engine_imports_no_tool_module() -> None:
    import subprocess
    import sys

    code = (
        "import sys; import huskycat.core.parallel_executor as pe; pe.ParallelExecutor({});"
        "print(sorted(m for m in sys.modules if m.startswith('huskycat.tools')))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert out == "[]\n"


def test_no_core_module_imports_anything_above_the_engine() -> None:
    import subprocess
    import sys

    # Every module of huskycat.core, imported in a fresh interpreter: only huskycat's
    # package, its errors (the base of all its errors) and core itself may be loaded.
    code = (
        "import importlib, pkgutil, sys, huskycat.core as core\n"
        "names = [m.name for m in pkgutil.walk_packages(core.__path__, 'huskycat.core.')]\n"
        "for name in names: importlib.import_module(name)\n"
        "print(len(names))\n"
        "print(sorted(m for m in sys.modules if m.startswith('huskycat.')"
        " and not m.startswith('huskycat.core') and m != 'huskycat.errors'))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout.splitlines()
    assert int(out[0]) >= 10  # the walk found the engine's modules
    assert out[1] == "[]"
