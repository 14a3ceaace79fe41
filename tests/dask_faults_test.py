"""Faults on a Dask cluster of separate processes: a worker SIGKILLed while its tool
runs a command (the command dies with it, the tool runs again elsewhere), and a
scheduler lost during a run (a clear error, the tools' commands stopped)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from huskycat.core.dask_backend import ClusterError, DaskBackend
from huskycat.core.parallel_executor import ParallelExecutor, ToolStatus
from huskycat.core.process import run
from tests.conftest import GitRepo, huskycat

from .core_process_test import wait_dead
from .dask_fixtures import PROCESS_WORKERS, ProcessCluster, dask_processes

__all__ = ["dask_processes"]  # the fixture, imported for pytest


def when_written(path: Path, then: Callable[[int], None]) -> threading.Thread:
    """A thread that waits for ``path`` to hold a number, then calls ``then(number)``."""

    def wait() -> None:
        while not path.exists() or not path.read_text().strip():
            time.sleep(0.05)
        then(int(path.read_text()))

    thread = threading.Thread(target=wait, daemon=True)
    thread.start()
    return thread


def test_a_killed_workers_command_dies_with_it_and_the_tool_runs_elsewhere(
    dask_processes: ProcessCluster, tmp_path: Path
) -> None:
    dask_processes.client.wait_for_workers(PROCESS_WORKERS, timeout=60)
    worker_pid, command_pid = tmp_path / "worker", tmp_path / "command"

    def dies_once() -> object:
        if worker_pid.exists():
            return True
        worker_pid.write_text(str(os.getpid()))
        return run(["sh", "-c", f"echo $$ > {command_pid}; exec sleep 60"]).returncode

    def kill_worker(_: int) -> None:
        time.sleep(1.0)  # mid-tool: the worker's reaper has heard of the command
        os.kill(int(worker_pid.read_text()), signal.SIGKILL)

    killer = when_written(command_pid, kill_worker)
    backend = DaskBackend(dask_processes.client)
    [result] = ParallelExecutor({}, backend=backend).execute_tools({"victim": dies_once})
    killer.join()
    assert result.status is ToolStatus.SUCCESS, result.output
    assert "died while running 'victim'; retried on another worker (attempt 2)" in result.output
    assert wait_dead(int(command_pid.read_text()), 5.0)


def kill_scheduler(cluster: ProcessCluster) -> Callable[[int], None]:
    def kill(_: int) -> None:
        os.killpg(cluster.procs[0].pid, signal.SIGKILL)

    return kill


@pytest.fixture
def doomed_cluster() -> ProcessCluster:
    """A cluster of its own, whose scheduler the test kills."""
    cluster = ProcessCluster(workers=1, threads=2)
    yield cluster  # type: ignore[misc]
    cluster.close()


def test_a_lost_scheduler_ends_the_run_with_a_clear_error_and_stops_the_commands(
    doomed_cluster: ProcessCluster, tmp_path: Path
) -> None:
    pid = tmp_path / "pid"

    def slow() -> object:
        return run(["sh", "-c", f"echo $$ > {pid}; exec sleep 60"]).returncode

    backend = DaskBackend(doomed_cluster.client)
    killer = when_written(pid, kill_scheduler(doomed_cluster))
    start = time.monotonic()
    with pytest.raises(ClusterError, match="lost the Dask scheduler at tcp://127.0.0.1:"):
        ParallelExecutor({"slow": [], "after": ["slow"]}, backend=backend).execute_tools(
            {"slow": slow, "after": lambda: True}
        )
    killer.join()
    # Before the command could end by itself (sleep 60): an ordering, not a time bound.
    assert time.monotonic() - start < 60
    assert wait_dead(int(pid.read_text()), 5.0)


def test_the_command_exits_2_when_the_scheduler_is_lost_and_fixes_nothing(
    doomed_cluster: ProcessCluster, git_repo: GitRepo, tmp_path: Path
) -> None:
    pid = tmp_path / "pid"
    git_repo.write(
        "pyproject.toml",
        "[tool.huskycat.tools.slow]\n"
        f'command = ["sh", "-c", "echo $$ > {pid}; exec sleep 60"]\n'
        "pass_filenames = false\n",
    )
    git_repo.write("a.py", "x=1\n")
    git_repo.commit()
    killer = when_written(pid, kill_scheduler(doomed_cluster))
    proc = huskycat(
        git_repo.path, "run", "--tools", "slow,black", "--cluster", doomed_cluster.address
    )
    killer.join()
    assert proc.returncode == 2, proc.stderr
    assert f"--cluster {doomed_cluster.address!r}: lost the Dask scheduler" in proc.stderr
    assert "Traceback" not in proc.stderr
    assert wait_dead(int(pid.read_text()), 5.0)


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_an_interrupted_cluster_run_exits_130_and_stops_the_tools_on_the_workers(
    dask_processes: ProcessCluster, git_repo: GitRepo, tmp_path: Path, signum: signal.Signals
) -> None:
    pid = tmp_path / "pid"
    git_repo.write(
        "pyproject.toml",
        "[tool.huskycat.tools.slow]\n"
        f'command = ["sh", "-c", "echo $$ > {pid}; exec sleep 60"]\n'
        "pass_filenames = false\n",
    )
    git_repo.commit()
    proc = subprocess.Popen(
        [sys.executable, "-m", "huskycat", "run", "--tools", "slow"]
        + ["--cluster", dask_processes.address],
        cwd=git_repo.path,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 30
    while not (pid.exists() and pid.read_text().strip()):
        assert time.monotonic() < deadline and proc.poll() is None, proc.communicate()
        time.sleep(0.05)
    proc.send_signal(signum)
    out, err = proc.communicate(timeout=30)
    assert proc.returncode == 130, (out, err)
    assert err.startswith("huskycat: interrupted"), err
    assert wait_dead(int(pid.read_text()), 5.0)
