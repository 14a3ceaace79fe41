from __future__ import annotations

import os
import shutil
import stat
import subprocess
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from huskycat import hook
from huskycat.hook import HookError, install, is_huskycat_hook, uninstall

if TYPE_CHECKING:  # tests/ may or may not be a package; only mypy imports this
    from tests.conftest import GitRepo

FAKE_PYTHON = """\
#!/bin/sh
# Stands in for the interpreter: records its arguments, exits as told.
printf '%s\\n' "$@" > "$HUSKYCAT_TEST_LOG"
exit "${HUSKYCAT_TEST_EXIT:-0}"
"""


@pytest.fixture
def log(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "calls.log"
    monkeypatch.setenv("HUSKYCAT_TEST_LOG", str(path))
    return path


@pytest.fixture
def fake_python(tmp_path: Path) -> Path:
    path = tmp_path / "bin dir" / "python"
    path.parent.mkdir()
    path.write_text(FAKE_PYTHON)
    path.chmod(0o755)
    return path


def _hooks(repo: GitRepo) -> Path:
    return repo.path / ".git" / "hooks"


def _commit(repo: GitRepo) -> subprocess.CompletedProcess[str]:
    repo.write("a.py", "x = 1\n")
    repo.add("a.py")
    return subprocess.run(
        ["git", "commit", "-q", "-m", "msg"],
        cwd=repo.path,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        check=False,
    )


def test_install_writes_an_executable_marked_script(git_repo: GitRepo) -> None:
    path = install(git_repo.path)
    assert path == _hooks(git_repo) / "pre-commit"
    assert path.stat().st_mode & stat.S_IXUSR
    text = path.read_text()
    assert text.startswith("#!/bin/sh\n")
    assert "# huskycat-hook" in text
    assert f"PY={sys.executable}" in text or f"PY='{sys.executable}'" in text
    assert "set -- run --staged" in text
    assert is_huskycat_hook(path)


@pytest.mark.parametrize("name", hook.HOOKS)
def test_generated_script_is_valid_sh(git_repo: GitRepo, name: str) -> None:
    path = install(git_repo.path, name, python="/odd 'path'/with $dollar/python")
    proc = subprocess.run(["sh", "-n", str(path)], capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stderr


def test_install_twice_replaces_our_own_hook(git_repo: GitRepo) -> None:
    install(git_repo.path, python="/first/python")
    path = install(git_repo.path, python="/second/python")
    assert "/second/python" in path.read_text()
    assert not (_hooks(git_repo) / "pre-commit.legacy").exists()
    assert sorted(p.name for p in _hooks(git_repo).iterdir() if not p.name.endswith(".sample")) == [
        "pre-commit"
    ]


def test_install_refuses_a_foreign_hook_without_force(git_repo: GitRepo) -> None:
    foreign = git_repo.write(".git/hooks/pre-commit", "#!/bin/sh\nexit 0\n", executable=True)
    with pytest.raises(HookError) as info:
        install(git_repo.path)
    assert str(info.value) == (
        f"pre-commit hook exists and was not written by huskycat: {foreign}; use --force "
        "(the old hook is kept as pre-commit.legacy)"
    )
    assert foreign.read_text() == "#!/bin/sh\nexit 0\n"


def test_install_with_force_keeps_the_foreign_hook_as_legacy(git_repo: GitRepo) -> None:
    git_repo.write(".git/hooks/pre-commit", "#!/bin/sh\nexit 0\n", executable=True)
    install(git_repo.path, force=True)
    legacy = _hooks(git_repo) / "pre-commit.legacy"
    assert legacy.read_text() == "#!/bin/sh\nexit 0\n"
    assert legacy.stat().st_mode & stat.S_IXUSR
    assert is_huskycat_hook(_hooks(git_repo) / "pre-commit")


def test_install_with_force_refuses_to_lose_an_existing_legacy(git_repo: GitRepo) -> None:
    git_repo.write(".git/hooks/pre-commit", "#!/bin/sh\n", executable=True)
    git_repo.write(".git/hooks/pre-commit.legacy", "#!/bin/sh\n", executable=True)
    with pytest.raises(HookError, match="pre-commit.legacy exists already"):
        install(git_repo.path, force=True)


def test_unknown_hook_names_are_rejected(git_repo: GitRepo) -> None:
    with pytest.raises(HookError, match="unknown hook 'post-commit'; expected one of: pre-commit"):
        install(git_repo.path, "post-commit")
    with pytest.raises(HookError, match="unknown hook 'commit-msg'"):
        uninstall(git_repo.path, "commit-msg")


def test_install_outside_a_repository_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(HookError, match="not in a git work tree"):
        install(tmp_path)


def test_install_honours_core_hooks_path(git_repo: GitRepo) -> None:
    git_repo.git("config", "core.hooksPath", ".githooks")
    path = install(git_repo.path, "pre-push")
    assert path == git_repo.path / ".githooks" / "pre-push"
    assert uninstall(git_repo.path) == [path]
    assert not path.exists()


def test_install_from_a_subfolder_uses_the_relative_hooks_path_from_the_top(
    git_repo: GitRepo,
) -> None:
    git_repo.git("config", "core.hooksPath", ".githooks")
    sub = git_repo.path / "sub" / "dir"
    sub.mkdir(parents=True)
    assert install(sub) == git_repo.path.resolve() / ".githooks" / "pre-commit"


def test_install_creates_a_missing_hooks_folder(git_repo: GitRepo) -> None:
    shutil.rmtree(_hooks(git_repo))
    assert install(git_repo.path).is_file()


def test_uninstall_removes_only_our_hooks(git_repo: GitRepo) -> None:
    ours = install(git_repo.path, "pre-commit")
    foreign = git_repo.write(".git/hooks/pre-push", "#!/bin/sh\n", executable=True)
    assert uninstall(git_repo.path) == [ours]
    assert not ours.exists()
    assert foreign.exists()
    assert uninstall(git_repo.path) == []


def test_uninstall_restores_the_legacy_hook(git_repo: GitRepo) -> None:
    git_repo.write(".git/hooks/pre-commit", "#!/bin/sh\necho old\n", executable=True)
    install(git_repo.path, force=True)
    removed = uninstall(git_repo.path, "pre-commit")
    path = _hooks(git_repo) / "pre-commit"
    assert removed == [path]
    assert path.read_text() == "#!/bin/sh\necho old\n"
    assert not (_hooks(git_repo) / "pre-commit.legacy").exists()


# the script, run for real


def test_commit_runs_huskycat_staged_with_the_embedded_python(
    git_repo: GitRepo, fake_python: Path, log: Path
) -> None:
    install(git_repo.path, python=str(fake_python))
    proc = _commit(git_repo)
    assert proc.returncode == 0, proc.stderr
    assert log.read_text().splitlines() == ["-m", "huskycat", "run", "--staged"]


def test_a_failing_check_blocks_the_commit(
    git_repo: GitRepo, fake_python: Path, log: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    install(git_repo.path, python=str(fake_python))
    monkeypatch.setenv("HUSKYCAT_TEST_EXIT", "1")
    assert _commit(git_repo).returncode != 0
    assert git_repo.git("rev-list", "--all") == ""


def test_the_legacy_hook_runs_first_and_its_failure_stops_the_hook(
    git_repo: GitRepo, fake_python: Path, log: Path, tmp_path: Path
) -> None:
    marker = tmp_path / "legacy-ran"
    git_repo.write(
        ".git/hooks/pre-commit", f"#!/bin/sh\ntouch '{marker}'\nexit 3\n", executable=True
    )
    install(git_repo.path, force=True, python=str(fake_python))
    proc = _commit(git_repo)
    assert proc.returncode != 0
    assert marker.exists()
    assert not log.exists()


def test_a_passing_legacy_hook_lets_huskycat_run(
    git_repo: GitRepo, fake_python: Path, log: Path
) -> None:
    git_repo.write(".git/hooks/pre-commit", "#!/bin/sh\nexit 0\n", executable=True)
    install(git_repo.path, force=True, python=str(fake_python))
    assert _commit(git_repo).returncode == 0
    assert log.read_text().splitlines()[-1] == "--staged"


def _run_hook(path: Path, cwd: Path, bin_dir: Path) -> subprocess.CompletedProcess[str]:
    git_dir = Path(shutil.which("git") or "/usr/bin/git").parent
    env = {**os.environ, "PATH": f"{bin_dir}{os.pathsep}{git_dir}{os.pathsep}/bin:/usr/bin"}
    return subprocess.run(
        [str(path)],
        cwd=cwd,
        env=env,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        check=False,
    )


def test_without_the_interpreter_huskycat_on_path_runs(
    git_repo: GitRepo, tmp_path: Path, log: Path
) -> None:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "huskycat").write_text(FAKE_PYTHON)
    (bin_dir / "huskycat").chmod(0o755)
    path = install(git_repo.path, python=str(tmp_path / "gone" / "python"))
    proc = _run_hook(path, git_repo.path, bin_dir)
    assert proc.returncode == 0, proc.stderr
    assert log.read_text().splitlines() == ["run", "--staged"]


def test_without_interpreter_or_huskycat_the_hook_fails_clearly(
    git_repo: GitRepo, tmp_path: Path
) -> None:
    path = install(git_repo.path, python=str(tmp_path / "gone" / "python"))
    proc = _run_hook(path, git_repo.path, tmp_path / "empty-bin")
    assert proc.returncode == 1
    assert "is gone and huskycat is not on PATH" in proc.stderr


def test_pre_push_checks_all_files_without_upstream_then_changes_since_it(
    git_repo: GitRepo, fake_python: Path, log: Path, tmp_path: Path
) -> None:
    remote = tmp_path / "remote.git"
    subprocess.run(["git", "init", "-q", "--bare", str(remote)], check=True)
    git_repo.write("a.py")
    git_repo.commit()
    git_repo.git("remote", "add", "origin", str(remote))
    install(git_repo.path, "pre-push", python=str(fake_python))
    git_repo.git("push", "-q", "-u", "origin", "main")
    assert log.read_text().splitlines() == ["-m", "huskycat", "run", "--all-files"]
    git_repo.write("b.py")
    git_repo.commit()
    git_repo.git("push", "-q")
    assert log.read_text().splitlines() == [
        "-m",
        "huskycat",
        "run",
        "--changed-since",
        "@{upstream}",
    ]


def test_pre_push_legacy_hook_gets_the_arguments_and_stdin(
    git_repo: GitRepo, fake_python: Path, log: Path, tmp_path: Path
) -> None:
    seen = tmp_path / "seen"
    git_repo.write(
        ".git/hooks/pre-push",
        f"#!/bin/sh\necho \"$1 $2\" > '{seen}'\ncat >> '{seen}'\n",
        executable=True,
    )
    install(git_repo.path, "pre-push", force=True, python=str(fake_python))
    remote = tmp_path / "remote.git"
    subprocess.run(["git", "init", "-q", "--bare", str(remote)], check=True)
    git_repo.write("a.py")
    git_repo.commit()
    git_repo.git("remote", "add", "origin", str(remote))
    git_repo.git("push", "-q", "origin", "main")
    lines = seen.read_text().splitlines()
    assert lines[0] == f"origin {remote}"
    assert lines[1].startswith("refs/heads/main ")
    assert log.exists()
