"""ParallelExecutor: run tools with the most parallelism their dependencies allow.

A thin facade over :mod:`~huskycat.core.graph` (validation, levels, paths),
:mod:`~huskycat.core.scheduler` (the run loop), :mod:`~huskycat.core.backend` (where
calls run) and :mod:`~huskycat.core.stats`. Its public names are the seed design's::

    from huskycat.core.parallel_executor import ParallelExecutor, ToolResult

    executor = ParallelExecutor(max_workers=4, timeout_per_tool=60.0)
    results = executor.execute_tools({"black": run_black, "mypy": run_mypy})

A tool starts as soon as its own dependencies are done and a slot is free (no level
barriers); among ready tools, the longest remaining path first, unless simulating the
schedule finds an order that finishes sooner (:mod:`~huskycat.core.priority`). Only the
tools passed to ``execute_tools`` run and get a result, exactly one each.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable, Iterable, Mapping
from typing import Any, Protocol

from huskycat.core import graph, render, stats
from huskycat.core.backend import Backend, ThreadBackend
from huskycat.core.priority import plan_priorities
from huskycat.core.process import DEFAULT_TIMEOUT, KILL_GRACE
from huskycat.core.results import (
    SKIP_DEPENDENCY,
    ToolEvent,
    ToolResult,
    ToolStatus,
)
from huskycat.core.scheduler import Scheduler, Task
from huskycat.core.sharding import ShardedTool
from huskycat.core.tool_options import ToolOptions, split_options

__all__ = [  # noqa: F822 - TOOL_DEPENDENCIES is provided by the module's __getattr__, below
    "TOOL_DEPENDENCIES",
    "ParallelExecutor",
    "ProgressCallback",
    "ShardedTool",
    "ToolEvent",
    "ToolOptions",
    "ToolResult",
    "ToolStatus",
]


def __getattr__(name: str) -> Any:
    # TOOL_DEPENDENCIES, the seed's 15-tool graph, lives with the tools
    # (huskycat.tools.defaults): the engine knows no tool. Re-exported here, on first use,
    # so that the seed's ``from huskycat.core.parallel_executor import TOOL_DEPENDENCIES``
    # keeps working without the engine importing the tools layer when it is not asked.
    if name == "TOOL_DEPENDENCIES":
        from huskycat.tools.defaults import TOOL_DEPENDENCIES

        return TOOL_DEPENDENCIES
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def _default_graph() -> tuple[dict[str, list[str]], dict[str, list[str]]]:
    """The default tools' edges as the catalog has them: (requires, after)."""
    from huskycat.tools.defaults import DEFAULT_AFTER, DEFAULT_DEPENDS_ON, NAMES

    requires = {name: list(DEFAULT_DEPENDS_ON.get(name, ())) for name in NAMES}
    return requires, {name: list(edges) for name, edges in DEFAULT_AFTER.items()}


class ProgressCallback(Protocol):
    def __call__(self, tool_name: str, status: str) -> None: ...


ToolCallable = Callable[[], object]


def available_cpus() -> int:
    """The CPUs this process may run on (its affinity mask where the OS has one)."""
    if hasattr(os, "sched_getaffinity"):
        return max(1, len(os.sched_getaffinity(0)))
    return max(1, os.cpu_count() or 1)


