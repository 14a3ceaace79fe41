"""What a command's result carries beyond the seed's fields, as one typed, frozen record.

:class:`~huskycat.core.results.ToolResult` keeps the seed's public view: a ``metadata``
dict with string keys, which the JSON report prints as it is. Everything above the engine
reads that dict through :func:`facts_of` (one :class:`ResultFacts`, every value of the
type its field says, or None when absent or of another type) and writes it through
:func:`with_facts` (a new result whose metadata has the given keys set, in the order the
dict had them, new ones last), never ``metadata[...] = ...``::

    result.metadata  --facts_of-->  ResultFacts(files=3, cached=True, ...)   (read)
    with_facts(result, files=3)  -->  a new ToolResult, metadata {..., "files": 3}  (write)

The engine (``core``) writes its own few keys (``outcome``, ``skip_reason``, ``timeout``,
``wall_duration``, ``shards``, ``backend_notes``...) when it builds a result; it knows no
tool, so this record lives here, above it.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping
from dataclasses import dataclass, fields
from typing import Any

from huskycat.core import summary as summaries
from huskycat.core.results import ToolResult


@dataclass(frozen=True)
class ResultFacts:
    """The known keys of a result's ``metadata``, typed; None where a key is absent.

    Written by the engine: ``outcome`` ("ok", "findings" or "error"), ``skip_reason``
    (``SKIP_*``), ``blocked_by`` (the dependency that blocked a skipped tool),
    ``exception`` (the class of a tool's exception), ``exit_code`` (a tool's int return),
    ``timeout`` (the limit a timed-out tool hit), ``shards``, ``wall_duration``,
    ``backend_notes``, ``reported_name``, ``reported_duration``, ``cpu_seconds`` (of the
    tool's processes, with their children), ``nice`` (the niceness they were given).

    Written by the runner and the plan: ``argv`` (the first batch's command), ``version``,
    ``executable`` (a program not installed), ``files`` (how many files it was given),
    ``batches``, ``returncodes``, ``summary`` (counted phrases, :mod:`huskycat.core.summary`),
    ``output_truncated``, ``modified_files`` (what a fixer changed), ``unavailable`` (a
    tool that is not installed: its install hint, or True), ``fail_on``, ``left_out``
    (held-back file -> the dependency that failed on it), ``shares`` (a cluster's parts),
    ``hook_id`` and ``verbose`` (pre-commit hooks).

    Written by the cache: ``cached`` (every file replayed) and ``cached_files`` (how many
    were).
    """

    outcome: str | None = None
    skip_reason: str | None = None
    blocked_by: str | None = None
    exception: str | None = None
    exit_code: int | None = None
    timeout: float | None = None
    shards: int | None = None
    wall_duration: float | None = None
    backend_notes: tuple[str, ...] | None = None
    reported_name: str | None = None
    reported_duration: float | None = None
    cpu_seconds: float | None = None
    nice: int | None = None
    argv: tuple[str, ...] | None = None
    version: str | None = None
    executable: str | None = None
    files: int | None = None
    batches: int | None = None
    returncodes: tuple[int, ...] | None = None
    summary: summaries.Summary | None = None
    output_truncated: bool | None = None
    modified_files: tuple[str, ...] | None = None
    unavailable: str | bool | None = None
    fail_on: str | None = None
    left_out: Mapping[str, str] | None = None
    shares: int | None = None
    hook_id: str | None = None
    verbose: bool | None = None
    cached: bool | None = None
    cached_files: int | None = None

    @classmethod
    def of(cls, metadata: Mapping[str, Any]) -> ResultFacts:
        """The facts a metadata dict holds; a value of the wrong type counts as absent."""
        values = {}
        for name in _NAMES:
            if name in metadata:
                value = _READ[name](metadata[name])
                if value is not None:
                    values[name] = value
        return cls(**values)

    def to_metadata(self) -> dict[str, Any]:
        """The metadata dict of the facts that are set, as the JSON report prints them
        (tuples as lists, the summary in its JSON form)."""
        return {
            name: _write(name, value)
            for name in _NAMES
            if (value := getattr(self, name)) is not None
        }


_NAMES = tuple(f.name for f in fields(ResultFacts))


def facts_of(result: ToolResult) -> ResultFacts:
    """The typed view of ``result.metadata``."""
    return ResultFacts.of(result.metadata)


def with_facts(result: ToolResult, **changes: Any) -> ToolResult:
    """A copy of ``result`` whose metadata has ``changes`` (names of :class:`ResultFacts`
    fields) set over its own: a key it had keeps its place, a new one comes last. None is
    written as null (``version=None``: the version is not known). ``result`` is unchanged.
    """
    unknown = sorted(set(changes) - set(_NAMES))
    if unknown:
        raise TypeError(f"with_facts: unknown result facts {unknown!r}")
    metadata = dict(result.metadata)
    for name, value in changes.items():
        metadata[name] = None if value is None else _write(name, value)
    return replace_result(result, metadata=metadata)


def without_facts(result: ToolResult, *names: str) -> ToolResult:
    """A copy of ``result`` whose metadata lacks the keys ``names``."""
    metadata = {k: v for k, v in result.metadata.items() if k not in names}
    return replace_result(result, metadata=metadata)


def replace_result(result: ToolResult, **changes: Any) -> ToolResult:
    """``dataclasses.replace`` for a result: a new one, sharing no list or dict with it."""
    changes.setdefault("metadata", dict(result.metadata))
    changes.setdefault("diagnostics", list(result.diagnostics))
    return dataclasses.replace(result, **changes)


def _write(name: str, value: Any) -> Any:
    if name == "summary":
        return summaries.to_json(value)
    if name == "left_out":
        return dict(value)
    if isinstance(value, tuple):
        return list(value)
    return value


def _str(value: object) -> str | None:
    return value if isinstance(value, str) else None


def _int(value: object) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _number(value: object) -> float | None:
    if isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value):
        return float(value)
    return None


def _bool(value: object) -> bool | None:
    return bool(value) if value is not None else None


def _strings(value: object) -> tuple[str, ...] | None:
    if isinstance(value, str):
        return (value,)
    if isinstance(value, (list, tuple)):
        return tuple(str(v) for v in value)
    return None


def _ints(value: object) -> tuple[int, ...] | None:
    if isinstance(value, (list, tuple)):
        return tuple(v for v in value if isinstance(v, int) and not isinstance(v, bool))
    return None


def _unavailable(value: object) -> str | bool | None:
    return value if isinstance(value, (str, bool)) else None


def _left_out(value: object) -> Mapping[str, str] | None:
    if isinstance(value, Mapping):
        return {str(k): str(v) for k, v in value.items()}
    return None


_READ: dict[str, Any] = {
    "outcome": _str,
    "skip_reason": _str,
    "blocked_by": _str,
    "exception": _str,
    "exit_code": _int,
    "timeout": _number,
    "shards": _int,
    "wall_duration": _number,
    "backend_notes": _strings,
    "reported_name": _str,
    "reported_duration": _number,
    "cpu_seconds": _number,
    "nice": _int,
    "argv": _strings,
    "version": _str,
    "executable": _str,
    "files": _int,
    "batches": _int,
    "returncodes": _ints,
    "summary": summaries.from_json,
    "output_truncated": _bool,
    "modified_files": _strings,
    "unavailable": _unavailable,
    "fail_on": _str,
    "left_out": _left_out,
    "shares": _int,
    "hook_id": _str,
    "verbose": _bool,
    "cached": _bool,
    "cached_files": _int,
}
assert set(_READ) == set(_NAMES), "every fact has its reader"
