"""A linter's own verdict, from its exit status, with the diagnostics it printed.

:func:`huskycat.tools.parsing.found` judges a run by its diagnostics: any error or
warning is a finding. Linters whose exit status already says whether the check passed,
after their own configuration had its say (yamllint's ``--strict``, hadolint's failure
threshold, ansible-lint's warn list, ``helm lint --strict``), are judged by that status
instead: warnings the tool lets pass are reported, and the run is "ok"; notes it fails on
(shellcheck's info and style levels) make a finding.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable

from huskycat.core import summary as summaries
from huskycat.core.results import Diagnostic
from huskycat.tools.base import ParseResult
from huskycat.tools.parsing import found


def by_exit_status(
    diagnostics: Iterable[Diagnostic], failed: bool, message: str | None = None
) -> ParseResult:
    """Outcome "findings" if the tool ``failed`` its check, else "ok"; counts as ``found``."""
    result = found(diagnostics, message)
    if not failed:
        return dataclasses.replace(result, outcome="ok")
    if result.outcome == "ok":  # failed on notes that are neither errors nor warnings
        if message is not None:
            return dataclasses.replace(result, outcome="findings")
        notes = (summaries.Count("note", len(result.diagnostics), rank=2, of=summaries.OF_NOTES),)
        return dataclasses.replace(
            result, outcome="findings", message=summaries.render(notes), summary=notes
        )
    return result
