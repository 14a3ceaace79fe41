"""Results as GitLab's code quality report (``artifacts:reports:codequality``).

A JSON list of issues in the subset of the Code Climate format GitLab reads::

    [{"description": "`os` imported but unused", "check_name": "ruff F401",
      "fingerprint": "<32 hex digits>", "severity": "major",
      "location": {"path": "pkg/mod.py", "lines": {"begin": 1}}}]

Severities: error -> ``major``, warning -> ``minor``, note (info) -> ``info``. A tool
that could not do its work (crashed, timed out) or was blocked by another is one
``critical`` issue named ``huskycat <tool>`` saying why, located at the configuration
file it ran under (GitLab needs a path), so that it is never silently missing.
Fingerprints are those of :mod:`huskycat.report.fingerprint`, made unique by a counter.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

from huskycat.core.results import ToolResult, ToolStatus
from huskycat.report.describe import describe, first_line
from huskycat.report.fingerprint import LineReader, fingerprint
from huskycat.report.run_data import RunData, ran

_SEVERITY = {"error": "major", "warning": "minor", "info": "info"}
CONFIG_FILES = ("huskycat.toml", ".huskycat.toml", "pyproject.toml")


def build_codequality(run: RunData) -> list[dict[str, Any]]:
    """The issues of ``run`` (see the module docstring)."""
    root = Path(run.root) if run.root else None
    lines = LineReader(root)
    seen: dict[str, int] = {}
    issues = []
    for result in ran(run.results):
        for diagnostic in result.diagnostics:
            rule = diagnostic.code or result.tool_name
            digest = fingerprint(result.tool_name, rule, diagnostic, lines)
            seen[digest] = seen.get(digest, 0) + 1
            issues.append(
                {
                    "description": diagnostic.message or rule,
                    "check_name": f"{result.tool_name} {rule}" if diagnostic.code else rule,
                    "fingerprint": f"{digest}-{seen[digest]}",
                    "severity": _SEVERITY.get(diagnostic.severity, "major"),
                    "location": {
                        "path": diagnostic.file or _config_path(root),
                        "lines": {"begin": max(1, diagnostic.line or 1)},
                    },
                }
            )
        if _did_not_work(result):
            issues.append(_tool_issue(result, root))
    return issues


def _did_not_work(result: ToolResult) -> bool:
    if result.status is ToolStatus.FAILED:
        return result.outcome != "findings"
    return result.status in (ToolStatus.TIMEOUT, ToolStatus.SKIPPED)


def _tool_issue(result: ToolResult, root: Path | None) -> dict[str, Any]:
    reason = describe(result)
    detail = first_line(result.error_message) or first_line(result.output)
    if detail and detail not in reason:
        reason = f"{reason}: {detail}"
    digest = hashlib.sha256(f"huskycat\0{result.tool_name}\0{result.status}".encode()).hexdigest()
    return {
        "description": f"{result.tool_name} {reason}",
        "check_name": f"huskycat {result.tool_name}",
        "fingerprint": digest[:32],
        "severity": "critical",
        "location": {"path": _config_path(root), "lines": {"begin": 1}},
    }


def _config_path(root: Path | None) -> str:
    for name in CONFIG_FILES:
        if root is not None and (root / name).is_file():
            return name
    return CONFIG_FILES[-1]
