"""The seed's examples again, with every run on Dask worker processes started by the
``dask scheduler`` and ``dask worker`` commands (the tools pickled to other processes).

The tests are imported, so that pytest collects them here too; the fixture below makes
the executor's default backend the process cluster's for this module only.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from huskycat.core import parallel_executor as pe
from huskycat.core.dask_backend import DaskBackend

from . import seed_examples_test
from .dask_fixtures import PROCESS_WORKERS, ProcessCluster, dask_processes
from .seed_examples_test import *

__all__ = ["dask_processes"]  # the fixture, imported for pytest

# Its tools append to a list of this process: on worker processes they append to theirs.
# The same example runs on threads and on an in-process cluster (dask_conformance_test).
del globals()[seed_examples_test.test_custom_dependencies_example_constructs_and_runs.__name__]


@pytest.fixture(autouse=True, scope="module")
def _every_run_on_worker_processes(dask_processes: ProcessCluster) -> Iterator[None]:
    dask_processes.client.wait_for_workers(PROCESS_WORKERS, timeout=60)
    backend = DaskBackend(dask_processes.client)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(pe, "ThreadBackend", lambda slots: backend)
        yield
