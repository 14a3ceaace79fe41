"""Sharding and duration history through the real command.

A file-local tool with enough files runs in shards on the free worker slots; merged,
its result must be the one an unsharded run gives (counts, diagnostics in file order,
summary, exit code), its fixes the same bytes, its timeout one TIMEOUT result. Each
run's durations are kept in ``<git dir>/huskycat/history.json`` and are the next run's
expected durations.
"""

from __future__ import annotations

import json
import shutil
import sys
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest

from huskycat.history import History
from tests.cli_run_test import gone, run_json
from tests.conftest import GitRepo, hermetic_git_environment, make_repo

PYPROJECT = '[tool.ruff.lint]\nselect = ["E9", "F"]\n'
FILE_COUNT = 64
MESSY = (
    '"""Messy {i}."""\n\nimport sys\nimport os\n\n\ndef f{i}( ) -> str:\n'
    "    unused = 1\n    return os.getcwd()\n"
)
RISKY = (
    '"""Risky {i}."""\n\nimport subprocess\n\n\ndef run(command: str) -> None:\n'
    '    """Run."""\n    subprocess.call(command, shell=True)\n'
)
CLEAN = '"""Clean {i}."""\n\nVALUE = {i}\n'
COMPARED = ("status", "success", "errors", "warnings", "diagnostics", "error_message")


def module_text(i: int) -> str:
    template = MESSY if i % 3 == 0 else RISKY if i % 5 == 0 else CLEAN
    return template.format(i=i)


