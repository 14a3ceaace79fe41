"""Writers and readers never race in --fix mode, tested the hard way.

Many custom writer tools rewrite the same files with a deliberately slow
read-modify-write, readers check every file is in a complete state, and the final
content must equal running the writers one by one in their documented order.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from .conftest import GitRepo

# Appends "<tool>\n" to each file, slowly, and fails loudly if another writer changed the
# file between its read and its write (a lost update).
WRITER = """
import sys, time
name = sys.argv[1]
for path in sys.argv[2:]:
    with open(path) as f:
        before = f.read()
    time.sleep(0.02)
    with open(path) as f:
        if f.read() != before:
            sys.exit(f"{name}: {path} changed under me")
    with open(path, "w") as f:
        f.write(before + name + "\\n")
"""

# A reader: every line must be a known writer's name, and the file must end with a
# newline (a half-written file would not); record what it saw.
READER = """
import sys, time
allowed = set(sys.argv[1].split(","))
for path in sys.argv[2:]:
    for _ in range(3):
        text = open(path).read()
        lines = text.splitlines()
        if text and not text.endswith("\\n") or not set(lines[1:]) <= allowed:
            sys.exit(f"reader saw a partial file {path}: {text!r}")
        time.sleep(0.005)
"""

WRITERS = ["w1", "w2", "w3", "w4"]


def setup_repo(repo: GitRepo, files: int) -> list[str]:
    names = [f"data/f{i}.txt" for i in range(files)]
    for name in names:
        repo.write(name, "start\n")
    (repo.path / "writer.py").write_text(WRITER)
    (repo.path / "reader.py").write_text(READER)
    tools = []
    for writer in WRITERS:
        tools.append(
            f"[tool.huskycat.tools.{writer}]\n"
            f'command = ["{sys.executable}", "-c", "pass"]\n'
            f'fix = ["{sys.executable}", "writer.py", "{writer}"]\n'
            f'files = ["data/*.txt"]\n'
        )
    for reader in ("r1", "r2"):
        tools.append(
            f"[tool.huskycat.tools.{reader}]\n"
            f'command = ["{sys.executable}", "reader.py", "{",".join(WRITERS)}"]\n'
            f'files = ["data/*.txt"]\n'
        )
    # Only the custom tools: disable the catalog so that the test is about ordering.
    from huskycat.tools.catalog import CATALOG

    disable = ", ".join(f'"{name}"' for name in CATALOG)
    repo.write("pyproject.toml", f"[tool.huskycat]\ndisable = [{disable}]\n\n" + "\n".join(tools))
    repo.commit("fixture")
    return names


def run_fix(repo: GitRepo, *extra: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "huskycat", "run", "--fix", "--no-progress", "--jobs", "4", *extra],
        cwd=repo.path,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.mark.parametrize("round_", range(3))
def test_concurrent_writers_and_readers_end_as_if_run_one_by_one(
    git_repo: GitRepo, round_: int, tmp_path: Path
) -> None:
    names = setup_repo(git_repo, files=6)
    report = tmp_path / "report.json"
    proc = run_fix(git_repo, "--json", str(report))
    # The writers changed files: exit 1, listing them; no writer saw a lost update and
    # no reader saw a partial file.
    assert proc.returncode == 1, proc.stdout + proc.stderr
    data = json.loads(report.read_text())
    statuses = {r["tool_name"]: r["status"] for r in data["results"]}
    assert statuses == {name: "success" for name in [*WRITERS, "r1", "r2"]}, proc.stdout
    expected = "start\n" + "".join(f"{w}\n" for w in WRITERS)
    for name in names:
        assert (git_repo.path / name).read_text() == expected
    for writer in WRITERS:
        modified = next(r for r in data["results"] if r["tool_name"] == writer)
        assert modified["metadata"]["modified_files"] == names


def test_writers_of_disjoint_files_still_run_side_by_side(git_repo: GitRepo) -> None:
    from huskycat.config import load_config
    from huskycat.planning import build_plan

    setup_repo(git_repo, files=2)
    git_repo.write("other/x.txt", "start\n")
    pyproject = git_repo.path / "pyproject.toml"
    pyproject.write_text(
        pyproject.read_text()
        + f'\n[tool.huskycat.tools.lone]\ncommand = ["true"]\nfix = ["{sys.executable}", '
        f'"writer.py", "lone"]\nfiles = ["other/*.txt"]\n'
    )
    git_repo.commit("more")
    from huskycat.tools.catalog import CATALOG

    config = load_config(git_repo.path, known_tools=list(CATALOG))
    files = ["data/f0.txt", "data/f1.txt", "other/x.txt"]
    plan = build_plan(git_repo.path, config, files, fix=True)
    # the writers of data/ are chained in declaration order, readers after all of them
    assert plan.after["w2"] == ("w1",) and plan.after["w4"] == ("w3",)
    assert set(plan.after["r1"]) >= {"w4"}
    # the writer of other/ shares no file with anyone: no edge either way
    assert plan.after["lone"] == ()
    assert all("lone" not in plan.after[n] for n in plan.after)
