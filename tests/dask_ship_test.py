"""``--cluster-files ship``: the run's files packed once, sent to workers that lack them,
unpacked atomically; fixers work on private copies and their changes come back to the
client; tools are checked for the same versions on every worker."""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path
from typing import Any

import pytest

from huskycat.config import ToolConfig
from huskycat.core.dask_backend import DaskBackend
from huskycat.distributed.ship import pack, ship, ship_dir
from huskycat.distributed.versions import VersionMismatch, check_versions
from huskycat.planning import custom_spec
from tests.conftest import GitRepo, huskycat, load_report, make_repo, results_by_tool

from .dask_fixtures import PROCESS_WORKERS, VERSION_TOOL, ProcessCluster, dask_processes

__all__ = ["dask_processes"]  # the fixture, imported for pytest

WHERE = """\
[tool.huskycat.tools.where]   # prints the folder it runs in
command = ["python", "-c", "import os; print('ran in', os.getcwd())"]
pass_filenames = false
types = ["python"]
"""


def fill(repo: GitRepo) -> None:
    repo.write("pyproject.toml", '[tool.ruff.lint]\nselect = ["E9", "F", "I"]\n' + WHERE)
    repo.write("pkg/__init__.py", "")
    repo.write("pkg/a.py", "import sys\nimport os\nx=1\n")
    repo.write("pkg/b.py", "def f( a ):\n  return a\n")
    repo.write("run.sh", "#!/bin/sh\necho hi\n", executable=True)
    repo.commit("start")


def essentials(report: dict[str, Any]) -> dict[str, Any]:
    return {
        n: (r["status"], r["errors"], r["diagnostics"], r["metadata"].get("modified_files"))
        for n, r in results_by_tool(report).items()
        if n != "where"
    }


def tracked(repo: GitRepo) -> dict[str, str]:
    return {name: (repo.path / name).read_text() for name in repo.git("ls-files").split()}


def test_a_shipped_fix_run_changes_the_clients_files_as_a_local_run_does(
    tmp_path: Path, dask_processes: ProcessCluster
) -> None:
    dask_processes.client.wait_for_workers(PROCESS_WORKERS, timeout=60)
    here, there = make_repo(tmp_path / "local"), make_repo(tmp_path / "shipped")
    fill(here)
    fill(there)
    tools = ["--tools", "black,isort,autoflake,ruff,flake8,where", "--no-progress"]
    local = huskycat(here.path, "run", "--fix", *tools, "--json", str(tmp_path / "l.json"))
    shipped = huskycat(
        there.path,
        "run",
        "--fix",
        *tools,
        "--json",
        str(tmp_path / "s.json"),
        "--cluster",
        dask_processes.address,
        "--cluster-files",
        "ship",
    )
    assert local.returncode == shipped.returncode == 1, shipped.stderr
    assert essentials(load_report(tmp_path / "l.json")) == essentials(
        load_report(tmp_path / "s.json")
    )
    assert tracked(here) == tracked(there)
    assert tracked(there)["pkg/b.py"] == "def f(a):\n    return a\n"
    where = results_by_tool(load_report(tmp_path / "s.json"))["where"]["output"]
    assert "ran in" in where and str(there.path) not in where  # in the shipped copy


def test_a_tree_is_sent_once_and_unpacked_whole(
    git_repo: GitRepo, dask_processes: ProcessCluster
) -> None:
    fill(git_repo)
    backend = DaskBackend(dask_processes.client)
    files = ["pkg/a.py", "pkg/b.py", "run.sh", "pyproject.toml"]
    first = ship(backend, git_repo.path, files)
    again = ship(backend, git_repo.path, files)
    assert first.key == again.key and again.sent_to == 0
    tree = ship_dir() / first.key
    assert (tree / "pkg" / "b.py").read_text() == "def f( a ):\n  return a\n"
    assert os.access(tree / "run.sh", os.X_OK)
    assert not [p for p in tree.parent.iterdir() if p.name.startswith(f"{first.key}.tmp-")]
    (git_repo.path / "pkg" / "b.py").write_text("changed\n")
    assert pack(git_repo.path, files)[0] != first.key  # content-addressed


def test_a_tool_of_another_version_on_the_workers_is_an_error_before_anything_runs(
    tmp_path: Path, dask_processes: ProcessCluster, monkeypatch: pytest.MonkeyPatch
) -> None:
    mine = tmp_path / "bin" / VERSION_TOOL
    mine.parent.mkdir()
    mine.write_text(f"#!/bin/sh\necho {VERSION_TOOL} 1.0.0\n")
    mine.chmod(0o755)
    monkeypatch.setenv("PATH", f"{mine.parent}{os.pathsep}{os.environ['PATH']}")
    spec = dataclasses.replace(
        custom_spec(VERSION_TOOL, ToolConfig(command=(VERSION_TOOL,))),
        version_args=("--version",),
    )
    backend = DaskBackend(dask_processes.client)
    with pytest.raises(VersionMismatch, match=rf"{VERSION_TOOL} 2\.0\.0 on tcp://127\.0\.0\.1"):
        check_versions(backend, {VERSION_TOOL: spec}, tmp_path)


def test_ship_without_a_cluster_exits_2(git_repo: GitRepo) -> None:
    fill(git_repo)
    proc = huskycat(git_repo.path, "run", "--cluster-files", "ship")
    assert proc.returncode == 2
    assert "--cluster-files ship needs a cluster: give --cluster too" in proc.stderr
