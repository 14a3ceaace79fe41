"""Dask clusters for the tests: one in this process (threads), one of separate processes
started by the ``dask scheduler`` and ``dask worker`` commands on 127.0.0.1. Both live
for the whole session: starting a cluster costs a second or more."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import warnings
from collections.abc import Iterator
from pathlib import Path

import pytest

distributed = pytest.importorskip("distributed")

from huskycat.core.dask_backend import DaskBackend

ROOT = Path(__file__).resolve().parent.parent
PROCESS_WORKERS = 2
PROCESS_THREADS = 4
VERSION_TOOL = "huskycat-test-versioned"


@pytest.fixture(scope="session")
def dask_inprocess() -> Iterator[DaskBackend]:
    """Two workers of eight threads each, in this process."""
    with warnings.catch_warnings():  # port 8787 taken by another cluster: no news
        warnings.filterwarnings("ignore", message="Port [0-9]+ is already in use")
        cluster = distributed.LocalCluster(
            n_workers=2, threads_per_worker=8, processes=False, dashboard_address=None
        )
    client = distributed.Client(cluster, set_as_default=False)
    try:
        yield DaskBackend(client)
    finally:
        client.close()
        cluster.close()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def dask_command(*args: str) -> list[str]:
    """The ``dask`` command of this interpreter's environment (else the one on PATH)."""
    beside = Path(sys.executable).parent / "dask"
    return [str(beside) if beside.exists() else shutil.which("dask") or "dask", *args]


class ProcessCluster:
    """A scheduler and a worker process (with its nanny) started as commands."""

    def __init__(self, workers: int = PROCESS_WORKERS, threads: int = PROCESS_THREADS) -> None:
        self.address = f"tcp://127.0.0.1:{free_port()}"
        # Dask's own retries of a task whose worker died are silent; with none, huskycat
        # retries and says so (what `huskycat run --cluster local` sets up too).
        # The workers have a tool of their own, VERSION_TOOL, at version 2.0.0.
        self.folder = Path(tempfile.mkdtemp(prefix="huskycat-dask-"))
        tool = self.folder / VERSION_TOOL
        tool.write_text(f"#!/bin/sh\necho {VERSION_TOOL} 2.0.0\n")
        tool.chmod(0o755)
        env = {
            **os.environ,
            "PYTHONPATH": str(ROOT),
            "DASK_DISTRIBUTED__SCHEDULER__ALLOWED_FAILURES": "0",
            "PATH": f"{self.folder}{os.pathsep}{os.environ.get('PATH', '')}",
        }
        port = self.address.rsplit(":", 1)[1]
        quiet = {"stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL}
        self.procs = [
            subprocess.Popen(
                dask_command("scheduler", "--host", "127.0.0.1", "--port", port, "--no-dashboard"),
                env=env,
                start_new_session=True,
                stdin=subprocess.DEVNULL,
                **quiet,  # type: ignore[arg-type]
            )
        ]
        self.procs.append(
            subprocess.Popen(
                dask_command(
                    "worker",
                    self.address,
                    "--nworkers",
                    str(workers),
                    "--nthreads",
                    str(threads),
                    "--no-dashboard",
                    "--host",
                    "127.0.0.1",
                ),
                env=env,
                start_new_session=True,
                stdin=subprocess.DEVNULL,
                **quiet,  # type: ignore[arg-type]
            )
        )
        self.client = distributed.Client(self.address, timeout=30, set_as_default=False)
        self.client.wait_for_workers(workers, timeout=60)

    def close(self) -> None:
        self.client.close()
        for proc in reversed(self.procs):
            try:
                os.killpg(proc.pid, signal.SIGTERM)
            except ProcessLookupError:
                continue
        deadline = time.monotonic() + 10
        for proc in self.procs:
            try:
                proc.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
        shutil.rmtree(self.folder, ignore_errors=True)


@pytest.fixture(scope="session")
def dask_processes() -> Iterator[ProcessCluster]:
    """Two worker processes of four threads each, and their scheduler, on 127.0.0.1."""
    cluster = ProcessCluster()
    try:
        yield cluster
    finally:
        cluster.close()
