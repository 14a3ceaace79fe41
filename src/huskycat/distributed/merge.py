"""Combining the JSON reports of ``huskycat run --shard K/N`` into one run's results.

Pure, given the reports read. The shares must all be there (each index of the same
count once), agree on the run (the same tools, the same file counts), and together have
run every file of every tool exactly once; anything else is a :class:`MergeError`
naming the report. A tool cut into slices gets one merged result (counts summed,
diagnostics in file order, the worst status). Then the dependency rule of the scheduler
is applied across shares, in dependency order: a tool whose dependency failed in another
share is SKIPPED as it would have been in a single run.
"""

from __future__ import annotations

import dataclasses
import graphlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from huskycat.core.results import SKIP_DEPENDENCY, Diagnostic, ToolResult, ToolStatus
from huskycat.core.scheduler import blocks
from huskycat.errors import HuskycatError
from huskycat.tools.facts import facts_of, replace_result, with_facts
from huskycat.tools.merge import merge_results

_RESULT_FIELDS = frozenset(f.name for f in dataclasses.fields(ToolResult))


class MergeError(HuskycatError):
    """Reports that do not make one run, with the report to blame."""


@dataclass(frozen=True)
class Shard:
    """One share's report: where it came from, its record and its results."""

    source: str
    record: Mapping[str, Any]
    results: list[ToolResult]
    statistics: Mapping[str, Any]
    root: str | None = None
    mode: str | None = None


@dataclass
class Merged:
    """The run the shares make together."""

    results: list[ToolResult]
    statistics: dict[str, Any]
    levels: list[list[str]]
    root: str | None
    mode: str | None
    sources: list[str] = field(default_factory=list)


def read_shard(source: str, report: object) -> Shard:
    """A loaded JSON report -> Shard; MergeError naming ``source`` if it is not one."""
    if not isinstance(report, dict) or report.get("format_version") != 1:
        raise MergeError(f"{source!r} is not a huskycat JSON report (format_version 1)")
    statistics = report.get("statistics")
    record = statistics.get("shard") if isinstance(statistics, dict) else None
    if not isinstance(statistics, dict) or not isinstance(record, dict):
        raise MergeError(f"{source!r} is not the report of a share: run it with --shard K/N")
    if not isinstance(record.get("index"), int) or not isinstance(record.get("count"), int):
        raise MergeError(f"{source!r}: its share has no index and count")
    try:
        results = [_result(r) for r in report["results"]]
    except (KeyError, TypeError, ValueError) as exc:
        raise MergeError(f"{source!r}: a result does not read as one: {exc}") from exc
    return Shard(source, record, results, statistics, report.get("root"), report.get("mode"))


def _result(data: Mapping[str, Any]) -> ToolResult:
    # The report also carries what it derives from a result (notes counted from the
    # diagnostics, ...): only a result's own fields make it again.
    fields = {k: v for k, v in data.items() if k in _RESULT_FIELDS}
    fields["diagnostics"] = [Diagnostic(**d) for d in fields.get("diagnostics", ())]
    fields["metadata"] = dict(fields.get("metadata") or {})
    return ToolResult(**fields)


