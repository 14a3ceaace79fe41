"""mypy, the static type checker.

Check (and fix, which it does not have): ``mypy -O json FILES``. Its scope is the
project: a file's result depends on the modules it imports, so results are not per file.

``-O json`` (mypy 1.11 and later) prints one JSON object a line on stdout: ``file``,
``line``, ``column`` (0-based, unlike the 1-based text output; -1 when the message has no
place), ``message``, ``hint``, ``code`` and ``severity`` ("error" or "note"). Notes are
"info" diagnostics and count as neither errors nor warnings. Lines that are not JSON are
read as mypy's text format (``FILE:LINE[:COL]: SEVERITY: MESSAGE  [CODE]``), which older
mypy prints and which a configured ``command`` may ask for.

Files that are not Python source text (binary, or not decodable in the encoding they
declare) are not passed: mypy stops at the first such file ("Cannot decode file",
"errors prevented further checking") and would report nothing on every other file. The
linters that read files one by one (ruff, flake8, black) report them.

Exit codes: 0 no errors, 1 errors, 2 a blocking error. A syntax error is a blocking
error that is still reported as diagnostics with code "syntax", so exit code 2 with only
such errors is a finding; any other exit code 2 (a usage error, a file that cannot be
read, a module found twice) means mypy could not check the code.
"""

from __future__ import annotations

import io
import json
import os
import re
import tokenize
from collections.abc import Sequence

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


def source_files(files: Sequence[str], root: str) -> list[str]:
    """``files`` without those that are not source text mypy can read (see above)."""
    return [name for name in files if _is_source_text(os.path.join(root, name))]


def _is_source_text(path: str) -> bool:
    try:
        with open(path, "rb") as stream:
            data = stream.read()
    except OSError:  # mypy says what is wrong with a file it cannot open
        return True
    if data.isascii():
        return b"\0" not in data
    try:
        encoding, _ = tokenize.detect_encoding(io.BytesIO(data).readline)
        data.decode(encoding)
    except (SyntaxError, LookupError, UnicodeDecodeError):
        return False
    return b"\0" not in data


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
    targets=source_files,
)
