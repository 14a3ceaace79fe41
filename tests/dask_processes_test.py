"""The engine on a Dask cluster of separate processes (``dask scheduler`` and ``dask
worker`` on 127.0.0.1): tools pickled to other processes, deadlines and cancellations
enforced on the workers, a worker killed mid-tool, a weight no worker can take."""

from __future__ import annotations

import os
import signal
import threading
import time
from pathlib import Path

import pytest

from huskycat.core.dask_backend import ClusterError, DaskBackend
from huskycat.core.parallel_executor import TOOL_DEPENDENCIES, ParallelExecutor, ToolStatus
from huskycat.core.process import run

from .core_process_test import wait_dead
from .dask_fixtures import PROCESS_THREADS, PROCESS_WORKERS, ProcessCluster, dask_processes

__all__ = ["dask_processes"]  # the fixture, imported for pytest


@pytest.fixture
def backend(dask_processes: ProcessCluster) -> DaskBackend:
    # A worker killed by a test comes back (its nanny restarts it) under a new address.
    dask_processes.client.wait_for_workers(PROCESS_WORKERS, timeout=60)
    return DaskBackend(dask_processes.client, retries=1)


def noop() -> None:
    return None


def test_slots_are_the_clusters_threads(backend: DaskBackend) -> None:
    assert backend.total_slots() == PROCESS_WORKERS * PROCESS_THREADS
    assert ParallelExecutor({}, backend=backend).max_workers == PROCESS_WORKERS * PROCESS_THREADS


def test_the_seed_graph_runs_in_the_worker_processes(backend: DaskBackend) -> None:
    def tool(name: str, ok: bool = True) -> object:
        def call() -> object:
            # A closure, pickled by value: the worker's pid in the output.
            return {"success": ok, "output": f"{name} in {os.getpid()}"}

        return call

    tools = {name: tool(name, ok=name != "yamllint") for name in TOOL_DEPENDENCIES}
    results = ParallelExecutor(backend=backend).execute_tools(tools)
    by_name = {r.tool_name: r for r in results}
    assert by_name["yamllint"].status is ToolStatus.FAILED
    for skipped in ("gitlab-ci", "ansible-lint", "helm-lint"):
        assert by_name[skipped].status is ToolStatus.SKIPPED
        assert by_name[skipped].error_message == "dependency 'yamllint' failed"
    ran = [r for r in results if r.status is ToolStatus.SUCCESS]
    assert len(ran) == 11
    pids = {int(r.output.split()[-1]) for r in ran}
    assert os.getpid() not in pids


def test_a_hung_command_times_out_on_its_worker_with_its_output(
    backend: DaskBackend, tmp_path: Path
) -> None:
    marker = tmp_path / "pid"

    def hang() -> object:
        return run(["sh", "-c", f"echo started; echo $$ > {marker}; exec sleep 30"]).returncode

    start = time.monotonic()
    executor = ParallelExecutor({}, backend=backend, timeout_per_tool=1.0, kill_grace=0.2)
    [result] = executor.execute_tools({"hang": hang})
    assert result.status is ToolStatus.TIMEOUT
    assert "started" in result.output
    # Before the command could end by itself (sleep 30): an ordering, not a time bound.
    assert time.monotonic() - start < 30
    assert wait_dead(int(marker.read_text()), 5.0)


def test_fail_fast_stops_a_command_running_on_another_worker(
    backend: DaskBackend, tmp_path: Path
) -> None:
    marker = tmp_path / "pid"

    def long() -> object:
        return run(["sh", "-c", f"echo $$ > {marker}; exec sleep 30"]).returncode

    def failing() -> object:
        while not marker.exists():
            time.sleep(0.05)
        return False

    executor = ParallelExecutor({}, backend=backend, fail_fast=True, kill_grace=0.2)
    start = time.monotonic()
    results = {r.tool_name: r for r in executor.execute_tools({"long": long, "bad": failing})}
    assert results["bad"].status is ToolStatus.FAILED
    assert results["long"].status is ToolStatus.SKIPPED
    assert "fail-fast after 'bad' failed" in (results["long"].error_message or "")
    # Before the command could end by itself (sleep 30): an ordering, not a time bound.
    assert time.monotonic() - start < 30
    assert wait_dead(int(marker.read_text()), 5.0)


