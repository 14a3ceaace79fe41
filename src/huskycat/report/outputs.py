"""The report files a finished run can be written as, by format name.

``huskycat run --sarif PATH`` (and the other options named here) and
``huskycat report FORMAT --from run.json`` both write through :func:`write_report`, so
that a report made after the fact is the report the run would have made.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

from huskycat.report.run_data import RunData

Writer = Callable[[RunData, "str | os.PathLike[str]"], Path]


def _sarif(run: RunData, path: str | os.PathLike[str]) -> Path:
    from huskycat.report.sarif import write_sarif

    return write_sarif(run, path)


def _trace(run: RunData, path: str | os.PathLike[str]) -> Path:
    from huskycat.report.trace import write_trace

    return write_trace(run, path)


def _timeline(run: RunData, path: str | os.PathLike[str]) -> Path:
    from huskycat.report.timeline import write_timeline

    return write_timeline(run, path)


# format -> (the ``huskycat run`` option that asks for it, its writer)
WRITERS: dict[str, tuple[str, Writer]] = {
    "sarif": ("--sarif", _sarif),
    "trace": ("--trace", _trace),
    "timeline": ("--timeline", _timeline),
}


def write_report(format: str, run: RunData, path: str | os.PathLike[str]) -> Path:
    """Write ``run`` as ``format`` (a key of :data:`WRITERS`) to ``path``; OSError when
    the file cannot be written."""
    return WRITERS[format][1](run, path)
