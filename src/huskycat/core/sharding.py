"""Tools that can be split into shards which run side by side and merge into one result.

A :class:`ShardedTool` is a callable like any other tool (calling it runs one shard that
does all the work), so code that does not know about shards can still run it. The
scheduler, when it starts such a tool, asks for as many shards as there are worker slots
that no other ready tool needs (at most ``max_shards``), runs them as separate calls, and
hands their results, in order, to ``merge``. The tool still gets exactly one result and
one progress event of each kind.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from huskycat.core.results import ToolResult, coerce_result

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
