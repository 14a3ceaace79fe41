"""Every worker runs the tools the client would: same tools installed, same versions.

Checked once per run, before any tool starts: a tool missing on a worker, or of another
version there, would make results depend on where a tool happened to run.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from huskycat.tools import programs

if TYPE_CHECKING:
    from huskycat.core.dask_backend import DaskBackend
    from huskycat.tools.base import ToolSpec


class VersionMismatch(Exception):
    """A worker lacks a tool or has another version of it."""


def versions(specs: Iterable[ToolSpec], root: str) -> dict[str, str | None]:
    """``{tool: version}`` of the catalog programs installed here ("missing" if not)."""
    found: dict[str, str | None] = {}
    for spec in specs:
        exe = programs.find_executable(spec.executable)
        found[spec.name] = "missing" if exe is None else programs.tool_version(spec, exe)
    return found


def check_versions(backend: DaskBackend, specs: Mapping[str, ToolSpec], root: Path) -> None:
    """VersionMismatch naming the tool, the worker and both versions, if any differ."""
    wanted = list(specs.values())
    mine = versions(wanted, str(root))
    theirs: dict[str, Any] = backend.client.run(versions, wanted, str(root))
    problems = []
    for worker, found in sorted(theirs.items()):
        for name, version in sorted(found.items()):
            if version != mine.get(name):
                problems.append(f"{name} {version or 'of no known version'} on {worker}")
    if problems:
        shown = "; ".join(problems[:5]) + (
            f"; and {len(problems) - 5} more" if len(problems) > 5 else ""
        )
        expected = ", ".join(f"{n} {v}" for n, v in sorted(mine.items()) if v)
        raise VersionMismatch(
            f"workers do not run the client's tools ({expected}): {shown}; install the "
            "same versions on the workers"
        )
