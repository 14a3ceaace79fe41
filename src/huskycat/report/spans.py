"""When and where each call of a run ran: the bars of the timeline, the events of the trace.

A run's statistics hold ``calls``: one entry per call the engine made (a tool, or one
shard of it) with the worker slots it held and its start and end in seconds from the
start of the run. A report saved before the engine recorded calls has only
``tool_times`` (start and end per tool); its calls are then placed on the lowest free
slot in order of start, which is how the engine hands out slots too.
"""

from __future__ import annotations

import heapq
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from huskycat.core.results import ToolResult


@dataclass(frozen=True)
class Span:
    """One call: ``shard`` is -1 for a whole tool; ``slots`` are numbered from 0."""

    tool: str
    shard: int
    slots: tuple[int, ...]
    start: float
    end: float

    @property
    def label(self) -> str:
        return self.tool if self.shard < 0 else f"{self.tool} [shard {self.shard + 1}]"


def spans(statistics: Mapping[str, Any], results: Sequence[ToolResult]) -> list[Span]:
    """The calls of a run, by start time (see the module docstring)."""
    calls = statistics.get("calls")
    if isinstance(calls, list) and calls:
        found = [_span(call) for call in calls if isinstance(call, Mapping)]
        return sorted((s for s in found if s is not None), key=lambda s: (s.start, s.slots))
    return _placed(statistics.get("tool_times") or {}, results)


def slot_count(statistics: Mapping[str, Any], found: Sequence[Span]) -> int:
    """How many worker slots the run had (at least one, and every slot a call used)."""
    used = max((slot + 1 for span in found for slot in span.slots), default=1)
    workers = statistics.get("max_workers")
    declared = workers if isinstance(workers, int) and workers > 0 else 1
    return max(used, declared)


def _span(call: Mapping[str, Any]) -> Span | None:
    try:
        slots = tuple(int(s) for s in call.get("slots") or (0,))
        return Span(
            str(call["tool"]),
            int(call.get("shard", -1)),
            slots,
            float(call["start"]),
            float(call["end"]),
        )
    except (KeyError, TypeError, ValueError):
        return None


def _placed(times: Mapping[str, Any], results: Sequence[ToolResult]) -> list[Span]:
    ran = []
    for result in results:
        entry = times.get(result.tool_name)
        if isinstance(entry, Mapping) and "start" in entry and "end" in entry:
            ran.append((float(entry["start"]), float(entry["end"]), result.tool_name))
    ran.sort()
    free: list[int] = []
    busy: list[tuple[float, int]] = []  # (end, slot)
    count = 0
    out = []
    for start, end, name in ran:
        while busy and busy[0][0] <= start:
            heapq.heappush(free, heapq.heappop(busy)[1])
        if free:
            slot = heapq.heappop(free)
        else:
            slot, count = count, count + 1
        heapq.heappush(busy, (end, slot))
        out.append(Span(name, -1, (slot,), start, end))
    return out
