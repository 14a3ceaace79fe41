"""helm lint, the Helm chart linter.

Check: ``helm lint CHART_FOLDERS``; it never writes. :func:`chart_folders` maps the
selected files to the folders of the charts that hold them: from each file, up to the
nearest folder with a ``Chart.yaml``. Scope "project": a chart is linted as a whole, so
one file's result is not that file's alone.

helm is not installable here (not on PyPI, Debian's archive or npm), so this module is
tested against a stand-in executable that prints what helm's ``pkg/cmd/lint.go`` and
``pkg/lint/support/message.go`` (Helm 3 and 4) print; see tests/tools_other_test.py.
That output, on stdout::

    ==> Linting charts/web
    [INFO] Chart.yaml: icon is recommended
    [ERROR] templates/: parse error at (web/templates/_helpers.tpl:5): function "x" not defined
    [ERROR] templates/cm.yaml: unable to parse YAML: error converting YAML to JSON: yaml: l...

and ``Error: 1 chart(s) linted, 1 chart(s) failed`` on stderr. One ``==> Linting PATH``
header per chart, then ``[SEVERITY] PATH: MESSAGE`` lines (``INFO``, ``WARNING``,
``ERROR``; ``UNKNOWN`` in theory) with ``PATH`` relative to the chart, one line each (a
line that matches nothing is taken as the previous message going on), and a blank line.
A chart with errors but no messages gets ``Error MESSAGE`` lines instead ("Error unable
to check Chart.yaml file in chart: ..."). When some chart failed, the summary goes to
stderr as ``Error: N chart(s) linted, M chart(s) failed`` and helm exits 1; otherwise it
is printed on stdout and helm exits 0 (``--strict`` makes warnings fail a chart). Any
other ``Error: ...`` on stderr with exit 1 is helm failing (an unknown flag, a values
file it cannot read).

A diagnostic names the chart folder joined with the message's path; a template error
that points into a template (``web/templates/x.yaml:7:16``) names that template, line
and column, and ``yaml: line N`` gives the line of the file named. Severities: ERROR ->
error, WARNING -> warning, INFO and UNKNOWN -> info; helm has no rule codes. huskycat
takes helm's verdict: warnings alone are reported on an "ok" run.
"""

from __future__ import annotations

import os
import re
from collections.abc import Sequence

from huskycat.core.results import Diagnostic, Severity
from huskycat.tools.base import ParseResult, ToolOutput, ToolSpec
from huskycat.tools.parsing import failed
from huskycat.tools.verdict import by_exit_status

_HEADER = re.compile(r"^==> Linting (?P<chart>.+?)\s*$")
_MESSAGE = re.compile(r"^\[(?P<level>INFO|WARNING|ERROR|UNKNOWN)\] (?P<path>[^:]*): (?P<text>.*)$")
_CHART_ERROR = re.compile(r"^Error (?P<text>.+)$")
_SUMMARY = re.compile(r"(?P<linted>\d+) chart\(s\) linted, (?P<failed>\d+) chart\(s\) failed")
# "web/templates/x.yaml:7:16": the chart's name, then a path inside the chart.
_TEMPLATE_AT = re.compile(
    r"(?:^|[\s(\"])[^\s:()\"/]+/(?P<template>[^\s:()\"]*templates/[^\s:()\"]+)"
    r":(?P<line>\d+)(?::(?P<col>\d+))?"
)
_YAML_LINE = re.compile(r"\byaml: line (?P<line>\d+):")
_SEVERITY: dict[str, Severity] = {
    "ERROR": "error",
    "WARNING": "warning",
    "INFO": "info",
    "UNKNOWN": "info",
}


def chart_folders(files: Sequence[str], root: str | None = None) -> list[str]:
    """The folders of the charts that hold ``files``, each once, in order of first use.

    From each file's folder up to the top of its relative path (or the file system root
    for an absolute one), the first that has a ``Chart.yaml`` (looked up under ``root``,
    default the current folder). Files in no chart are dropped. A subchart
    (``charts/db/`` inside a chart) is its own chart. Never raises.
    """
    charts: dict[str, None] = {}
    for name in files:
        folder = os.path.dirname(os.path.normpath(name))
        while True:
            where = os.path.join(root, folder) if root else folder
            if os.path.isfile(os.path.join(where or os.curdir, "Chart.yaml")):
                charts.setdefault(folder or os.curdir, None)
                break
            parent = os.path.dirname(folder)
            if parent == folder:
                break
            folder = parent
    return list(charts)


def _diagnostic(chart: str, level: str, path: str, text: str) -> Diagnostic:
    file = os.path.normpath(os.path.join(chart, path)) if path else chart
    line = column = None
    if m := _TEMPLATE_AT.search(text):
        file = os.path.normpath(os.path.join(chart, m["template"]))
        line = int(m["line"])
        column = int(m["col"]) if m["col"] else None
    elif (m := _YAML_LINE.search(text)) and not path.endswith("/"):
        line = int(m["line"])
    return Diagnostic(file, line, column, None, _SEVERITY[level], text)


def parse(out: ToolOutput) -> ParseResult:
    """Read the per-chart messages on stdout and the summary on either stream."""
    chart = "."
    pending: list[tuple[str, str, str, str]] = []  # chart, level, path, text
    for line in out.stdout.splitlines():
        if m := _HEADER.match(line):
            chart = m["chart"]
        elif m := _MESSAGE.match(line):
            pending.append((chart, m["level"], m["path"], m["text"]))
        elif m := _CHART_ERROR.match(line):
            pending.append((chart, "ERROR", "", m["text"]))
        elif not line.strip() or _SUMMARY.search(line):
            continue
        elif pending:  # a message that went on over more lines
            last = pending[-1]
            pending[-1] = (*last[:3], f"{last[3]} {line.strip()}")
    diagnostics = [_diagnostic(*item) for item in pending]
    summary = _SUMMARY.search(out.stderr) or _SUMMARY.search(out.stdout)
    if out.returncode == 0:
        return by_exit_status(diagnostics, failed=False)
    if out.returncode == 1 and summary is not None and int(summary["failed"]) > 0:
        message = f"{summary['failed']} of {summary['linted']} chart(s) failed"
        return by_exit_status(diagnostics, failed=True, message=message)
    return failed(out)


SPEC = ToolSpec(
    name="helm-lint",
    description="Helm chart linter",
    executable="helm",
    install_hint="install helm: https://helm.sh/docs/intro/install/",
    check_args=("lint",),
    files=(
        r"(?:^|/)(?:Chart\.yaml|Chart\.lock|requirements\.ya?ml|values[^/]*\.(?:ya?ml|json)"
        r"|\.helmignore|(?:templates|crds|charts)/.+)$"
    ),
    scope="project",
    version_args=("version", "--short"),
    parse=parse,
    targets=chart_folders,
)