def merge(shards: Sequence[Shard]) -> Merged:
    """The shares' results as one run's (see the module docstring)."""
    if not shards:
        raise MergeError("no reports to merge")
    first = shards[0]
    count = int(first.record["count"])
    seen: dict[int, str] = {}
    for shard in shards:
        for key in ("count", "tools", "files", "requires", "after"):
            if shard.record.get(key) != first.record.get(key):
                raise MergeError(
                    f"{shard.source!r} is a share of another run than {first.source!r} "
                    f"(its {key!r} differ)"
                )
        index = int(shard.record["index"])
        if index in seen:
            raise MergeError(f"{shard.source!r} and {seen[index]!r} are both share {index}")
        seen[index] = shard.source
    missing = [str(i) for i in range(1, count + 1) if i not in seen]
    if missing:
        raise MergeError(f"share {', '.join(missing)} of {count} is missing")
    order: list[str] = list(first.record["tools"])
    requires = {n: list(v) for n, v in first.record["requires"].items()}
    after = {n: list(v) for n, v in first.record["after"].items()}
    parts: dict[str, list[ToolResult]] = {name: [] for name in order}
    for shard in sorted(shards, key=lambda s: s.record["index"]):
        for result in shard.results:
            parts.setdefault(result.tool_name, []).append(result)
    _check_coverage(shards, first.record["files"])
    combined = {name: _combine(name, parts[name]) for name in order if parts.get(name)}
    _apply_dependencies(combined, requires, after)
    statistics = _statistics(shards, combined)
    sorter = graphlib.TopologicalSorter(
        {
            n: [d for d in (*requires.get(n, ()), *after.get(n, ())) if d in combined]
            for n in combined
        }
    )
    levels: list[list[str]] = []
    sorter.prepare()
    while sorter.is_active():
        ready = sorted(sorter.get_ready())
        levels.append(ready)
        sorter.done(*ready)
    return Merged(
        [combined[n] for n in order if n in combined],
        statistics,
        levels,
        first.root,
        first.mode,
        [s.source for s in shards],
    )


def _check_coverage(shards: Sequence[Shard], files: Mapping[str, int]) -> None:
    ran: dict[str, int] = {}
    for shard in shards:
        for name, count in shard.record.get("ran_files", {}).items():
            ran[name] = ran.get(name, 0) + int(count)
    for name, count in ran.items():
        if count != files.get(name):
            raise MergeError(
                f"the shares ran {name!r} on {count} files, the run has {files.get(name)}: "
                "they split the work differently (was the history different on the "
                "machines that ran them?)"
            )


def _combine(name: str, parts: list[ToolResult]) -> ToolResult:
    ran = [r for r in parts if not (r.status is ToolStatus.SKIPPED and r.skip_reason)]
    if len(parts) == 1:
        return parts[0]
    if not ran:
        return parts[0]  # skipped before it ran, alike in every share
    files = sum(facts_of(r).files or 0 for r in ran)
    merged = replace_result(merge_results(ran), tool_name=name)
    return with_facts(merged, files=files, shares=len(ran))


def _apply_dependencies(
    results: dict[str, ToolResult],
    requires: Mapping[str, list[str]],
    after: Mapping[str, list[str]],
) -> None:
    graph = {
        n: [d for d in (*requires.get(n, ()), *after.get(n, ())) if d in results] for n in results
    }
    for name in graphlib.TopologicalSorter(graph).static_order():
        result = results[name]
        if result.status is ToolStatus.SKIPPED:
            continue
        for dep in sorted(set(graph[name])):
            found = results[dep]
            if found.status is ToolStatus.SUCCESS:
                continue
            if not blocks(found, requires=dep in requires.get(name, ())):
                continue
            if found.status is ToolStatus.SKIPPED:
                why = f"was skipped: {found.error_message}"
            elif found.status is ToolStatus.TIMEOUT:
                why = "timed out"
            else:
                why = "failed"
            results[name] = ToolResult(
                name,
                False,
                0.0,
                status=ToolStatus.SKIPPED,
                error_message=f"dependency {dep!r} {why}",
                metadata={"skip_reason": SKIP_DEPENDENCY, "blocked_by": dep},
            )
            break


def _statistics(shards: Sequence[Shard], results: Mapping[str, ToolResult]) -> dict[str, Any]:
    walls = [float(s.statistics.get("wall_time") or 0.0) for s in shards]
    work = sum(r.duration for r in results.values())
    wall = max(walls, default=0.0)
    return {
        "wall_time": wall,  # the shares ran side by side: the slowest one
        "sum_of_durations": work,
        "measured_speedup": work / wall if wall > 0 else 0.0,
        "measured_speedup_basis": "sum of tool durations / the slowest share's wall time",
        "shares": len(shards),
        "share_wall_times": walls,
    }
