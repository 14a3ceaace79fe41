"""A cached replay prints exactly what a fresh run prints.

``huskycat run`` over a repository with findings in several tools, then again with
nothing changed (every tool replayed), then after one file changed (cached files merged
with the re-run one) beside a run without the cache. The console lines must be the same
apart from durations and "(cached)" marks; the JSON report's diagnostics, counts and
summary lines the same.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from tests.cli_run_test import Run, run_json
from tests.conftest import GitRepo

TOOLS = "ruff,flake8,black,isort,autoflake,yamllint,mypy,bandit"
FILES = {
    "setup.cfg": "[flake8]\nmax-line-length = 100\n",
    "pkg/__init__.py": '"""Package."""\n',
    "pkg/clean.py": '"""Clean."""\n\nVALUE = 1\n',
    "pkg/unused.py": '"""Unused."""\n\nimport os\nimport sys\n',
    "pkg/ugly.py": "x = {  'a':1 }\ny: int = 'text'\n",
    "pkg/shell.py": (
        '"""Shell."""\n\nimport subprocess\n\n\ndef run(command: str) -> None:\n'
        '    """Run."""\n    subprocess.call(command, shell=True)\n'
    ),
    "config.yaml": "---\nkey: value\nother:   1\n",
}
COMPARED = ("status", "success", "errors", "warnings", "diagnostics", "error_message")
_DURATION = re.compile(r"\b\d+\.\d+(s|x)\b")  # durations and "1.58x at once"


@pytest.fixture
def repo(git_repo: GitRepo) -> GitRepo:
    for name, text in FILES.items():
        git_repo.write(name, text)
    git_repo.commit("files")
    return git_repo


def console(run: Run) -> list[str]:
    """The lines of the console output, durations and "(cached)" marks taken out."""
    text = run.proc.stdout.replace(" (cached)", "")
    return [_DURATION.sub("T", line).rstrip() for line in text.splitlines()]


def seen(run: Run) -> dict[str, dict[str, Any]]:
    results = {}
    for name, result in run.results.items():
        picked = {key: result[key] for key in COMPARED}
        picked["outcome"] = result["metadata"].get("outcome")
        results[name] = picked
    return results


def cached(run: Run) -> dict[str, bool]:
    return {n: bool(r["metadata"].get("cached")) for n, r in run.results.items()}


def test_a_replay_prints_what_the_fresh_run_printed(repo: GitRepo, tmp_path: Path) -> None:
    first = run_json(repo.path, "--tools", TOOLS, "--no-progress")
    assert first.proc.returncode == 1
    assert not any(cached(first).values())
    again = run_json(repo.path, "--tools", TOOLS, "--no-progress")
    assert all(cached(again).values()), cached(again)
    assert console(again) == console(first)
    assert seen(again) == seen(first)
    assert again.results["black"]["error_message"] == "would reformat 1 file"


def test_merged_cached_and_rerun_files_say_what_one_run_over_all_says(repo: GitRepo) -> None:
    run_json(repo.path, "--tools", TOOLS, "--no-progress")
    repo.write(
        "pkg/clean.py", '"""Clean, now unsorted."""\n\nimport sys\nimport os\n\nprint(os, sys)\n'
    )
    merged = run_json(repo.path, "--tools", TOOLS, "--no-progress")
    fresh = run_json(repo.path, "--tools", TOOLS, "--no-progress", "--no-cache")
    assert merged.results["ruff"]["metadata"].get("cached_files") == 4
    assert seen(merged) == seen(fresh)
    assert {k: v for k, v in merged.report.items() if k == "success"} == {
        k: v for k, v in fresh.report.items() if k == "success"
    }
    # The console's summary line and each tool's status line are the same; only the
    # output block of a merged tool lists its cached files' diagnostics in huskycat's
    # own format after the tool's output for the re-run file.
    status = re.compile(r"^\S+ +(passed|failed|skipped)")
    assert [x for x in console(merged) if status.match(x)] == [
        x for x in console(fresh) if status.match(x)
    ]
    assert console(merged)[-1] == console(fresh)[-1]


def test_a_sharded_tool_is_replayed_whole_whatever_the_split(repo: GitRepo) -> None:
    # 40 files: enough for ruff to run in shards; the second run's split differs.
    for i in range(40):
        repo.write(f"many/m{i:02}.py", f"import os{i % 3}\n" if i % 7 == 0 else f"X{i} = {i}\n")
    repo.commit("many")
    first = run_json(repo.path, "--tools", "ruff,flake8", "--jobs", "4", "--no-progress")
    assert first.results["flake8"]["metadata"].get("shards", 1) > 1
    again = run_json(repo.path, "--tools", "ruff,flake8", "--jobs", "1", "--no-progress")
    assert all(cached(again).values()), cached(again)
    assert console(again) == console(first)
    assert seen(again) == seen(first)
