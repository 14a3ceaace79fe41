"""flake8, the Python style and error checker.

Check (it has no fix mode): ``flake8 --format=%(path)s:%(row)d:%(col)d: %(code)s
%(text)s --no-show-source FILES``.

flake8 has no JSON output of its own (``--format=json`` needs a plugin that is seldom
installed), so its default text format is asked for explicitly, which also overrides a
``format`` a project may have configured; ``--no-show-source`` keeps source lines out of
it. One line per violation, PATH as given, row and column 1-based::

    ./-x.py:4:2: E225 missing whitespace around operator
    syntax.py:1:8: E999 SyntaxError: invalid syntax

Severity: codes starting with W (pycodestyle's warnings: whitespace, line breaks,
deprecations) are warnings; everything else (E, F, C90, plugins) is an error, E9 (syntax
and IO errors) and F63/F7/F82 (likely bugs) included.

Exit codes: 0 clean, 1 violations (and, with no violation lines, a crash: a traceback
from a bad configuration value), 2 usage error.
"""

from __future__ import annotations

import re

from huskycat.core.results import Diagnostic
from huskycat.tools.base import ParseResult, ToolOutput, ToolSpec
from huskycat.tools.parsing import failed, found

_FORMAT = "%(path)s:%(row)d:%(col)d: %(code)s %(text)s"
_LINE = re.compile(
    r"^(?P<path>.+?):(?P<row>\d+):(?P<col>\d+): (?P<code>[A-Z]+[0-9]+) (?P<text>.*)$"
)


def parse(out: ToolOutput) -> ParseResult:
    """Read flake8's violation lines into diagnostics."""
    diagnostics = [
        Diagnostic(
            m["path"],
            int(m["row"]) or None,  # an unreadable file is reported at row 0
            int(m["col"]),
            m["code"],
            "warning" if m["code"].startswith("W") else "error",
            m["text"],
        )
        for m in map(_LINE.match, out.stdout.splitlines())
        if m
    ]
    if out.returncode not in (0, 1) or (out.returncode == 1 and not diagnostics):
        return failed(out)
    return found(diagnostics)


SPEC = ToolSpec(
    name="flake8",
    description="Python style and error checker",
    executable="flake8",
    install_hint="pip install flake8",
    check_args=(f"--format={_FORMAT}", "--no-show-source"),
    types=frozenset({"python"}),
    config_files=(".flake8", "setup.cfg", "tox.ini"),
    parse=parse,
)
