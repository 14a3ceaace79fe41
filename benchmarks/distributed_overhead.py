"""The real tools on a mid-size real project: thread backend against a Dask LocalCluster
of 2 worker processes on this machine, with the same number of slots.

In a temporary git repository holding a sample of a real project (``_project.py``: by
default 150 modules of ansible-core and some of its YAML), alternately, R times each:

1. threads: ``huskycat run --all-files --tools T --no-cache -j 2 --json ...``
2. cluster: the same with ``--cluster local:2`` (a LocalCluster of 2 worker processes of
   one thread each, started and stopped by the command).

Every run starts with cold tool caches (``.mypy_cache`` and ``.ruff_cache`` deleted,
``XDG_CACHE_HOME`` and ``BLACK_CACHE_DIR`` new and empty). Printed: the median wall time
of the whole command (the cluster's start and stop included) and of the run itself (the
engine's ``wall_time`` in the JSON report: from the first tool's submission to the last
result), and the cluster's ratios to threads, round by round and as medians; and the CPU
seconds of the whole command (the cluster's worker processes and the tools' processes
included), which, unlike wall times, other work on the machine does not inflate
several-fold. Target: at most 1.10x.

    python benchmarks/distributed_overhead.py [--files 150] [--repeats 3] [--tools a,b]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from _project import build_project

TOOLS = "black,isort,autoflake,ruff,flake8,bandit,yamllint,mypy"


def one_run(
    root: Path, tools: str, cluster: bool, scratch: Path
) -> tuple[float, float, int, float]:
    for cache in (".mypy_cache", ".ruff_cache"):
        shutil.rmtree(root / cache, ignore_errors=True)
    caches = Path(tempfile.mkdtemp(dir=scratch))
    report = caches / "report.json"
    env = {**os.environ, "XDG_CACHE_HOME": str(caches), "BLACK_CACHE_DIR": str(caches / "black")}
    env.pop("HUSKYCAT_CLUSTER", None)
    argv = [sys.executable, "-m", "huskycat", "run", "--all-files", "--tools", tools]
    argv += ["--no-cache", "--no-progress", "-q", "-j", "2", "--json", str(report)]
    if cluster:
        argv += ["--cluster", "local:2"]
    before = _children_cpu()
    start = time.perf_counter()
    proc = subprocess.run(
        argv, cwd=root, env=env, stdin=subprocess.DEVNULL, capture_output=True, check=False
    )
    command = time.perf_counter() - start
    cpu = _children_cpu() - before
    if proc.returncode not in (0, 1):
        raise SystemExit(f"huskycat exited {proc.returncode}: {proc.stderr.decode()[-2000:]}")
    data = json.loads(report.read_text())
    failed = sum(1 for r in data["results"] if r["status"] != "success")
    return command, float(data["statistics"]["wall_time"]), failed, cpu


def _children_cpu() -> float:
    """CPU seconds of the finished child processes and all they waited for: the command,
    the cluster's worker processes and every tool process."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=150)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--tools", default=TOOLS)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="huskycat-bench-") as folder:
        scratch = Path(folder)
        project = build_project(scratch / "project", python_files=args.files, yaml_files=30)
        print(f"project: {project.source}, {project.counts}; tools: {args.tools}")
        one_run(project.root, args.tools, False, scratch)  # warm the page cache, .pyc files
        times: dict[bool, list[tuple[float, float]]] = {False: [], True: []}
        cpus: dict[bool, list[float]] = {False: [], True: []}
        outcomes: dict[bool, set[int]] = {False: set(), True: set()}
        print(
            f"{'round':>5} {'threads':>8} {'cluster':>8} {'ratio':>6}   (the run's wall time)"
            f"   CPU s of the command: threads cluster ratio   load"
        )
        for round_ in range(args.repeats):
            load = os.getloadavg()[0]
            for cluster in (False, True):
                command, run, failed, cpu = one_run(project.root, args.tools, cluster, scratch)
                times[cluster].append((command, run))
                cpus[cluster].append(cpu)
                outcomes[cluster].add(failed)
            threads, dask = times[False][-1][1], times[True][-1][1]
            cpu_t, cpu_d = cpus[False][-1], cpus[True][-1]
            print(
                f"{round_ + 1:5} {threads:8.2f} {dask:8.2f} {dask / threads:5.2f}x"
                f"{'':26}{cpu_t:8.1f} {cpu_d:7.1f} {cpu_d / cpu_t:5.2f}x   {load:.1f}"
            )
    assert outcomes[False] == outcomes[True], f"different outcomes: {outcomes}"
    med = {
        c: (statistics.median(t[0] for t in v), statistics.median(t[1] for t in v))
        for c, v in times.items()
    }
    ratios = [d[1] / t[1] for t, d in zip(times[False], times[True], strict=True)]
    print(f"{'':28} {'command':>8} {'run':>8}   (median of {args.repeats}, seconds)")
    print(f"{'threads, -j 2':28} {med[False][0]:8.2f} {med[False][1]:8.2f}")
    print(f"{'Dask local:2 (2 processes)':28} {med[True][0]:8.2f} {med[True][1]:8.2f}")
    print(
        f"{'cluster / threads':28} {med[True][0] / med[False][0]:7.2f}x "
        f"{med[True][1] / med[False][1]:7.2f}x   target: at most 1.10x"
    )
    print(
        f"ratio of the runs, round by round: {', '.join(f'{r:.2f}x' for r in ratios)}; "
        f"median {statistics.median(ratios):.2f}x"
    )
    # CPU seconds do not depend on how much of the CPUs other work took meanwhile (the
    # wall times above do, several-fold on a shared machine): the cluster's own cost.
    cpu_t, cpu_d = statistics.median(cpus[False]), statistics.median(cpus[True])
    print(
        f"CPU seconds of the whole command (tools included), median: threads {cpu_t:.1f}, "
        f"cluster {cpu_d:.1f}: {cpu_d / cpu_t:.2f}x, {cpu_d - cpu_t:+.1f} s"
    )


if __name__ == "__main__":
    main()
