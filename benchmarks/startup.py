"""Start-up time of the commands a git hook meets: ``huskycat --version``, ``huskycat
run --staged`` with nothing staged, and a commit's run whose results are all cached (one
Python module staged, checked by an untimed run before: every tool replayed, none run,
so the whole run is huskycat's own work, issue 7's one-file commit less its tools).

Each command runs as a subprocess, in a fresh temporary git repository with one commit,
``--repeats`` times, interleaved with the baseline ``python -c pass`` on the same
interpreter (so that a noisy moment hits every row alike). It prints the median and the
minimum in milliseconds, the cost over the baseline, the git processes the command
starts (counted with ``GIT_TRACE``), and ``python -X importtime``'s top offenders for the
``run --staged`` path: the modules it imports beyond what ``python -c pass`` imports.

    python benchmarks/startup.py [--repeats 30] [--top 15] [--compare CHECKOUT]

``--compare`` adds rows for another checkout of huskycat (its ``src`` put first on
``PYTHONPATH``, the same interpreter and tools), each in a repository of its own: the
result caches of two versions are not shared. Every row shows CPU seconds too (the
command and every process it started), which a busy machine disturbs less than wall.

Rows: the console script installed next to the interpreter (what ``huskycat`` on PATH
runs in a virtual environment), and ``python -m huskycat`` (what the installed pre-commit
hook runs). If ``huskycat`` on PATH is something else (a pyenv shim, say), a row for it is
added, since its own start-up is part of what a user waits for but not huskycat's doing.

Bytecode: the figures that count are taken with a bytecode cache (``PYTHONPYCACHEPREFIX``
set to a temporary folder), as a package installed by pip has one. When this environment
sets ``PYTHONDONTWRITEBYTECODE`` (these machines do), huskycat's own modules, installed
in editable mode, are compiled from source on every start: a second table shows that.

Target (issue 3): under 150 ms on these machines.
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import statistics
import subprocess
import sys
import sysconfig
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

TARGET_MS = 150.0
_GIT_IDENTITY = ("-c", "user.name=bench", "-c", "user.email=bench@example.invalid")


def make_repo(folder: Path, name: str = "repo") -> Path:
    """A git repository with one commit of a few files (a huskycat configuration among
    them, so that it is read and checked) and nothing staged."""
    repo = folder / name
    repo.mkdir()
    (repo / "app.py").write_text("def main() -> int:\n    return 0\n")
    (repo / "config.yaml").write_text("key: value\n")
    (repo / "README.md").write_text("A repository for start-up timing.\n")
    (repo / "pyproject.toml").write_text(
        '[project]\nname = "app"\nversion = "1.0"\n\n'
        '[tool.huskycat]\nexclude = ["vendor/**"]\n\n'
        '[tool.huskycat.tools.mypy]\nargs = ["--strict"]\n'
    )
    git = ["git", *_GIT_IDENTITY]
    for args in (["init", "-q"], ["add", "."], ["commit", "-q", "-m", "init", "--no-verify"]):
        subprocess.run([*git, *args], cwd=repo, check=True, stdin=subprocess.DEVNULL)
    return repo


def make_cached_commit(folder: Path, name: str, env: dict[str, str]) -> Path:
    """A repository like :func:`make_repo`'s with one module changed and staged, checked
    once by ``python -m huskycat run --staged`` (in ``env``), so that a run replays it."""
    repo = make_repo(folder, name)
    with open(repo / "app.py", "a") as stream:
        stream.write("\n\ndef other() -> int:\n    return 1\n")
    subprocess.run(["git", "add", "app.py"], cwd=repo, check=True, stdin=subprocess.DEVNULL)
    time_once([sys.executable, "-m", "huskycat", "run", "--staged"], repo, env)
    return repo


def console_script() -> str:
    """The ``huskycat`` script installed beside this interpreter, else the one on PATH."""
    beside = Path(sysconfig.get_path("scripts")) / "huskycat"
    if beside.is_file():
        return str(beside)
    found = shutil.which("huskycat")
    if found is None:
        sys.exit("benchmarks/startup.py: huskycat is not installed (pip install -e .)")
    return found


def children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def time_once(argv: Sequence[str], cwd: Path, env: dict[str, str]) -> tuple[float, float]:
    """Wall and CPU seconds of one run (the CPU of the process and of every process it
    started and waited for); the command must succeed."""
    cpu, start = children_cpu(), time.perf_counter()
    proc = subprocess.run(
        argv, cwd=cwd, env=env, stdin=subprocess.DEVNULL, capture_output=True, check=False
    )
    elapsed, cpu = time.perf_counter() - start, children_cpu() - cpu
    if proc.returncode != 0:
        sys.exit(f"{' '.join(argv)} exited {proc.returncode}: {proc.stderr.decode()[-2000:]}")
    return elapsed, cpu


def git_processes(argv: Sequence[str], cwd: Path, env: dict[str, str], scratch: Path) -> int:
    """How many git commands ``argv`` starts, from git's own trace."""
    trace = scratch / "git-trace.txt"
    trace.unlink(missing_ok=True)
    subprocess.run(
        argv,
        cwd=cwd,
        env={**env, "GIT_TRACE": str(trace)},
        stdin=subprocess.DEVNULL,
        capture_output=True,
        check=False,
    )
    if not trace.exists():
        return 0
    return sum("trace: built-in: git" in line for line in trace.read_text().splitlines())


