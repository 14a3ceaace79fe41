"""chapel-format, a formatter for Chapel source (``.chpl``).

Chapel's tools documentation (chapel-lang.org/docs/tools, releases 1.x to 2.x) lists
chpldoc, chplcheck, chpl-language-server, chplvis, mason and c2chapel, and no formatter;
no ``chapel-format`` or ``chpl-format`` command line could be found documented anywhere.
This spec therefore assumes the interface of clang-format:

- ``chapel-format FILES`` prints the formatted text of each file, one after another,
  on stdout, and changes nothing;
- ``chapel-format -i FILES`` rewrites the files in place;
- a file it cannot parse is reported on stderr the way the Chapel compiler reports
  errors, ``FILE:LINE: syntax error: near '}'``, left out of the output, and makes the
  exit code non-zero.

It is tested against a stand-in executable that behaves that way (see
tests/tools_other_test.py), not against a real Chapel formatter.

Check: ``chapel-format FILES``, and the parser compares the output with the files
(read from ``ToolOutput.cwd``). Identical: "ok". Otherwise each file is judged in turn:
its text, found in full where its output should begin, means it is already formatted
(a text without a final newline never is: a formatter adds one); otherwise it would be
reformatted, and its output is taken to end where the next file found unchanged begins
(at the start of a line). The first line that differs is reported when one file's
output could be told apart. With one file per run this is exact; with several, a tiny
file (``}``) could be found by mistake inside another's output.

Fix: ``chapel-format -i FILES``. Files: ``\\.chpl$`` by name (identify knows no Chapel
tag). Diagnostics: code ``fmt`` ("would reformat"), code ``syntax`` for parse errors.
"""

from __future__ import annotations

import os
import re

from huskycat.core import summary as summaries
from huskycat.core.results import Diagnostic, Severity
from huskycat.tools.base import ParseResult, ToolOutput, ToolSpec
from huskycat.tools.parsing import failed, found

_ERROR = re.compile(r"^(?P<file>.+?\.chpl):(?P<line>\d+)(?::(?P<col>\d+))?: (?P<message>.+)$")


def _errors(stderr: str) -> list[Diagnostic]:
    diagnostics = []
    for line in stderr.splitlines():
        if m := _ERROR.match(line.strip()):
            message = m["message"]
            severity: Severity = "warning" if message.startswith("warning") else "error"
            code = "syntax" if "syntax error" in message else None
            col = int(m["col"]) if m["col"] else None
            diagnostics.append(Diagnostic(m["file"], int(m["line"]), col, code, severity, message))
    return diagnostics


def _first_difference(old: str, new: str) -> int:
    """The 1-based number of the first line where ``old`` and ``new`` differ."""
    old_lines, new_lines = old.splitlines(keepends=True), new.splitlines(keepends=True)
    for number, (a, b) in enumerate(zip(old_lines, new_lines), 1):
        if a != b:
            return number
    return min(len(old_lines), len(new_lines)) + 1


def _unchanged_at(output: str, text: str, pos: int) -> bool:
    return (not text or text.endswith("\n")) and output.startswith(text, pos)


def _next_unchanged(output: str, texts: list[str], start: int, pos: int) -> tuple[int, int]:
    """(file index, offset) of the first file from ``start`` on found unchanged after ``pos``.

    Only at the start of a line; ``(len(texts), len(output))`` when there is none.
    """
    for index in range(start, len(texts)):
        text = texts[index]
        if not text or not text.endswith("\n"):
            continue
        at = output.find(text, pos)
        while at > 0 and output[at - 1] != "\n":
            at = output.find(text, at + 1)
        if at >= 0:
            return index, at
    return len(texts), len(output)


def reformatted(output: str, texts: list[str]) -> dict[int, int | None]:
    """Which files of ``texts`` the concatenated ``output`` changes: index -> first line.

    The line is None when that file's output could not be told apart from its
    neighbours'. See the module docstring for how the output is split.
    """
    changed: dict[int, int | None] = {}
    index, pos = 0, 0
    while index < len(texts):
        if _unchanged_at(output, texts[index], pos):
            pos += len(texts[index])
            index += 1
            continue
        stop, end = _next_unchanged(output, texts, index + 1, pos)
        alone = stop == index + 1
        for skipped in range(index, stop):
            changed[skipped] = None
        if alone:
            changed[index] = _first_difference(texts[index], output[pos:end])
        index, pos = stop, end
    if pos < len(output) and texts:  # more output after the last file: the last changes
        last = len(texts) - 1
        changed.setdefault(last, _first_difference(texts[last], output[pos - len(texts[last]) :]))
    return changed


def parse(out: ToolOutput) -> ParseResult:
    """Syntax errors from stderr; in check mode, which files the output would change."""
    diagnostics = _errors(out.stderr)
    if out.returncode != 0 and not diagnostics:
        return failed(out)
    if out.fix:
        return found(diagnostics)
    broken = {os.path.normpath(d.file) for d in diagnostics if d.severity == "error"}
    names = [name for name in out.files if os.path.normpath(name) not in broken]
    texts = []
    for name in names:
        try:
            with open(os.path.join(out.cwd, name), encoding="utf-8", errors="replace") as f:
                texts.append(f.read())
        except OSError as exc:
            return failed(out, f"cannot read {name} to compare: {exc.strerror}")
    changed = reformatted(out.stdout, texts)
    for index, line in sorted(changed.items()):
        diagnostics.append(Diagnostic(names[index], line, None, "fmt", "error", "would reformat"))
    summary = (
        summaries.files("would reformat ", [names[i] for i in sorted(changed)], rank=0),
        summaries.files("cannot parse ", sorted(broken), rank=1),
    )
    return found(diagnostics, summary if changed or broken else None)


SPEC = ToolSpec(
    name="chapel-format",
    description="Chapel source formatter",
    executable="chapel-format",
    install_hint="install a Chapel formatter that provides the chapel-format command",
    check_args=(),
    fix_args=("-i",),
    files=r"\.chpl$",
    parse=parse,
)
