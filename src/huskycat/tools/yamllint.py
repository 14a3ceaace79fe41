"""yamllint, the YAML linter.

Check: ``yamllint -f parsable FILES``; it never writes. ``-f parsable`` prints one line
per problem on stdout (verified against yamllint 1.38)::

    PATH:LINE:COL: [error] MESSAGE (RULE)
    PATH:LINE:COL: [warning] MESSAGE (RULE)

A file yamllint cannot parse is reported the same way, with the rule ``syntax``
("syntax error: expected ',' or ']', but got ':'"). ``PATH`` is printed as given.

Exit codes: 0 no errors (warnings may still be printed), 1 some error, 2 only warnings
and ``--strict`` given, -1 (255) yamllint could not work: a bad configuration ("invalid
config: no such rule") or a missing file, said on stderr. The exit code decides the
outcome, so that yamllint's own configuration (warning levels, ``--strict`` in the extra
arguments) keeps its meaning: warnings that yamllint lets pass are reported as
diagnostics of an "ok" run.
"""

from __future__ import annotations

import re

from huskycat.core.results import Diagnostic, Severity
from huskycat.tools.base import ParseResult, ToolOutput, ToolSpec
from huskycat.tools.parsing import failed
from huskycat.tools.verdict import by_exit_status

_LINE = re.compile(
    r"^(?P<path>.+?):(?P<line>\d+):(?P<col>\d+): \[(?P<level>error|warning)\] "
    r"(?P<message>.*?)(?: \((?P<rule>[\w-]+)\))?$"
)


def parse(out: ToolOutput) -> ParseResult:
    """Read ``-f parsable`` lines into diagnostics; the exit code gives the outcome."""
    diagnostics = []
    for line in out.stdout.splitlines():
        if m := _LINE.match(line):
            severity: Severity = "error" if m["level"] == "error" else "warning"
            diagnostics.append(
                Diagnostic(
                    m["path"], int(m["line"]), int(m["col"]), m["rule"], severity, m["message"]
                )
            )
    if out.returncode not in (0, 1, 2):
        return failed(out)
    if out.returncode != 0 and not diagnostics:
        return failed(out, "yamllint failed but printed no problem in the parsable format")
    return by_exit_status(diagnostics, failed=out.returncode != 0)


SPEC = ToolSpec(
    name="yamllint",
    description="YAML linter: syntax, key repetition, indentation, line length",
    executable="yamllint",
    install_hint="pip install yamllint",
    check_args=("-f", "parsable"),
    types=frozenset({"yaml"}),
    config_files=(".yamllint", ".yamllint.yaml", ".yamllint.yml"),
    parse=parse,
)
