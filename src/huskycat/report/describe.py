"""The words every report uses for a result: status phrases, counts, skip reasons.

Pure functions over :class:`~huskycat.core.results.ToolResult`; no rich, no I/O, so the
console, JUnit and GitHub reports say the same thing in the same way.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import TypeAlias

from huskycat.core.results import (
    OUTCOME_ERROR,
    SKIP_DEPENDENCY,
    SKIP_FAIL_FAST,
    SKIP_INTERRUPTED,
    SKIP_NOT_APPLICABLE,
    Diagnostic,
    ToolResult,
    ToolStatus,
)
from huskycat.tools.facts import facts_of

# Either what the executor returns (name -> result) or a plain sequence of results.
Results: TypeAlias = Mapping[str, ToolResult] | Iterable[ToolResult]

# Said when a skipped result carries no error_message of its own.
SKIP_REASON_TEXT = {
    SKIP_NOT_APPLICABLE: "not applicable",
    SKIP_DEPENDENCY: "a dependency did not pass",
    SKIP_FAIL_FAST: "stopped after the first failure",
    SKIP_INTERRUPTED: "interrupted",
}


def as_list(results: Results) -> list[ToolResult]:
    """The results in their given order, whether passed as a mapping or a sequence."""
    if isinstance(results, Mapping):
        return list(results.values())
    return list(results)


def plural(count: int, word: str) -> str:
    """``plural(1, "error")`` is ``"1 error"``; ``plural(3, "error")`` is ``"3 errors"``."""
    return f"{count} {word}" if count == 1 else f"{count} {word}s"


def note_count(result: ToolResult) -> int:
    """How many of the result's diagnostics are notes (severity "info": shellcheck's
    info and style, hadolint's info and style, bandit's LOW, mypy's notes)."""
    return sum(1 for d in result.diagnostics if d.severity == "info")


def counts_text(result: ToolResult) -> str:
    """``"3 errors, 1 warning, 2 notes"``; only the counts that are not zero; ``""`` if
    all are."""
    parts = []
    if result.errors:
        parts.append(plural(result.errors, "error"))
    if result.warnings:
        parts.append(plural(result.warnings, "warning"))
    notes = note_count(result)
    if notes:
        parts.append(plural(notes, "note"))
    return ", ".join(parts)


def totals_text(results: Results) -> str:
    """``"3 errors, 1 warning, 0 notes"`` summed over ``results``; ``""`` when all three
    are zero."""
    listed = as_list(results)
    errors = sum(r.errors for r in listed)
    warnings = sum(r.warnings for r in listed)
    notes = sum(note_count(r) for r in listed)
    if not (errors or warnings or notes):
        return ""
    return ", ".join((plural(errors, "error"), plural(warnings, "warning"), plural(notes, "note")))


def first_line(text: str | None) -> str:
    """The first non-blank line of ``text``, stripped; ``""`` for None or blank text."""
    for line in (text or "").splitlines():
        if line.strip():
            return line.strip()
    return ""


def skip_text(result: ToolResult) -> str:
    """Why a skipped tool was skipped: its error_message, else the skip reason in words."""
    message = first_line(result.error_message)
    if message:
        return message
    reason = result.skip_reason or SKIP_NOT_APPLICABLE
    return SKIP_REASON_TEXT.get(reason, reason.replace("_", " "))


def timeout_seconds(result: ToolResult) -> float:
    """The time limit a timed-out tool hit: ``metadata["timeout"]``, else its duration."""
    limit = facts_of(result).timeout
    if limit is not None and limit > 0:
        return limit
    return result.duration


def describe(result: ToolResult) -> str:
    """The status of a finished tool in a few words, without its duration.

    ``"passed"``, ``"passed (2 notes)"``, ``"failed 3 errors, 1 warning"``,
    ``"failed: exit code 2"``, ``"skipped: not installed: pip install bandit"``,
    ``"timed out after 30.0s"``.
    """
    status = result.status
    if status is ToolStatus.SUCCESS:
        counts = counts_text(result)  # what the tool reported but does not fail on
        return (f"passed ({counts})" if counts else "passed") + _left_out(result)
    if status is ToolStatus.FAILED:
        counts = counts_text(result)
        message = first_line(result.error_message)
        if counts and message and facts_of(result).outcome == OUTCOME_ERROR:
            # Findings on some files, and an error on others (a batch that crashed):
            # both, or the error would hide behind the counts.
            return f"failed {counts}; {message}" + _left_out(result)
        if counts:
            return f"failed {counts}" + _left_out(result)
        return (f"failed: {message}" if message else "failed") + _left_out(result)
    if status is ToolStatus.SKIPPED:
        return f"skipped: {skip_text(result)}"
    if status is ToolStatus.TIMEOUT:
        return f"timed out after {timeout_seconds(result):.1f}s"
    return str(status)


def _left_out(result: ToolResult) -> str:
    """``"; left out 2 files 'yamllint' failed on"``: files a failed requirement held back
    (see :mod:`huskycat.vouching`)."""
    held = facts_of(result).left_out
    if not held:
        return ""
    owners = ", ".join(repr(str(d)) for d in sorted(set(held.values())))
    return f"; left out {plural(len(held), 'file')} {owners} failed on"


def diagnostic_line(diagnostic: Diagnostic) -> str:
    """``file:line:col: code message`` with the parts a diagnostic lacks left out."""
    place = diagnostic.file
    if diagnostic.line is not None:
        place += f":{diagnostic.line}"
        if diagnostic.column is not None:
            place += f":{diagnostic.column}"
    code = f"{diagnostic.code} " if diagnostic.code else ""
    return f"{place}: {code}{diagnostic.message}"


def is_cached(result: ToolResult) -> bool:
    """Whether the result was replayed from the cache rather than run."""
    return bool(facts_of(result).cached)


def modified_files(result: ToolResult) -> list[str]:
    """The files a fixer changed, from ``metadata["modified_files"]`` (may be absent)."""
    return list(facts_of(result).modified_files or ())
