"""``huskycat run --cluster``: the same repository checked with threads and on a Dask
cluster gives the same results, diagnostics and files; bad cluster names, a missing
Dask and workers that see other files are errors that name the value and its source."""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path
from typing import Any

import pytest

from huskycat.distributed.cluster import ClusterSetupError, check_shared, tree_digest
from tests.conftest import (
    GitRepo,
    huskycat,
    load_report,
    make_repo,
    results_by_tool,
    run_in_terminal,
)

from .dask_fixtures import PROCESS_WORKERS, ProcessCluster, dask_processes

__all__ = ["dask_processes"]  # the fixture, imported for pytest

TOOLS = "black,isort,ruff,flake8,yamllint"
PYPROJECT = '[tool.ruff.lint]\nselect = ["E9", "F", "I"]\n'


def fill(repo: GitRepo) -> None:
    repo.write("pyproject.toml", PYPROJECT)
    repo.write("pkg/__init__.py", "")
    repo.write("pkg/a.py", "import sys\nimport os\nx=1\n")
    repo.write("pkg/b.py", "def f( a ):\n  return a\n")
    repo.write("pkg/c.py", "VALUE = 3\n")
    repo.write("conf/x.yaml", "a: 1\nb:   [1,2]\n")
    repo.commit("start")


def summary(report: dict[str, Any]) -> dict[str, Any]:
    """What must not depend on where the tools ran."""
    return {
        name: (r["status"], r["errors"], r["warnings"], r["diagnostics"])
        for name, r in results_by_tool(report).items()
    }


def files_of(repo: GitRepo) -> dict[str, str]:
    """The contents of the files git tracks."""
    return {name: (repo.path / name).read_text() for name in repo.git("ls-files").split()}


def test_fix_on_the_cluster_gives_the_same_results_and_files_as_threads(
    tmp_path: Path, dask_processes: ProcessCluster
) -> None:
    dask_processes.client.wait_for_workers(PROCESS_WORKERS, timeout=60)
    here, there = make_repo(tmp_path / "threads"), make_repo(tmp_path / "cluster")
    fill(here)
    fill(there)
    args = ["run", "--all-files", "--fix", "--tools", TOOLS, "--no-progress"]
    local = huskycat(here.path, *args, "--json", str(tmp_path / "threads.json"))
    remote = huskycat(
        there.path,
        *args,
        "--json",
        str(tmp_path / "cluster.json"),
        "--cluster",
        dask_processes.address,
    )
    assert local.returncode == remote.returncode == 1, remote.stderr
    assert summary(load_report(tmp_path / "threads.json")) == summary(
        load_report(tmp_path / "cluster.json")
    )
    assert files_of(here) == files_of(there)
    assert files_of(there)["pkg/b.py"] == "def f(a):\n    return a\n"


def test_the_cache_stays_on_the_client_and_replays_on_the_next_cluster_run(
    git_repo: GitRepo, tmp_path: Path, dask_processes: ProcessCluster
) -> None:
    fill(git_repo)
    args = ["run", "--all-files", "--tools", TOOLS, "--no-progress"]
    env = {**os.environ, "HUSKYCAT_CLUSTER": dask_processes.address}
    first = huskycat(git_repo.path, *args, "--json", str(tmp_path / "1.json"), env=env)
    second = huskycat(git_repo.path, *args, "--json", str(tmp_path / "2.json"), env=env)
    assert first.returncode == second.returncode == 1, first.stderr
    assert (git_repo.path / ".git" / "huskycat" / "cache").is_dir()
    again = results_by_tool(load_report(tmp_path / "2.json"))
    assert all(r["metadata"].get("cached") for r in again.values()), again
    assert summary(load_report(tmp_path / "1.json")) == summary(load_report(tmp_path / "2.json"))


def test_a_local_cluster_of_worker_processes_runs_the_tools(git_repo: GitRepo) -> None:
    fill(git_repo)
    proc = huskycat(git_repo.path, "run", "--tools", "ruff,yamllint", "--cluster", "local:2")
    assert proc.returncode == 1, proc.stderr
    assert "F401" in proc.stdout
    assert "0 passed, 2 failed" in proc.stdout
    assert proc.stderr == ""


