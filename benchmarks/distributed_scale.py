"""10,000 short tools over 64 worker threads of a Dask cluster, against the lower bound
and against Dask running the same graph by itself.

The graph: N tools (default 10,000), each sleeping 10 to 50 ms, each depending on up to
three random earlier tools (so the critical path stays short next to the total work).
The cluster: W worker processes (default 4) of T threads (default 16), 64 slots in all,
started by the ``dask scheduler`` and ``dask worker`` commands (``--cluster local``: a
LocalCluster, whose scheduler runs in this process). Measured, in this one script, on the
same cluster:

0. threads (the baseline, in the same rounds): huskycat's thread backend, 64 threads in
   this one process, the same graph: what the machine's load does to a run that sends
   nothing anywhere;
1. huskycat: ``ParallelExecutor(deps, backend=DaskBackend(client))``: huskycat's
   scheduler on the client sends each tool when its dependencies are done, through the
   workers' lanes (``--tasks``: also with one Dask task per tool);
2. Dask alone: the same graph (``--dask-tools N``: its first N tools) submitted at once
   with ``client.submit``, dependencies as futures, which Dask's own scheduler resolves
   (``--skip-dask``: not measured).

The tools are ``functools.partial(time.sleep, seconds)``, pickled by reference as
huskycat's own tools are. Printed, for each run (``--repeats`` rounds of 0 and 1): the
makespan, the lower bound max(critical path, total work / slots) and their ratio
(target for huskycat: at most 1.25x), the throughput in tools per second, the CPU
seconds of the client, the scheduler and the workers, the CPU the rest of the machine
used meanwhile ("others") and the load average before the run; and the run's CPU floor:
its own CPU seconds spread over every CPU, against the bound (above 1.0x, no schedule
could reach the bound on this machine, however idle).

    python benchmarks/distributed_scale.py [--tools 10000] [--workers 4] [--threads 16]
        [--cluster processes|local] [--repeats 3] [--tasks] [--skip-dask]
        [--dask-tools N]
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import os
import random
import shutil
import socket
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterator

import distributed
import psutil

from huskycat.core import graph
from huskycat.core.dask_backend import DaskBackend
from huskycat.core.parallel_executor import ParallelExecutor


def random_graph(n: int, seed: int) -> tuple[dict[str, list[str]], dict[str, float]]:
    rng = random.Random(seed)
    names = [f"t{i:05d}" for i in range(n)]
    deps = {
        name: sorted({names[rng.randrange(i)] for _ in range(rng.randint(0, 3))}) if i else []
        for i, name in enumerate(names)
    }
    return deps, {name: rng.uniform(0.010, 0.050) for name in names}


def sleep_then(seconds: float, *_: object) -> None:
    time.sleep(seconds)


def run_huskycat(
    client: distributed.Client,
    deps: dict[str, list[str]],
    durations: dict[str, float],
    lanes: bool = True,
) -> float:
    backend = DaskBackend(client, lanes=lanes)
    executor = ParallelExecutor(
        deps, backend=backend, timeout_per_tool=None, expected_durations=durations
    )
    # time.sleep is pickled by reference, as huskycat's own tools are (a function of
    # this script would be pickled by value, its code sent with every message).
    tools = {n: functools.partial(time.sleep, d) for n, d in durations.items()}
    start = time.perf_counter()
    results = executor.execute_tools(tools)
    elapsed = time.perf_counter() - start
    assert all(r.success for r in results), [r for r in results if not r.success][:3]
    if len(deps) > 1000 and lanes:
        print(f"  huskycat's messages to the workers' lanes: {backend.messages}")
    return elapsed


def run_threads(slots: int, deps: dict[str, list[str]], durations: dict[str, float]) -> float:
    """The same graph on huskycat's thread backend, ``slots`` threads in this process."""
    executor = ParallelExecutor(
        deps, max_workers=slots, timeout_per_tool=None, expected_durations=durations
    )
    tools = {n: functools.partial(time.sleep, d) for n, d in durations.items()}
    start = time.perf_counter()
    results = executor.execute_tools(tools)
    elapsed = time.perf_counter() - start
    assert all(r.success for r in results), [r for r in results if not r.success][:3]
    return elapsed


def run_dask(
    client: distributed.Client, deps: dict[str, list[str]], durations: dict[str, float]
) -> float:
    start = time.perf_counter()
    futures: dict[str, distributed.Future] = {}
    for name, needs in deps.items():  # in index order: dependencies are submitted first
        args = [futures[d] for d in needs]
        futures[name] = client.submit(sleep_then, durations[name], *args, key=name, pure=False)
    distributed.wait(list(futures.values()))
    elapsed = time.perf_counter() - start
    client.cancel(list(futures.values()))
    return elapsed


