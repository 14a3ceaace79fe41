"""Scheduling overhead per tool: huskycat's scheduler against a minimal graphlib loop.

Both run the same random DAG of no-op tools on a ThreadPoolExecutor with the same worker
count, in this process, one after the other, best of a few repeats. The baseline is the
smallest correct dependency-driven loop (graphlib.TopologicalSorter + submit +
wait(FIRST_COMPLETED)); huskycat does more per tool (priorities, slots, deadlines,
cancellation contexts, results, events), and the ratio says what that costs.

    python benchmarks/scheduler_overhead.py [--sizes 1000,10000,100000] [--workers 2]

Targets (issue 2): at most 1.5x the baseline at 10,000 tools, and linear growth up to
100,000 tools (microseconds per tool roughly flat).
"""

from __future__ import annotations

import argparse
import graphlib
import random
import statistics
import time
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait

from huskycat.core.parallel_executor import ParallelExecutor


def random_dag(n: int, seed: int, max_deps: int = 3) -> dict[str, list[str]]:
    rng = random.Random(seed)
    names = [f"t{i}" for i in range(n)]
    deps: dict[str, list[str]] = {}
    for i, name in enumerate(names):
        window = names[max(0, i - 50) : i]  # local edges keep the graph wide and deep
        k = rng.randint(0, min(max_deps, len(window)))
        deps[name] = rng.sample(window, k)
    return deps


def noop() -> None:
    return None


def baseline(deps: dict[str, list[str]], workers: int) -> float:
    """Minimal graphlib + ThreadPoolExecutor loop; returns seconds."""
    start = time.perf_counter()
    sorter = graphlib.TopologicalSorter(deps)
    sorter.prepare()
    fns: dict[str, Callable[[], None]] = {n: noop for n in deps}
    with ThreadPoolExecutor(workers) as pool:
        running: dict[Future[None], str] = {}
        ready: list[str] = []
        while sorter.is_active():
            ready.extend(sorter.get_ready())
            while ready and len(running) < workers:
                name = ready.pop()
                running[pool.submit(fns[name])] = name
            done, _ = wait(running, return_when=FIRST_COMPLETED)
            for future in done:
                future.result()
                sorter.done(running.pop(future))
    return time.perf_counter() - start


def huskycat_run(deps: dict[str, list[str]], workers: int) -> float:
    start = time.perf_counter()
    executor = ParallelExecutor(deps, max_workers=workers, timeout_per_tool=None)
    results = executor.execute_tools({n: noop for n in deps})
    elapsed = time.perf_counter() - start
    assert len(results) == len(deps) and all(r.success for r in results)
    return elapsed


def best_of(fn: Callable[[], float], repeats: int) -> float:
    return min(fn() for _ in range(repeats))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1000,10000,100000")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    print(f"workers={args.workers}, best of {args.repeats}; microseconds per tool")
    print(f"{'tools':>8} {'baseline':>10} {'huskycat':>10} {'ratio':>7}")
    per_tool = []
    for n in sizes:
        deps = random_dag(n, seed=n)
        repeats = args.repeats if n <= 20000 else 1
        base = best_of(lambda deps=deps: baseline(deps, args.workers), repeats)
        ours = best_of(lambda deps=deps: huskycat_run(deps, args.workers), repeats)
        per_tool.append(ours / n * 1e6)
        print(f"{n:>8} {base / n * 1e6:>10.1f} {ours / n * 1e6:>10.1f} {ours / base:>7.2f}x")
    if len(per_tool) > 1:
        growth = per_tool[-1] / per_tool[0]
        print(
            f"growth of us/tool from {sizes[0]} to {sizes[-1]} tools: {growth:.2f}x "
            f"(1.00x is linear; median us/tool {statistics.median(per_tool):.1f})"
        )


if __name__ == "__main__":
    main()