class ParallelExecutor:
    """Runs tool callables over a dependency DAG with at most ``max_workers`` at once.

    Args:
        tool_dependencies: ``{tool: [tools it requires]}``; None means the 15 default
            tools of :data:`TOOL_DEPENDENCIES`, with the catalog's edges (only
            ansible-lint, gitlab-ci and helm-lint require yamllint; mypy, flake8 and
            bandit run *after* black and isort). An empty map is an empty map. A
            dependency must succeed (or be skipped as not applicable) for its dependent
            to run.
        max_workers: worker slots; None means :func:`available_cpus`. A computed value
            below 1 counts as 1, so ``os.cpu_count() - 2`` works on two cores.
        timeout_per_tool: seconds before a tool is TIMEOUT and its processes are killed;
            None for no limit.
        fail_fast: after the first failure or timeout start nothing new, cancel what
            runs, and skip the rest.
        after: ``{tool: [tools it runs after]}``: ordering only; the dependent still
            runs when such a dependency failed with findings (see the scheduler).
        expected_durations: seconds per tool, for priorities and estimates; otherwise
            the durations this executor measured in earlier runs, otherwise 1 each.
        tool_resources: worker slots per tool (capped at ``max_workers``).
        tool_timeouts: per-tool timeouts overriding ``timeout_per_tool`` (None: none).
        backend: a factory ``(slots) -> Backend`` (default: worker threads), or a
            backend object serving every run, such as
            ``huskycat.core.dask_backend.DaskBackend(client)``; with ``max_workers``
            None, a backend that has ``total_slots()`` (a cluster) gives the slots.
        kill_grace: seconds between SIGTERM and SIGKILL for a tool's processes.
        background_nice: CPU niceness (1 to 19) given to the processes of tools that are
            not on the longest remaining path when they start, so that the critical
            path gets the CPUs first when there are too few; 0 (the default) leaves
            every process as it is.
        tool_options: ``{tool: ToolOptions(timeout=, weight=, expected_duration=)}``,
            one record per tool instead of the three maps above (a field that is set
            wins over the maps' entry for that tool).
    """

    def __init__(
        self,
        tool_dependencies: Mapping[str, Iterable[str]] | None = None,
        max_workers: int | None = None,
        timeout_per_tool: float | None = DEFAULT_TIMEOUT,
        fail_fast: bool = False,
        *,
        after: Mapping[str, Iterable[str]] | None = None,
        expected_durations: Mapping[str, float] | None = None,
        tool_resources: Mapping[str, int] | None = None,
        tool_timeouts: Mapping[str, float | None] | None = None,
        backend: Callable[[int], Backend] | Backend | None = None,
        kill_grace: float = KILL_GRACE,
        background_nice: int = 0,
        tool_options: Mapping[str, ToolOptions] | None = None,
    ) -> None:
        deps: Mapping[str, Iterable[str]]
        if tool_options:
            timeouts, weights, durations = split_options(tool_options)
            tool_timeouts = {**(tool_timeouts or {}), **timeouts}
            tool_resources = {**(tool_resources or {}), **weights}
            expected_durations = {**(expected_durations or {}), **durations}
        # The seed's own graph prints the seed's plan word for word: its text has one
        # relation, "depends on", for every predecessor (Mermaid and DOT draw both kinds).
        self._seed_wording = tool_dependencies is None and not after
        if tool_dependencies is None:
            # The 15 default tools, with the catalog's two kinds of edge: mypy, flake8
            # and bandit only run after black (and isort), and still run if it fails.
            deps, default_after = _default_graph()
            after = {**default_after, **{n: list(v) for n, v in (after or {}).items()}}
        else:
            deps = tool_dependencies
        if not isinstance(deps, Mapping):
            raise TypeError(f"tool_dependencies must be a mapping, got {deps!r}")
        requires = graph.normalize(deps, what="tool_dependencies", check_cycles=False)
        if after:
            order = {name: list(v) for name, v in after.items()}
            for name in order:
                requires.setdefault(name, ())
            for name in requires:
                order.setdefault(name, [])
            self._after = graph.normalize(order, what="after", check_cycles=False)
            self._combined = graph.merge(requires, self._after)
        else:
            self._after = {}
            self._combined = requires
        self._requires = requires
        graph.raise_on_cycles(self._combined)
        self.tool_dependencies = {n: list(d) for n, d in self._requires.items()}
        self.max_workers = _workers(max_workers, backend)
        self.timeout_per_tool = _seconds(timeout_per_tool, "timeout_per_tool")
        self.fail_fast = bool(fail_fast)
        self.expected_durations = {
            n: _seconds(v, f"expected_durations[{n!r}]", allow_zero=True) or 0.0
            for n, v in (expected_durations or {}).items()
        }
        self.tool_resources = {n: _weight(n, w) for n, w in (tool_resources or {}).items()}
        self.tool_timeouts = {
            n: _seconds(v, f"tool_timeouts[{n!r}]") for n, v in (tool_timeouts or {}).items()
        }
        self.kill_grace = kill_grace
        if isinstance(background_nice, bool) or not 0 <= background_nice <= 19:
            raise ValueError(f"background_nice must be 0 to 19, got {background_nice!r}")
        self.background_nice = background_nice
        self._backend_factory = _factory(backend)
        self._measured: dict[str, float] = {}
        self._last_run: dict[str, Any] | None = None
        self.last_results: list[ToolResult] = []

    # --- running -----------------------------------------------------------------------
    def execute_tools(
        self,
        tools: Mapping[str, ToolCallable],
        progress_callback: ProgressCallback | Callable[[str, str], object] | None = None,
        *,
        event_callback: Callable[[ToolEvent], object] | None = None,
    ) -> list[ToolResult]:
        """Run ``tools`` (``{name: callable}``) and return one result per tool, in the
        order given. Dependencies on tools not passed are ignored; tools the map does
        not mention run with no dependencies.

        ``progress_callback(name, status)`` gets "running", then one of "success",
        "failed", "skipped", "timeout"; ``event_callback`` gets the same changes as
        :class:`ToolEvent` objects carrying the final :class:`ToolResult`. Both are
        called from the calling thread, never concurrently.
        """
        if not isinstance(tools, Mapping):
            raise TypeError(f"tools must be a mapping of name to callable, got {tools!r:.80}")
        for name, fn in tools.items():
            if not isinstance(name, str):
                raise TypeError(f"tool names must be strings, got {name!r}")
            if not callable(fn):
                raise TypeError(f"tool {name!r} is not callable: {fn!r:.80}")
        names = list(tools)
        requires = graph.restrict(self._requires, names)
        if self._after:
            after = graph.restrict(self._after, names)
            combined = graph.merge(requires, after)
        else:
            after, combined = {}, requires
        durations = {n: self._expected(n) for n in names}
        # Said now: after the run every tool that ran has a measured duration, but this
        # run's plan rested on what was known before it.
        source = self._duration_source(names)
        priority = plan_priorities(
            combined, durations, slots=self.max_workers, weights=self.tool_resources
        )
        path = graph.bottom_levels(combined, durations)
        level_of, barriers = self._levels_for(names)
        backend = self._backend_factory(self.max_workers)
        check_weight = getattr(backend, "check_weight", None)
        if check_weight is not None:  # a cluster: a tool no worker can take fails at once
            for name in names:  # weights capped at the slots, as the scheduler does
                check_weight(name, min(self.tool_resources.get(name, 1), self.max_workers))
        tasks = [
            Task(
                name=name,
                fn=tools[name],
                requires=requires[name],
                after=tuple(d for d in after.get(name, ()) if d not in requires[name]),
                weight=self.tool_resources.get(name, 1),
                timeout=self.tool_timeouts.get(name, self.timeout_per_tool),
                priority=priority[name],
                path=path[name],
                level=level_of.get(name, 0),
                **_shard_fields(tools[name]),
            )
            for name in names
        ]

        def on_event(event: ToolEvent) -> None:
            # Both callbacks get every event even if the first one raises.
            try:
                if progress_callback is not None:
                    progress_callback(event.tool_name, event.status.value)
            finally:
                if event_callback is not None:
                    event_callback(event)

        scheduler = Scheduler(
            tasks,
            slots=self.max_workers,
            backend=backend,
            fail_fast=self.fail_fast,
            barriers=barriers,
            on_event=on_event if (progress_callback or event_callback) else None,
            kill_grace=self.kill_grace,
            background_nice=self.background_nice,
        )
        try:
            results = scheduler.run()
        finally:
            self.last_results = [scheduler.results[n] for n in names if n in scheduler.results]
        for name in names:
            if name not in results:  # a custom order that can never be satisfied
                results[name] = ToolResult(
                    name,
                    False,
                    0.0,
                    status=ToolStatus.SKIPPED,
                    error_message="not scheduled: the execution order never allowed it",
                    metadata={"skip_reason": SKIP_DEPENDENCY},
                )
        ordered = [results[n] for n in names]
        self.last_results = ordered
        for result in ordered:
            if result.status in (ToolStatus.SUCCESS, ToolStatus.FAILED):
                self._measured[result.tool_name] = result.duration
        self._last_run = {
            "deps": combined,
            "durations": {r.tool_name: r.duration for r in ordered},
            "elapsed": {
                r.tool_name: float(r.metadata["wall_duration"])
                for r in ordered
                if isinstance(r.metadata.get("wall_duration"), (int, float))
            },
            "expected": durations,
            "source": source,
            "wall_time": scheduler.record.wall_time,
            "peak_busy": scheduler.record.peak_busy,
            "starts": dict(scheduler.record.starts),
            "ends": dict(scheduler.record.ends),
            "calls": list(scheduler.record.calls),
        }
        return ordered

    def _duration_source(self, names: Iterable[str]) -> str:
        """Where the expected durations of ``names`` come from, as the statistics say."""
        names = list(names)
        if all(n in self.expected_durations for n in names):
            return "expected_durations"
        if all(n in self._measured or n in self.expected_durations for n in names):
            return "measured"
        return "default 1 unit per tool where nothing is known"

    def _expected(self, name: str) -> float:
        if name in self.expected_durations:
            return self.expected_durations[name]
        return self._measured.get(name, 1.0)

    def _levels_for(self, names: list[str]) -> tuple[dict[str, int], bool]:
        """Barrier levels when a subclass overrides ``_get_execution_order``."""
        if type(self)._get_execution_order is ParallelExecutor._get_execution_order:
            return {}, False
        order = self._get_execution_order()
        if order is None:  # an override that only says "pass" keeps the default scheduling
            return {}, False
        level_of: dict[str, int] = {}
        for index, level in enumerate(order):
            for name in level:
                level_of.setdefault(name, index)
        last = len(order)
        return {n: level_of.get(n, last) for n in names}, True

    # --- plans and pictures --------------------------------------------------------------
    def _get_execution_order(self) -> list[list[str]]:
        """Levels of the whole map: a tool's level is its longest dependency chain."""
        return graph.levels(self._combined)

    def get_execution_plan(self) -> list[tuple[int, list[str]]]:
        """``[(level, [tools])]``, sorted by name within a level."""
        return [(i, sorted(level)) for i, level in enumerate(self._get_execution_order())]

    def visualize_dependencies(self, format: str = "text") -> str:
        """The graph as the seed's text plan, or as "mermaid" or "dot"."""
        if format == "text":
            if self._seed_wording:
                return render.text_plan(self.get_execution_plan(), self._combined, {})
            return render.text_plan(self.get_execution_plan(), self._requires, self._after)
        if format == "mermaid":
            return render.mermaid(self._requires, self._after)
        if format == "dot":
            return render.dot(self._requires, self._after)
        raise ValueError(f"unknown graph format {format!r}; expected 'text', 'mermaid' or 'dot'")

    # --- statistics ----------------------------------------------------------------------
    def get_statistics(self) -> dict[str, Any]:
        """Estimated plan statistics; after a run, also what that run measured.

        ``speedup_factor`` is an estimate: the sum of expected durations over the
        makespan of a simulated schedule with ``max_workers`` slots
        (``speedup_is_estimate`` says so). Before any run it describes the whole map;
        after a run, the tools of that run.
        """
        if self._last_run is None:
            deps: Mapping[str, tuple[str, ...]] = self._combined
            durations = {n: self._expected(n) for n in deps}
            source = self._duration_source(deps)
        else:
            deps = self._last_run["deps"]
            durations = self._last_run["expected"]
            source = self._last_run["source"]
        result = stats.plan_statistics(
            deps,
            durations,
            slots=self.max_workers,
            weights=self.tool_resources,
            duration_source=source,
            priority=plan_priorities(
                deps, durations, slots=self.max_workers, weights=self.tool_resources
            ),
        )
        if self._last_run is not None:
            result["measured"] = True
            result.update(
                stats.run_statistics(
                    deps,
                    self._last_run["durations"],
                    wall_time=self._last_run["wall_time"],
                    slots=self.max_workers,
                    peak_busy=self._last_run["peak_busy"],
                    elapsed=self._last_run["elapsed"],
                )
            )
            # Each call's worker slots and times, for the timeline and trace reports.
            result["calls"] = [
                {
                    "tool": c.tool,
                    "shard": c.shard,
                    "slots": list(c.lanes),
                    "start": c.start,
                    "end": c.end,
                }
                for c in self._last_run["calls"]
            ]
        else:
            result["measured"] = False
        return result


