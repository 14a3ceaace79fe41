"""Makespan over the lower bound on random DAGs of sleeping tools with known durations.

For each random DAG, in this process, one after the other:
- huskycat: ParallelExecutor with the durations given as expected_durations;
- barrier: the published original's way, levels run one after another, each level's
  tools in parallel on the same number of workers (written here, with graphlib).
Both are measured against the lower bound max(critical path, total work / workers).

    python benchmarks/makespan.py [--graphs 30] [--seed 1]

Targets (issue 2): huskycat median at most 1.01x and 90th percentile at most 1.05x.
"""

from __future__ import annotations

import argparse
import random
import statistics
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

from huskycat.core import graph
from huskycat.core.parallel_executor import ParallelExecutor


def random_case(rng: random.Random) -> tuple[dict[str, list[str]], dict[str, float], int]:
    n = rng.randint(8, 30)
    names = [f"t{i:02d}" for i in range(n)]
    density = rng.uniform(0.05, 0.3)
    deps = {
        name: [other for other in names[:i] if rng.random() < density]
        for i, name in enumerate(names)
    }
    durations = {name: rng.uniform(0.02, 0.25) for name in names}
    workers = rng.randint(2, 4)
    return deps, durations, workers


def sleeper(seconds: float) -> Callable[[], None]:
    return lambda: time.sleep(seconds)


def run_huskycat(deps: dict[str, list[str]], durations: dict[str, float], workers: int) -> float:
    executor = ParallelExecutor(deps, max_workers=workers, expected_durations=durations)
    start = time.perf_counter()
    executor.execute_tools({n: sleeper(d) for n, d in durations.items()})
    return time.perf_counter() - start


def run_barriers(deps: dict[str, list[str]], durations: dict[str, float], workers: int) -> float:
    start = time.perf_counter()
    with ThreadPoolExecutor(workers) as pool:
        for level in graph.levels({n: tuple(d) for n, d in deps.items()}):
            list(pool.map(lambda n: time.sleep(durations[n]), level))
    return time.perf_counter() - start


def lower_bound(deps: dict[str, list[str]], durations: dict[str, float], workers: int) -> float:
    cp, _ = graph.critical_path({n: tuple(d) for n, d in deps.items()}, durations)
    return max(cp, sum(durations.values()) / workers)


def quantile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--graphs", type=int, default=30)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    ours: list[float] = []
    barrier: list[float] = []
    for _ in range(args.graphs):
        deps, durations, workers = random_case(rng)
        bound = lower_bound(deps, durations, workers)
        ours.append(run_huskycat(deps, durations, workers) / bound)
        barrier.append(run_barriers(deps, durations, workers) / bound)
    print(f"{args.graphs} random DAGs (8-30 tools, 20-250 ms each, 2-4 workers)")
    print("makespan / lower bound    median     p90     max")
    for label, values in (("huskycat", ours), ("level barriers", barrier)):
        print(
            f"{label:<24} {statistics.median(values):>7.3f}x {quantile(values, 0.9):>6.3f}x "
            f"{max(values):>6.3f}x"
        )
    print(
        f"barrier / huskycat, median of per-graph ratios: "
        f"{statistics.median(b / o for b, o in zip(barrier, ours)):.3f}x"
    )


if __name__ == "__main__":
    main()
