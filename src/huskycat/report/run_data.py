"""One finished run as every after-the-fact report reads it: results, statistics, root.

``huskycat run`` builds a :class:`RunData` from what it just measured;
``huskycat report FORMAT --from run.json`` builds the same record from a saved JSON
report (:func:`from_json_report`), so that SARIF, the trace, the timeline, GitLab's
code quality and the Markdown summary come out the same either way.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from huskycat.core.results import Diagnostic, ToolResult, ToolStatus
from huskycat.report.describe import note_count

__all__ = ["RunData", "SavedReportError", "from_json_report", "note_count", "outcome_word"]


class SavedReportError(ValueError):
    """A saved JSON report that cannot be read: names the file and what is wrong."""

    def __init__(self, path: str, problem: str) -> None:
        super().__init__(path, problem)
        self.path, self.problem = path, problem

    def __str__(self) -> str:
        return f"--from {self.path!r}: {self.problem}"


@dataclass(frozen=True)
class RunData:
    """A finished run: its results in order, the statistics, and where it ran."""

    results: tuple[ToolResult, ...]
    statistics: Mapping[str, Any] = field(default_factory=dict)
    root: str | None = None
    version: str = ""
    mode: str | None = None


def from_json_report(path: str | os.PathLike[str]) -> RunData:
    """Read a ``--json`` report back; :class:`SavedReportError` when it is not one."""
    name = os.fspath(path)
    try:
        text = Path(name).read_text(encoding="utf-8")
    except OSError as exc:
        raise SavedReportError(name, exc.strerror or str(exc)) from exc
    except UnicodeDecodeError as exc:
        raise SavedReportError(name, f"not UTF-8 text ({exc.reason})") from exc
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise SavedReportError(name, f"not JSON ({exc})") from exc
    return from_report_dict(data, source=name)


def from_report_dict(data: Any, *, source: str = "<report>") -> RunData:
    """A :class:`RunData` from a parsed ``--json`` report (format version 1)."""
    if not isinstance(data, dict) or data.get("format_version") != 1:
        version = data.get("format_version") if isinstance(data, dict) else None
        raise SavedReportError(
            source, f"not a huskycat JSON report of format_version 1 (found {version!r})"
        )
    try:
        results = tuple(_result(item) for item in data["results"])
        statistics = data.get("statistics") or {}
        if not isinstance(statistics, dict):
            raise TypeError(f"statistics is {type(statistics).__name__}, not an object")
    except (KeyError, TypeError, ValueError) as exc:
        raise SavedReportError(source, f"malformed result: {exc!r}") from exc
    root = data.get("root")
    return RunData(
        results,
        statistics,
        root if isinstance(root, str) else None,
        str(data.get("huskycat_version") or ""),
        data.get("mode") if isinstance(data.get("mode"), str) else None,
    )


def _result(item: Mapping[str, Any]) -> ToolResult:
    diagnostics = [_diagnostic(d) for d in item.get("diagnostics") or ()]
    metadata = item.get("metadata") or {}
    if not isinstance(metadata, dict):
        raise TypeError(f"metadata of {item.get('tool_name')!r} is not an object")
    return ToolResult(
        str(item["tool_name"]),
        bool(item["success"]),
        float(item.get("duration") or 0.0),
        errors=int(item.get("errors") or 0),
        warnings=int(item.get("warnings") or 0),
        output=str(item.get("output") or ""),
        status=ToolStatus(item["status"]),
        error_message=item.get("error_message"),
        metadata=dict(metadata),
        diagnostics=diagnostics,
    )


def _diagnostic(item: Mapping[str, Any]) -> Diagnostic:
    severity = item.get("severity")
    if severity not in ("error", "warning", "info"):
        raise ValueError(f"diagnostic severity {severity!r}")
    line, column = item.get("line"), item.get("column")
    return Diagnostic(
        str(item["file"]),
        int(line) if line is not None else None,
        int(column) if column is not None else None,
        str(item["code"]) if item.get("code") is not None else None,
        severity,
        str(item.get("message") or ""),
    )


def ran(results: Sequence[ToolResult]) -> list[ToolResult]:
    """The results of tools that did or tried to do work: not the ones skipped as not
    applicable (no files, not installed)."""
    return [
        r
        for r in results
        if not (r.status is ToolStatus.SKIPPED and r.skip_reason == "not_applicable")
    ]


def outcome_word(result: ToolResult) -> str:
    """One word for how a tool ended, as the timeline colours it and the trace names it:
    passed, findings, error, timeout, blocked (skipped because of another tool) or
    not-applicable."""
    if result.status is ToolStatus.SUCCESS:
        return "passed"
    if result.status is ToolStatus.TIMEOUT:
        return "timeout"
    if result.status is ToolStatus.FAILED:
        return "findings" if result.outcome == "findings" else "error"
    if result.status is ToolStatus.SKIPPED:
        return "not-applicable" if result.skip_reason == "not_applicable" else "blocked"
    return str(result.status)
