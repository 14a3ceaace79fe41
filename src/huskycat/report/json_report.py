"""Results as a JSON document for other programs, format version 1.

The document (``schema.json`` next to this module is its JSON Schema, draft 2020-12)::

    {
      "format_version": 1,
      "huskycat_version": "0.1.0",
      "root": "/path/to/repo",          # or null
      "mode": "pre-commit",             # or null: how huskycat was run
      "success": true,                  # every result's "success" is true
      "results": [                      # one per tool, in the order given
        {
          "tool_name": "flake8",
          "success": false,
          "duration": 1.2,              # seconds
          "errors": 3,
          "warnings": 1,
          "notes": 0,                   # diagnostics of severity info
          "output": "...",              # the tool's own output
          "status": "failed",           # success | failed | skipped | timeout
          "error_message": null,        # or a string
          "metadata": {...},            # e.g. skip_reason, outcome, cached, modified_files
          "diagnostics": [
            {"file": "a.py", "line": 3, "column": 1, "code": "E302",
             "severity": "error", "message": "expected 2 blank lines"}
          ]                             # line, column and code may be null;
        }                               # severity is error | warning | info
      ],
      "plan": [{"level": 0, "tools": ["black", "ruff"]}, {"level": 1, "tools": ["mypy"]}],
      "statistics": {...}               # the run's figures, e.g. wall_time, measured_speedup,
                                        # tool_times: {tool: {"start": s, "end": s}},
                                        # calls: [{"tool", "shard", "slots", "start", "end"}]
    }

A result is ``ToolResult.to_dict()``. ``plan`` lists the dependency levels in order:
tools in one level depend only on tools in earlier levels. Numbers that are not finite
(NaN, infinity) become null, since JSON has no spelling for them. A change that breaks a
reader of this format raises ``format_version``.
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Iterable, Mapping, Sequence
from importlib import resources
from pathlib import Path
from typing import Any, TypeAlias

from huskycat.core.results import ToolResult
from huskycat.report.describe import Results, as_list
from huskycat.state import write_atomic

FORMAT_VERSION = 1
SCHEMA_RESOURCE = "schema.json"

# One level of the plan: its tools' names, or ``(level, names)``.
PlanLevel: TypeAlias = "Iterable[str] | tuple[int, Iterable[str]]"


def build_report(
    results: Results,
    *,
    plan: Sequence[PlanLevel],
    statistics: Mapping[str, Any],
    version: str,
    root: str | os.PathLike[str] | None = None,
    mode: str | None = None,
) -> dict[str, Any]:
    """The JSON-ready report (see the module docstring).

    ``plan`` is the dependency levels in order, each either the names of its tools
    (``graph.levels()``) or a ``(level, names)`` pair (``get_execution_plan()``).
    """
    listed = as_list(results)
    return {
        "format_version": FORMAT_VERSION,
        "huskycat_version": version,
        "root": os.fspath(root) if root is not None else None,
        "mode": mode,
        "success": all(r.success for r in listed),
        "results": [_result(r) for r in listed],
        "plan": [_plan_level(i, entry) for i, entry in enumerate(plan)],
        "statistics": _finite(_jsonable(statistics)),
    }


def write_json(report: Mapping[str, Any], path: str | os.PathLike[str]) -> Path:
    """Write ``report`` as compact UTF-8 JSON to ``path``, atomically; returns the path.

    Not indented: indenting makes Python's encoder three times slower, which a report of
    ten thousand diagnostics feels (``python -m json.tool`` or ``jq .`` pretty-print).
    A file name that is not UTF-8 (a byte kept as a lone surrogate) is written as JSON's
    escape of it (``"bad\\udcff.py"``), which reads back as the same name."""
    text = json.dumps(report, ensure_ascii=False, allow_nan=False) + "\n"
    return write_atomic(path, text.encode("utf-8", "backslashreplace"))


def load_schema() -> dict[str, Any]:
    """The JSON Schema of the report, as shipped inside the package."""
    text = resources.files("huskycat.report").joinpath(SCHEMA_RESOURCE).read_text(encoding="utf-8")
    schema: dict[str, Any] = json.loads(text)
    return schema


def _plan_level(index: int, entry: PlanLevel) -> dict[str, Any]:
    if isinstance(entry, tuple) and len(entry) == 2 and isinstance(entry[0], int):
        return {"level": entry[0], "tools": [str(name) for name in entry[1]]}
    return {"level": index, "tools": [str(name) for name in entry]}


def _jsonable(value: Any) -> Any:
    # Statistics come from another module and may hold tuples, sets or odd objects.
    if isinstance(value, Mapping):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        items = [_jsonable(v) for v in value]
        return sorted(items, key=repr) if isinstance(value, (set, frozenset)) else items
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    return repr(value)


def _result(result: ToolResult) -> dict[str, Any]:
    data = result.to_dict()
    diagnostics = data.pop("diagnostics")  # ints and strings only: nothing to make finite
    data = dict(_finite(data))
    data["diagnostics"] = diagnostics
    # Counted from the diagnostics: notes fail no tool by default, but hide in no count.
    data["notes"] = sum(1 for d in diagnostics if d["severity"] == "info")
    return data


def _finite(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_finite(v) for v in value]
    return value
