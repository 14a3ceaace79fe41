"""The same ``.pre-commit-config.yaml`` run by pre-commit, prek and huskycat, in the same
run, on a generated project of several thousand files (and, with ``--this-repo``, on a
copy of this repository's tracked files).

Each program gets its own copy of the project and its own empty cache folder, then runs
``run --all-files`` four times:

- **cold**: nothing installed (the hook repository is fetched and its environment made);
- **first**: environments ready, no result yet (for huskycat, an empty result cache);
- **again**: right after the first, whose fixers changed files (so they run again);
- **warm**: nothing changed since the previous run, which changed nothing.

The hooks are pre-commit/pre-commit-hooks v6.0.0 (from the git bundle in the shared
fixtures: trailing-whitespace, end-of-file-fixer, mixed-line-ending, check-yaml,
check-json, check-toml, check-ast, debug-statements, check-merge-conflict,
check-added-large-files, detect-private-key), a local pygrep hook and a local system
hook. The project has files for each to fix or find. After the runs the three trees are
compared byte for byte.

Targets (issue 9): huskycat cold faster than prek cold; warm ("when nothing changed")
at most 0.1x prek's warm; the final tree identical to pre-commit's. Wall seconds depend
on how busy the machine is; CPU seconds (the program and everything it started) are
printed beside them, and the load average (1 minute) while each program ran. Each of
``--rounds`` rounds (3) runs the three programs, in a different order each round; the
targets are judged on the median of the rounds' ratios (huskycat against the prek of the
same round).

    python benchmarks/precommit_config.py [--files 4000] [--this-repo] [--rounds 3]

``--files 0`` leaves out the generated project (with ``--this-repo``: only this one).
"""

from __future__ import annotations

import argparse
import os
import random
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

_NAME = "shared/fixtures/pre-commit-hooks-v6.0.0.bundle"
BUNDLE = next(  # shared/ sits beside the repository (or beside the folder of worktrees)
    (p / _NAME for p in Path(__file__).resolve().parents[1:4] if (p / _NAME).is_file()),
    Path("/work") / _NAME,
)
HOOK_IDS = (
    "trailing-whitespace",
    "end-of-file-fixer",
    "mixed-line-ending",
    "check-yaml",
    "check-json",
    "check-toml",
    "check-ast",
    "debug-statements",
    "check-merge-conflict",
    "check-added-large-files",
    "detect-private-key",
)
CONFIG = """\
repos:
-   repo: {hooks}
    rev: v6.0.0
    hooks:
{hook_lines}
-   repo: local
    hooks:
    -   id: no-print-debug
        name: no print debugging
        entry: 'print\\("DEBUG'
        language: pygrep
        types: [python]
    -   id: wc
        name: count lines of text files
        entry: wc -l
        language: system
        types: [text]
"""
_GIT = ["git", "-c", "user.name=bench", "-c", "user.email=bench@example.invalid"]


def make_project(folder: Path, count: int, hooks: Path) -> Path:
    """``count`` files in 40 packages: Python, YAML, JSON, TOML, Markdown; about one in
    twenty with a trailing space, one in forty without a final newline, a few broken."""
    rng = random.Random(9)
    root = folder / "project"
    root.mkdir()
    lines = "\n".join(f"    -   id: {hook}" for hook in HOOK_IDS)
    (root / ".pre-commit-config.yaml").write_text(CONFIG.format(hooks=hooks, hook_lines=lines))
    kinds = ("py", "py", "py", "yaml", "json", "toml", "md")
    for index in range(count):
        kind = kinds[index % len(kinds)]
        name = root / f"pkg{index % 40}" / f"m{index}.{kind}"
        name.parent.mkdir(exist_ok=True)
        if kind == "py":
            body = "".join(f"def f{i}(x):\n    return x + {i}\n\n\n" for i in range(20))
        elif kind == "yaml":
            body = "".join(f"key{i}: [1, 2, {i}]\n" for i in range(30))
        elif kind == "json":
            body = "{" + ", ".join(f'"k{i}": {i}' for i in range(30)) + "}\n"
        elif kind == "toml":
            body = "".join(f"k{i} = {i}\n" for i in range(30))
        else:
            body = "".join(f"Line {i} of some prose.\n" for i in range(30))
        roll = rng.random()
        if roll < 0.05:
            body = body.replace("\n", "   \n", 1)
        elif roll < 0.075:
            body = body.rstrip("\n")
        elif roll < 0.08 and kind == "yaml":
            body += "bad: [\n"
        name.write_text(body)
    subprocess.run([*_GIT, "init", "-q"], cwd=root, check=True)
    subprocess.run([*_GIT, "add", "-A"], cwd=root, check=True)
    subprocess.run([*_GIT, "commit", "-qm", "init", "--no-verify"], cwd=root, check=True)
    return root


