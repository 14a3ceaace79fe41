"""The result cache through the real command: ``huskycat run`` twice, with files and
configuration changed in between, killed, cleared, or told not to use it.

ruff and flake8 run through counting wrappers (their ``command`` in huskycat.toml): each
start of the tool appends its arguments to a log, so "starts no tool process" is
counted, not inferred. The other tools run as the catalog has them; the JSON report's
``metadata.cached`` says whether their result was replayed.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest

from huskycat.tools.catalog import CATALOG
from huskycat.tools.programs import find_executable
from tests.cli_run_test import Run, run_json
from tests.conftest import GitRepo, huskycat, run_in_terminal

PYPROJECT = '[tool.ruff.lint]\nselect = ["E9", "F"]\n'
SETUP_CFG = "[flake8]\nmax-line-length = 100\n"
LONG = "X = " + " + ".join(["1"] * 21) + "\n"  # 85 characters: fine at 100, not at 79
FILES = {
    "pkg/__init__.py": '"""Package."""\n',
    "pkg/clean.py": '"""Clean."""\n\nVALUE = 1\n',
    "pkg/unused.py": '"""Unused import."""\n\nimport os\n',
    "pkg/long.py": f'"""A long line."""\n\n{LONG}',
    "pkg/shell.py": (
        '"""Shell."""\n\nimport subprocess\n\n\ndef run(command: str) -> None:\n'
        '    """Run."""\n    subprocess.call(command, shell=True)\n'
    ),
    "pkg/typed.py": '"""Types."""\n\n\ndef number() -> int:\n    """One."""\n    return 1\n',
}
TOOLS = "ruff,flake8,black,isort,bandit,mypy"
COUNTED = ("ruff", "flake8")
COMPARED = ("status", "success", "errors", "warnings", "diagnostics", "error_message", "output")

WRAPPER = """\
#!/bin/sh
printf '%s\\n' "{name} $*" >> '{log}'
exec '{real}' "$@"
"""


@pytest.fixture
def repo(git_repo: GitRepo, tmp_path: Path) -> GitRepo:
    """FILES with pyproject.toml ([tool.ruff]) and setup.cfg ([flake8]); ruff and flake8
    through wrappers that log each start to tmp_path/starts.log."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    config = []
    for name in COUNTED:
        real = find_executable(name)
        assert real is not None, f"{name} is not installed"
        wrapper = bin_dir / name
        wrapper.write_text(WRAPPER.format(name=name, log=tmp_path / "starts.log", real=real))
        wrapper.chmod(0o755)
        command = [str(wrapper), *CATALOG[name].check_args]
        config.append(f"[tools.{name}]\ncommand = {json.dumps(command)}\n")
    git_repo.write("huskycat.toml", "".join(config))
    git_repo.write("pyproject.toml", PYPROJECT)
    git_repo.write("setup.cfg", SETUP_CFG)
    for name, text in FILES.items():
        git_repo.write(name, text)
    git_repo.commit("files")
    return git_repo


def starts(repo: GitRepo) -> list[tuple[str, list[str]]]:
    """``(tool, [files])`` for each start of a counted tool so far."""
    log = repo.path.parent / "starts.log"
    lines = log.read_text().splitlines() if log.exists() else []
    return [(line.split()[0], [a for a in line.split() if a.endswith(".py")]) for line in lines]


def run(repo: GitRepo, *args: str, tools: str = TOOLS) -> Run:
    return run_json(repo.path, "--tools", tools, *args)


def compared(result: Mapping[str, Any]) -> dict[str, Any]:
    return {key: result[key] for key in COMPARED}


def cached(run: Run) -> dict[str, bool]:
    return {name: bool(r["metadata"].get("cached")) for name, r in run.results.items()}


def test_second_run_with_nothing_changed_starts_no_tool_and_gives_the_same_results(
    repo: GitRepo,
) -> None:
    first = run(repo)
    assert first.proc.returncode == 1  # unused import, shell=True
    assert cached(first) == dict.fromkeys(TOOLS.split(","), False)
    assert sorted(tool for tool, _ in starts(repo)) == sorted(COUNTED)
    assert first.results["ruff"]["errors"] == 1 and first.results["bandit"]["errors"] == 1

    second = run(repo)
    assert second.proc.returncode == first.proc.returncode
    assert cached(second) == dict.fromkeys(TOOLS.split(","), True)
    assert len(starts(repo)) == 2  # no new start of ruff or flake8
    for name, result in first.results.items():
        assert compared(second.results[name]) == compared(result), name
    # The plain progress lines say so.
    for name in TOOLS.split(","):
        line = next(x for x in second.proc.stdout.splitlines() if x.startswith(f"{name} ."))
        assert line.endswith(" (cached)"), line
    assert not any(x.endswith("(cached)") for x in first.proc.stdout.splitlines())