def import_times(argv: Sequence[str], cwd: Path, env: dict[str, str]) -> dict[str, tuple[int, int]]:
    """Module -> (self, cumulative) microseconds from ``python -X importtime``."""
    proc = subprocess.run(
        [argv[0], "-X", "importtime", *argv[1:]],
        cwd=cwd,
        env=env,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        check=False,
    )
    found: dict[str, tuple[int, int]] = {}
    for line in proc.stderr.splitlines():
        if not line.startswith("import time:") or "self [us]" in line:
            continue
        own, cumulative, name = line[len("import time:") :].split("|")
        found[name.strip()] = (int(own), int(cumulative))
    return found


def top_offenders(
    command: Sequence[str], baseline: Sequence[str], cwd: Path, env: dict[str, str], top: int
) -> None:
    """Print the modules ``command`` imports beyond ``baseline``, heaviest first."""
    # Median of a few runs per module: one import-time sample is noisy.
    samples = [import_times(command, cwd, env) for _ in range(5)]
    base = import_times(baseline, cwd, env)
    extra = sorted(set(samples[0]) - set(base))
    own = {m: statistics.median(s.get(m, (0, 0))[0] for s in samples) for m in extra}
    cumulative = {m: statistics.median(s.get(m, (0, 0))[1] for s in samples) for m in extra}
    ours = [m for m in extra if m == "huskycat" or m.startswith("huskycat.")]
    print(
        f"\nimports of `{' '.join(command[1:])}` beyond `python -c pass`: {len(extra)} modules"
        f" ({len(ours)} of huskycat), {sum(own.values()) / 1000:.1f} ms of import time"
        " (median of 5 runs with bytecode cached, under -X importtime, which itself slows"
        " imports)"
    )
    print(f"  {'module':<40} {'self ms':>8} {'cumul. ms':>10}")
    for module in sorted(extra, key=lambda m: -cumulative[m])[:top]:
        print(f"  {module:<40} {own[module] / 1000:>8.2f} {cumulative[module] / 1000:>10.2f}")
    print(f"  huskycat modules imported: {', '.join(ours)}")


@dataclass(frozen=True)
class Row:
    label: str
    argv: list[str]
    counts_git: bool = True  # whether to count the git processes it starts
    cwd: Path | None = None  # where it runs, when not in the common repository
    env: tuple[tuple[str, str], ...] = ()  # variables set for it (PYTHONPATH)


def measure(
    rows: Sequence[Row], repo: Path, env: dict[str, str], repeats: int
) -> dict[str, list[tuple[float, float]]]:
    """(wall, CPU) milliseconds per row, ``repeats`` rounds of every row in turn after
    one untimed round (page cache, bytecode)."""
    samples: dict[str, list[tuple[float, float]]] = {row.label: [] for row in rows}
    for row in rows:
        time_once(row.argv, row.cwd or repo, {**env, **dict(row.env)})
    for _ in range(repeats):
        for row in rows:
            wall, cpu = time_once(row.argv, row.cwd or repo, {**env, **dict(row.env)})
            samples[row.label].append((wall * 1000, cpu * 1000))
    return samples


