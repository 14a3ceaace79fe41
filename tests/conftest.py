"""Shared fixtures: temporary git repositories, and a git that ignores the user's setup."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

# Test the source tree, installed or not: here, and in the `python -m huskycat` processes
# the tests start (they inherit PYTHONPATH; an editable install names the same folder).
_SRC = str(Path(__file__).resolve().parent.parent / "src")
if _SRC not in sys.path:
    sys.path.insert(0, _SRC)
if _SRC not in os.environ.get("PYTHONPATH", "").split(os.pathsep):
    os.environ["PYTHONPATH"] = os.pathsep.join(
        p for p in (_SRC, os.environ.get("PYTHONPATH", "")) if p
    )


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
    # CI=true (as .ci/run sets it) makes tools that are not installed fail the run; the
    # tests that check that set it themselves.
    os.environ.pop("CI", None)
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


# --- running the huskycat command for real (cli_*_test.py) ------------------------------


@contextmanager
def hermetic_git_environment(config_folder: Path) -> Iterator[None]:
    """What ``_hermetic_git`` does, for fixtures wider than one test (module-scoped
    repositories are made before any test's autouse fixture runs)."""
    empty = config_folder / "empty-gitconfig"
    empty.touch()
    with pytest.MonkeyPatch.context() as patch:
        for key in list(os.environ):
            if key.startswith("GIT_"):
                patch.delenv(key)
        patch.setenv("GIT_CONFIG_GLOBAL", str(empty))
        patch.setenv("GIT_CONFIG_NOSYSTEM", "1")
        yield


def huskycat(
    cwd: Path,
    *args: str,
    env: Mapping[str, str] | None = None,
    timeout: float = 120,
) -> subprocess.CompletedProcess[str]:
    """Run ``python -m huskycat ARGS`` in ``cwd`` the way a user would: a new process,
    stdin from /dev/null, stdout and stderr captured (so not a terminal)."""
    return subprocess.run(
        [sys.executable, "-m", "huskycat", *args],
        cwd=cwd,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=timeout,
        env=dict(os.environ if env is None else env),
        check=False,
    )


@pytest.fixture(scope="session")
def standin_path(tmp_path_factory: pytest.TempPathFactory) -> str:
    """A PATH with stand-ins for helm and chapel-format first (neither can be installed
    here; see tests/tools_other_test.py for what they print and why)."""
    from tests.tools_other_test import CHAPEL_STANDIN, HELM_STANDIN

    folder = tmp_path_factory.mktemp("standin-bin")
    for name, code in (("helm", HELM_STANDIN), ("chapel-format", CHAPEL_STANDIN)):
        script = folder / name
        script.write_text(f"#!{sys.executable}\n{textwrap.dedent(code)}", encoding="utf-8")
        script.chmod(0o755)
    return f"{folder}{os.pathsep}{os.environ.get('PATH', '')}"


def load_report(path: Path) -> dict[str, Any]:
    """A ``--json`` report, checked against the JSON Schema huskycat ships."""
    import jsonschema

    from huskycat.report.json_report import load_schema

    report: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    jsonschema.validate(report, load_schema())
    return report


def results_by_tool(report: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """The report's results by tool name."""
    return {r["tool_name"]: r for r in report["results"]}


def run_in_terminal(args: list[str], *, cwd: Path) -> tuple[int, str]:
    """Run ``huskycat ARGS`` on a pseudo-terminal, as a person would; return its exit
    code and what it drew, without the terminal's control sequences."""
    import pty
    import re

    primary, secondary = pty.openpty()
    proc = subprocess.Popen(
        [sys.executable, "-m", "huskycat", *args],
        cwd=cwd,
        stdin=subprocess.DEVNULL,
        stdout=secondary,
        stderr=secondary,
        env={**os.environ, "TERM": "xterm", "COLUMNS": "100"},
    )
    os.close(secondary)
    drawn, _ = read_terminal(primary)
    os.close(primary)
    code = proc.wait(timeout=60)
    return code, re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", drawn.decode())


def read_terminal(fd: int, deadline: float | None = None) -> tuple[bytes, bool]:
    """What the program on the other side of the pseudo-terminal ``fd`` writes, until it
    closes the terminal (it ended) or until ``deadline`` (``time.monotonic()``); and
    whether it closed it."""
    import time

    chunks = []
    while deadline is None or time.monotonic() < deadline:
        try:
            chunk = os.read(fd, 65536)
        except OSError:  # the terminal closed: the command ended
            return b"".join(chunks), True
        if not chunk:
            return b"".join(chunks), True
        chunks.append(chunk)
    return b"".join(chunks), False


@pytest.fixture
def fresh_content() -> Iterator[None]:
    """No snapshot or remembered content id of an earlier test: :mod:`huskycat.content`
    keeps them for the life of the process."""
    from huskycat import content

    content.forget()
    yield
    content.forget()