def test_a_tool_whose_worker_dies_runs_again_elsewhere_and_says_so(
    backend: DaskBackend, tmp_path: Path
) -> None:
    marker = tmp_path / "first"

    def dies_once() -> object:
        if not marker.exists():
            marker.write_text(str(os.getpid()))
            time.sleep(60)  # until the test kills this worker
        return True

    def kill_the_worker() -> None:
        while not marker.exists() or not marker.read_text():
            time.sleep(0.05)
        os.kill(int(marker.read_text()), signal.SIGKILL)

    killer = threading.Thread(target=kill_the_worker)
    killer.start()
    [result] = ParallelExecutor({}, backend=backend).execute_tools({"victim": dies_once})
    killer.join()
    assert result.status is ToolStatus.SUCCESS, result.output
    assert "died while running 'victim'" in result.output
    assert "retried on another worker (attempt 2)" in result.metadata["backend_notes"][0]


def test_a_tool_heavier_than_every_worker_is_an_error_before_anything_runs(
    backend: DaskBackend,
) -> None:
    executor = ParallelExecutor({}, backend=backend, tool_resources={"huge": PROCESS_THREADS + 1})
    with pytest.raises(ClusterError, match=r"tool .huge. needs 5 slots .* \(most: 4\)"):
        executor.execute_tools({"small": noop, "huge": noop})


def test_a_tool_that_cannot_be_pickled_fails_alone(backend: DaskBackend) -> None:
    lock = threading.Lock()

    def holds_a_lock() -> object:
        with lock:
            return True

    results = ParallelExecutor({}, backend=backend).execute_tools(
        {"unpicklable": holds_a_lock, "fine": noop}
    )
    assert results[0].status is ToolStatus.FAILED
    assert "cannot send 'unpicklable' to the cluster" in (results[0].error_message or "")
    assert results[1].status is ToolStatus.SUCCESS


def test_worker_resources_hold_the_weights_when_every_worker_declares_them() -> None:
    import distributed

    with (
        distributed.LocalCluster(
            n_workers=2,
            threads_per_worker=4,
            processes=False,
            dashboard_address=":0",
            resources={"slots": 2},
        ) as cluster,
        distributed.Client(cluster, set_as_default=False) as client,
    ):
        backend = DaskBackend(client)
        assert (backend.resource, backend.capacities) == ("slots", (2, 2))
        running: list[int] = []
        peak: list[int] = []
        lock = threading.Lock()

        def heavy() -> None:
            with lock:
                running.append(1)
                peak.append(len(running))
            time.sleep(0.2)
            with lock:
                running.pop()

        executor = ParallelExecutor(
            {}, backend=backend, tool_resources={f"h{i}": 2 for i in range(4)}
        )
        assert executor.max_workers == 4
        results = executor.execute_tools({f"h{i}": heavy for i in range(4)})
        assert all(r.success for r in results)
        assert max(peak) == 2  # two slots each: one per worker at a time
        too_heavy = ParallelExecutor({}, backend=backend, tool_resources={"big": 3})
        with pytest.raises(ClusterError, match=r"needs 3 slots .* 'slots' resource \(most: 2\)"):
            too_heavy.execute_tools({"big": heavy})


def test_lanes_use_wires_on_tcp_and_dask_messages_when_wires_are_off(
    dask_processes: ProcessCluster,
) -> None:
    dask_processes.client.wait_for_workers(PROCESS_WORKERS, timeout=60)
    deps = {"a": [], "b": ["a"], "c": ["a"], "d": ["b", "c"]}
    for wire in (True, False):
        backend = DaskBackend(dask_processes.client, wire=wire)
        assert all((lane.wire is not None) is wire for lane in backend._lanes)
        results = ParallelExecutor(deps, backend=backend).execute_tools({n: noop for n in deps})
        assert [r.status for r in results] == [ToolStatus.SUCCESS] * 4
        assert backend.messages["run"] >= 1 and backend.messages["done"] >= 1
        backend.close()
