"""The engine's own tests (every seed example, the property tests over random graphs,
the scheduler tests) again, with every run on a Dask cluster in this process.

The tests are imported, so that pytest collects them here too; the fixture below makes
the executor's default backend the cluster's for this module only.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from huskycat.core import parallel_executor as pe
from huskycat.core.dask_backend import DaskBackend

from .core_property_test import *
from .core_scheduler_test import *
from .dask_fixtures import dask_inprocess  # noqa: F401 - a fixture
from .seed_examples_test import *


@pytest.fixture(autouse=True, scope="module")
def _every_run_on_dask(dask_inprocess: DaskBackend) -> Iterator[None]:  # noqa: F811
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(pe, "ThreadBackend", lambda slots: dask_inprocess)
        yield
