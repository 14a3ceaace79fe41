"""Tools that can be split into shards which run side by side and merge into one result.

A :class:`ShardedTool` is a callable like any other tool (calling it runs one shard that
does all the work), so code that does not know about shards can still run it. The
scheduler, when it starts such a tool, asks for as many shards as there are worker slots
that no other ready tool needs (at most ``max_shards``), runs them as separate calls, and
hands their results, in order, to ``merge``. The tool still gets exactly one result and
one progress event of each kind.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from huskycat.core.results import (
    OUTCOME_ERROR,
    OUTCOME_FINDINGS,
    ToolResult,
    ToolStatus,
    coerce_result,
)

Split = Callable[[int], Sequence[Callable[[], object]]]
Merge = Callable[[list[ToolResult]], object]


@dataclass(frozen=True)
class ShardedTool:
    """``split(n)`` returns up to ``n`` callables that together do the tool's work;
    ``merge`` turns their results (in the order ``split`` gave them) into one."""

    split: Split
    merge: Merge
    max_shards: int = 8

    def __call__(self) -> object:
        parts = list(self.split(1))
        results = [coerce_result("shard", part(), 0.0) for part in parts]
        return self.merge(results)


_SEVERITY = {
    ToolStatus.TIMEOUT: 4,
    ToolStatus.FAILED: 3,
    ToolStatus.SUCCESS: 1,
    ToolStatus.SKIPPED: 0,
}


def merge_results(results: Sequence[ToolResult]) -> ToolResult:
    """The usual merge: counts summed, diagnostics in file order, outputs joined in shard
    order, the worst status (an error outcome beats findings), metadata of the first
    shard with ``modified_files`` united."""
    if not results:
        return ToolResult("", True, 0.0)
    worst = max(results, key=lambda r: _SEVERITY.get(r.status, 0))
    status = worst.status
    outcomes = {r.outcome for r in results if r.status is ToolStatus.FAILED}
    metadata = dict(results[0].metadata)
    if status is ToolStatus.FAILED:
        metadata["outcome"] = OUTCOME_ERROR if OUTCOME_ERROR in outcomes else OUTCOME_FINDINGS
    modified = sorted({f for r in results for f in r.metadata.get("modified_files", ())})
    if modified or any("modified_files" in r.metadata for r in results):
        metadata["modified_files"] = modified
    messages = [r.error_message for r in results if r.error_message and r.status is status]
    errors = [r for r in results if r.status is ToolStatus.FAILED and r.outcome == OUTCOME_ERROR]
    if errors:  # why a shard could not do its work; counts of the others would mislead
        messages = [r.error_message for r in errors if r.error_message]
    diagnostics = sorted(
        (d for r in results for d in r.diagnostics),
        key=lambda d: (d.file, d.line or 0, d.column or 0),
    )
    return ToolResult(
        results[0].tool_name,
        status in (ToolStatus.SUCCESS, ToolStatus.SKIPPED),
        sum(r.duration for r in results),
        errors=sum(r.errors for r in results),
        warnings=sum(r.warnings for r in results),
        output="".join(r.output for r in results),
        status=status,
        error_message=("; ".join(dict.fromkeys(messages)) if errors else merge_messages(messages))
        or None,
        metadata=metadata,
        diagnostics=diagnostics,
    )


# The nouns the catalog's parsers count with ``parsing.plural`` ("3 errors, 1 warning",
# "would reformat 2 files", "4 errors in 3 unchanged files" of the result cache).
_COUNTED = re.compile(r"\b(\d+) (error|warning|note|unchanged file|file)s?\b")
_PLACE = re.compile("\0([^\0]*)\0")  # a counted phrase in a key: \0noun\0


def merge_messages(messages: Sequence[str]) -> str:
    """The summary lines of the parts of one run (shards, batches) as one line.

    Each line is split at ", " and "; "; phrases that differ only in their counts are
    summed ("would reformat 6 files" and "would reformat 5 files" make "would reformat
    11 files"), other phrases are kept once. Phrases keep the order they have in the
    lines, so "1 warning" and "2 errors, 3 warnings" make "2 errors, 4 warnings".
    """
    counts: dict[str, list[int]] = {}  # phrase, its counts replaced by \0noun\0 -> sums
    order: list[str] = []
    for message in messages:
        keys = []
        for part in re.split(r"; |, ", message):
            found = [int(n) for n, _ in _COUNTED.findall(part)]
            key = _COUNTED.sub(lambda m: f"\0{m[2]}\0", part)
            counts[key] = [a + b for a, b in zip(counts[key], found)] if key in counts else found
            keys.append(key)
        for index, key in enumerate(keys):  # this line's order merged into the order so far
            if key not in order:
                later = [order.index(k) for k in keys[index + 1 :] if k in order]
                order.insert(min(later, default=len(order)), key)
    return ", ".join(_render(key, counts[key]) for key in order)


def _render(key: str, counts: Sequence[int]) -> str:
    sums = iter(counts)
    return _PLACE.sub(lambda m: _plural(next(sums), m[1]), key)


def _plural(count: int, noun: str) -> str:
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"