class Cpu:
    """CPU seconds (user + system) of the client, the scheduler and the workers."""

    def __init__(self, scheduler: list[psutil.Process], workers: list[psutil.Process]) -> None:
        self.groups = {"client": [psutil.Process()], "scheduler": scheduler, "workers": workers}

    def read(self) -> dict[str, float]:
        totals: dict[str, float] = {}
        for label, procs in self.groups.items():
            total = 0.0
            for proc in procs:
                with contextlib.suppress(psutil.Error):
                    tree = [proc] if label == "client" else [proc, *proc.children(True)]
                    for one in tree:
                        with contextlib.suppress(psutil.Error):
                            times = one.cpu_times()
                            total += times.user + times.system
            totals[label] = total
        return totals


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextlib.contextmanager
def process_cluster(workers: int, threads: int) -> Iterator[tuple[distributed.Client, Cpu]]:
    """``dask scheduler`` and ``dask worker`` as separate processes, as on a real cluster:
    the scheduler has an interpreter (and a GIL) of its own, not the client's."""
    dask = shutil.which("dask", path=os.path.dirname(sys.executable)) or "dask"
    port = _free_port()
    quiet = {"stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL}
    scheduler = subprocess.Popen(
        [dask, "scheduler", "--host", "127.0.0.1", "--port", str(port), "--no-dashboard"],
        **quiet,
    )
    worker = subprocess.Popen(
        [
            dask,
            "worker",
            f"tcp://127.0.0.1:{port}",
            "--nworkers",
            str(workers),
            "--nthreads",
            str(threads),
            "--no-dashboard",
            "--host",
            "127.0.0.1",
        ],
        **quiet,
    )
    try:
        with distributed.Client(f"tcp://127.0.0.1:{port}", timeout=60) as client:
            client.wait_for_workers(workers, timeout=60)
            yield client, Cpu([psutil.Process(scheduler.pid)], [psutil.Process(worker.pid)])
    finally:
        for proc in (worker, scheduler):
            proc.terminate()
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()


@contextlib.contextmanager
def local_cluster(workers: int, threads: int) -> Iterator[tuple[distributed.Client, Cpu]]:
    """A LocalCluster: its scheduler runs in the client's process (counted as client)."""
    with (
        distributed.LocalCluster(
            n_workers=workers,
            threads_per_worker=threads,
            processes=True,
            dashboard_address=None,
            silence_logs=40,
        ) as cluster,
        distributed.Client(cluster) as client,
    ):
        yield client, Cpu([], psutil.Process().children())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tools", type=int, default=10_000)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--threads", type=int, default=16)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--cluster",
        choices=("processes", "local"),
        default="processes",
        help="processes: `dask scheduler` and `dask worker` commands; local: a LocalCluster",
    )
    parser.add_argument("--skip-dask", action="store_true", help="measure huskycat only")
    parser.add_argument(
        "--dask-tools",
        type=int,
        default=0,
        help="Dask alone on the first N tools of the same graph (default: all; at 28 tools/s "
        "on this machine 10,000 take minutes)",
    )
    parser.add_argument(
        "--tasks", action="store_true", help="also huskycat with one Dask task per tool"
    )
    parser.add_argument("--repeats", type=int, default=3, help="rounds of the huskycat runs")
    args = parser.parse_args()
    deps, durations = random_graph(args.tools, args.seed)
    slots = args.workers * args.threads
    path, _ = graph.critical_path({n: tuple(d) for n, d in deps.items()}, durations)
    work = sum(durations.values())
    bound = lower_bound(deps, durations, slots)
    cores = os.cpu_count() or 1
    print(
        f"{args.tools} tools, {work:.1f} s of work, critical path {path:.2f} s, "
        f"{args.workers} worker processes x {args.threads} threads = {slots} slots, "
        f"{cores} CPUs"
    )
    print(f"lower bound max(critical path, work / slots): {bound:.2f} s")
    start_cluster = process_cluster if args.cluster == "processes" else local_cluster
    rows: list[Row] = []
    with start_cluster(args.workers, args.threads) as (client, cpu):
        # Warm up both paths (imports on the workers, pickling caches).
        small_deps, small = random_graph(200, args.seed + 1)
        run_huskycat(client, small_deps, {n: 0.0 for n in small})
        run_dask(client, small_deps, {n: 0.0 for n in small})
        runs: list[tuple[str, Callable[[], float]]] = [
            # The baseline, measured in the same rounds: huskycat's thread backend, 64
            # threads in this one process, the same graph (what the machine's load does
            # to a run that sends nothing anywhere).
            ("threads (baseline)", functools.partial(run_threads, slots, deps, durations)),
            ("huskycat on Dask", functools.partial(run_huskycat, client, deps, durations)),
        ]
        if args.tasks:
            runs.append(
                (
                    "huskycat, task per tool",
                    functools.partial(run_huskycat, client, deps, durations, lanes=False),
                )
            )
        for round_ in range(args.repeats):
            for label, run in runs:
                print(f"round {round_ + 1}: {label} ...", flush=True)
                rows.append(measure(label, run, cpu, args.tools, bound))
        if not args.skip_dask:
            count = args.dask_tools or args.tools
            names = sorted(deps)[:count]
            some = {n: deps[n] for n in names}  # dependencies are on earlier tools only
            label = "Dask alone (same graph)" if count == args.tools else f"Dask alone, {count}"
            print(f"{label} ...", flush=True)
            run = functools.partial(run_dask, client, some, {n: durations[n] for n in names})
            rows.append(measure(label, run, cpu, count, lower_bound(some, durations, slots)))
    report(rows, cores)


