"""taplo, the TOML formatter.

Check: ``taplo fmt --check --colors never FILES``; fix: ``taplo fmt --colors never FILES``,
with ``RUST_LOG=warn`` in the environment. taplo has no machine-readable output; it
reports on stderr (verified against taplo 0.9.3):

- ``ERROR the file is not properly formatted path="/abs/x.toml"``: a finding, no line
  (with taplo's default logging, not ``RUST_LOG=warn``, the line carries a span prefix,
  ``ERROR taplo:format_files: the file ...``; both are read);
- a syntax error, one block per problem, the file left alone::

      error: invalid TOML
        ┌─ /abs/x.toml:2:5
        │
      2 │ b = = 1
        │     ^ expected value

- ``ERROR operation failed error=WHY``: the summary; unless WHY is one of the two
  summaries of the findings above ("some files were not properly formatted", "some
  files were not formatted due to syntax errors"), taplo could not work ("Is a directory
  (os error 21)");
- ``WARN invalid configuration file error=...``: taplo goes on with its defaults and
  exits 0; huskycat reports the run as an error, since the results ignore the
  configuration the user wrote.

Exit codes: 0 nothing to change (or, fixing, everything formatted), 1 otherwise. Paths
are printed absolute (and not normalised: ``/abs/./x.toml``); they are made relative to
the working folder. ``RUST_LOG=warn`` drops the "found files" line taplo logs at INFO,
and ``--colors never`` keeps ANSI codes out even when a terminal is attached. taplo reads
no standard input when given files, and ``fmt`` needs no network.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Sequence

from huskycat.core import summary as summaries
from huskycat.core.results import Diagnostic
from huskycat.tools.base import ParseResult, ToolOutput, ToolSpec
from huskycat.tools.parsing import failed, found

_ANSI = re.compile(r"\x1b\[[0-9;]*m")
_UNFORMATTED = re.compile(r"\bthe file is not properly formatted path=\"(?P<path>[^\"]+)\"")
_INVALID = re.compile(r"^error: invalid TOML")
_LOCATION = re.compile(r"^\s*┌─ (?P<path>.+):(?P<line>\d+):(?P<col>\d+)\s*$")
_CARET = re.compile(r"\^+ (?P<message>\S.*)$")
_FAILED = re.compile(r"\bERROR\b.*\boperation failed error=(?P<why>.+)$")
_BAD_CONFIG = re.compile(r"\bWARN\b.*\b(?P<what>invalid configuration file.*)$")
_SUMMARIES = (
    "some files were not properly formatted",
    "some files were not formatted due to syntax errors",
)


def _relative(path: str, cwd: str) -> str:
    path = os.path.normpath(path)
    if os.path.isabs(path):
        rel = os.path.relpath(path, cwd)
        if rel != os.pardir and not rel.startswith(os.pardir + os.sep):
            return rel
    return path


def _syntax_error(lines: list[str], start: int, cwd: str) -> Diagnostic | None:
    """The diagnostic of the ``error: invalid TOML`` block that begins at ``start``."""
    location = None
    message = "invalid TOML"
    for line in lines[start + 1 : start + 40]:
        if not line.strip() or _INVALID.match(line):
            break
        if location is None:
            location = _LOCATION.match(line)
        elif m := _CARET.search(line):
            message = f"invalid TOML: {m['message']}"
            break
    if location is None:
        return None
    path = _relative(location["path"], cwd)
    line_no, col = int(location["line"]), int(location["col"])
    return Diagnostic(path, line_no, col, "syntax", "error", message)


def _parse_check_report(out: ToolOutput, report: dict[str, object]) -> ParseResult:
    """The JSON that huskycat.tools.taplo_check printed."""
    if report.get("error"):
        return failed(out, str(report["error"]))
    diagnostics = [
        Diagnostic(_relative(str(name), out.cwd), None, None, "fmt", "error", "would reformat")
        for name in report.get("unformatted", []) or []  # type: ignore[attr-defined]
    ]
    for item in report.get("syntax", []) or []:  # type: ignore[attr-defined]
        diagnostics.append(
            Diagnostic(
                _relative(str(item["file"]), out.cwd),
                item.get("line"),
                item.get("column"),
                "syntax",
                "error",
                str(item["message"]),
            )
        )
    diagnostics.sort(key=lambda d: (d.file, d.line or 0))
    summary = _summary(diagnostics)
    return found(diagnostics, summary)


def parse(out: ToolOutput) -> ParseResult:
    """Read taplo_check's JSON report, or taplo's log lines and syntax-error blocks."""
    if out.stdout.lstrip().startswith("{"):
        try:
            report = json.loads(out.stdout)
        except ValueError:
            return failed(out, "unreadable report from huskycat.tools.taplo_check")
        return _parse_check_report(out, report)
    lines = _ANSI.sub("", out.stderr + "\n" + out.stdout).splitlines()
    diagnostics: list[Diagnostic] = []
    trouble = ""
    for index, line in enumerate(lines):
        if m := _UNFORMATTED.search(line):
            path = _relative(m["path"], out.cwd)
            diagnostics.append(Diagnostic(path, None, None, "fmt", "error", "would reformat"))
        elif _INVALID.match(line):
            diag = _syntax_error(lines, index, out.cwd)
            if diag is not None:
                diagnostics.append(diag)
        elif m := _FAILED.search(line):
            if m["why"].strip() not in _SUMMARIES:
                trouble = trouble or m["why"].strip()
        elif m := _BAD_CONFIG.search(line):
            trouble = trouble or m["what"].strip()
    if trouble:
        return failed(out, trouble)
    if out.returncode not in (0, 1):
        return failed(out)
    if out.returncode == 1 and not diagnostics:
        return failed(out, "taplo failed but named no file")
    summary = _summary(diagnostics)
    # taplo formats files in parallel and reports them in whatever order they finish.
    diagnostics.sort(key=lambda d: (d.file, d.line or 0))
    return found(diagnostics, summary)


SPEC = ToolSpec(
    name="taplo",
    description="TOML formatter",
    executable="taplo",
    install_hint="pip install taplo",
    check_args=("fmt", "--check", "--colors", "never"),
    # taplo's own --check loses its report under load: see huskycat.tools.taplo_check.
    check_command=("{python}", "-m", "huskycat.tools.taplo_check", "{exe}"),
    fix_args=("fmt", "--colors", "never"),
    types=frozenset({"toml"}),
    config_files=("taplo.toml", ".taplo.toml"),
    parse=parse,
    env=(("RUST_LOG", "warn"),),
)


def _summary(diagnostics: Sequence[Diagnostic]) -> summaries.Summary | None:
    """ "would reformat N files, invalid TOML in M files" as data; None for neither."""
    unformatted = [d.file for d in diagnostics if d.code == "fmt"]
    invalid = [d.file for d in diagnostics if d.code == "syntax"]
    if not unformatted and not invalid:
        return None
    return (
        summaries.files("would reformat ", unformatted, rank=0),
        summaries.files("invalid TOML in ", invalid, rank=1),
    )
