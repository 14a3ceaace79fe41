"""Monorepos: folders with their own configuration are projects, run in one graph."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from huskycat.projects import find_projects, owner, selected_projects

SHOW = """\
disable = ["mypy", "bandit", "flake8", "isort", "autoflake", "black"]

[tools.show]
command = ["sh", "-c", "pwd; echo \\"$@\\"", "show"]
types = ["python"]
"""
HOOKS = """\
repos:
-   repo: local
    hooks:
    -   id: where
        name: where
        entry: sh -c 'pwd; echo "$@"; exit 1' where
        language: system
        types: [python]
"""
ROOT = '[tool.huskycat]\ndisable = ["mypy", "bandit", "flake8", "isort", "autoflake", "black"]\n'


def test_projects_are_folders_with_a_configuration(tmp_path: Path) -> None:
    (tmp_path / "lib").mkdir()
    (tmp_path / "lib/pyproject.toml").write_text("[tool.huskycat]\n")
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs/pyproject.toml").write_text("[project]\nname = 'x'\n")
    names = [
        "a/huskycat.toml",
        "a/b/.huskycat.toml",
        "c/.pre-commit-config.yaml",
        "lib/pyproject.toml",
        "docs/pyproject.toml",  # no [tool.huskycat]: not a project
        "x.py",
    ]
    projects = find_projects(tmp_path, names)
    assert projects == ["", "a", "a/b", "c", "lib"]
    assert owner("a/b/x.py", projects) == "a/b"
    assert owner("a/bb/x.py", projects) == "a"
    assert owner("docs/x.py", projects) == ""
    assert selected_projects(projects, tmp_path, here=tmp_path / "a" / "q", chosen=None) == [
        "a",
        "a/b",
    ]
    assert selected_projects(projects, tmp_path, here=tmp_path, chosen=str(tmp_path / "c")) == ["c"]


@pytest.fixture
def mono(tmp_path: Path) -> Path:
    root = tmp_path / "mono"
    files = {
        "pyproject.toml": ROOT,
        "top.py": "top = 1\n",
        "c/z.py": "import os\n",  # no configuration in c: the root's
        "a/huskycat.toml": SHOW,
        "a/pkg/x.py": "import os\n",
        "a/inner/huskycat.toml": SHOW,
        "a/inner/y.py": "y = 1\n",
        "b/.pre-commit-config.yaml": HOOKS,
        "b/w.py": "w = 1\n",
    }
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)
    for args in (["init", "-q"], ["add", "-A"]):
        subprocess.run(["git", *args], cwd=root, check=True)
    return root


def _run(cwd: Path, *args: str) -> tuple[int, dict[str, dict], str]:
    report = cwd / "report.json"
    proc = subprocess.run(
        [sys.executable, "-m", "huskycat", "run", "--no-progress", "--json", str(report), *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        check=False,
        env={k: v for k, v in os.environ.items() if k != "CI"},
    )
    results = {}
    if report.exists():
        results = {r["tool_name"]: r for r in json.loads(report.read_text())["results"]}
        report.unlink()
    return proc.returncode, results, proc.stdout + proc.stderr


def test_each_project_runs_its_own_tools_in_its_folder_on_its_files(mono: Path) -> None:
    code, results, output = _run(mono, "--skip", "yamllint,taplo", "-v")
    assert code == 1, output
    ran = {n for n, r in results.items() if r["status"] != "skipped"}
    assert ran == {"ruff", "a: ruff", "a: show", "a/inner: ruff", "a/inner: show", "b: where"}
    assert f"{mono / 'a'}\npkg/x.py" in output  # a's show: cwd a, its own file only
    assert f"{mono / 'a/inner'}\ny.py" in output
    assert f"{mono / 'b'}\nw.py" in output  # the pre-commit project's hook
    # The root's ruff sees the root's files (c/z.py), not the projects' files.
    files = {d["file"] for d in results["ruff"]["diagnostics"]}
    assert files == {"c/z.py"}
    assert {d["file"] for d in results["a: ruff"]["diagnostics"]} == {"a/pkg/x.py"}


def test_run_inside_a_project_runs_it_and_the_ones_below(mono: Path) -> None:
    _, results, _ = _run(mono / "a", "--tools", "show")
    assert set(results) == {"a: show", "a/inner: show"}
    _, results, _ = _run(mono / "a", "--project", str(mono / "b"))
    assert set(results) == {"b: where"}
    code, _, output = _run(mono, "--project", "nope")
    assert code == 2 and "--project 'nope' is not a project" in output


def test_fixes_are_named_from_the_root_and_staged(mono: Path) -> None:
    _, results, output = _run(mono, "--tools", "ruff", "--fix", "--stage-fixes")
    assert results["a: ruff"]["metadata"]["modified_files"] == ["a/pkg/x.py"], output
    assert (mono / "a/pkg/x.py").read_text() == ""
    staged = subprocess.run(
        ["git", "diff", "--cached", "--name-only"],
        cwd=mono,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    assert "a/pkg/x.py" in staged and "c/z.py" in staged


def _cli(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "huskycat", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        check=False,
        env={k: v for k, v in os.environ.items() if k != "CI"},
    )


def test_tools_and_graph_show_every_projects_tools_and_hooks(mono: Path) -> None:
    tools = _cli(mono, "tools")
    assert tools.returncode == 0, tools.stderr
    names = {line.split(" ")[0] for line in tools.stdout.splitlines()}
    assert {"ruff", "a:", "a/inner:", "b:"} <= names
    assert any(
        line.startswith("b: where") and "1 file" in line for line in tools.stdout.splitlines()
    )
    assert any(line.startswith("a: show ") for line in tools.stdout.splitlines())
    graph = _cli(mono, "graph", "--format", "mermaid")
    assert graph.returncode == 0, graph.stderr
    assert "b: where" in graph.stdout and "a/inner: show" in graph.stdout


def test_a_projects_require_tools_and_pins_count(mono: Path) -> None:
    # chapel-format is not installed here (nor anywhere pip reaches).
    (mono / "d").mkdir()
    (mono / "d/huskycat.toml").write_text("require_tools = true\n")
    (mono / "d/q.chpl").write_text("writeln(1);\n")
    (mono / "e").mkdir()
    (mono / "e/huskycat.toml").write_text("")
    (mono / "e/q.chpl").write_text("writeln(1);\n")
    subprocess.run(["git", "add", "-A"], cwd=mono, check=True)
    code, results, output = _run(mono, "--tools", "chapel-format,where")
    assert results["d: chapel-format"]["status"] == "failed", output
    assert "required" in results["d: chapel-format"]["error_message"]
    assert results["e: chapel-format"]["status"] == "skipped"  # e does not require it
    assert code == 1
    # install-hooks reads every project's pins, not only the root's.
    (mono / "d/huskycat.toml").write_text('[tools.helm-lint]\nversion = "3.0.0"\n')
    proc = _cli(mono, "install-hooks")
    assert proc.returncode == 1
    assert "huskycat: d: tools.helm-lint.version:" in proc.stderr
