"""ruff, the Python linter (``ruff check``; its formatter is not run here).

Check: ``ruff check --no-fix --force-exclude --output-format=json FILES``;
fix: ``ruff check --fix --force-exclude --output-format=json FILES``, which reports the
violations left after fixing.

- ``--no-fix``: a project may set ``fix = true``, which would make a check write files.
- ``--force-exclude``: huskycat names files explicitly, and ruff ignores its ``exclude``
  setting for explicitly named files unless told not to (as in ruff's pre-commit hook).
- The cache is left on: it is keyed on file contents and settings, lives in
  ``.ruff_cache`` (which ruff keeps out of git by itself) and makes re-runs fast.

The JSON is a list of objects with ``filename`` (absolute), ``location.row`` and
``location.column`` (1-based), ``code`` and ``message``. A syntax error has code
"invalid-syntax" (ruff 0.12 and later; null before), a file that cannot be read E902.
Exit codes: 0 no violations, 1 violations, 2 ruff failed (bad configuration or option).
"""

from __future__ import annotations

import json
from typing import Any

from huskycat.core.results import Diagnostic, Severity
from huskycat.tools.base import ParseResult, ToolOutput, ToolSpec
from huskycat.tools.parsing import failed, found

_FLAGS = ("--force-exclude", "--output-format=json")


def _diagnostic(item: dict[str, Any]) -> Diagnostic:
    location = item.get("location") or {}
    severity: Severity = "warning" if item.get("severity") == "warning" else "error"
    return Diagnostic(
        str(item["filename"]),
        location.get("row"),
        location.get("column"),
        item.get("code"),
        severity,
        str(item.get("message", "")),
    )


def parse(out: ToolOutput) -> ParseResult:
    """Read ruff's JSON list of violations."""
    if out.returncode not in (0, 1):
        return failed(out)
    try:
        items = json.loads(out.stdout)
        diagnostics = [_diagnostic(item) for item in items]
    except (ValueError, TypeError, KeyError, AttributeError) as exc:
        return failed(out, f"unreadable JSON from ruff ({exc})")
    if out.returncode == 1 and not diagnostics:
        return failed(out)
    return found(diagnostics)


SPEC = ToolSpec(
    name="ruff",
    description="Python linter",
    executable="ruff",
    install_hint="pip install ruff",
    check_args=("check", "--no-fix", *_FLAGS),
    fix_args=("check", "--fix", *_FLAGS),
    types=frozenset({"python"}),
    config_files=("pyproject.toml", "ruff.toml", ".ruff.toml"),
    parse=parse,
)