def test_changing_one_file_reruns_file_local_tools_on_that_file_only(repo: GitRepo) -> None:
    run(repo)
    repo.write("pkg/clean.py", '"""Clean no more."""\n\nimport sys\n')
    before = len(starts(repo))
    second = run(repo)
    # In either order: the two may start at the same moment on two workers.
    assert sorted(starts(repo)[before:]) == [
        ("flake8", ["pkg/clean.py"]),
        ("ruff", ["pkg/clean.py"]),
    ]
    for name in ("ruff", "flake8", "black", "isort", "bandit"):
        meta = second.results[name]["metadata"]
        assert [a for a in meta["argv"] if a.endswith(".py")] == ["pkg/clean.py"], name
        assert meta["cached_files"] == len(FILES) - 1, name
    assert second.results["mypy"]["metadata"].get("cached") is None  # project-wide: all again
    # Merged with the cached files, the results are those of a run without the cache.
    fresh = run(repo, "--no-cache")
    assert second.proc.returncode == fresh.proc.returncode == 1
    for name in ("ruff", "flake8", "bandit", "mypy"):
        merged, whole = second.results[name], fresh.results[name]
        assert (merged["status"], merged["errors"], merged["warnings"]) == (
            whole["status"],
            whole["errors"],
            whole["warnings"],
        ), name
        assert merged["diagnostics"] == whole["diagnostics"], name
    assert [d["file"] for d in second.results["ruff"]["diagnostics"]] == [
        "pkg/clean.py",
        "pkg/unused.py",
    ]


def test_changing_a_tools_configuration_reruns_that_tool_only(repo: GitRepo) -> None:
    first = run(repo, tools="ruff,flake8")
    assert [d["code"] for d in first.results["flake8"]["diagnostics"]] == ["F401"]
    repo.write(
        "pyproject.toml",
        "[tool.ruff]\nline-length = 79\n" + PYPROJECT.replace('"F"', '"F", "E501"'),
    )
    before = len(starts(repo))
    second = run(repo, tools="ruff,flake8")
    assert cached(second) == {"ruff": False, "flake8": True}
    [(tool, files)] = starts(repo)[before:]
    assert (tool, sorted(files)) == ("ruff", sorted(FILES))  # every file again
    assert [(d["file"], d["code"]) for d in second.results["ruff"]["diagnostics"]] == [
        ("pkg/long.py", "E501"),
        ("pkg/unused.py", "F401"),
    ]

    repo.write("setup.cfg", SETUP_CFG.replace("100", "79"))
    before = len(starts(repo))
    third = run(repo, tools="ruff,flake8")
    assert cached(third) == {"ruff": True, "flake8": False}
    assert [tool for tool, _ in starts(repo)[before:]] == ["flake8"]
    assert [(d["file"], d["code"]) for d in third.results["flake8"]["diagnostics"]] == [
        ("pkg/long.py", "E501"),
        ("pkg/unused.py", "F401"),
    ]


def test_no_cache_runs_every_tool_and_leaves_the_cache_alone(repo: GitRepo) -> None:
    run(repo, tools="ruff,flake8,black")
    before = len(starts(repo))
    uncached = run(repo, "--no-cache", tools="ruff,flake8,black")
    assert cached(uncached) == {"ruff": False, "flake8": False, "black": False}
    assert len(starts(repo)) == before + 2
    # Nor does it write: after a clear and a --no-cache run the cache is still empty.
    assert huskycat(repo.path, "cache", "clear").returncode == 0
    run(repo, "--no-cache", tools="ruff,flake8,black")
    assert huskycat(repo.path, "cache", "clear").stdout == "huskycat: removed 0 cached entries\n"


def test_cache_clear_empties_the_cache(repo: GitRepo) -> None:
    run(repo, tools="ruff,flake8")
    cleared = huskycat(repo.path, "cache", "clear")
    assert cleared.returncode == 0
    assert re.fullmatch(r"huskycat: removed [1-9]\d* cached entries\n", cleared.stdout)
    before = len(starts(repo))
    again = run(repo, tools="ruff,flake8")
    assert cached(again) == {"ruff": False, "flake8": False}
    assert len(starts(repo)) == before + 2


