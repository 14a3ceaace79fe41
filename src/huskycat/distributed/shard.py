"""``huskycat run --shard K/N``: one of N deterministic, balanced shares of a run.

Pure functions. The work of a run is cut into units: a project-wide tool is one unit; a
file-local tool with many files is cut into up to N contiguous slices of its files
(neighbours share folders and configuration). Each unit costs the tool's expected
duration (from the history, else one second plus a little per file) in proportion to
its files. Units go, longest first (ties by tool and slice), to the share with the least
work so far (ties: the lowest index). Every shard computes the same split from the same
plan and the same history, so the shares are disjoint and cover the whole run; the
report of each share records what it ran, and ``huskycat merge`` checks that they do.
"""

from __future__ import annotations

import dataclasses
import heapq
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # imported when used: the command line parses --shard with this module
    from huskycat.planning import Plan, PlannedTool

_SHARD = re.compile(r"(?P<k>[0-9]+)/(?P<n>[0-9]+)")
_UNKNOWN_BASE = 1.0  # seconds for a tool the history does not know, plus per file:
_UNKNOWN_PER_FILE = 0.01


class ShardError(ValueError):
    """A --shard value that is not K/N with 1 <= K <= N."""


@dataclass(frozen=True)
class Share:
    """Shard ``index`` (1-based) of ``count``."""

    index: int
    count: int


@dataclass(frozen=True)
class Unit:
    """A tool over a slice of its files (all of them for a project-wide tool)."""

    tool: str
    slice: int
    files: tuple[str, ...]
    cost: float


def parse_share(text: str) -> Share:
    """``K/N`` -> Share; ShardError naming the value otherwise."""
    found = _SHARD.fullmatch(text.strip())
    if found is None or not 1 <= int(found["k"]) <= int(found["n"]):
        raise ShardError(f"--shard {text!r}: expected K/N with 1 <= K <= N, such as 2/4")
    return Share(int(found["k"]), int(found["n"]))


def units(plan: Plan, expected: Mapping[str, float], count: int) -> list[Unit]:
    """The run's work as units (see the module docstring); tools that will not run
    (skipped before they start) are not work and are in every share."""
    found: list[Unit] = []
    for name, tool in plan.tools.items():
        if tool.skip_reason is not None:
            continue
        files = tool.files
        cost = expected.get(name, _UNKNOWN_BASE + _UNKNOWN_PER_FILE * len(files))
        slices = _slices(tool, count)
        if len(slices) == 1:
            found.append(Unit(name, 0, files, cost))
            continue
        for index, part in enumerate(slices):
            found.append(Unit(name, index, part, cost * len(part) / len(files)))
    return found


def _slices(tool: PlannedTool, count: int) -> list[tuple[str, ...]]:
    from huskycat.planning import MIN_FILES_PER_SHARD

    files = tool.files
    cuttable = tool.spec.scope == "file" and tool.spec.pass_filenames and tool.spec.targets is None
    pieces = min(count, len(files) // MIN_FILES_PER_SHARD) if cuttable else 1
    if pieces <= 1:
        return [files]
    size, extra = divmod(len(files), pieces)
    out, start = [], 0
    for index in range(pieces):
        end = start + size + (1 if index < extra else 0)
        out.append(files[start:end])
        start = end
    return out


def assign(work: list[Unit], count: int) -> list[list[Unit]]:
    """Longest first to the least loaded share: deterministic for the same units."""
    shares: list[list[Unit]] = [[] for _ in range(count)]
    loads = [(0.0, index) for index in range(count)]
    for unit in sorted(work, key=lambda u: (-u.cost, u.tool, u.slice)):
        load, index = heapq.heappop(loads)
        shares[index].append(unit)
        heapq.heappush(loads, (load + unit.cost, index))
    return shares


def take_share(
    plan: Plan, share: Share, expected: Mapping[str, float]
) -> tuple[Plan, dict[str, Any]]:
    """The plan of ``share`` and what its report records for ``huskycat merge``."""
    mine = assign(units(plan, expected, share.count), share.count)[share.index - 1]
    files: dict[str, list[str]] = {}
    for unit in sorted(mine, key=lambda u: (u.tool, u.slice)):
        files.setdefault(unit.tool, []).extend(unit.files)
    tools = {
        name: dataclasses.replace(tool, files=tuple(files[name])) if name in files else tool
        for name, tool in plan.tools.items()
        if name in files or tool.skip_reason is not None
    }
    record = {
        "index": share.index,
        "count": share.count,
        "tools": list(plan.tools),  # the whole run's tools, in order
        "requires": {n: list(d) for n, d in plan.requires.items() if n in plan.tools},
        "after": {n: list(d) for n, d in plan.after.items() if n in plan.tools},
        "files": {n: len(t.files) for n, t in plan.tools.items()},
        "ran_files": {n: len(f) for n, f in files.items()},
    }
    return dataclasses.replace(plan, tools=tools), record
