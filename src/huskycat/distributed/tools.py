"""Tools for a cluster: cache lookups and stores on the client, the tool on a worker.

::

    client (backend's client-side pool)         worker
    lookup(cache, spec, files) -- hit --------> (nothing sent)
         `-- misses --> RemoteRun(spec, misses) --> runner.run_tool -> ToolResult
    Lookup.finish(fresh) <--------------------------------------------'  (merged, stored)

On the thread backend the same object is simply called, as the local tool would be.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from huskycat.cache.lookup import Lookup, cached_run_tool, lookup
from huskycat.cache.store import Cache
from huskycat.core.dask_backend import Prepared
from huskycat.core.results import ToolResult
from huskycat.core.sharding import ShardedTool
from huskycat.distributed.ship import Fixed, Shipment, Shipped, run_shipped
from huskycat.planning import Plan, PlannedTool
from huskycat.tools import runner
from huskycat.tools.base import ToolSpec


@dataclass(frozen=True)
class RemoteRun:
    """What a worker runs: the tool over some files, nothing of the client's state.
    ``shipped``: the files are in a shipped tree, not at ``root``."""

    spec: ToolSpec
    files: tuple[str, ...]
    root: str
    options: Mapping[str, Any]
    shipped: Shipped | None = None

    def __call__(self) -> ToolResult | Fixed:
        if self.shipped is None:
            return self._run(Path(self.root))
        return run_shipped(self.shipped, bool(self.options.get("fix")), self.files, self._run)

    def _run(self, root: Path) -> ToolResult:
        return runner.run_tool(self.spec, self.files, root=root, **self.options)


@dataclass(frozen=True)
class ClusterTool:
    """One tool over ``files``: looked up in the client's cache, run on a worker."""

    cache: Cache | None = field(repr=False)
    spec: ToolSpec
    files: tuple[str, ...]
    root: Path
    options: Mapping[str, Any]
    shipment: Shipment | None = field(default=None, repr=False)

    def __call__(self) -> ToolResult:
        """All of it here (a thread backend)."""
        return cached_run_tool(self.cache, self.spec, self.files, root=self.root, **self.options)

    def prepare(self) -> Prepared:
        found = lookup(self.cache, self.spec, self.files, root=self.root, **self.options)
        if found.result is not None:
            return Prepared(found.result)
        if not found.run_needed:
            return Prepared(found.finish(None))
        shipped = self.shipment.ref() if self.shipment is not None else None
        remote = RemoteRun(
            self.spec, tuple(found.misses), str(self.root), dict(self.options), shipped
        )
        return Prepared(None, remote, functools.partial(_finish, found, self.shipment))


def _finish(found: Lookup, shipment: Shipment | None, fresh: object) -> ToolResult:
    if isinstance(fresh, Fixed):
        assert shipment is not None
        shipment.apply(fresh.changes)  # before the cache looks at the files again
        fresh = fresh.result
    assert isinstance(fresh, ToolResult), fresh
    return found.finish(fresh)


def for_cluster(
    local: Callable[[], object],
    plan: Plan,
    tool: PlannedTool,
    cache: Cache | None,
    shipment: Shipment | None = None,
) -> Callable[[], object]:
    """The cluster's version of ``local`` (what :func:`huskycat.planning.tool_callable`
    made for ``tool``): the same files and shards, the cache kept on the client."""
    settings = tool.settings
    options = {
        "fix": plan.fix,
        "extra_args": tuple(settings.args or ()),
        "command": settings.command,
        "fix_command": settings.fix,
        "env": dict(plan.env),  # picklable, whatever mapping the plan holds
    }

    def convert(part: Callable[[], object]) -> Callable[[], object]:
        files = _files_of(part)
        if files is None:
            return part  # a tool skipped before it runs: nothing to send
        return ClusterTool(cache, tool.spec, files, plan.root, options, shipment)

    if isinstance(local, ShardedTool):
        split = local.split
        return replace(local, split=lambda wanted: [convert(p) for p in split(wanted)])
    return convert(local)


def _files_of(part: Callable[[], object]) -> tuple[str, ...] | None:
    """The files of a part made by ``tool_callable``: ``partial(run_on, files)``."""
    if isinstance(part, functools.partial) and len(part.args) == 1 and not part.keywords:
        files = part.args[0]
        if isinstance(files, Sequence) and not isinstance(files, str):
            return tuple(files)
    return None
