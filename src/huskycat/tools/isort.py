"""isort, the import sorter.

Check: ``isort --check-only FILES``; fix: ``isort FILES``. isort has no machine-readable
output. In check mode it prints, on stderr, one line per file whose imports it would
change, with the path made absolute:

    ERROR: /abs/path.py Imports are incorrectly sorted and/or formatted.

A file it cannot read is a warning (exit code 0): ``UserWarning: Unable to parse file
PATH due to REASON``; a path that does not exist is counted in "Broken N paths" on stdout
(exit code 1, no ERROR line). isort reads imports line by line and does not parse the
rest of a file: a syntax error elsewhere is not its business.

Exit codes: 0 sorted (or fixed), 1 unsorted or broken paths, 2 usage error.
"""

from __future__ import annotations

import re

from huskycat.core import summary as summaries
from huskycat.core.results import Diagnostic
from huskycat.tools.base import ParseResult, ToolOutput, ToolSpec
from huskycat.tools.parsing import failed, found

_UNSORTED = re.compile(r"^ERROR: (?P<path>.+) Imports are incorrectly sorted and/or formatted\.$")
_UNREADABLE = re.compile(r"UserWarning: Unable to parse file (?P<path>.+?) due to (?P<why>.*)$")
_BROKEN = re.compile(r"^Broken \d+ paths?$", re.MULTILINE)


def parse(out: ToolOutput) -> ParseResult:
    """Read isort's ERROR and warning lines into diagnostics."""
    diagnostics: list[Diagnostic] = []
    for line in (out.stderr + "\n" + out.stdout).splitlines():
        if m := _UNSORTED.match(line):
            diagnostics.append(
                Diagnostic(m["path"], None, None, None, "error", "imports are incorrectly sorted")
            )
        elif m := _UNREADABLE.search(line):
            diagnostics.append(
                Diagnostic(m["path"], None, None, None, "warning", f"cannot read: {m['why']}")
            )
    if out.returncode not in (0, 1):
        return failed(out)
    if broken := _BROKEN.search(out.stdout):
        return failed(out, broken.group())
    if out.returncode == 1 and not any(d.severity == "error" for d in diagnostics):
        return failed(out)
    unsorted = [d.file for d in diagnostics if d.severity == "error"]
    message = (summaries.files("imports incorrectly sorted in ", unsorted),)
    return found(diagnostics, message if unsorted else None)


SPEC = ToolSpec(
    name="isort",
    description="Python import sorter",
    executable="isort",
    install_hint="pip install isort",
    check_args=("--check-only",),
    fix_args=(),
    types=frozenset({"python"}),
    config_files=(".isort.cfg", "pyproject.toml", "setup.cfg", "tox.ini", ".editorconfig"),
    parse=parse,
)
