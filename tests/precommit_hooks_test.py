"""Hook repositories of our own: a script hook and a python hook with additional
dependencies, fetched from a local git repository at a rev; repeated ids; the result
cache; hooks on disjoint files running at the same time."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

MANIFEST = """\
-   id: shout
    name: shout
    entry: shout.sh
    language: script
    files: \\.txt$
-   id: pyhook
    name: python hook
    entry: pyhook
    language: python
    types: [python]
-   id: sleepy
    name: sleepy
    entry: sleepy.sh
    language: script
"""

SETUP = """\
from setuptools import setup
setup(name="pyhook", version="1.0", py_modules=["pyhook"],
      entry_points={"console_scripts": ["pyhook = pyhook:main"]})
"""

PYHOOK = """\
import sys
def main():
    import six  # an additional dependency
    bad = [f for f in sys.argv[1:] if "BAD" in open(f).read()]
    for name in bad:
        print(f"{name}: BAD (six {six.__version__})")
    return 1 if bad else 0
"""


def _git(cwd: Path, *args: str) -> str:
    return subprocess.run(
        ["git", *args], cwd=cwd, check=True, capture_output=True, text=True
    ).stdout


def _init(path: Path) -> None:
    path.mkdir(parents=True)
    _git(path, "init", "-q")
    _git(path, "config", "user.email", "t@example.com")
    _git(path, "config", "user.name", "t")


@pytest.fixture(scope="module")
def hook_repo(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    repo = tmp_path_factory.mktemp("hookrepo") / "hooks"
    _init(repo)
    (repo / ".pre-commit-hooks.yaml").write_text(MANIFEST)
    (repo / "setup.py").write_text(SETUP)
    (repo / "pyhook.py").write_text(PYHOOK)
    shout = repo / "shout.sh"
    shout.write_text(
        '#!/bin/sh\nfor f in "$@"; do tr a-z A-Z < "$f" > "$f.new"; mv "$f.new" "$f"; done\n'
    )
    shout.chmod(0o755)
    sleepy = repo / "sleepy.sh"
    sleepy.write_text("#!/bin/sh\nsleep 1\n")
    sleepy.chmod(0o755)
    _git(repo, "add", "-A")
    _git(repo, "commit", "-qm", "hooks")
    return repo, _git(repo, "rev-parse", "HEAD").strip()


@pytest.fixture(scope="module")
def cache_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("xdg")


def _project(tmp_path: Path, config: str) -> Path:
    root = tmp_path / "project"
    _init(root)
    (root / ".pre-commit-config.yaml").write_text(config)
    (root / "a.txt").write_text("quiet\n")
    (root / "ok.py").write_text("x = 1\n")
    (root / "bad.py").write_text("# BAD\n")
    _git(root, "add", "-A")
    _git(root, "commit", "-qm", "base")
    return root


def _run(root: Path, cache_home: Path, *args: str, ci: bool = False) -> tuple[int, dict, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("CI", "VIRTUAL_ENV")}
    env["XDG_CACHE_HOME"] = str(cache_home)
    if ci:
        env["CI"] = "true"
    report = root.parent / "report.json"
    proc = subprocess.run(
        [sys.executable, "-m", "huskycat", "run", "--no-progress", "--json", str(report), *args],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    data = json.loads(report.read_text()) if report.exists() else {}
    return proc.returncode, data, proc.stdout + proc.stderr


def _status(data: dict) -> dict[str, str]:
    return {r["tool_name"]: r["status"] for r in data["results"]}


def test_script_and_python_hooks_from_a_repository_at_a_rev(
    tmp_path: Path, hook_repo: tuple[Path, str], cache_home: Path
) -> None:
    repo, rev = hook_repo
    config = f"""\
repos:
-   repo: {repo}
    rev: {rev}
    hooks:
    -   id: shout
    -   id: pyhook
        additional_dependencies: [six]
    -   id: pyhook
        files: ^ok
        additional_dependencies: [six]
"""
    root = _project(tmp_path, config)
    code, data, output = _run(root, cache_home, "--all-files")
    assert code == 1, output
    assert _status(data) == {"shout": "failed", "pyhook": "failed", "pyhook#2": "success"}
    assert (root / "a.txt").read_text() == "QUIET\n"
    assert "bad.py: BAD (six " in output
    assert "installing" in output and "installed" in output  # the first run says so

    # Second run: the fix is in, the environment is there, the results replay.
    _git(root, "add", "-A")
    code, data, output = _run(root, cache_home, "--all-files")
    assert _status(data) == {"shout": "success", "pyhook": "failed", "pyhook#2": "success"}
    assert "installing" not in output
    code, data, output = _run(root, cache_home, "--all-files")
    cached = {r["tool_name"]: r["metadata"].get("cached") for r in data["results"]}
    assert cached == {"shout": True, "pyhook": True, "pyhook#2": True}
    assert code == 1 and "bad.py: BAD" in output  # a replayed failure still fails

    # A changed file is checked again.
    (root / "bad.py").write_text("# good now\n")
    code, data, _ = _run(root, cache_home, "--all-files")
    assert code == 0 and _status(data)["pyhook"] == "success"


def test_hooks_on_disjoint_files_run_at_the_same_time(
    tmp_path: Path, hook_repo: tuple[Path, str], cache_home: Path
) -> None:
    repo, rev = hook_repo
    config = f"""\
