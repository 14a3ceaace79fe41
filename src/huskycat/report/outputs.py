"""The report files a finished run can be written as, by format name.

``huskycat run --sarif PATH`` (and the other options named here) and
``huskycat report FORMAT --from run.json`` both go through :func:`render`, so that a
report made after the fact is the report the run would have made.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import NamedTuple

from huskycat.report.run_data import RunData
from huskycat.state import write_atomic


class Format(NamedTuple):
    option: str | None  # the ``huskycat run`` option that writes it, if any
    render: Callable[[RunData], str]


def _sarif(run: RunData) -> str:
    from huskycat.report.sarif import build_sarif

    return json.dumps(build_sarif(run), ensure_ascii=False, indent=1) + "\n"


def _trace(run: RunData) -> str:
    from huskycat.report.trace import build_trace

    return json.dumps(build_trace(run), ensure_ascii=False, allow_nan=False) + "\n"


def _timeline(run: RunData) -> str:
    from huskycat.report.timeline import build_timeline

    return build_timeline(run)


def _codequality(run: RunData) -> str:
    from huskycat.report.codequality import build_codequality

    return json.dumps(build_codequality(run), ensure_ascii=False, indent=1) + "\n"


def _markdown(run: RunData) -> str:
    from huskycat.report.step_summary import build_markdown

    return build_markdown(run)


FORMATS: dict[str, Format] = {
    "sarif": Format("--sarif", _sarif),
    "trace": Format("--trace", _trace),
    "timeline": Format("--timeline", _timeline),
    "codequality": Format("--gitlab-codequality", _codequality),
    "markdown": Format(None, _markdown),
}
# The formats ``huskycat run`` writes through an option of its own.
RUN_OPTIONS = {name: f.option for name, f in FORMATS.items() if f.option is not None}


def render(format: str, run: RunData) -> str:
    """``run`` as ``format`` (a key of :data:`FORMATS`), as text."""
    return FORMATS[format].render(run)


def write_report(format: str, run: RunData, path: str | os.PathLike[str]) -> Path:
    """Write ``run`` as ``format`` to ``path``, atomically; OSError when it cannot be."""
    # A name that is not UTF-8: "\udcff", as JSON (SARIF) escapes it, not a traceback.
    return write_atomic(path, render(format, run).encode("utf-8", "backslashreplace"))
