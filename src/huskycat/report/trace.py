"""The run as a Chrome Trace Event file, which Perfetto and ``chrome://tracing`` open.

The JSON object format (``{"traceEvents": [...]}``), times in microseconds from the
start of the run:

- one complete event (``"ph": "X"``) per call, on the lane (``tid``) of the worker slot
  it held: a tool, or each shard of a sharded tool; a tool that held several slots has
  one event on each. ``args`` carry its outcome, counts, files and whether it was cached;
- metadata events (``"ph": "M"``) name the process ("huskycat run") and each lane
  ("slot 1", "slot 2", ...) and keep the lanes in slot order;
- an instant event (``"ph": "i"``) for each tool that ended without running (skipped
  because a dependency did not pass, fail-fast), at the moment it was decided;
- ``otherData`` holds the run's wall time, lower bound and longest chain.
"""

from __future__ import annotations

import math
from typing import Any

from huskycat.report.describe import describe
from huskycat.report.run_data import RunData, note_count, outcome_word
from huskycat.report.spans import slot_count, spans
from huskycat.tools.facts import facts_of

PID = 1
_US = 1_000_000


def build_trace(run: RunData) -> dict[str, Any]:
    """The trace of ``run`` (see the module docstring)."""
    by_name = {r.tool_name: r for r in run.results}
    found = spans(run.statistics, run.results)
    lanes = slot_count(run.statistics, found)
    events: list[dict[str, Any]] = [
        {"name": "process_name", "ph": "M", "pid": PID, "tid": 0, "args": {"name": "huskycat run"}}
    ]
    for slot in range(lanes):
        tid = slot + 1
        events.append(
            {
                "name": "thread_name",
                "ph": "M",
                "pid": PID,
                "tid": tid,
                "args": {"name": f"slot {tid}"},
            }
        )
        events.append(
            {
                "name": "thread_sort_index",
                "ph": "M",
                "pid": PID,
                "tid": tid,
                "args": {"sort_index": tid},
            }
        )
    for span in found:
        result = by_name.get(span.tool)
        args: dict[str, Any] = {"tool": span.tool, "slots": [s + 1 for s in span.slots]}
        if span.shard >= 0:
            args["shard"] = span.shard + 1
        if result is not None:
            args.update(
                outcome=outcome_word(result),
                status=describe(result),
                errors=result.errors,
                warnings=result.warnings,
                notes=note_count(result),
                files=facts_of(result).files,
                cached=bool(facts_of(result).cached),
            )
        for slot in span.slots:
            events.append(
                {
                    "name": span.label,
                    "cat": "tool" if span.shard < 0 else "shard",
                    "ph": "X",
                    "ts": round(span.start * _US, 1),
                    "dur": round(max(0.0, span.end - span.start) * _US, 1),
                    "pid": PID,
                    "tid": slot + 1,
                    "args": args,
                }
            )
    ran = {span.tool for span in found}
    times = run.statistics.get("tool_times") or {}
    for result in run.results:
        entry = times.get(result.tool_name) if isinstance(times, dict) else None
        if result.tool_name in ran or not isinstance(entry, dict) or "end" not in entry:
            continue
        events.append(
            {
                "name": f"{result.tool_name}: {describe(result)}",
                "cat": "skipped",
                "ph": "i",
                "s": "p",
                "ts": round(float(entry["end"]) * _US, 1),
                "pid": PID,
                "tid": 0,
                "args": {"tool": result.tool_name, "outcome": outcome_word(result)},
            }
        )
    stats = run.statistics
    return {
        "traceEvents": events,
        "displayTimeUnit": "ms",
        "otherData": {
            "huskycat_version": run.version,
            "wall_time": _seconds(stats.get("wall_time")),
            "lower_bound": _seconds(stats.get("lower_bound")),
            "critical_path_tools": stats.get("measured_critical_path_tools") or [],
            "slots": lanes,
        },
    }


def _seconds(value: Any) -> float | None:
    if isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value):
        return float(value)
    return None
