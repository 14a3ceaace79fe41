"""GitLab CI configuration, checked against GitLab's JSON schema with check-jsonschema.

Check: ``check-jsonschema --builtin-schema vendor.gitlab-ci --data-transform gitlab-ci
--regex-variant nonunicode -o json --color never FILES``; it never writes. The schema
is the copy of GitLab's that check-jsonschema vendors, so no network is needed; the
transform expands GitLab's ``!reference`` tags, and the regex variant is the one
check-jsonschema's own ``check-gitlab-ci`` pre-commit hook uses for this schema.

``-o json`` prints one JSON object on stdout (verified against check-jsonschema 0.39)::

    {"status": "fail",
     "errors": [{"filename": ".gitlab-ci.yml", "path": "$.build.when",
                 "message": "'sometimes' is not one of ['on_success', ...]",
                 "has_sub_errors": false}],
     "parse_errors": [{"filename": "x.yml", "message": "Failed to parse x.yml"}]}

An error with ``has_sub_errors`` (a ``oneOf`` that failed) also carries
``best_deep_match``, the most specific failure; the diagnostic reports that one. The
JSON names no line: :func:`locate` finds the line of the failing key by reading the file
(block-style YAML only; a flow mapping or a key it cannot find leaves the line of the
deepest key it did find, or none). A file that is not YAML is a ``parse_errors`` entry,
code ``parse``, with no detail (the text output has it; the JSON does not). Schema
errors have the code ``schema``.

When stdout is not that JSON (an older check-jsonschema, a wrapper that forces text),
the text report is read instead: ``  FILE::$.path: MESSAGE`` and ``Failed to parse FILE``.

Exit codes: 0 valid, 1 invalid or unparsable (or a Python traceback on stderr, such as a
missing file), 2 usage error.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterator
from typing import Any

from huskycat.core.results import Diagnostic
from huskycat.tools.base import ParseResult, ToolOutput, ToolSpec
from huskycat.tools.parsing import failed, found

_PATH_STEP = re.compile(
    r"\.(?P<name>[A-Za-z][A-Za-z0-9_]*)|\['(?P<quoted>(?:[^'\\]|\\.)*)'\]|\[(?P<index>\d+)\]"
)
_TEXT_ERROR = re.compile(r"^\s+(?P<file>.+?)::(?P<path>\$\S*): (?P<message>.+)$")
_TEXT_PARSE = re.compile(r"^\s*Failed to parse (?P<file>.+?)\s*$")
_ITEM = re.compile(r"- +|-$")
_KEY = re.compile(r"""(?P<key>"(?:[^"\\]|\\.)*"|'(?:[^']|'')*'|[^\s#'"{\[][^#]*?)\s*:(?:\s|$)""")


def json_path_steps(path: str) -> list[str | int] | None:
    """``$.a['b c'][0]`` as ``["a", "b c", 0]``; None when ``path`` is not that form."""
    if not path.startswith("$"):
        return None
    steps: list[str | int] = []
    pos = 1
    while pos < len(path):
        m = _PATH_STEP.match(path, pos)
        if m is None:
            return None
        if m["index"] is not None:
            steps.append(int(m["index"]))
        elif m["quoted"] is not None:
            steps.append(re.sub(r"\\(.)", r"\1", m["quoted"]))
        else:
            steps.append(m["name"])
        pos = m.end()
    return steps


def _unquote(key: str) -> str:
    if len(key) >= 2 and key[0] == key[-1] == '"':
        return re.sub(r"\\(.)", r"\1", key[1:-1])
    if len(key) >= 2 and key[0] == key[-1] == "'":
        return key[1:-1].replace("''", "'")
    return key


def _entries(text: str) -> Iterator[tuple[int, int, str | None]]:
    """(line number, column, key or None for a list item) of each block node start."""
    for number, line in enumerate(text.splitlines(), 1):
        column = len(line) - len(line.lstrip(" "))
        rest = line[column:]
        if not rest or rest.startswith("#"):
            continue
        while m := _ITEM.match(rest):
            yield number, column, None
            column += m.end()
            rest = rest[m.end() :]
        if m := _KEY.match(rest):
            yield number, column, _unquote(m["key"])


def locate(text: str, steps: list[str | int]) -> int | None:
    """The line of the node at ``steps`` in block-style YAML ``text``, as near as found."""
    entries = list(_entries(text))
    found_line: int | None = None
    parent_column, start = -1, 0
    for step in steps:
        child_column: int | None = None
        seen_items = 0
        hit = None
        for index in range(start, len(entries)):
            _, column, key = entries[index]
            if column <= parent_column:
                break
            if child_column is None:
                child_column = column
            if column != child_column:
                continue
            if isinstance(step, int) and key is None:
                if seen_items == step:
                    hit = index
                    break
                seen_items += 1
            elif key is not None and key == step:
                hit = index
                break
        if hit is None:
            break
        found_line, parent_column = entries[hit][0], entries[hit][1]
        start = hit + 1
    return found_line


def _line_of(out: ToolOutput, filename: str, path: str, cache: dict[str, str | None]) -> int | None:
    steps = json_path_steps(path)
    if not steps:
        return None
    if filename not in cache:
        try:
            with open(os.path.join(out.cwd, filename), encoding="utf-8", errors="replace") as f:
                cache[filename] = f.read()
        except OSError:
            cache[filename] = None
    text = cache[filename]
    return locate(text, steps) if text is not None else None


def _from_json(out: ToolOutput, report: Any) -> list[Diagnostic]:
    diagnostics = []
    texts: dict[str, str | None] = {}
    for error in report.get("errors") or ():
        where = error.get("best_deep_match") or error
        path, message = str(where["path"]), str(where["message"])
        filename = str(error["filename"])
        line = _line_of(out, filename, path, texts)
        diagnostics.append(
            Diagnostic(filename, line, None, "schema", "error", f"{path}: {message}")
        )
    for error in report.get("parse_errors") or ():
        filename = str(error["filename"])
        message = str(error.get("message") or f"Failed to parse {filename}")
        diagnostics.append(Diagnostic(filename, None, None, "parse", "error", message))
    return diagnostics


def _from_text(out: ToolOutput) -> list[Diagnostic]:
    diagnostics = []
    texts: dict[str, str | None] = {}
    for line in out.stdout.splitlines():
        if m := _TEXT_ERROR.match(line):
            number = _line_of(out, m["file"], m["path"], texts)
            message = f"{m['path']}: {m['message']}"
            diagnostics.append(Diagnostic(m["file"], number, None, "schema", "error", message))
        elif m := _TEXT_PARSE.match(line):
            message = f"Failed to parse {m['file']}"
            diagnostics.append(Diagnostic(m["file"], None, None, "parse", "error", message))
    return diagnostics


def parse(out: ToolOutput) -> ParseResult:
    """Read the JSON report (or, failing that, the text one); exit 2 is a usage error."""
    if out.returncode not in (0, 1):
        return failed(out)
    try:
        report = json.loads(out.stdout)
        diagnostics = _from_json(out, report)
    except (ValueError, KeyError, TypeError, AttributeError):
        diagnostics = _from_text(out)
    if out.returncode == 1 and not diagnostics:
        # A traceback (a missing file, a crash): its last line says what went wrong.
        last = [line.strip() for line in out.stderr.splitlines() if line.strip()][-1:]
        return failed(out, last[0] if last else None)
    return found(diagnostics)


SPEC = ToolSpec(
    name="gitlab-ci",
    description="GitLab CI configuration checked against GitLab's JSON schema",
    executable="check-jsonschema",
    install_hint="pip install check-jsonschema",
    check_args=(
        "--builtin-schema",
        "vendor.gitlab-ci",
        "--data-transform",
        "gitlab-ci",
        "--regex-variant",
        "nonunicode",
        "-o",
        "json",
        "--color",
        "never",
    ),
    types=frozenset({"yaml"}),
    files=r"(^|/)\.gitlab-ci\.ya?ml$",
    parse=parse,
)
