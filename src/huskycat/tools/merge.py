"""The one merge of partial results: the parts of one tool's run (batches, shards, files
replayed from the result cache and files run again) made into one :class:`ToolResult`.

It lives above the engine (which only hands a :class:`~huskycat.core.sharding.ShardedTool`'s
results to its ``merge``) because it knows what the command's results carry: counted
summaries, modified files, files, batches, return codes and cached files.
"""

from __future__ import annotations

from collections.abc import Sequence

from huskycat.core import summary as summaries
from huskycat.core.results import OUTCOME_ERROR, OUTCOME_FINDINGS, ToolResult, ToolStatus
from huskycat.tools.facts import ResultFacts, facts_of

_SEVERITY = {
    ToolStatus.TIMEOUT: 4,
    ToolStatus.FAILED: 3,
    ToolStatus.SUCCESS: 1,
    ToolStatus.SKIPPED: 0,
}


def summary_of(result: ToolResult) -> summaries.Summary:
    """A result's summary as data: ``metadata["summary"]`` (see
    :mod:`huskycat.core.summary`), else its ``error_message`` as one phrase."""
    known = facts_of(result).summary
    if known is not None:
        return known
    return (result.error_message,) if result.error_message else ()


def merge_results(results: Sequence[ToolResult]) -> ToolResult:
    """One result from the parts of one tool's run (batches, shards, files replayed from
    the cache and files run again): the one merge of partial results.

    Counts summed, diagnostics in file order, outputs joined in order, the worst status
    (an error outcome beats findings). The summary is merged as data and rendered once:
    "2 errors" and "1 error, 1 warning" make "3 errors, 1 warning", as one run over all
    the files would say; when a part could not do its work, its message alone. Metadata
    is the first part's, with ``modified_files`` united, ``files``, ``batches`` and
    ``cached_files`` summed, ``returncodes`` joined, and ``cached`` when every part was.
    """
    if not results:
        return ToolResult("", True, 0.0)
    worst = max(results, key=lambda r: _SEVERITY.get(r.status, 0))
    status = worst.status
    outcomes = {r.outcome for r in results if r.status is ToolStatus.FAILED}
    parts = [facts_of(r) for r in results]
    metadata = dict(results[0].metadata)
    if status is ToolStatus.FAILED:
        metadata["outcome"] = OUTCOME_ERROR if OUTCOME_ERROR in outcomes else OUTCOME_FINDINGS
    modified = sorted({f for p in parts for f in p.modified_files or ()})
    if modified or any(p.modified_files is not None for p in parts):
        metadata["modified_files"] = modified
    _sum_bookkeeping(metadata, parts)
    errors = [r for r in results if r.status is ToolStatus.FAILED and r.outcome == OUTCOME_ERROR]
    if errors:  # why a part could not do its work; counts of the others would mislead
        summary: summaries.Summary = tuple(
            dict.fromkeys(r.error_message for r in errors if r.error_message)
        )
    else:
        summary = summaries.merge(
            summary_of(r) for r in results if r.status is not ToolStatus.SKIPPED
        )
    if status in (ToolStatus.SUCCESS, ToolStatus.FAILED):
        metadata["summary"] = summaries.to_json(summary)
    if errors:
        message = "; ".join(p for p in summary if isinstance(p, str)) or None
    elif status in (ToolStatus.SUCCESS, ToolStatus.FAILED):
        message = summaries.render(summary)
    else:  # skipped or timed out: why, once
        why = (r.error_message for r in results if r.status is status and r.error_message)
        message = "; ".join(dict.fromkeys(why)) or None
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
        error_message=message,
        metadata=metadata,
        diagnostics=diagnostics,
    )


def _sum_bookkeeping(metadata: dict[str, object], parts: Sequence[ResultFacts]) -> None:
    """The counters of the parts, added up (see :func:`merge_results`)."""
    counted = [p.files for p in parts]
    if all(n is not None for n in counted):
        metadata["files"] = sum(n or 0 for n in counted)
    if any(p.batches is not None for p in parts):
        metadata["batches"] = sum(1 if p.batches is None else p.batches for p in parts)
    codes = [c for p in parts for c in p.returncodes or ()]
    if codes:
        metadata["returncodes"] = codes
    # Files replayed from the cache, in every part: the history counts only the rest.
    cached = sum((p.files or 0) if p.cached else (p.cached_files or 0) for p in parts)
    metadata.pop("cached_files", None)
    if cached:
        metadata["cached_files"] = cached
    metadata.pop("cached", None)
    if all(p.cached for p in parts):
        metadata["cached"] = True
