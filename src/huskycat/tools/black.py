"""black, the Python code formatter.

Check: ``black --check FILES``; fix: ``black FILES``. black has no machine-readable
output; it reports on stderr, one line per file:

- ``would reformat PATH`` (``reformatted PATH`` when fixing): a finding, no line;
- ``error: cannot parse[ for target version X]: PATH:LINE:COL`` followed by the faulty
  line, a caret and ``ParseError: ...`` (black 24 and later), or, from older black,
  ``error: cannot format PATH: Cannot parse: LINE:COL: SOURCE``: a syntax error in the
  file, a finding at that line;
- ``error: cannot format PATH: MESSAGE`` where the message says the file cannot be
  decoded (a binary file or another encoding with a ``.py`` name): a finding on that
  file, so that tools ordered after black still run on every other file;
- ``error: cannot format PATH: MESSAGE`` with any other message, and
  ``error: INTERNAL ERROR: ...``: black itself failed.

Exit codes: 0 nothing to change, 1 some file would be reformatted (check mode only),
123 some file could not be formatted (syntax error or internal error), 2 usage error.
``PATH`` is printed as given, normalised (``./-x.py`` becomes ``-x.py``).
"""

from __future__ import annotations

import re

from huskycat.core import summary as summaries
from huskycat.core.results import Diagnostic
from huskycat.tools.base import ParseResult, ToolOutput, ToolSpec
from huskycat.tools.parsing import failed, found

_WOULD = re.compile(r"^would reformat (?P<path>.+)$")
_REFORMATTED = re.compile(r"^reformatted (?P<path>.+)$")
_CANNOT_PARSE = re.compile(
    r"^error: (?P<what>cannot parse[^:]*): (?P<path>.+):(?P<line>\d+):(?P<col>\d+)$"
)
_CANNOT_PARSE_OLD = re.compile(
    r"^error: cannot format (?P<path>.+): (?P<what>Cannot parse[^:]*): "
    r"(?P<line>\d+):(?P<col>\d+): ?(?P<source>.*)$"
)
_CANNOT_FORMAT = re.compile(r"^error: cannot format (?P<path>.+?): (?P<why>.*)$")
# The file is not text black can read: its problem, not black's.
_UNREADABLE = re.compile(r"encoding|codec can't decode|null bytes", re.IGNORECASE)
_PARSE_DETAIL = re.compile(r"^(?:ParseError|TokenError): (?P<why>.*)$")


def parse(out: ToolOutput) -> ParseResult:
    """Read black's report lines (stderr, and stdout for safety) into diagnostics."""
    lines = (out.stderr + "\n" + out.stdout).splitlines()
    diagnostics: list[Diagnostic] = []
    reformatted = 0
    internal_error = ""
    for index, line in enumerate(lines):
        if m := _WOULD.match(line):
            diagnostics.append(Diagnostic(m["path"], None, None, None, "error", "would reformat"))
        elif _REFORMATTED.match(line):
            reformatted += 1
        elif m := _CANNOT_PARSE.match(line):
            why = next(
                (d["why"] for d in map(_PARSE_DETAIL.match, lines[index + 1 : index + 4]) if d),
                None,
            )
            message = f"{m['what']}: {why}" if why else m["what"]
            diagnostics.append(
                Diagnostic(m["path"], int(m["line"]), int(m["col"]), None, "error", message)
            )
        elif m := _CANNOT_PARSE_OLD.match(line):
            message = m["what"][:1].lower() + m["what"][1:]
            diagnostics.append(
                Diagnostic(m["path"], int(m["line"]), int(m["col"]), None, "error", message)
            )
        elif m := _CANNOT_FORMAT.match(line):
            if _UNREADABLE.search(m["why"]) is None:
                internal_error = internal_error or line
            # A line of 1: counted with the files black cannot parse, not as "would reformat".
            diagnostics.append(Diagnostic(m["path"], 1, None, None, "error", m["why"]))
        elif line.startswith("error: INTERNAL ERROR"):
            internal_error = internal_error or line
    if out.returncode not in (0, 1, 123) or internal_error:
        return failed(out, internal_error.removeprefix("error: ") or None, diagnostics)
    if out.returncode != 0 and not diagnostics:
        return failed(out, "black reported no file names (is quiet set in its configuration?)")
    would = [d.file for d in diagnostics if d.line is None]
    unparsable = [d.file for d in diagnostics if d.line is not None]
    summary: tuple[summaries.Phrase, ...] = (
        summaries.files("would reformat ", would, rank=0),
        summaries.files("cannot parse ", unparsable, rank=1),
    )
    if not would and not unparsable and reformatted:
        summary = (summaries.Count("file", reformatted, "reformatted ", rank=2),)
    return found(diagnostics, summary if would or unparsable or reformatted else None)


SPEC = ToolSpec(
    name="black",
    description="Python code formatter",
    executable="black",
    install_hint="pip install black",
    check_args=("--check",),
    fix_args=(),
    types=frozenset({"python"}),
    config_files=("pyproject.toml",),
    parse=parse,
)
