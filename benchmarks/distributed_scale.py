"""10,000 short tools over 64 worker threads of a Dask cluster, against the lower bound
and against Dask running the same graph by itself.

The graph: N tools (default 10,000), each sleeping 10 to 50 ms, each depending on up to
three random earlier tools (so the critical path stays short next to the total work).
The cluster: a LocalCluster of W worker processes (default 4) of T threads (default 16)
on this machine, 64 slots in all. Measured, in this one script, on the same cluster:

1. huskycat: ``ParallelExecutor(deps, backend=DaskBackend(client))``: huskycat's
   scheduler on the client submits each tool when its dependencies are done;
2. Dask alone: the same graph submitted at once with ``client.submit``, dependencies as
   futures, which Dask's own scheduler resolves.

Printed: each makespan, the lower bound max(critical path, total work / slots), their
ratio (target for huskycat: at most 1.25x) and the throughput in tools per second.

    python benchmarks/distributed_scale.py [--tools 10000] [--workers 4] [--threads 16]
"""

from __future__ import annotations

import argparse
import functools
import random
import time

import distributed

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
    client: distributed.Client, deps: dict[str, list[str]], durations: dict[str, float]
) -> float:
    backend = DaskBackend(client)
    executor = ParallelExecutor(
        deps, backend=backend, timeout_per_tool=None, expected_durations=durations
    )
    tools = {n: functools.partial(sleep_then, d) for n, d in durations.items()}
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tools", type=int, default=10_000)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--threads", type=int, default=16)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    deps, durations = random_graph(args.tools, args.seed)
    slots = args.workers * args.threads
    path, _ = graph.critical_path({n: tuple(d) for n, d in deps.items()}, durations)
    work = sum(durations.values())
    bound = max(path, work / slots)
    print(
        f"{args.tools} tools, {work:.1f} s of work, critical path {path:.2f} s, "
        f"{args.workers} worker processes x {args.threads} threads = {slots} slots"
    )
    print(f"lower bound max(critical path, work / slots): {bound:.2f} s")
    with (
        distributed.LocalCluster(
            n_workers=args.workers,
            threads_per_worker=args.threads,
            processes=True,
            dashboard_address=None,
            silence_logs=40,
        ) as cluster,
        distributed.Client(cluster) as client,
    ):
        # Warm up both paths (imports on the workers, pickling caches).
        small_deps, small = random_graph(200, args.seed + 1)
        run_huskycat(client, small_deps, {n: 0.0 for n in small})
        run_dask(client, small_deps, {n: 0.0 for n in small})
        ours = run_huskycat(client, deps, durations)
        theirs = run_dask(client, deps, durations)
    print(f"{'':24} {'makespan':>9} {'/ bound':>8} {'tools/s':>8}")
    for label, seconds in (("huskycat on Dask", ours), ("Dask alone (same graph)", theirs)):
        print(f"{label:24} {seconds:8.2f}s {seconds / bound:7.2f}x {args.tools / seconds:8.0f}")
    print("target: huskycat at most 1.25x the lower bound")


if __name__ == "__main__":
    main()