def _shard_fields(fn: ToolCallable) -> dict[str, Any]:
    if isinstance(fn, ShardedTool) and fn.max_shards > 1:
        return {"split": fn.split, "merge": fn.merge, "max_shards": fn.max_shards}
    return {}


def _factory(backend: Callable[[int], Backend] | Backend | None) -> Callable[[int], Backend]:
    if backend is None:
        return ThreadBackend
    if hasattr(backend, "submit"):  # one backend object for every run
        shared: Backend = backend  # type: ignore[assignment]
        return lambda _slots: shared
    return backend


# --- argument checks -------------------------------------------------------------------
def _workers(value: int | None, backend: object = None) -> int:
    if value is None:
        total_slots = getattr(backend, "total_slots", None)
        return max(1, int(total_slots())) if callable(total_slots) else available_cpus()
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"max_workers must be an int or None, got {value!r}")
    return max(1, value)


def _seconds(value: float | None, what: str, *, allow_zero: bool = False) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TypeError(f"{what} must be a number of seconds or None, got {value!r}")
    if math.isnan(value) or value < 0 or (value == 0 and not allow_zero):
        raise ValueError(f"{what} must be a positive number of seconds, got {value!r}")
    return float(value)


def _weight(name: str, value: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f"tool_resources[{name!r}] must be an int >= 1, got {value!r}")
    return value
