"""A file-local tool's result split into files, and put back together with cached files.

Pure functions over :class:`~huskycat.core.results.ToolResult`: no I/O.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from huskycat.core import summary as summaries
from huskycat.core.results import OUTCOME_ERROR, Diagnostic, Severity, ToolResult, ToolStatus
from huskycat.tools.facts import facts_of, replace_result, with_facts, without_facts
from huskycat.tools.merge import merge_results, summary_of
from huskycat.tools.parsing import count

_SEVERITIES: tuple[Severity, ...] = ("error", "warning", "info")


@dataclass(frozen=True)
class FileState:
    """One file's part of a file-local tool's result."""

    # Whether the file on its own passes the tool; None when that is unknown (only
    # warnings among several files): kept for replaying a whole run, never merged alone.
    clean: bool | None
    diagnostics: tuple[Diagnostic, ...] = ()
    summary: summaries.Summary = ()  # the file's part of the run's summary counts

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
        index, message], ...]]``, then the summary's counts when it has any; the file's
        name is the key's business, not the row's."""
        row: list[Any] = [
            2 if self.clean is None else int(self.clean),
            [
                [d.line, d.column, d.code, _SEVERITIES.index(d.severity), d.message]
                for d in self.diagnostics
            ],
        ]
        if self.summary:
            row.append(summaries.to_json(self.summary))
        return row

    @classmethod
    def from_row(cls, name: str, row: object) -> FileState | None:
        """A state read back from :meth:`to_row` for the file ``name``; None for a row
        that is not one (damaged, or written by something else)."""
        if row == _CLEAN_ROW:
            return _CLEAN  # most files: shared, as it names no file
        if not isinstance(row, list) or len(row) not in (2, 3):
            return None
        clean, rows = row[0], row[1]
        summary = summaries.from_json(row[2]) if len(row) == 3 else ()
        if summary is None:
            return None
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
        return cls(None if clean == 2 else bool(clean), tuple(diags), summary)


_CLEAN_ROW = [1, []]
CLEAN = _CLEAN = FileState(True)  # a clean file with nothing in the summary: most files


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
    diagnostics; a file with only warnings or notes among several is unknown
    (``clean`` None), since whether it alone would fail depends on the tool's threshold
    (yamllint without ``--strict`` passes warnings, flake8 does not). Each state has
    the file's part of the run's summary counts; a summary that is not made of counts
    by file cannot be split (None).
    """
    if result.status is ToolStatus.SUCCESS:
        findings = False
    elif result.status is ToolStatus.FAILED and result.outcome != OUTCOME_ERROR:
        findings = True
    else:
        return None
    # Only the files with diagnostics are taken one by one: the others share one state
    # when the summary says nothing of files by name (most runs, and all clean ones).
    listed = names if isinstance(names, (set, frozenset, dict)) else set(names)
    by_file: dict[str, list[Diagnostic]] = {}
    for diag in result.diagnostics:
        if diag.file not in listed:
            return None
        by_file.setdefault(diag.file, []).append(diag)
    if count(result.diagnostics) != (result.errors, result.warnings):
        return None
    named = list(by_file)
    if findings and not named:
        return None
    summary = summary_of(result)
    states: dict[str, FileState] = {}
    by_name = any(
        not isinstance(p, str) and p.of == summaries.OF_FILES and p.files is not None
        for p in summary
    )
    if not by_name and names:
        part = summaries.for_file(summary, names[0], {})
        if part is None:
            return None  # a summary not made of per-file counts: not split
        states = dict.fromkeys(names, FileState(True, (), part) if part else _CLEAN)
    else:
        by_file = {name: by_file.get(name, []) for name in names}
    for name, diags in by_file.items():
        severities: dict[str, int] = {}
        for diag in diags:
            severities[diag.severity] = severities.get(diag.severity, 0) + 1
        part = summaries.for_file(summary, name, severities)
        if part is None:
            return None  # a summary not made of per-file counts: not split
        if not diags or not findings:
            states[name] = FileState(True, tuple(diags), part)
        elif len(named) == 1 or any(d.severity == "error" for d in diags):
            states[name] = FileState(False, tuple(diags), part)
        else:
            states[name] = FileState(None, tuple(diags), part)
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
    """One result from a fresh run over some files and the cached states of the others,
    by :func:`~huskycat.tools.merge.merge_results`: counts and the summary add up as
    one run over all the files would say them, diagnostics sorted by file; the output is
    the fresh run's followed by the cached diagnostics, one line each. ``metadata`` is
    used when there is no fresh run. Outcome: the fresh run's "error" wins, then
    findings from either.
    """
    old = sorted((d for state in cached.values() for d in state.diagnostics), key=_sort_key)
    dirty = any(state.clean is False for state in cached.values())
    errors, warnings = count(old)
    part = ToolResult(
        tool_name,
        not dirty,
        0.0,
        errors=errors,
        warnings=warnings,
        output="".join(render(d) + "\n" for d in old),
        status=ToolStatus.FAILED if dirty else ToolStatus.SUCCESS,
        metadata={
            **({} if fresh is not None else (metadata or {})),
            "outcome": "findings" if dirty else "ok",
            "files": len(cached),
            "batches": 0,
            "cached": True,
            "summary": summaries.to_json(summaries.merge(s.summary for s in cached.values())),
        },
        diagnostics=old,
    )
    if fresh is None:
        return merge_results([part])
    fresh_part = without_facts(fresh, "cached")
    if facts_of(fresh_part).files is None:
        fresh_part = with_facts(fresh_part, files=0)
    return merge_results([fresh_part, part])


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
    return with_facts(replace_result(result, duration=0.0), cached=True)
