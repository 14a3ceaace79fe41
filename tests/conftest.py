"""Shared fixtures: temporary git repositories, and a git that ignores the user's setup."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

# Test the source tree, installed or not.
_SRC = str(Path(__file__).resolve().parent.parent / "src")
if _SRC not in sys.path:
    sys.path.insert(0, _SRC)


@pytest.fixture(autouse=True)
def _hermetic_git(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """No GIT_* variables from a surrounding hook, no global or system git config.

    The tests may run inside a git hook (huskycat running pytest), where GIT_DIR and
    GIT_INDEX_FILE would point every git command at the outer repository; and a user's
    commit.gpgsign or core.hooksPath would change what the tests see.
    """
    saved = dict(os.environ)
    for key in list(os.environ):
        if key.startswith("GIT_"):
            del os.environ[key]
    empty = tmp_path_factory.getbasetemp() / "empty-gitconfig"
    empty.touch()
    os.environ["GIT_CONFIG_GLOBAL"] = str(empty)
    os.environ["GIT_CONFIG_NOSYSTEM"] = "1"
    try:
        yield
    finally:
        os.environ.clear()
        os.environ.update(saved)


@dataclass(frozen=True)
class GitRepo:
    """A git repository in a temporary folder, with helpers to fill it."""

    path: Path

    def git(self, *args: str, check: bool = True) -> str:
        """Run git in the repository and return its stdout."""
        proc = subprocess.run(
            ["git", *args],
            cwd=self.path,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            check=False,
        )
        if check and proc.returncode != 0:
            raise AssertionError(f"git {args} failed ({proc.returncode}): {proc.stderr}")
        return proc.stdout

    def write(self, name: str, content: str = "", *, executable: bool = False) -> Path:
        """Write a file (making its folders), optionally executable; return its path."""
        path = self.path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(content, encoding="utf-8")
        if executable:
            path.chmod(0o755)
        return path

    def add(self, *names: str) -> None:
        """Stage the named files (all changes when none are named)."""
        self.git("add", "--", *(names or (".",)))

    def commit(self, message: str = "commit", *names: str) -> None:
        """Stage ``names`` (everything when none) and commit."""
        self.add(*names)
        self.git("commit", "-q", "--no-verify", "-m", message)


def make_repo(path: Path) -> GitRepo:
    """``git init`` a repository at ``path`` with a local user name and e-mail."""
    path.mkdir(parents=True, exist_ok=True)
    repo = GitRepo(path)
    repo.git("init", "-q", "-b", "main")
    repo.git("config", "user.name", "Huskycat Tests")
    repo.git("config", "user.email", "tests@huskycat.invalid")
    repo.git("config", "commit.gpgsign", "false")
    return repo


MakeRepo = Callable[[Path], GitRepo]


@pytest.fixture
def git_repo(tmp_path: Path) -> GitRepo:
    """An empty git repository (branch main) in a temporary folder."""
    return make_repo(tmp_path / "repo")


@pytest.fixture
def make_git_repo() -> MakeRepo:
    """A function that makes a repository at a path (for a second or nested one)."""
    return make_repo