def lower_bound(deps: dict[str, list[str]], durations: dict[str, float], slots: int) -> float:
    """max(critical path, total work / slots) of the graph ``deps``."""
    path, _ = graph.critical_path({n: tuple(d) for n, d in deps.items()}, durations)
    return max(path, sum(durations[n] for n in deps) / slots)


Row = tuple[str, float, float, int, dict[str, float], float]


def measure(
    label: str, run: Callable[[], float], cpu: Cpu, tools: int, bound: float
) -> tuple[str, float, float, int, dict[str, float], float]:
    """One run: its makespan, the bound of its graph, its CPU by role (and the CPU the
    rest of the machine used meanwhile, as "others"), the load average before it."""
    load = os.getloadavg()[0]
    before, machine = cpu.read(), _machine_cpu()
    seconds = run()
    after, machine_after = cpu.read(), _machine_cpu()
    used = {k: after[k] - before[k] for k in after}
    used["others"] = max(0.0, machine_after - machine - sum(used.values()))
    return label, seconds, bound, tools, used, load


def _machine_cpu() -> float:
    times = psutil.cpu_times()
    return float(sum(times) - times.idle - getattr(times, "iowait", 0.0))


def report(rows: list[Row], cores: int) -> None:
    print()
    print(
        f"{'':24} {'makespan':>9} {'/ bound':>8} {'tools/s':>8} {'CPU floor':>10}"
        f"   CPU s: client scheduler workers others   load"
    )
    for label, seconds, bound, tools, used, load in rows:
        ours = used["client"] + used["scheduler"] + used["workers"]
        floor = ours / cores / bound  # this run's own CPU on every core, against the bound
        print(
            f"{label:24} {seconds:8.2f}s {seconds / bound:7.2f}x {tools / seconds:8.0f}"
            f" {floor:9.2f}x   {used['client']:14.1f} {used['scheduler']:9.1f}"
            f" {used['workers']:7.1f} {used['others']:6.1f} {load:6.1f}"
        )
    labels = list(dict.fromkeys(r[0] for r in rows))
    ratio = {
        label: statistics.median(r[1] / r[2] for r in rows if r[0] == label) for label in labels
    }
    print()
    for label in labels:
        print(f"median {label}: {ratio[label]:.2f}x the lower bound")
    base = "threads (baseline)"
    if base in ratio and "huskycat on Dask" in ratio:
        pairs = [
            (d[1], t[1])
            for t, d in zip(
                [r for r in rows if r[0] == base],
                [r for r in rows if r[0] == "huskycat on Dask"],
                strict=False,
            )
        ]
        each = ", ".join(f"{d / t:.2f}x" for d, t in pairs)
        print(f"huskycat on Dask / threads in the same round: {each}")
    floors = [
        (r[4]["client"] + r[4]["scheduler"] + r[4]["workers"]) / cores / r[2]
        for r in rows
        if r[0] == "huskycat on Dask"
    ]
    if floors and max(floors) > 1.0:
        print(
            f"note: huskycat on Dask's own CPU, spread over {cores} CPUs, is {max(floors):.2f}x "
            "the bound: above 1.0x, no schedule on this machine could reach the bound"
        )
    elif floors:
        print(
            f"CPU floor of huskycat on Dask: {min(floors):.2f}x to {max(floors):.2f}x the bound "
            f"(its own CPU seconds over {cores} CPUs; the CPUs are shared with other work)"
        )
    print("target: huskycat on Dask at most 1.25x the lower bound")


if __name__ == "__main__":
    main()
