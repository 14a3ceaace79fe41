"""bandit, the Python security linter.

Check (it has no fix mode): ``bandit -f json -q FILES``; ``-q`` keeps its log lines off
stderr.

The JSON object on stdout has ``results``, each with ``filename`` (as given, with "./"
put in front), ``line_number`` (1-based), ``col_offset`` (0-based), ``test_id`` ("B602"),
``issue_text``, ``issue_severity`` and ``issue_confidence`` (LOW, MEDIUM or HIGH); and
``errors``, each with ``filename`` and ``reason``, for a file bandit could not scan (a
syntax error, a missing file). Severity: HIGH and MEDIUM are errors, LOW ones notes
(severity info), the way bandit's own ``-l``/``-ll`` levels split them; a file bandit
could not scan is an error, though bandit itself exits 0 when that is all that went
wrong. huskycat takes bandit's verdict: it exits 1 on an issue of any severity, LOW
included, so LOW notes fail the run unless the configuration says ``fail_on =
"warning"`` (or bandit's own ``-l``/``-ll`` leaves them out).

bandit reads its settings from the command line only: ``pyproject.toml`` needs
``-c pyproject.toml`` and a ``.bandit`` file ``--ini .bandit`` (it looks for one only
in folders it is asked to walk), to be added with the tool's ``args`` in the
configuration.

Exit codes: 0 no issues, 1 issues, 2 usage error.
"""

from __future__ import annotations

import json
from typing import Any

from huskycat.core.results import Diagnostic
from huskycat.tools.base import ParseResult, ToolOutput, ToolSpec
from huskycat.tools.parsing import failed
from huskycat.tools.verdict import by_exit_status


def _issue(item: dict[str, Any]) -> Diagnostic:
    severity = str(item.get("issue_severity", "")).upper()
    confidence = str(item.get("issue_confidence", "")).upper()
    col = item.get("col_offset")
    return Diagnostic(
        str(item["filename"]),
        int(item["line_number"]),
        int(col) + 1 if isinstance(col, int) else None,
        item.get("test_id"),
        "info" if severity == "LOW" else "error",
        f"{item.get('issue_text', '')} (severity {severity}, confidence {confidence})",
    )


def _error(item: dict[str, Any]) -> Diagnostic:
    return Diagnostic(str(item["filename"]), None, None, None, "error", str(item["reason"]))


def parse(out: ToolOutput) -> ParseResult:
    """Read bandit's JSON report: its results and the files it could not scan."""
    if out.returncode not in (0, 1):
        return failed(out)
    try:
        report = json.loads(out.stdout)
        diagnostics = [_issue(item) for item in report["results"]]
        diagnostics += [_error(item) for item in report["errors"]]
    except (ValueError, TypeError, KeyError, AttributeError) as exc:
        return failed(out, f"unreadable JSON from bandit ({exc})")
    unscanned = bool(report["errors"])
    return by_exit_status(diagnostics, failed=out.returncode == 1 or unscanned)


SPEC = ToolSpec(
    name="bandit",
    description="Python security linter",
    executable="bandit",
    install_hint="pip install bandit",
    check_args=("-f", "json", "-q"),
    types=frozenset({"python"}),
    config_files=("pyproject.toml", ".bandit"),
    parse=parse,
)
