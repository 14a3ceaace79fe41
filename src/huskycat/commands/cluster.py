"""``huskycat run --cluster``: the backend a run's tools go to, and its checks.

Without a cluster asked for (option, ``HUSKYCAT_CLUSTER``, configuration), nothing here
imports Dask and the run uses threads.
"""

from __future__ import annotations

import argparse
import contextlib
import os
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from huskycat.cache.store import Cache
    from huskycat.config import Config
    from huskycat.core.dask_backend import DaskBackend
    from huskycat.distributed.ship import Shipment
    from huskycat.planning import Plan

SHARED, SHIP = "shared", "ship"
CLUSTER_VARIABLE = "HUSKYCAT_CLUSTER"  # huskycat.distributed.cluster.ENV_VAR


@dataclass(frozen=True)
class Cluster:
    """The cluster of a run: its backend, and its shipped files in ``ship`` mode."""

    backend: DaskBackend
    root: Path
    shipment: Shipment | None

    def check(self, plan: Plan) -> None:
        """Before any tool runs: every worker has the tools of ``plan``, same versions."""
        from huskycat.distributed.versions import VersionMismatch, check_versions

        specs = {n: t.spec for n, t in plan.tools.items() if t.skip_reason is None}
        try:
            check_versions(self.backend, specs, self.root)
        except VersionMismatch as exc:
            from huskycat.distributed.cluster import ClusterSetupError

            raise ClusterSetupError(str(exc)) from exc

    def tools(
        self, plan: Plan, tools: dict[str, Callable[[], object]], cache: Cache | None
    ) -> dict[str, Callable[[], object]]:
        """The run's tool callables made for the cluster (cache on the client)."""
        from huskycat.distributed.tools import for_cluster

        return {
            n: for_cluster(fn, plan, plan.tools[n], cache, self.shipment) for n, fn in tools.items()
        }


@contextlib.contextmanager
def on_cluster(
    args: argparse.Namespace, config: Config, root: Path, files: Sequence[str]
) -> Iterator[Cluster | None]:
    """The run's cluster with its files in place (checked or shipped), or None. A
    repository (or project) whose tools are pre-commit hooks is a usage error: hooks
    run only locally."""
    mode = getattr(args, "cluster_files", None) or SHARED
    option = getattr(args, "cluster", None)
    asked = option is not None or config.cluster or os.environ.get(CLUSTER_VARIABLE)
    if not asked and mode == SHARED:  # no cluster: a commit's run imports nothing of Dask's
        yield None
        return
    from huskycat.commands.common import load_config
    from huskycat.distributed.cluster import choose

    spec = choose(option, config.cluster)
    if spec is None:
        if mode != SHARED:
            from huskycat.commands.common import UsageError

            raise UsageError(f"--cluster-files {mode} needs a cluster: give --cluster too")
        yield None
        return
    from huskycat.precommit.plan import hooks_project

    with_hooks = hooks_project(root, load_config)
    if with_hooks is not None:  # before a cluster is opened: nothing to wait for
        from huskycat.commands.common import UsageError

        raise UsageError(
            f"--cluster: the hooks of {with_hooks}.pre-commit-config.yaml run only locally;"
            " run without --cluster"
        )
    from huskycat.distributed.cluster import ClusterSetupError, check_shared, opened, require_dask

    require_dask(spec)
    from huskycat.core.dask_backend import ClusterError

    with opened(spec) as backend:
        shipment = None
        if mode == SHIP:
            from huskycat.distributed.ship import config_files, ship
            from huskycat.tools.catalog import CATALOG

            needed = sorted({*files, *config_files(CATALOG.values(), root)})
            shipment = ship(backend, root, needed)
        else:
            check_shared(backend, root, files)
        try:
            yield Cluster(backend, root, shipment)
        except ClusterError as exc:  # the scheduler went away during the run
            raise ClusterSetupError(f"{spec.source} {spec.text!r}: {exc}") from exc
