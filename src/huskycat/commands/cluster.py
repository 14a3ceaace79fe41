"""``huskycat run --cluster``: the backend a run's tools go to, and its checks.

Without a cluster asked for (option, ``HUSKYCAT_CLUSTER``, configuration), nothing here
imports Dask and the run uses threads.
"""

from __future__ import annotations

import argparse
import contextlib
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from huskycat.config import Config
    from huskycat.core.backend import Backend


@contextlib.contextmanager
def on_cluster(
    args: argparse.Namespace, config: Config, root: Path, files: Sequence[str]
) -> Iterator[Backend | None]:
    """The cluster's backend, its workers checked to see ``files`` as we do, or None."""
    from huskycat.distributed.cluster import choose

    spec = choose(getattr(args, "cluster", None), config.cluster)
    if spec is None:
        yield None
        return
    from huskycat.distributed.cluster import ClusterSetupError, check_shared, opened, require_dask

    require_dask(spec)
    from huskycat.core.dask_backend import ClusterError

    with opened(spec) as backend:
        check_shared(backend, root, files)
        try:
            yield backend
        except ClusterError as exc:  # the scheduler went away during the run
            raise ClusterSetupError(f"{spec.source} {spec.text!r}: {exc}") from exc
