"""A file-local tool's result split into files, and put back together with cached files.

Pure functions over :class:`~huskycat.core.results.ToolResult`: no I/O.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from huskycat.core.results import OUTCOME_ERROR, Diagnostic, Severity, ToolResult, ToolStatus
from huskycat.tools.parsing import count, plural

_SEVERITIES: tuple[Severity, ...] = ("error", "warning", "info")


@dataclass(frozen=True)
class FileState:
    """One file's part of a file-local tool's result."""

    # Whether the file on its own passes the tool; None when that is unknown (only
    # warnings among several files): kept for replaying a whole run, never merged alone.
    clean: bool | None
    diagnostics: tuple[Diagnostic, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {"clean": self.clean, "diagnostics": [d.to_dict() for d in self.diagnostics]}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> FileState:
        """Raises KeyError, TypeError or ValueError for data that is not a FileState."""
        clean = data["clean"]
        if not isinstance(clean, bool):
            raise TypeError(f"clean is {clean!r}")
        return cls(clean, tuple(diagnostic(d) for d in data["diagnostics"]))

    def to_row(self) -> list[Any]:
        """The compact form the cache stores: ``[clean, [[line, column, code, severity
        index, message], ...]]``; the file's name is the key's business, not the row's."""
        return [
            2 if self.clean is None else int(self.clean),
            [
                [d.line, d.column, d.code, _SEVERITIES.index(d.severity), d.message]
                for d in self.diagnostics
            ],
        ]

    @classmethod
    def from_row(cls, name: str, row: object) -> FileState | None:
        """A state read back from :meth:`to_row` for the file ``name``; None for a row
        that is not one (damaged, or written by something else)."""
        if not isinstance(row, list) or len(row) != 2:
            return None
        clean, rows = row
        try:
            if clean not in (0, 1, 2) or isinstance(clean, bool):
                return None
            diags = []
            for line, column, code, severity, message in rows:
                if not (
                    _int_or_none(line)
                    and _int_or_none(column)
                    and (code is None or isinstance(code, str))
                    and isinstance(message, str)
                    and isinstance(severity, int)
                    and not isinstance(severity, bool)
                    and 0 <= severity < len(_SEVERITIES)
                ):
                    return None
                diags.append(Diagnostic(name, line, column, code, _SEVERITIES[severity], message))
        except (TypeError, ValueError):
            return None
        return cls(None if clean == 2 else bool(clean), tuple(diags))


def _int_or_none(value: object) -> bool:
    return value is None or (isinstance(value, int) and not isinstance(value, bool))


def diagnostic(data: Mapping[str, Any]) -> Diagnostic:
    """A Diagnostic from its ``to_dict()``; TypeError for data that is not one."""
    diag = Diagnostic(**data)
    if not isinstance(diag.file, str) or not isinstance(diag.message, str):
        raise TypeError(f"not a diagnostic: {data!r}")
    return diag


def file_states(result: ToolResult, names: Sequence[str]) -> dict[str, FileState] | None:
    """Each file's part of a file-local tool's ``result`` over ``names``, where known.

    None when the result cannot be split by file: an "error" outcome, a diagnostic
    naming a file that was not passed, counts that the diagnostics do not add up to, or
    findings with no diagnostic at all. A file with no diagnostic is clean. In a run with
    findings a file with an error is not clean, and so is the only file with
    diagnostics; a file with only warnings or notes among several is left out, since
    whether it alone would fail depends on the tool's threshold (yamllint without
    ``--strict`` passes warnings, flake8 does not).
    """
    if result.status is ToolStatus.SUCCESS:
        findings = False
    elif result.status is ToolStatus.FAILED and result.outcome != OUTCOME_ERROR:
        findings = True
    else:
        return None
    by_file: dict[str, list[Diagnostic]] = {name: [] for name in names}
    for diag in result.diagnostics:
        if diag.file not in by_file:
            return None
        by_file[diag.file].append(diag)
    if count(result.diagnostics) != (result.errors, result.warnings):
        return None
    named = [name for name, diags in by_file.items() if diags]
    if findings and not named:
        return None
    states = {}
    for name, diags in by_file.items():
        if not diags or not findings:
            states[name] = FileState(True, tuple(diags))
        elif len(named) == 1 or any(d.severity == "error" for d in diags):
            states[name] = FileState(False, tuple(diags))
    return states