@pytest.mark.parametrize(
    ("where", "value", "message"),
    [
        ("option", "tcp://nowhere", "--cluster 'tcp://nowhere' is not a cluster"),
        ("env", "locale:3", "HUSKYCAT_CLUSTER 'locale:3' is not a cluster"),
        ("config", "udp://x:1", "configuration key 'cluster' 'udp://x:1' is not a cluster"),
        ("config", 3, "pyproject.toml: tool.huskycat.cluster: must be 'local'"),
    ],
)
def test_a_bad_cluster_name_exits_2_naming_it_and_its_source(
    git_repo: GitRepo, where: str, value: object, message: str
) -> None:
    fill(git_repo)
    args = ["run", "--tools", "ruff"]
    env = dict(os.environ)
    env.pop("HUSKYCAT_CLUSTER", None)
    if where == "option":
        args += ["--cluster", str(value)]
    elif where == "env":
        env["HUSKYCAT_CLUSTER"] = str(value)
    else:
        shown = f'"{value}"' if isinstance(value, str) else str(value)
        git_repo.write("pyproject.toml", f"{PYPROJECT}[tool.huskycat]\ncluster = {shown}\n")
    proc = huskycat(git_repo.path, *args, env=env)
    assert proc.returncode == 2
    assert message in proc.stderr
    assert "Traceback" not in proc.stderr


def test_without_dask_a_cluster_exits_2_naming_the_install_command(
    git_repo: GitRepo, tmp_path: Path
) -> None:
    fill(git_repo)
    hidden = tmp_path / "no-dask" / "dask"
    hidden.mkdir(parents=True)
    (hidden / "__init__.py").write_text("raise ImportError('dask is not installed here')\n")
    env = {**os.environ, "PYTHONPATH": str(hidden.parent)}
    proc = huskycat(git_repo.path, "run", "--cluster", "local:2", env=env)
    assert proc.returncode == 2
    assert "pip install 'huskycat[dask]'" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_an_unreachable_scheduler_exits_2_naming_it(git_repo: GitRepo) -> None:
    fill(git_repo)
    proc = huskycat(git_repo.path, "run", "--cluster", "tcp://127.0.0.1:9")
    assert proc.returncode == 2
    assert "cannot reach the Dask scheduler at 'tcp://127.0.0.1:9'" in proc.stderr


def test_workers_that_see_other_files_fail_the_shared_check_loudly(
    git_repo: GitRepo, dask_processes: ProcessCluster, monkeypatch: pytest.MonkeyPatch
) -> None:
    from huskycat.core.dask_backend import DaskBackend

    fill(git_repo)
    backend = DaskBackend(dask_processes.client)
    files = ["pkg/a.py", "pkg/b.py"]
    check_shared(backend, git_repo.path, files)  # absolute: the same files everywhere
    # A relative root resolves against each process's own folder: here, the repository;
    # on the workers, wherever they were started. Their view differs, and it says so.
    monkeypatch.chdir(git_repo.path)
    assert tree_digest(".", files) == tree_digest(str(git_repo.path), files)
    with pytest.raises(ClusterSetupError, match=r"2 of 2 workers see '\.' differently"):
        check_shared(backend, Path("."), files)
    shutil.rmtree(git_repo.path / "pkg")


def test_the_live_view_shows_a_cluster_runs_tools_as_they_finish(
    git_repo: GitRepo, dask_processes: ProcessCluster
) -> None:
    fill(git_repo)
    args = ["run", "--tools", "ruff,yamllint,black", "--cluster", dask_processes.address]
    code, text = run_in_terminal(args, cwd=git_repo.path)
    assert code == 1
    lines = re.split(r"[\r\n]+", text)  # the table is redrawn in place
    for tool in ("ruff", "yamllint", "black"):
        assert any(re.match(rf"{tool} +failed \d+ error", line) for line in lines), text
    assert "0 passed, 3 failed, 0 timed out, 0 skipped" in text
