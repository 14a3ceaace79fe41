"""mypy, the static type checker.

Check (and fix, which it does not have): ``mypy -O json FILES``. Its scope is the
project: a file's result depends on the modules it imports, so results are not per file.

``-O json`` (mypy 1.11 and later) prints one JSON object a line on stdout: ``file``,
``line``, ``column`` (0-based, unlike the 1-based text output; -1 when the message has no
place), ``message``, ``hint``, ``code`` and ``severity`` ("error" or "note"). Notes are
"info" diagnostics and count as neither errors nor warnings. Lines that are not JSON are
read as mypy's text format (``FILE:LINE[:COL]: SEVERITY: MESSAGE  [CODE]``), which older
mypy prints and which a configured ``command`` may ask for.

Exit codes: 0 no errors, 1 errors, 2 a blocking error. A syntax error is a blocking
error that is still reported as diagnostics with code "syntax", so exit code 2 with only
such errors is a finding; any other exit code 2 (a usage error, a file that cannot be
read, a module found twice) means mypy could not check the code.
"""

from __future__ import annotations

import json
import re

from huskycat.core.results import Diagnostic, Severity
from huskycat.tools.base import ParseResult, ToolOutput, ToolSpec
from huskycat.tools.parsing import failed, found

_TEXT = re.compile(
    r"^(?P<file>.+?):(?P<line>\d+):(?:(?P<col>\d+):)?(?:\d+:\d+:)? "
    r"(?P<severity>error|warning|note): (?P<message>.*?)(?:  \[(?P<code>[a-z0-9-]+)\])?$"
)
_SEVERITIES: dict[str, Severity] = {"error": "error", "warning": "warning", "note": "info"}


def _from_json(line: str) -> Diagnostic | None:
    try:
        item = json.loads(line)
        row, col = int(item["line"]), int(item["column"])
        return Diagnostic(
            str(item["file"]),
            row if row > 0 else None,
            col + 1 if col >= 0 and row > 0 else None,
            item.get("code"),
            _SEVERITIES.get(str(item.get("severity")), "error"),
            str(item["message"]),
        )
    except (ValueError, TypeError, KeyError):
        return None


def _from_text(line: str) -> Diagnostic | None:
    m = _TEXT.match(line)
    if m is None:
        return None
    return Diagnostic(
        m["file"],
        int(m["line"]),
        int(m["col"]) if m["col"] else None,
        m["code"],
        _SEVERITIES[m["severity"]],
        m["message"],
    )


def parse(out: ToolOutput) -> ParseResult:
    """Read mypy's JSON lines (or text lines) into diagnostics."""
    diagnostics: list[Diagnostic] = []
    for line in out.stdout.splitlines():
        diag = _from_json(line) if line.startswith("{") else _from_text(line)
        if diag is not None:
            diagnostics.append(diag)
    errors = [d for d in diagnostics if d.severity == "error"]
    if out.returncode == 2 and errors and all(d.code == "syntax" for d in errors):
        return found(diagnostics)
    if out.returncode not in (0, 1) or (out.returncode == 1 and not errors):
        return failed(out, _blocking_message(diagnostics), diagnostics)
    return found(diagnostics)


def _blocking_message(diagnostics: list[Diagnostic]) -> str | None:
    for diag in diagnostics:
        if diag.severity == "error":
            return f"{diag.file}: {diag.message}"
    return None


SPEC = ToolSpec(
    name="mypy",
    description="Python static type checker",
    executable="mypy",
    install_hint="pip install mypy",
    check_args=("-O", "json"),
    types=frozenset({"python", "pyi"}),
    scope="project",
    config_files=("mypy.ini", ".mypy.ini", "pyproject.toml", "setup.cfg"),
    parse=parse,
)
