"""A monorepo of 8 projects, each with its own ``[tool.huskycat]`` (ruff, black,
flake8, yamllint on its own files), run two ways in the same run, with no result cache:

- **one run**: ``huskycat run`` at the root: every project's tools in one graph on one
  pool of workers (issue 9);
- **one run per project**: ``huskycat run --project P`` for each project in turn, the
  baseline (what separate configurations, or one CI job per project, amount to).

It prints the wall times, their ratio, and how busy the CPUs were during the one run
(CPU time of the run's process tree over wall time times the cores).

    python benchmarks/monorepo.py [--files 150] [--projects 8]
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

CONFIG = """\
[tool.huskycat]
disable = ["mypy", "bandit", "isort", "autoflake", "taplo"]
"""


def make_monorepo(folder: Path, projects: int, files: int) -> Path:
    root = folder / "mono"
    for p in range(projects):
        project = root / f"services/svc{p}"
        (project / "src").mkdir(parents=True)
        (project / "pyproject.toml").write_text(f'[project]\nname = "svc{p}"\n\n' + CONFIG)
        for i in range(files):
            body = "".join(
                f"def handler_{i}_{j}(event, context):\n    return {{'ok': {j}}}\n\n\n"
                for j in range(15)
            )
            (project / "src" / f"m{i}.py").write_text(body)
        (project / "deploy.yaml").write_text(f"service: svc{p}\nreplicas: 2\n")
    (root / "pyproject.toml").write_text(CONFIG)
    git = ["git", "-c", "user.name=b", "-c", "user.email=b@example.invalid"]
    for args in (["init", "-q"], ["add", "-A"], ["commit", "-qm", "init", "--no-verify"]):
        subprocess.run([*git, *args], cwd=root, check=True)
    return root


def timed(argv: list[str], cwd: Path) -> tuple[float, float, int]:
    """Wall seconds, CPU seconds of the children, exit code."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    env = {k: v for k, v in os.environ.items() if k != "CI"}
    proc = subprocess.run(argv, cwd=cwd, env=env, capture_output=True, check=False)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu, proc.returncode


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=150, help="Python files per project")
    parser.add_argument("--projects", type=int, default=8)
    args = parser.parse_args()
    run = [sys.executable, "-m", "huskycat", "run", "--no-progress", "--no-cache"]
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    with tempfile.TemporaryDirectory() as temp:
        root = make_monorepo(Path(temp), args.projects, args.files)
        timed(run, root)  # warm the file system cache and the tools' own caches alike
        one_wall, one_cpu, code = timed(run, root)
        per_wall = per_cpu = 0.0
        for p in range(args.projects):
            wall, cpu, _ = timed([*run, "--project", f"services/svc{p}"], root)
            per_wall, per_cpu = per_wall + wall, per_cpu + cpu
        wall, cpu, _ = timed([*run, "--project", "."], root)  # the root's own files
        per_wall, per_cpu = per_wall + wall, per_cpu + cpu
    total = args.projects * (args.files + 2) + 1
    print(f"monorepo: {args.projects} projects, {total} files, {cores} cores, no result cache")
    print(f"{'':<24}{'wall s':>8}{'CPU s':>8}{'CPUs busy':>11}")
    for label, wall, cpu in (
        ("one run", one_wall, one_cpu),
        ("one run per project", per_wall, per_cpu),
    ):
        print(f"{label:<24}{wall:>8.2f}{cpu:>8.2f}{cpu / (wall * (cores or 1)):>10.0%}")
    print(
        f"one run takes {one_wall / per_wall:.2f}x the time of one run per project "
        f"(exit code {code})"
    )


if __name__ == "__main__":
    main()