repos:
-   repo: {repo}
    rev: {rev}
    hooks:
    -   id: sleepy
        files: \\.txt$
        huskycat_own_files_only: true
    -   id: sleepy
        files: \\.py$
        huskycat_own_files_only: true
    -   id: sleepy
        files: ^a\\.txt$
        huskycat_own_files_only: true
"""
    root = _project(tmp_path, config)
    code, data, _ = _run(root, cache_home, "--all-files", "--no-cache", "-j", "3")
    assert code == 0
    times = data["statistics"]["tool_times"]
    first, second, third = times["sleepy"], times["sleepy#2"], times["sleepy#3"]
    assert second["start"] < first["end"] and first["start"] < second["end"]  # disjoint
    assert third["start"] >= first["end"]  # shares a.txt with the first: after it


def test_environment_that_fails_is_a_skip_outside_ci_and_a_failure_in_ci(
    tmp_path: Path, hook_repo: tuple[Path, str], cache_home: Path
) -> None:
    repo, rev = hook_repo
    config = f"""\
repos:
-   repo: {repo}
    rev: {rev}
    hooks:
    -   id: pyhook
        additional_dependencies: ["./no/such/package"]
"""
    root = _project(tmp_path, config)
    code, data, output = _run(root, cache_home, "--all-files")
    assert _status(data) == {"pyhook": "skipped"}
    assert code == 1  # nothing ran at all
    assert "1 applicable tool did not run" in output
    code, data, output = _run(root, cache_home, "--all-files", ci=True)
    assert code == 1 and _status(data) == {"pyhook": "failed"}
    assert "huskycat install-hooks" in output


def test_hook_writing_a_file_it_was_not_given_fails_as_in_pre_commit(
    tmp_path: Path, cache_home: Path
) -> None:
    """pre-commit diffs the whole tree around each hook: a hook given a.txt that writes
    b.txt fails, and the next hook sees b.txt as changed. Compared with pre-commit itself;
    the hook may write anywhere (not known to write only its own files), so it ran alone."""
    config = """\
repos:
-   repo: local
    hooks:
    -   id: sneaky
        name: sneaky
        entry: python3 -c "open('b.txt', 'a').write('more\\\\n')"
        language: system
        files: ^a\\.txt$
    -   id: reads
        name: reads
        entry: grep -q more
        language: system
        files: ^b\\.txt$
"""
    root = _project(tmp_path, config)
    (root / "a.txt").write_text("a\n")
    (root / "b.txt").write_text("b\n")
    git = ["git", "-c", "user.name=t", "-c", "user.email=t@t.invalid"]
    subprocess.run([*git, "add", "-A"], cwd=root, check=True)
    subprocess.run([*git, "commit", "-qm", "files", "--no-verify"], cwd=root, check=True)
    env = {k: v for k, v in os.environ.items() if k not in ("CI", "VIRTUAL_ENV")}
    env["PRE_COMMIT_HOME"] = str(tmp_path / "pre-commit-home")
    theirs = subprocess.run(
        [os.path.join(os.path.dirname(sys.executable), "pre-commit"), "run", "--all-files"],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    their_bytes = (root / "b.txt").read_bytes()
    subprocess.run(["git", "checkout", "-q", "--", "."], cwd=root, check=True)
    code, data, output = _run(root, cache_home, "--all-files", "--no-cache", "-j", "2")
    assert their_bytes == (root / "b.txt").read_bytes() == b"b\nmore\n"
    assert theirs.returncode == code == 1, output
    assert "sneaky" in theirs.stdout and "Failed" in theirs.stdout.split("sneaky")[1]
    assert "Passed" in theirs.stdout.split("reads")[-1]
    assert _status(data) == {"sneaky": "failed", "reads": "success"}, output
    sneaky = next(r for r in data["results"] if r["tool_name"] == "sneaky")
    assert sneaky["metadata"]["modified_files"] == ["b.txt"]


def test_cluster_runs_are_refused_at_once_with_one_line_tools_and_graph_show_hooks(
    tmp_path: Path, cache_home: Path
) -> None:
    config = """\
repos:
-   repo: local
    hooks:
    -   id: ok
        name: ok
        entry: "true"
        language: system
"""
    root = _project(tmp_path, config)
    env = {k: v for k, v in os.environ.items() if k not in ("CI", "VIRTUAL_ENV")}
    env["XDG_CACHE_HOME"] = str(cache_home)
    proc = subprocess.run(
        [sys.executable, "-m", "huskycat", "run", "--all-files", "--cluster", "local:1"],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert proc.returncode == 2
    assert proc.stderr == (
        "huskycat: error: --cluster: the hooks of .pre-commit-config.yaml run only locally;"
        " run without --cluster\n"
    )
    tools = subprocess.run(
        [sys.executable, "-m", "huskycat", "tools"],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert tools.returncode == 0, tools.stderr
    assert tools.stdout.startswith("ok ") and "4 files" in tools.stdout
    graph = subprocess.run(
        [sys.executable, "-m", "huskycat", "graph", "--format", "dot"],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert graph.returncode == 0 and '"ok"' in graph.stdout, graph.stdout + graph.stderr