def render(diag: Diagnostic) -> str:
    """``file:line:column: severity: code message``, parts that are None left out."""
    where = diag.file
    where += f":{diag.line}" if diag.line is not None else ""
    where += f":{diag.column}" if diag.column is not None else ""
    code = f"{diag.code} " if diag.code else ""
    return f"{where}: {diag.severity}: {code}{diag.message}"


def _sort_key(diag: Diagnostic) -> tuple[str, int, int]:
    return (diag.file, diag.line or 0, diag.column or 0)


def merge_cached(
    tool_name: str,
    fresh: ToolResult | None,
    cached: Mapping[str, FileState],
    metadata: Mapping[str, Any] | None = None,
) -> ToolResult:
    """One result from a fresh run over some files and the cached states of the others.

    Counts are summed and diagnostics sorted by file; the output is the fresh run's
    followed by the cached diagnostics, one line each. ``metadata`` is used when there
    is no fresh run. Outcome: the fresh run's "error" wins, then findings from either.
    """
    old = sorted((d for state in cached.values() for d in state.diagnostics), key=_sort_key)
    dirty = [state for state in cached.values() if not state.clean]
    if fresh is None:
        fresh_outcome = "ok"
        base: dict[str, Any] = {**(metadata or {}), "cached": True}
    else:
        fresh_outcome = "ok" if fresh.status is ToolStatus.SUCCESS else fresh.outcome or "error"
        base = dict(fresh.metadata)
    outcome = (
        OUTCOME_ERROR
        if fresh_outcome == OUTCOME_ERROR
        else "findings" if fresh_outcome == "findings" or dirty else "ok"
    )
    parts = [fresh.error_message] if fresh is not None and fresh.error_message else []
    if dirty and outcome != OUTCOME_ERROR:
        diags = [d for state in dirty for d in state.diagnostics]
        errors, warnings = count(diags)
        counted = [plural(errors, "error")] if errors else []
        counted += [plural(warnings, "warning")] if warnings else []
        said = ", ".join(counted) or plural(len(diags), "note")
        parts.append(f"{said} in {plural(len(dirty), 'unchanged file')}")
    errors, warnings = count(old)
    new_output = fresh.output if fresh is not None else ""
    return ToolResult(
        tool_name,
        outcome == "ok",
        fresh.duration if fresh is not None else 0.0,
        errors=errors + (fresh.errors if fresh is not None else 0),
        warnings=warnings + (fresh.warnings if fresh is not None else 0),
        output=new_output + "".join(render(d) + "\n" for d in old),
        status=ToolStatus.SUCCESS if outcome == "ok" else ToolStatus.FAILED,
        error_message="; ".join(parts) or None,
        metadata={**base, "outcome": outcome, "cached_files": len(cached)},
        diagnostics=sorted(
            [*(fresh.diagnostics if fresh is not None else ()), *old], key=_sort_key
        ),
    )


def replay(value: object, diagnostics: Sequence[Diagnostic] | None = None) -> ToolResult | None:
    """A stored whole result, marked as cached; None if it does not read as one.

    ``diagnostics``: the result's diagnostics when they were stored apart (a file-local
    tool's, once per file), sorted by file; else they are read from ``value``.
    """
    try:
        data = dict(value["result"])  # type: ignore[index]
        if diagnostics is None:
            data["diagnostics"] = [diagnostic(d) for d in data.get("diagnostics", ())]
        else:
            data["diagnostics"] = sorted(diagnostics, key=_sort_key)
        data["metadata"] = dict(data.get("metadata", {}))
        result = ToolResult(**data)
    except (KeyError, TypeError, ValueError, AttributeError):
        return None
    if result.status not in (ToolStatus.SUCCESS, ToolStatus.FAILED):
        return None
    result.duration = 0.0
    result.metadata["cached"] = True
    return result
