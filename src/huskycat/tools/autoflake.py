"""autoflake, which removes unused imports.

Check: ``autoflake --check --quiet --remove-all-unused-imports
--ignore-init-module-imports FILES``; fix: the same with ``--in-place`` for ``--check
--quiet``.

The defaults: every unused import is a finding, not only the standard library's
(autoflake's own default, which misses most of them), except in ``__init__.py``, where
an unused import is usually a re-export and removing it would break the package. Unused
variables are left alone: removing them rewrites more than imports, and a project that
wants it says ``remove-unused-variables = true`` under ``[tool.autoflake]``, which
autoflake merges with these arguments.

autoflake has no machine-readable output and no line numbers in check mode; it prints
``PATH: Unused imports/variables detected`` on stdout for each file it would change,
with PATH as given. A file it cannot read is logged on stderr (``[Errno 2] ...``) and
makes the exit code 1. It skips a file with a syntax error silently: pyflakes cannot
analyse it, so there is nothing to remove.

Exit codes: 0 nothing to change (or fixed), 1 changes needed or a file unreadable, 2
usage error.
"""

from __future__ import annotations

import re

from huskycat.core import summary as summaries
from huskycat.core.results import Diagnostic
from huskycat.tools.base import ParseResult, ToolOutput, ToolSpec
from huskycat.tools.parsing import failed, found

_DETECTED = re.compile(r"^(?P<path>.+): Unused imports/variables detected$")
_DEFAULTS = ("--remove-all-unused-imports", "--ignore-init-module-imports")


def parse(out: ToolOutput) -> ParseResult:
    """Read autoflake's "Unused imports/variables detected" lines into diagnostics."""
    diagnostics = [
        Diagnostic(m["path"], None, None, None, "error", "unused imports or variables")
        for m in map(_DETECTED.match, out.stdout.splitlines())
        if m
    ]
    if out.returncode not in (0, 1):
        return failed(out)
    # Anything on stderr is autoflake's log of a file it could not read or a bad option
    # in its configuration; findings alone leave stderr empty.
    if out.stderr.strip() or (out.returncode == 1 and not diagnostics):
        return failed(out)
    unused = (summaries.files("unused imports in ", [d.file for d in diagnostics]),)
    return found(diagnostics, unused if diagnostics else None)


SPEC = ToolSpec(
    name="autoflake",
    description="Removes unused Python imports",
    executable="autoflake",
    install_hint="pip install autoflake",
    check_args=("--check", "--quiet", *_DEFAULTS),
    fix_args=("--in-place", *_DEFAULTS),
    types=frozenset({"python"}),
    config_files=("pyproject.toml", "setup.cfg"),
    parse=parse,
)
