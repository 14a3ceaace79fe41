"""Results as Markdown: the summary GitHub Actions shows on a job's page.

When ``GITHUB_STEP_SUMMARY`` names a file (GitHub sets it for every step),
``huskycat run`` appends this Markdown to it; ``huskycat report markdown`` prints it::

    ### huskycat: 1 passed, 2 failed, 0 timed out, 1 skipped in 3.10s (...)

    | tool | result | errors | warnings | notes | time |
    | --- | --- | ---: | ---: | ---: | ---: |
    | ruff | ❌ failed 1 error | 1 | 0 | 0 | 0.41s |

    <details><summary>ruff: failed 1 error</summary>

    ```text
    pkg/mod.py:1:8: F401 `os` imported but unused
    ```
    </details>

Each failed or timed-out tool gets a folded block with its diagnostics (or its output
when it has none), at most :data:`MAX_LINES` lines each, so that the page stays within
GitHub's size limit for a step summary (1 MiB).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

from huskycat.core.results import ToolResult, ToolStatus
from huskycat.report.describe import describe, diagnostic_line
from huskycat.report.run_data import RunData, note_count
from huskycat.tools.facts import facts_of

MAX_LINES = 200
MAX_BYTES = 900_000  # under GitHub's 1 MiB per step summary
ENV_VAR = "GITHUB_STEP_SUMMARY"
_MARK = {
    ToolStatus.SUCCESS: "✅",
    ToolStatus.FAILED: "❌",
    ToolStatus.TIMEOUT: "⏱️",
    ToolStatus.SKIPPED: "⏭️",
}


def build_markdown(run: RunData) -> str:
    """The Markdown summary of ``run`` (see the module docstring)."""
    from huskycat.report.console import summary_line

    lines = [f"### huskycat: {summary_line(run.results, run.statistics)}", ""]
    lines += [
        "| tool | result | errors | warnings | notes | time |",
        "| --- | --- | ---: | ---: | ---: | ---: |",
    ]
    for result in run.results:
        cached = " (cached)" if facts_of(result).cached else ""
        lines.append(
            f"| {_cell(result.tool_name)} | {_MARK.get(result.status, '')} "
            f"{_cell(describe(result))}{cached} | {result.errors} | {result.warnings} "
            f"| {note_count(result)} | {result.duration:.2f}s |"
        )
    lines.append("")
    for result in run.results:
        if result.status in (ToolStatus.FAILED, ToolStatus.TIMEOUT):
            lines += _details(result)
    text = "\n".join(lines) + "\n"
    data = text.encode("utf-8", "backslashreplace")  # a name that is not UTF-8: escaped
    if len(data) > MAX_BYTES:
        cut = data[:MAX_BYTES].decode("utf-8", "ignore")
        text = cut + "\n\n(cut: the summary is longer than GitHub shows)\n"
    return text


def append_step_summary(run: RunData, environ: Mapping[str, str] | None = None) -> Path | None:
    """Append the summary to the file ``$GITHUB_STEP_SUMMARY`` names; None when unset."""
    env = os.environ if environ is None else environ
    target = env.get(ENV_VAR)
    if not target:
        return None
    with open(target, "a", encoding="utf-8", errors="backslashreplace") as stream:
        stream.write(build_markdown(run))
    return Path(target)


def _details(result: ToolResult) -> list[str]:
    body = [diagnostic_line(d) for d in result.diagnostics]
    if not body:
        body = (result.output or result.error_message or "(no output)").splitlines()
    more = len(body) - MAX_LINES
    body = body[:MAX_LINES] + ([f"... and {more} more lines"] if more > 0 else [])
    fence = "```"
    while any(fence in line for line in body):
        fence += "`"
    return [
        f"<details><summary>{_html(result.tool_name)}: {_html(describe(result))}</summary>",
        "",
        f"{fence}text",
        *body,
        fence,
        "</details>",
        "",
    ]


def _cell(text: str) -> str:
    return _html(text).replace("|", "\\|").replace("\n", " ")


def _html(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