@pytest.fixture(scope="module")
def many(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A committed repository of FILE_COUNT Python modules: some messy for every Python
    tool, some risky for bandit, the rest clean. Tests copy it before changing it."""
    base = tmp_path_factory.mktemp("many")
    with hermetic_git_environment(base):
        repo = make_repo(base / "repo")
        repo.write("pyproject.toml", PYPROJECT)
        for i in range(FILE_COUNT):
            repo.write(f"pkg/m{i:02d}.py", module_text(i))
        repo.commit("many")
    return repo.path


def copy_of(repo: Path, where: Path) -> Path:
    return Path(shutil.copytree(repo, where, symlinks=True))


def compared(result: Mapping[str, Any]) -> dict[str, Any]:
    return {key: result[key] for key in COMPARED} | {"outcome": result["metadata"]["outcome"]}


def in_file_order(diagnostics: list[dict[str, Any]]) -> bool:
    places = [(d["file"], d["line"] or 0, d["column"] or 0) for d in diagnostics]
    return places == sorted(places)


@pytest.mark.parametrize("tool", ["ruff", "flake8", "black", "isort", "bandit"])
def test_sharded_run_merges_into_the_result_of_an_unsharded_run(many: Path, tool: str) -> None:
    sharded = run_json(many, "--tools", tool, "--jobs", "4", "--no-cache")
    whole = run_json(many, "--tools", tool, "--jobs", "1", "--no-cache")
    merged, alone = sharded.results[tool], whole.results[tool]
    assert merged["metadata"]["shards"] == 4  # every slot free, 64 files: 4 of 16
    assert "shards" not in alone["metadata"]
    assert sharded.proc.returncode == whole.proc.returncode == 1
    assert compared(merged) == compared(alone)
    assert merged["errors"] > 0 and in_file_order(merged["diagnostics"])
    # One progress line for the tool, however many shards ran.
    assert sum(x.startswith(f"{tool} .") for x in sharded.proc.stdout.splitlines()) == 1


def test_sharded_run_after_one_change_reruns_that_file_and_records_one_file(
    many: Path, tmp_path: Path
) -> None:
    repo = copy_of(many, tmp_path / "repo")
    run_json(repo, "--tools", "ruff", "--jobs", "4")
    (repo / "pkg/m01.py").write_text(module_text(0).replace("f0", "f1"))  # clean -> messy
    changed = run_json(repo, "--tools", "ruff", "--jobs", "4")
    ruff = changed.results["ruff"]
    # Looked up as a whole: only the changed file runs, in one process, not one per shard.
    assert ruff["metadata"].get("shards", 1) == 1
    assert ruff["metadata"]["cached_files"] == FILE_COUNT - 1
    assert [a for a in ruff["metadata"]["argv"] if a.endswith(".py")] == ["pkg/m01.py"]
    fresh = run_json(repo, "--tools", "ruff", "--jobs", "1", "--no-cache").results["ruff"]
    assert (ruff["errors"], ruff["diagnostics"]) == (fresh["errors"], fresh["diagnostics"])
    *_, partly_cached, _no_cache = History.load(repo).samples("ruff")
    assert partly_cached.files == 1


def tree_bytes(root: Path) -> dict[str, bytes]:
    return {
        path.relative_to(root).as_posix(): path.read_bytes()
        for path in root.rglob("*.py")
        if path.is_file()
    }


def test_sharded_fixers_rewrite_every_file_as_an_unsharded_run_does(
    many: Path, tmp_path: Path
) -> None:
    tools = "black,isort,autoflake,ruff,flake8"
    sharded_repo = copy_of(many, tmp_path / "sharded")
    whole_repo = copy_of(many, tmp_path / "whole")
    sharded = run_json(sharded_repo, "--fix", "--tools", tools, "--jobs", "4", "--no-cache")
    whole = run_json(whole_repo, "--fix", "--tools", tools, "--jobs", "1", "--no-cache")
    assert sharded.proc.returncode == whole.proc.returncode == 1
    after = tree_bytes(sharded_repo)
    assert after == tree_bytes(whole_repo)
    assert after != tree_bytes(many)  # the fixers did change files
    for name in ("black", "isort", "autoflake", "ruff"):  # writers one after another
        assert sharded.results[name]["metadata"]["shards"] == 4, name
    for name in tools.split(","):
        merged, alone = sharded.results[name], whole.results[name]
        assert compared(merged) == compared(alone), name
        assert merged["metadata"].get("modified_files") == alone["metadata"].get(
            "modified_files"
        ), name
    assert len(sharded.results["black"]["metadata"]["modified_files"]) == FILE_COUNT // 3 + 1


SLEEPER = """\
import os, sys, time
with open(sys.argv[1], "a") as log:
    log.write(f"{os.getpid()} {len(sys.argv) - 2}\\n")
time.sleep(60)
"""


def test_a_timed_out_sharded_tool_is_one_timeout_result_and_every_shard_is_stopped(
    many: Path, tmp_path: Path
) -> None:
    repo = copy_of(many, tmp_path / "repo")
    sleeper = tmp_path / "sleeper.py"
    sleeper.write_text(SLEEPER)
    log = tmp_path / "shards.log"
    command = [sys.executable, str(sleeper), str(log)]
    (repo / "huskycat.toml").write_text(
        f"[tools.ruff]\ncommand = {json.dumps(command)}\ntimeout = 1\n"
    )
    run = run_json(repo, "--tools", "ruff", "--jobs", "4", "--no-cache", timeout=60)
    assert run.proc.returncode == 1
    ruff = run.results["ruff"]
    assert (ruff["status"], ruff["error_message"]) == ("timeout", "timed out after 1s")
    assert [x for x in run.proc.stdout.splitlines() if x.startswith("ruff .")] == [
        "ruff ........ timed out after 1.0s"
    ]
    shards = [line.split() for line in log.read_text().splitlines()]
    assert len(shards) == 4 and sum(int(files) for _, files in shards) == FILE_COUNT
    pids = [int(pid) for pid, _ in shards]
    deadline = time.monotonic() + 5
    while not all(map(gone, pids)) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert all(map(gone, pids)), pids
    assert run.report["statistics"]["wall_time"] < 10


# --- duration history ----------------------------------------------------------------


def test_each_run_records_durations_and_the_next_run_plans_with_them(
    git_repo: GitRepo,
) -> None:
    git_repo.write("pyproject.toml", PYPROJECT)
    for i in range(4):
        git_repo.write(f"m{i}.py", module_text(i))
    git_repo.commit("four")
    history_file = git_repo.path / ".git" / "huskycat" / "history.json"
    tools = ["ruff", "flake8", "mypy", "shellcheck"]  # shellcheck: nothing to check
    first = run_json(git_repo.path, "--tools", ",".join(tools), "--no-cache")
    statistics = first.report["statistics"]
    assert statistics["duration_source"].startswith("default")  # nothing known yet

    saved = json.loads(history_file.read_text())
    assert sorted(saved["tools"]) == ["flake8", "mypy", "ruff"]  # what ran
    for name, rows in saved["tools"].items():
        [[files, seconds, _when]] = rows
        assert files == 4 and seconds == pytest.approx(first.results[name]["duration"], abs=1e-3)

    history = History.load(git_repo.path)
    expected = {n: history.expected(n, 4) for n in ("ruff", "flake8")}
    expected["mypy"] = history.expected("mypy")
    second = run_json(git_repo.path, "--tools", ",".join(tools), "--no-cache")
    statistics = second.report["statistics"]
    assert statistics["duration_source"] == "expected_durations"
    assert statistics["estimated_sequential_time"] == pytest.approx(sum(expected.values()))
    assert len(json.loads(history_file.read_text())["tools"]["ruff"]) == 2


def test_replayed_results_are_not_recorded_as_durations(git_repo: GitRepo) -> None:
    git_repo.write("m.py", CLEAN.format(i=1))
    git_repo.commit("one")
    run_json(git_repo.path, "--tools", "ruff")
    again = run_json(git_repo.path, "--tools", "ruff")
    assert again.results["ruff"]["metadata"]["cached"] is True
    saved = json.loads((git_repo.path / ".git" / "huskycat" / "history.json").read_text())
    assert len(saved["tools"]["ruff"]) == 1
