"""Tools for a cluster: cache lookups and stores on the client, the tool on a worker.

::

    client (backend's client-side pool)         worker
    lookup(cache, spec, files) -- hit --------> (nothing sent)
         `-- misses --> RemoteRun(call on misses) --> runner.run_call -> ToolResult
    Lookup.finish(fresh) <--------------------------------------------'  (merged, stored)

On the thread backend the same object is simply called, as the local tool would be.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path

from huskycat.cache.lookup import Lookup, lookup_call
from huskycat.cache.sharded import MissRun
from huskycat.cache.store import Cache
from huskycat.core.dask_backend import Prepared
from huskycat.core.results import ToolResult
from huskycat.core.sharding import ShardedTool
from huskycat.distributed.ship import Fixed, Shipment, Shipped, run_shipped
from huskycat.planning import FileCall, Finishing, Plan, PlannedTool, tool_call
from huskycat.tools import runner
from huskycat.tools.call import ToolCall
from huskycat.vouching import Vouched


@dataclass(frozen=True)
class RemoteRun:
    """What a worker runs: the tool over some files, nothing of the client's state.
    ``shipped``: the files are in a shipped tree, not at ``root``."""

    call: ToolCall
    shipped: Shipped | None = None

    def __call__(self) -> ToolResult | Fixed:
        if self.shipped is None:
            return self._run(self.call.root)
        return run_shipped(self.shipped, self.call.fix, self.call.files, self._run)

    def _run(self, root: Path) -> ToolResult:
        return runner.run_call(self.call.at(root))


@dataclass(frozen=True)
class ClusterTool:
    """One call of a tool (its files asked of ``call.vouch()`` when it starts): looked up
    in the client's cache, run on a worker, finished as the local call would be."""

    cache: Cache | None = field(repr=False)
    call: FileCall
    tool_call: ToolCall  # over all the tool's files; its files are asked of ``call``
    shipment: Shipment | None = field(default=None, repr=False)

    def __call__(self) -> ToolResult:
        """All of it here (a thread backend)."""
        return self.call()

    def prepare(self) -> Prepared:
        allowed = self.call.vouch()
        if allowed.blocked is not None:
            return Prepared(allowed.blocked)
        found = lookup_call(self.cache, self.tool_call.on(allowed.files))
        if found.result is not None:
            return Prepared(self.call.finish(found.result, allowed))
        if not found.run_needed:
            return Prepared(self.call.finish(found.finish(None), allowed))
        shipped = self.shipment.ref() if self.shipment is not None else None
        remote = RemoteRun(found.call.on(found.misses), shipped)
        finish = functools.partial(_finish, found, self.shipment, self.call, allowed)
        return Prepared(None, remote, finish)


def _finish(
    found: Lookup, shipment: Shipment | None, call: FileCall, allowed: Vouched, fresh: object
) -> ToolResult:
    if isinstance(fresh, Fixed):
        assert shipment is not None
        shipment.apply(fresh.changes)  # before the cache looks at the files again
        fresh = fresh.result
    assert isinstance(fresh, ToolResult), fresh
    return call.finish(found.finish(fresh), allowed)


@dataclass(frozen=True)
class ClusterSlice:
    """Part of a split tool (files its cache lookup missed): run on a worker, its fresh
    result handed back to the part's own ``done`` (and ``then``) here."""

    part: MissRun
    shipment: Shipment | None = field(default=None, repr=False)
    then: Callable[[ToolResult], ToolResult] | None = field(default=None, repr=False)

    def __call__(self) -> ToolResult:
        """All of it here (a thread backend)."""
        result = self.part()
        return result if self.then is None else self.then(result)

    def prepare(self) -> Prepared:
        found = self.part.found
        shipped = self.shipment.ref() if self.shipment is not None else None
        remote = RemoteRun(found.call.on(self.part.files), shipped)
        return Prepared(None, remote, self._finish)

    def _finish(self, fresh: object) -> ToolResult:
        if isinstance(fresh, Fixed):
            assert self.shipment is not None
            self.shipment.apply(fresh.changes)
            fresh = fresh.result
        assert isinstance(fresh, ToolResult), fresh
        result = self.part.done(fresh)
        return result if self.then is None else self.then(result)


@dataclass(frozen=True)
class OnClient:
    """A part that needs no worker (a skip, a replay from the cache, a hook run here):
    called on the client when it is prepared."""

    part: Callable[[], object]

    def __call__(self) -> object:
        return self.part()

    def prepare(self) -> Prepared:
        return Prepared(self.part())


def for_cluster(
    local: Callable[[], object],
    plan: Plan,
    tool: PlannedTool,
    cache: Cache | None,
    shipment: Shipment | None = None,
) -> Callable[[], object]:
    """The cluster's version of ``local`` (what :func:`huskycat.planning.tool_callable`
    made for ``tool``): the same files and shards, the cache kept on the client."""
    call = tool_call(plan, tool)  # its env a plain dict: picklable

    def convert(part: Callable[[], object]) -> Callable[[], object]:
        if isinstance(part, FileCall):
            return ClusterTool(cache, part, call, shipment)
        if isinstance(part, MissRun):
            return ClusterSlice(part, shipment)
        if isinstance(part, Finishing) and isinstance(part.part, MissRun):
            return ClusterSlice(part.part, shipment, part.finish)
        # A skip, a replay, a blocked tool, a pre-commit hook: made here, nothing to send.
        return OnClient(part)

    if isinstance(local, ShardedTool):
        split = local.split
        return replace(local, split=lambda wanted: [convert(p) for p in split(wanted)])
    return convert(local)