def copy_this_repo(folder: Path, hooks: Path) -> Path:
    here = Path(__file__).resolve().parent.parent
    root = folder / "this"
    names = subprocess.run(
        ["git", "ls-files", "-z"], cwd=here, capture_output=True, check=True
    ).stdout.split(b"\0")
    for raw in filter(None, names):
        name = raw.decode()
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        if (here / name).is_file():
            shutil.copy2(here / name, root / name)
    lines = "\n".join(f"    -   id: {hook}" for hook in HOOK_IDS)
    (root / ".pre-commit-config.yaml").write_text(CONFIG.format(hooks=hooks, hook_lines=lines))
    for name in ("pyproject.toml",):  # its [tool.huskycat] would win over the hooks
        text = (root / name).read_text()
        (root / name).write_text(text.replace("[tool.huskycat", "[tool.not-huskycat"))
    subprocess.run([*_GIT, "init", "-q"], cwd=root, check=True)
    subprocess.run([*_GIT, "add", "-A"], cwd=root, check=True)
    subprocess.run([*_GIT, "commit", "-qm", "init", "--no-verify"], cwd=root, check=True)
    return root


def _program(name: str) -> str:
    found = shutil.which(name, path=os.path.dirname(sys.executable)) or shutil.which(name)
    if found is None:
        sys.exit(f"{name} is not installed: pip install {name}")
    return found


def timed(argv: list[str], cwd: Path, env: dict[str, str]) -> tuple[float, float, int]:
    """Wall seconds, CPU seconds (the program and everything it started), exit code."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    proc = subprocess.run(argv, cwd=cwd, env=env, capture_output=True, check=False)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime
    return wall, cpu, proc.returncode


def tree(root: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(root)): p.read_bytes()
        for p in root.rglob("*")
        if p.is_file() and ".git" not in p.relative_to(root).parts
    }


KINDS = ("cold", "first", "again", "warm")


def one_program(
    source: Path, work: Path, label: str, name: str, argv: list[str], base: dict[str, str]
) -> tuple[dict[str, float], dict[str, bytes]]:
    """One program's four runs on a fresh copy of ``source`` with an empty home."""
    root = work / f"{label}-{name}"
    home = work / f"{label}-{name}-home"
    for old in (root, home):
        shutil.rmtree(old, ignore_errors=True)
    shutil.copytree(source, root, symlinks=True)
    env = {
        **base,
        "PRE_COMMIT_HOME": str(home / "pre-commit"),
        "PREK_HOME": str(home / "prek"),
        "XDG_CACHE_HOME": str(home / "xdg"),
    }
    row = {"load": os.getloadavg()[0]}
    row["cold"], row["cold cpu"], code = timed(argv, root, env)
    subprocess.run(["git", "checkout", "-q", "--", "."], cwd=root, check=True)
    if name == "huskycat":
        subprocess.run(
            [sys.executable, "-m", "huskycat", "cache", "clear"],
            cwd=root,
            env=env,
            check=True,
            capture_output=True,
        )
    row["first"], row["first cpu"], _ = timed(argv, root, env)
    row["again"], row["again cpu"], _ = timed(argv, root, env)
    row["warm"], row["warm cpu"], code = timed(argv, root, env)
    row["exit"] = code
    row["load"] = (row["load"] + os.getloadavg()[0]) / 2
    return row, tree(root)


