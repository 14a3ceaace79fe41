"""A requirement blocks only what it has to: a failed dependency holds back the files it
failed on, and its dependent runs on the rest.

The engine's ``requires`` edge is whole-tool (the seed's contract for library users): a
dependency that did not pass skips its dependent. The command refines it where both
tools work file by file and the dependent checks each of its files on its own (scope
"file", files on the command line, no mapping of files to other targets): gitlab-ci's
schema check of a valid ``.gitlab-ci.yml`` must not wait on a trailing space yamllint
found in another YAML file.

Such an edge is handed to the engine as ``after`` (ordering only: it still blocks the
dependent when the dependency could not do its work: crashed, timed out, was blocked),
and the dependent's call asks :func:`vouched_files` which of its files to check once
the dependency's result is in:

- the dependency passed (or was not applicable): every file;
- it failed with findings: not the files it failed on (those with an error diagnostic;
  when none has one, those with a warning), which the result lists in
  ``metadata["left_out"]``; with no file left, or when its findings name no file to
  hold back, the dependent is skipped as the engine would skip it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from huskycat.core.results import (
    OUTCOME_FINDINGS,
    SKIP_DEPENDENCY,
    ToolEvent,
    ToolResult,
    ToolStatus,
)
from huskycat.tools.base import ToolSpec
from huskycat.tools.facts import ResultFacts, facts_of, replace_result, with_facts


def per_file(spec: ToolSpec) -> bool:
    """Whether a tool checks each of its files on its own, so that it can vouch for some
    of them (as a dependency) or run on some of them (as a dependent)."""
    return spec.scope == "file" and spec.pass_filenames and spec.targets is None


def split_edges(
    requires: Mapping[str, Sequence[str]],
    after: Mapping[str, Sequence[str]],
    specs: Mapping[str, ToolSpec],
) -> tuple[dict[str, tuple[str, ...]], dict[str, tuple[str, ...]], dict[str, tuple[str, ...]]]:
    """``(requires, after, vouchers)`` for the engine: each ``requires`` edge between two
    per-file tools moved to ``after``, and recorded in ``vouchers[dependent]``."""
    engine_requires: dict[str, tuple[str, ...]] = {}
    engine_after = {name: tuple(deps) for name, deps in after.items()}
    vouchers: dict[str, tuple[str, ...]] = {}
    for name, deps in requires.items():
        moved = tuple(
            d
            for d in deps
            if name in specs and d in specs and per_file(specs[name]) and per_file(specs[d])
        )
        engine_requires[name] = tuple(d for d in deps if d not in moved)
        if moved:
            vouchers[name] = moved
            engine_after[name] = tuple(dict.fromkeys((*engine_after.get(name, ()), *moved)))
    return engine_requires, engine_after, vouchers


@dataclass
class Board:
    """The final result of each tool so far, filled from the engine's events on its one
    loop, before the tools that follow are started (and so before they read it)."""

    results: dict[str, ToolResult] = field(default_factory=dict)

    def record(self, event: ToolEvent) -> None:
        if event.result is not None:
            self.results[event.tool_name] = event.result


@dataclass(frozen=True)
class Vouched:
    """The files a dependent may check, the ones held back (file -> dependency), or,
    when nothing can run, the SKIPPED result it ends with."""

    files: tuple[str, ...]
    left_out: dict[str, str]
    blocked: ToolResult | None = None


def vouched_files(
    name: str, files: Sequence[str], vouchers: Sequence[str], board: Board
) -> Vouched:
    """Which of ``files`` tool ``name`` may check, given its dependencies' results."""
    left_out: dict[str, str] = {}
    for dependency in vouchers:
        result = board.results.get(dependency)
        if result is None or result.status is not ToolStatus.FAILED:
            continue  # passed, or not applicable; anything worse the engine blocked
        if result.outcome != OUTCOME_FINDINGS:
            return Vouched((), {}, _blocked(name, f"dependency {dependency!r} failed", dependency))
        failed = failed_files(result)
        if not failed:
            why = f"dependency {dependency!r} failed and named no file it failed on"
            return Vouched((), {}, _blocked(name, why, dependency))
        for path in files:
            if path in failed:
                left_out.setdefault(path, dependency)
    kept = tuple(f for f in files if f not in left_out)
    if files and not kept:
        owners = sorted(set(left_out.values()))
        why = f"dependency {owners[0]!r} failed on every file it would check"
        return Vouched((), left_out, _blocked(name, why, owners[0]))
    return Vouched(kept, left_out)


def failed_files(result: ToolResult) -> frozenset[str]:
    """The files a failed tool failed on: those with an error diagnostic, or, when none
    has one (a linter made strict about warnings), those with a warning."""
    for severity in ("error", "warning"):
        found = frozenset(d.file for d in result.diagnostics if d.severity == severity and d.file)
        if found:
            return found
    return frozenset()


def note_left_out(result: ToolResult, left_out: Mapping[str, str]) -> ToolResult:
    """``result`` saying which files were held back and by which dependency."""
    if not left_out or facts_of(result).left_out is not None:  # once, however it was reached
        return result
    lines = [f"left out {path}: {dep!r} failed on it" for path, dep in sorted(left_out.items())]
    return replace_result(
        with_facts(result, left_out=dict(sorted(left_out.items()))),
        output="\n".join(lines) + "\n" + result.output,
    )


def _blocked(name: str, message: str, dependency: str) -> ToolResult:
    return ToolResult(
        name,
        False,
        0.0,
        status=ToolStatus.SKIPPED,
        error_message=message,
        metadata=ResultFacts(skip_reason=SKIP_DEPENDENCY, blocked_by=dependency).to_metadata(),
    )
