"""The run as one self-contained HTML page with a Gantt chart; no network needed.

``timeline.html`` next to this module is the page: inline CSS and a small script that
draws an SVG chart from the run's data, embedded as JSON in the page:

- a lane per worker slot, a bar per call on the slot it held (a sharded tool's shards
  are bars of their own; a tool that holds several slots has a bar on each);
- bars coloured by outcome: passed, findings, error (could not run), timed out;
- the bars of the longest chain of the run (its measured critical path) outlined;
- the lower bound of the run (``max(longest chain, tool time / slots)``) as a dashed line;
- on hover, each bar's tool, outcome, duration, files and counts (errors, warnings,
  notes); tools that did not run (blocked, not applicable) are listed under the chart.
"""

from __future__ import annotations

import json
import math
from importlib import resources
from typing import Any

from huskycat.report.describe import describe
from huskycat.report.run_data import RunData, note_count, outcome_word
from huskycat.report.spans import slot_count, spans
from huskycat.tools.facts import facts_of

TEMPLATE_RESOURCE = "timeline.html"
PLACEHOLDER = "__HUSKYCAT_RUN_DATA__"
COLORS = {
    "passed": "#2da44e",
    "findings": "#e3a21a",
    "error": "#cf222e",
    "timeout": "#8250df",
    "blocked": "#8c959f",
}


def timeline_data(run: RunData) -> dict[str, Any]:
    """What the page draws (the JSON embedded in it)."""
    by_name = {r.tool_name: r for r in run.results}
    found = spans(run.statistics, run.results)
    drawn = []
    for span in found:
        result = by_name.get(span.tool)
        drawn.append(
            {
                "tool": span.tool,
                "label": span.label,
                "shard": span.shard,
                "slots": list(span.slots),
                "start": round(span.start, 6),
                "end": round(span.end, 6),
                "outcome": outcome_word(result) if result else "passed",
                "status": describe(result) if result else "",
                "errors": result.errors if result else 0,
                "warnings": result.warnings if result else 0,
                "notes": note_count(result) if result else 0,
                "files": facts_of(result).files if result else None,
                "cached": bool(result and facts_of(result).cached),
            }
        )
    ran = {span.tool for span in found}
    stats = run.statistics
    wall = _seconds(stats.get("wall_time")) or max((s.end for s in found), default=0.0)
    return {
        "title": f"huskycat run{' of ' + run.root if run.root else ''}",
        "wall": wall,
        "lower_bound": _seconds(stats.get("lower_bound")),
        "slots": slot_count(stats, found),
        "critical": [str(n) for n in stats.get("measured_critical_path_tools") or ()],
        "colors": COLORS,
        "spans": drawn,
        "not_run": [
            {"tool": r.tool_name, "outcome": outcome_word(r), "status": describe(r)}
            for r in run.results
            if r.tool_name not in ran
        ],
    }


def build_timeline(run: RunData) -> str:
    """The page for ``run``, as text."""
    template = resources.files("huskycat.report").joinpath(TEMPLATE_RESOURCE)
    page = template.read_text(encoding="utf-8")
    data = json.dumps(timeline_data(run), ensure_ascii=False, allow_nan=False)
    # Inside <script>: "</script>" or "<!--" in a tool name or path must not end it.
    data = data.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
    return page.replace(PLACEHOLDER, data, 1)


def _seconds(value: Any) -> float | None:
    if isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value):
        return float(value)
    return None
