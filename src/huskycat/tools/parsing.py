"""Small pieces the tools' output parsers share.

A parser turns one :class:`~huskycat.tools.base.ToolOutput` into a
:class:`~huskycat.tools.base.ParseResult`. Most end one of two ways: the tool could not do
its work (:func:`failed`), or it ran and reported what it found (:func:`found`). File
names are kept as the tool printed them; the runner makes them relative to the root.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable

from huskycat.core import summary as summaries
from huskycat.core.results import Diagnostic
from huskycat.tools.base import Parser, ParseResult, ToolOutput


def plural(count: int, noun: str) -> str:
    """``plural(1, "file")`` is "1 file", ``plural(2, "file")`` "2 files"."""
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"


def first_line(text: str) -> str:
    """The first line of ``text`` that is not blank, stripped; "" when there is none."""
    for line in text.splitlines():
        if line.strip():
            return line.strip()
    return ""


def failed(
    out: ToolOutput, detail: str | None = None, diagnostics: Iterable[Diagnostic] = ()
) -> ParseResult:
    """The tool could not do its work: "exit code N: <detail or first line of stderr>".

    ``diagnostics`` are whatever the tool did report on the way (a blocking error).
    """
    detail = detail or first_line(out.stderr) or first_line(out.stdout) or "no output"
    diags = tuple(diagnostics)
    errors, warnings = count(diags)
    return ParseResult("error", diags, errors, warnings, f"exit code {out.returncode}: {detail}")


def count(diagnostics: Iterable[Diagnostic]) -> tuple[int, int]:
    """(errors, warnings) among ``diagnostics``; "info" ones count as neither."""
    errors = warnings = 0
    for diag in diagnostics:
        if diag.severity == "error":
            errors += 1
        elif diag.severity == "warning":
            warnings += 1
    return errors, warnings


def found(
    diagnostics: Iterable[Diagnostic], message: str | summaries.Summary | None = None
) -> ParseResult:
    """A completed run: "findings" if any diagnostic is an error or warning, else "ok".

    ``message`` defaults to the counts ("3 errors, 1 warning"); a tuple of phrases
    (:mod:`huskycat.core.summary`) is a summary kept as data.
    """
    diags = tuple(diagnostics)
    errors, warnings = count(diags)
    if isinstance(message, tuple):
        summary: summaries.Summary = message
    elif message is not None:
        summary = (message,)
    else:
        summary = summaries.counts(errors, warnings)
    if not errors and not warnings:
        if message is None:
            return ParseResult("ok", diags)
        return ParseResult("ok", diags, summary=summary)
    return ParseResult("findings", diags, errors, warnings, summary=summary)


def says_why(parse: Parser) -> Parser:
    """``parse``, except that a run it reads as findings with nothing found and nothing
    printed is an error that says so.

    A tool that fails its check prints what it found; one that exits non-zero in
    silence lost its output (a Python tool's buffered output dies with a killed worker
    process) or never got to work. Either way there is nothing to read, and "failed,
    0 errors" would tell the user nothing: that is an error, never findings.
    """

    @functools.wraps(parse)
    def guarded(out: ToolOutput) -> ParseResult:
        result = parse(out)
        silent = not out.stdout.strip() and not out.stderr.strip()
        nothing = not result.diagnostics and not result.errors and not result.warnings
        if result.outcome == "findings" and silent and nothing:
            return ParseResult(
                "error",
                message=f"exit code {out.returncode} with no output and no findings: "
                "nothing says why it failed",
            )
        return result

    return guarded
