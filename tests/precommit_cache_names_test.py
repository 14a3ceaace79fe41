"""A hook's result that names a file whose name is not UTF-8 is stored in the result
cache and replayed as it was, and so is the whole run (not lost to an encoding error)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from huskycat import replay
from tests.conftest import GitRepo

CONFIG = """\
repos:
-   repo: local
    hooks:
    -   id: no-debug
        name: no debug
        entry: DEBUG
        language: pygrep
        types: [text]
"""


@pytest.mark.skipif(sys.platform == "darwin", reason="macOS file systems refuse such names")
def test_a_finding_in_a_file_whose_name_is_not_utf8_is_cached_and_replayed(
    git_repo: GitRepo, tmp_path: Path
) -> None:
    git_repo.write(".pre-commit-config.yaml", CONFIG)
    name = os.fsdecode(b"bad\xff.txt")
    (git_repo.path / name).write_bytes(b"DEBUG\n")
    git_repo.write("good.txt", "fine\n")
    git_repo.commit("start")
    env = {**os.environ, "XDG_CACHE_HOME": str(tmp_path / "xdg")}
    command = [sys.executable, "-m", "huskycat", "run", "--all-files", "--no-progress"]
    runs = [
        subprocess.run(argv, cwd=git_repo.path, env=env, capture_output=True, check=False)
        for argv in ([*command, "--no-cache"], command, command, command)
    ]
    for done in runs:  # bytes: the name is printed as it is
        assert done.returncode == 1, done.stdout + done.stderr
        assert b"Error" not in done.stdout and b"Traceback" not in done.stderr
        assert b"bad\xff.txt:1:DEBUG" in done.stdout
    # The second run stored its results; the third and fourth replayed it whole.
    assert runs[3].stdout == runs[2].stdout == runs[1].stdout
    assert replay.replays(git_repo.path / ".git")[0] == 2
