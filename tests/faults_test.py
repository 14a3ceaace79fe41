"""Fault injection: the real ``huskycat`` command under hostile input, odd files,
signals, concurrent runs and broken environments. Each test names the fault and the
promise the README's "Guarantees" section makes for it."""

from __future__ import annotations

import os
import stat
import sys
from pathlib import Path

import pytest

from tests.conftest import GitRepo, huskycat

# A custom tool that runs in milliseconds: the faults are about huskycat, not linters.
ECHO_TOOL = """
[tools.echo]
command = ["{python}", "-c", "import sys; print(sys.argv[1:])"]
types = ["python"]
"""


def _one_line_error(proc: object) -> str:
    """stderr of an exit-2 run: one line, no traceback."""
    err = proc.stderr  # type: ignore[attr-defined]
    assert proc.returncode == 2, (proc.returncode, proc.stdout, err)  # type: ignore[attr-defined]
    assert "Traceback" not in err, err
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    return str(lines[0])


@pytest.fixture
def repo(git_repo: GitRepo) -> GitRepo:
    git_repo.write("huskycat.toml", ECHO_TOOL.format(python=sys.executable))
    git_repo.write("a.py", "x = 1\n")
    git_repo.commit("init")
    return git_repo


RUN = ("run", "--tools", "echo", "--no-progress", "--no-cache")


# --- output paths -------------------------------------------------------------------------
@pytest.mark.parametrize("option", ["--json", "--junit-xml"])
def test_a_report_through_a_symlink_keeps_the_link(
    repo: GitRepo, tmp_path: Path, option: str
) -> None:
    outside = tmp_path / "reports"
    outside.mkdir()
    link = repo.path / "report.out"
    link.symlink_to(outside / "report")
    proc = huskycat(repo.path, *RUN, option, "report.out")
    assert proc.returncode == 0, proc.stderr
    assert link.is_symlink()
    assert (outside / "report").read_text().strip()


@pytest.mark.parametrize("option", ["--json", "--junit-xml"])
def test_a_report_to_a_fifo_goes_through_the_fifo(
    repo: GitRepo, tmp_path: Path, option: str
) -> None:
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    reader = os.open(fifo, os.O_RDONLY | os.O_NONBLOCK)
    try:
        proc = huskycat(repo.path, *RUN, option, str(fifo))
        assert proc.returncode == 0, proc.stderr
        assert os.read(reader, 1 << 16).strip()
    finally:
        os.close(reader)
    assert stat.S_ISFIFO(os.lstat(fifo).st_mode)


def test_a_report_to_stdout_is_printed_not_put_in_place_of_stdout(
    repo: GitRepo, tmp_path: Path
) -> None:
    link = tmp_path / "stdout"  # what /dev/stdout is; see report_atomic_test.py for why
    link.symlink_to("/proc/self/fd/1")
    proc = huskycat(repo.path, *RUN, "-q", "--json", str(link))
    assert proc.returncode == 0, proc.stderr
    assert '"format_version"' in proc.stdout
    assert link.is_symlink()


def test_a_report_to_a_fifo_nobody_reads_is_one_line_exit_2(repo: GitRepo, tmp_path: Path) -> None:
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    line = _one_line_error(huskycat(repo.path, *RUN, "--json", str(fifo)))
    assert "FIFO" in line and str(fifo) in line