def bench(source: Path, work: Path, label: str, rounds: int) -> None:
    base = {k: v for k, v in os.environ.items() if k not in ("CI", "VIRTUAL_ENV")}
    # Bytecode cached, as for a package pip installed (these machines set
    # PYTHONDONTWRITEBYTECODE, which would compile every module on every start).
    base.pop("PYTHONDONTWRITEBYTECODE", None)
    base["PYTHONPYCACHEPREFIX"] = str(work / "pycache")
    programs = {
        "pre-commit": [_program("pre-commit"), "run", "--all-files"],
        "prek": [_program("prek"), "run", "--all-files"],
        "huskycat": [sys.executable, "-m", "huskycat", "run", "--all-files", "--no-progress"],
    }
    names = list(programs)
    rows: dict[str, list[dict[str, float]]] = {name: [] for name in names}
    trees: dict[str, dict[str, bytes]] = {}
    print(
        f"\n{label}: `run --all-files`, wall seconds (CPU seconds); each round runs the "
        "programs in a different order"
    )
    print(
        f"{'round':<7}{'program':<12}{'cold':>16}{'first':>16}{'again':>16}{'warm':>16}"
        f"{'exit':>6}{'load':>7}"
    )
    for round_number in range(rounds):
        order = names[round_number % 3 :] + names[: round_number % 3]
        for name in order:
            row, trees[name] = one_program(source, work, label, name, programs[name], base)
            rows[name].append(row)
            cells = "".join(f"{row[k]:>8.2f} ({row[k + ' cpu']:>5.2f})" for k in KINDS)
            print(
                f"{round_number + 1:<7}{name:<12}{cells}{int(row['exit']):>6}"
                f"{row['load']:>7.1f}",
                flush=True,
            )
    median = {
        name: {k: statistics.median(r[k] for r in rows[name]) for k in rows[name][0]}
        for name in names
    }
    for name in names:
        cells = "".join(
            f"{median[name][k]:>8.2f} ({median[name][k + ' cpu']:>5.2f})" for k in KINDS
        )
        print(f"{'median':<7}{name:<12}{cells}{'':>6}{median[name]['load']:>7.1f}")
    husky, prek = median["huskycat"], median["prek"]
    # Ratios within each round (the programs ran in the same minutes), then their median.
    cold_ratio = statistics.median(
        h["cold"] / p["cold"] for h, p in zip(rows["huskycat"], rows["prek"], strict=True)
    )
    warm_ratio = statistics.median(
        h["warm"] / p["warm"] for h, p in zip(rows["huskycat"], rows["prek"], strict=True)
    )
    cold_wins = sum(
        h["cold"] < p["cold"] for h, p in zip(rows["huskycat"], rows["prek"], strict=True)
    )
    same = trees["huskycat"] == trees["pre-commit"]
    print(
        f"targets ({label}, {len(trees['pre-commit'])} files, {rounds} rounds): "
        f"cold {husky['cold']:.2f} s vs prek {prek['cold']:.2f} s, median ratio "
        f"{cold_ratio:.3f}x, faster in {cold_wins} of {rounds} rounds "
        f"({'met' if cold_ratio < 1 else 'NOT met'}: faster than prek; "
        f"CPU {husky['cold cpu']:.2f} s vs {prek['cold cpu']:.2f} s); "
        f"first run with environments ready {husky['first']:.2f} s vs prek {prek['first']:.2f} s; "
        f"again after the fixes {husky['again'] / prek['again']:.3f}x prek; "
        f"warm {husky['warm']:.3f} s vs prek {prek['warm']:.2f} s, median ratio "
        f"{warm_ratio:.3f}x (CPU {husky['warm cpu'] / prek['warm cpu']:.3f}x) "
        f"({'met' if warm_ratio <= 0.1 else 'NOT met'}: at most 0.1x); "
        f"final tree {'identical to' if same else 'DIFFERENT from'} pre-commit's"
        f" (prek's {'identical' if trees['prek'] == trees['pre-commit'] else 'different'})"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=4000)
    parser.add_argument("--this-repo", action="store_true", help="also on this repository")
    parser.add_argument(
        "--rounds", type=int, default=3, help="rounds, each in a different order (default 3)"
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as temp:
        work = Path(temp)
        hooks = work / "pre-commit-hooks"
        subprocess.run(["git", "clone", "-q", str(BUNDLE), str(hooks)], check=True)
        subprocess.run(["git", "checkout", "-q", "v6.0.0"], cwd=hooks, check=True)
        if args.files:
            bench(make_project(work, args.files, hooks), work, "generated", args.rounds)
        if args.this_repo:
            bench(copy_this_repo(work, hooks), work, "this repository", args.rounds)


if __name__ == "__main__":
    main()
