"""A tool that reads the terminal, in a run started from one (the terminal is the run's
controlling terminal), fails at once rather than stopping until its timeout: tools run in
process groups of huskycat's session that are not the terminal's foreground group, and
huskycat ignores SIGTTIN and SIGTTOU for them (core.process.ignore_terminal_stops)."""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

from tests.conftest import GitRepo, read_terminal

CONFIG = """\
[tool.huskycat.tools.tty-reader]
command = ["sh", "-c", "read answer < /dev/tty"]
pass_filenames = false
timeout = 60
"""


def run_with_controlling_terminal(args: list[str], cwd: Path, limit: float) -> tuple[int, str]:
    """``python -m huskycat ARGS`` as a terminal's session leader (os.forkpty), so that
    the terminal is its controlling terminal, as in a person's shell."""
    pid, fd = os.forkpty()
    if pid == 0:  # the child: never returns
        try:
            os.chdir(cwd)
            os.execv(sys.executable, [sys.executable, "-m", "huskycat", *args])
        finally:
            os._exit(127)
    drawn, ended = read_terminal(fd, time.monotonic() + limit)
    if not ended:
        os.kill(pid, 9)
    os.close(fd)
    _, status = os.waitpid(pid, 0)
    return os.waitstatus_to_exitcode(status), drawn.decode("utf-8", "replace")


def test_a_tool_reading_the_terminal_fails_at_once(git_repo: GitRepo) -> None:
    git_repo.write("pyproject.toml", "[tool.huskycat]\n" + CONFIG)
    git_repo.commit("tty reader")
    started = time.monotonic()
    code, out = run_with_controlling_terminal(
        ["run", "--tools", "tty-reader", "--no-progress", "--no-cache"], git_repo.path, 50
    )
    took = time.monotonic() - started
    assert took < 30, f"the tool was stopped until its timeout ({took:.0f} s): {out}"
    assert "0 passed, 1 failed, 0 timed out" in out, out
    assert code == 1, out  # its read failed (EIO): a failure that says so, not a hang
