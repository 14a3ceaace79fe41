"""Results as GitHub Actions workflow commands, which GitHub shows as annotations.

Each diagnostic becomes one line printed to stdout during the job::

    ::error file=src/a.py,line=3,col=1,title=flake8 E302::expected 2 blank lines

(``::warning`` for warnings, ``::notice`` for info). A tool that failed without
diagnostics, or timed out, gets one ``::error title=TOOL::...`` line saying why.
Values are escaped as GitHub's runner expects (``%``, CR and LF everywhere; ``:`` and
``,`` also inside properties) so a message can neither end the command early nor forge
another one.
"""

# No ``from __future__ import annotations`` here: it would bind the name ``annotations``,
# which this module's main function takes; its annotations all evaluate on Python 3.10.
import os
from collections.abc import Mapping

from huskycat.core.results import Diagnostic, ToolResult, ToolStatus
from huskycat.report.describe import Results, as_list, describe, first_line

_COMMAND_BY_SEVERITY = {"error": "error", "warning": "warning", "info": "notice"}


def should_annotate(environ: Mapping[str, str] | None = None) -> bool:
    """Whether we run inside GitHub Actions (``GITHUB_ACTIONS`` is ``"true"``)."""
    env = os.environ if environ is None else environ
    return env.get("GITHUB_ACTIONS") == "true"


def annotations(results: Results) -> list[str]:
    """The workflow command lines for ``results``, in result then diagnostic order."""
    lines: list[str] = []
    for result in as_list(results):
        lines.extend(_diagnostic_command(result.tool_name, d) for d in result.diagnostics)
        if result.status is ToolStatus.TIMEOUT or (
            result.status is ToolStatus.FAILED and not result.diagnostics
        ):
            lines.append(_command("error", {"title": result.tool_name}, _reason(result)))
    return lines


def escape_data(text: str) -> str:
    """Escape a command's message, the part after ``::``."""
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(text: str) -> str:
    """Escape a property value such as ``file=`` or ``title=``."""
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")


def _diagnostic_command(tool_name: str, diagnostic: Diagnostic) -> str:
    properties = {"file": diagnostic.file}
    if diagnostic.line is not None:
        properties["line"] = str(diagnostic.line)
        if diagnostic.column is not None:
            properties["col"] = str(diagnostic.column)
    properties["title"] = f"{tool_name} {diagnostic.code}" if diagnostic.code else tool_name
    command = _COMMAND_BY_SEVERITY.get(diagnostic.severity, "error")
    return _command(command, properties, diagnostic.message)


def _reason(result: ToolResult) -> str:
    if result.status is ToolStatus.TIMEOUT:
        return describe(result)
    return result.error_message or first_line(result.output) or describe(result)


def _command(name: str, properties: Mapping[str, str], message: str) -> str:
    props = ",".join(f"{key}={escape_property(value)}" for key, value in properties.items())
    return f"::{name} {props}::{escape_data(message)}"
