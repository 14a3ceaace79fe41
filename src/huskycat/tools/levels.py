"""Which levels of diagnostic fail a tool: its own verdict, or the configuration's
``fail_on``.

By default a tool fails when the tool itself says so (its exit status, read by its
parser): shellcheck fails on its notes too, hadolint on info but not style, yamllint on
errors but not warnings. ``fail_on = "error" | "warning" | "note"`` in a tool's table
replaces that verdict with one read from its diagnostics: the tool fails when it
reported a diagnostic at that level or above, and passes otherwise (its diagnostics are
still reported and counted). A tool that could not do its work (crash, bad
configuration) fails whatever ``fail_on`` says, and so does one whose findings carry no
diagnostic to weigh ("would reformat" without file names, a custom tool's exit 1).
"""

from __future__ import annotations

from huskycat.core.results import OUTCOME_ERROR, OUTCOME_FINDINGS, ToolResult, ToolStatus
from huskycat.tools.facts import replace_result, with_facts
from huskycat.tools.parsing import plural

# fail_on level -> the severities that fail at it
_FAILING = {
    "error": frozenset({"error"}),
    "warning": frozenset({"error", "warning"}),
    "note": frozenset({"error", "warning", "info"}),
}


def apply_fail_on(result: ToolResult, fail_on: str | None) -> ToolResult:
    """``result`` with its verdict read from its diagnostics at ``fail_on`` (see the
    module docstring): a new result, or ``result`` itself when ``fail_on`` is None or
    there is nothing to weigh."""
    if fail_on is None or result.status not in (ToolStatus.SUCCESS, ToolStatus.FAILED):
        return result
    if result.status is ToolStatus.FAILED and result.outcome == OUTCOME_ERROR:
        return result
    if not result.diagnostics:
        return result
    failing = _FAILING[fail_on]
    fails = any(d.severity in failing for d in result.diagnostics)
    weighed = with_facts(result, fail_on=fail_on)
    if fails and result.status is ToolStatus.SUCCESS:
        return replace_result(
            with_facts(weighed, outcome=OUTCOME_FINDINGS),
            status=ToolStatus.FAILED,
            success=False,
            error_message=_counts(result),
        )
    if not fails and result.status is ToolStatus.FAILED:
        return replace_result(
            with_facts(weighed, outcome="ok"),
            status=ToolStatus.SUCCESS,
            success=True,
            error_message=None,
        )
    return weighed


def _counts(result: ToolResult) -> str:
    notes = sum(1 for d in result.diagnostics if d.severity == "info")
    counts = ((result.errors, "error"), (result.warnings, "warning"), (notes, "note"))
    return ", ".join(plural(n, word) for n, word in counts if n)
