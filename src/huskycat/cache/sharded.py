"""A file-local tool looked up in the cache once, its misses run in shards.

::

    scheduler --split(n)--> lookup(all files): one key per file, one query
        replayed whole -------------------------------> [replay]        (one part)
        misses ----slices of the misses----> run(slice) ... run(slice)
        each part, as it ends --> Lookup.part_done --> its files' rows stored
    scheduler --merge(results)--> merge_results --> Lookup.finish --> whole run stored

Looking the tool up as a whole, when it starts (after the tools it runs after, which may
have rewritten its files), rather than once per shard, keeps the whole run's entry
independent of how many shards the free slots allowed this time: a run with nothing
changed replays the tool's own output whatever the split, and the lookup reads the
store with one query for the tool.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass

from huskycat.cache.lookup import Lookup, lookup_call
from huskycat.cache.store import Cache
from huskycat.core.results import ToolResult
from huskycat.core.sharding import ShardedTool
from huskycat.tools.call import ToolCall
from huskycat.tools.merge import merge_results


@dataclass(frozen=True)
class MissRun:
    """Part of a split: the tool on some of the files the cache missed (``final``: the
    lone part, whose result is the tool's, merged with the cache's and stored). A cluster
    (:mod:`huskycat.distributed.tools`) runs ``files`` on a worker and hands the fresh
    result to :meth:`done` here."""

    found: Lookup
    files: tuple[str, ...]
    final: bool = False

    def __call__(self) -> ToolResult:
        return self.done(self.found.run(self.files))

    def done(self, fresh: ToolResult) -> ToolResult:
        if self.final:
            return self.found.finish(fresh)
        self.found.part_done(self.files, fresh)  # stored now, while other parts run
        return fresh


def cached_sharded_call(
    cache: Cache | None, call: ToolCall, *, min_files_per_shard: int, max_shards: int
) -> ShardedTool:
    """A :class:`ShardedTool` that runs ``call`` through ``cache`` (as
    :func:`~huskycat.cache.cached_run_tool` does), splitting the files the cache does not
    hold into up to ``n`` contiguous slices of at least ``min_files_per_shard``."""
    # The Lookup of the current split, for merge; None when the one part is final.
    current: list[Lookup | None] = [None]

    def split(wanted: int) -> list[Callable[[], ToolResult]]:
        found = lookup_call(cache, call)
        current[0] = None
        if found.result is not None:
            replayed = found.result
            return [lambda: replayed]
        if not found.run_needed:
            return [functools.partial(found.finish, None)]
        misses = found.misses
        count = max(1, min(wanted, len(misses) // min_files_per_shard))
        if count == 1:
            return [MissRun(found, tuple(misses), final=True)]
        current[0] = found
        size, extra = divmod(len(misses), count)
        parts: list[Callable[[], ToolResult]] = []
        start = 0
        for index in range(count):  # contiguous slices: neighbours share folders and config
            end = start + size + (1 if index < extra else 0)
            parts.append(MissRun(found, tuple(misses[start:end])))
            start = end
        return parts

    def merge(results: list[ToolResult]) -> ToolResult:
        found = current[0]
        if found is None:  # one part, already the tool's result
            return merge_results(results)
        return found.finish(merge_results(results))

    return ShardedTool(split, merge, max_shards=max_shards)