def test_a_tool_that_could_not_do_its_work_is_not_replayed(repo: GitRepo) -> None:
    repo.write("pyproject.toml", '[tool.ruff.lint]\nselect = ["NOSUCHRULE"]\n')
    first = run(repo, tools="ruff,flake8")
    assert first.results["ruff"]["metadata"]["outcome"] == "error"
    second = run(repo, tools="ruff,flake8")
    assert second.proc.returncode == 1
    assert cached(second) == {"ruff": False, "flake8": True}
    assert [tool for tool, _ in starts(repo)].count("ruff") == 2


def test_live_view_shows_replayed_tools_as_cached(repo: GitRepo) -> None:
    run(repo, tools="ruff,flake8")
    code, text = run_in_terminal(["run", "--tools", "ruff,flake8"], cwd=repo.path)
    assert code == 1
    lines = re.split(r"[\r\n]+", text)  # the table is redrawn in place
    assert any(re.fullmatch(r"ruff +failed 1 error 0\.\d\ds \(cached\) *", x) for x in lines), text
    assert any(
        re.fullmatch(r"flake8 +failed 1 error 0\.\d\ds \(cached\) *", x) for x in lines
    ), text


def test_a_run_killed_mid_way_leaves_a_cache_the_next_run_uses(repo: GitRepo) -> None:
    # A run writes its entries in one transaction when it ends: a killed run adds none,
    # and leaves what earlier runs stored whole.
    run(repo, tools="ruff")
    marks = repo.path.parent / "marks"
    marks.mkdir()
    hang = f"echo $$ > {marks}/sh.pid; sleep 60 & echo $! > {marks}/sleep.pid; wait"
    config = (repo.path / "huskycat.toml").read_text()
    # Ordered after ruff, so that ruff's result is stored before it starts.
    config += f'[tools.hang]\ncommand = {json.dumps(["sh", "-c", hang])}\nafter = ["ruff"]\n'
    repo.write("huskycat.toml", config)
    proc = subprocess.Popen(
        [sys.executable, "-m", "huskycat", "run", "--tools", "ruff,hang", "--jobs", "1"],
        cwd=repo.path,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 30
        while not ((marks / "sleep.pid").exists() and (marks / "sleep.pid").read_text()):
            assert proc.poll() is None and time.monotonic() < deadline
            time.sleep(0.05)
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
    finally:
        try:
            os.killpg(int((marks / "sh.pid").read_text()), signal.SIGKILL)
        except (ProcessLookupError, ValueError, FileNotFoundError):
            pass
    assert [tool for tool, _ in starts(repo)] == ["ruff"]  # the killed run replayed ruff
    after = run(repo, tools="ruff,flake8")
    assert "unusable" not in after.proc.stderr
    assert after.proc.returncode == 1
    assert cached(after) == {"ruff": True, "flake8": False}
    assert after.results["ruff"]["errors"] == 1
    again = run(repo, tools="ruff,flake8")
    assert cached(again) == {"ruff": True, "flake8": True}
    assert [tool for tool, _ in starts(repo)] == ["ruff", "flake8"]


def test_the_cache_lives_in_the_git_directory(repo: GitRepo) -> None:
    run(repo, tools="ruff")
    folder = repo.path / ".git" / "huskycat" / "cache"
    assert (folder / "results.db").is_file()
    shutil.rmtree(folder)  # a cache deleted by hand is only a cold cache
    assert cached(run(repo, tools="ruff")) == {"ruff": False}


def test_cache_stats_shows_entries_size_and_the_last_run_s_hits_and_misses(
    repo: GitRepo,
) -> None:
    empty = huskycat(repo.path, "cache", "stats")
    assert empty.returncode == 0, empty.stderr
    assert "entries:    0\n" in empty.stdout and "last run:   none recorded" in empty.stdout
    run(repo, tools="ruff,flake8")
    repo.write("pkg/clean.py", '"""Clean."""\n\nVALUE = 2\n')
    run(repo, tools="ruff,flake8")
    stats = huskycat(repo.path, "cache", "stats")
    assert stats.returncode == 0, stats.stderr
    assert re.search(r"^entries: +[1-9]\d*$", stats.stdout, re.MULTILINE), stats.stdout
    assert re.search(r"^size: +[\d.]+ (bytes|KiB|MiB) on disk", stats.stdout, re.MULTILINE)
    # Six Python files, one changed, two file-local tools.
    assert re.search(
        r"^last run: +10 hits, 2 misses \(83% hits\)", stats.stdout, re.MULTILINE
    ), stats.stdout