def print_table(
    rows: Sequence[Row],
    samples: dict[str, list[tuple[float, float]]],
    repo: Path,
    env: dict[str, str],
) -> float:
    """Print the figures; return the slowest huskycat median in ms (the start-up rows:
    not a cached commit's, which does a run's work)."""
    base = statistics.median(w for w, _ in samples[rows[0].label])
    print(f"{'command':<56} {'median':>8} {'min':>8} {'over base':>10} {'CPU':>8} {'git':>4}")
    for row in rows:
        walls = [w for w, _ in samples[row.label]]
        cpu = statistics.median(c for _, c in samples[row.label])
        median = statistics.median(walls)
        where, row_env = row.cwd or repo, {**env, **dict(row.env)}
        git = str(git_processes(row.argv, where, row_env, repo.parent)) if row.counts_git else ""
        print(
            f"{row.label:<56} {median:>6.1f}ms {min(walls):>6.1f}ms "
            f"{median - base:>+8.1f}ms {cpu:>6.1f}ms {git:>4}"
        )
    return max(
        statistics.median(w for w, _ in samples[r.label])
        for r in rows
        if r.label.startswith(_HC) and r.cwd is None and not r.env
    )


_HC = ("huskycat", "python -m huskycat")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=30)
    parser.add_argument("--top", type=int, default=15, help="import offenders to list")
    parser.add_argument("--compare", type=Path, help="another checkout of huskycat")
    args = parser.parse_args()

    python = sys.executable
    script = console_script()
    rows = [
        Row("python -c pass (baseline)", [python, "-c", "pass"], counts_git=False),
        Row("huskycat --version", [script, "--version"]),
        Row("huskycat run --staged", [script, "run", "--staged"]),
        Row("python -m huskycat --version", [python, "-m", "huskycat", "--version"]),
        Row("python -m huskycat run --staged", [python, "-m", "huskycat", "run", "--staged"]),
    ]
    on_path = shutil.which("huskycat")
    if on_path and Path(on_path).resolve() != Path(script).resolve():
        rows.append(Row(f"{on_path} run --staged (not ours)", [on_path, "run", "--staged"]))
    rows.append(
        Row("one `git rev-parse` (for scale)", ["git", "rev-parse", "--show-toplevel"], False)
    )
    # Without the variables a hook would see.
    as_is = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}

    print(f"{python} (Python {sys.version.split()[0]}), {os.cpu_count()} CPUs")
    print(f"huskycat script: {script}; {args.repeats} runs of each, interleaved")
    print(f"target: under {TARGET_MS:.0f} ms")
    with tempfile.TemporaryDirectory(prefix="huskycat-startup-") as tmp:
        scratch = Path(tmp)
        repo = make_repo(scratch)
        # Bytecode written to and read from a folder of ours, as an installed package has
        # it, whatever this environment says (and without writing into the source tree).
        cached = {k: v for k, v in as_is.items() if k != "PYTHONDONTWRITEBYTECODE"}
        cached["PYTHONPYCACHEPREFIX"] = str(scratch / "pycache")
        envs = [("with bytecode cached (as after an install)", cached)]
        commit = [python, "-m", "huskycat", "run", "--staged"]
        rows.append(
            Row(
                "python -m huskycat run --staged, cached commit",
                commit,
                True,
                make_cached_commit(scratch, "commit", cached),
            )
        )
        if args.compare is not None:
            other = (("PYTHONPATH", str(args.compare.absolute() / "src")),)
            rows.append(Row(f"{args.compare}: run --staged", commit, True, None, other))
            rows.append(
                Row(
                    f"{args.compare}: run --staged, cached commit",
                    commit,
                    True,
                    make_cached_commit(scratch, "commit-other", {**cached, **dict(other)}),
                    other,
                )
            )
        if as_is.get("PYTHONDONTWRITEBYTECODE"):
            what = "this environment as is: PYTHONDONTWRITEBYTECODE is set, so huskycat's"
            envs.append((f"{what} modules are compiled on every start", as_is))
        worst = 0.0
        for title, env in envs:
            print(f"\n{title}")
            worst = max(worst, print_table(rows, measure(rows, repo, env, args.repeats), repo, env))
        verdict = "met" if worst < TARGET_MS else "MISSED"
        print(f"\ntarget {verdict}: slowest huskycat median {worst:.1f} ms")

        top_offenders(
            [python, "-m", "huskycat", "run", "--staged"],
            [python, "-c", "pass"],
            repo,
            cached,
            args.top,
        )


if __name__ == "__main__":
    main()
