"""write_atomic: regular files replaced in one step; links, FIFOs and devices written
through, never replaced by a new regular file."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from huskycat.state import write_atomic


def test_a_regular_file_is_replaced_in_one_step_keeping_its_mode(tmp_path: Path) -> None:
    report = tmp_path / "r.json"
    report.write_bytes(b"old")
    report.chmod(0o600)
    inode = report.stat().st_ino
    write_atomic(report, b"new")
    assert report.read_bytes() == b"new"
    assert report.stat().st_ino != inode  # a new file swapped in, not rewritten in place
    assert stat.S_IMODE(report.stat().st_mode) == 0o600
    assert sorted(p.name for p in tmp_path.iterdir()) == ["r.json"]


def test_a_symlink_stays_a_link_and_its_target_gets_the_data(tmp_path: Path) -> None:
    (tmp_path / "out").mkdir()
    target = tmp_path / "out" / "real.json"
    target.write_bytes(b"old")
    link = tmp_path / "link.json"
    link.symlink_to(target)
    assert write_atomic(link, b"new") == target
    assert link.is_symlink() and target.read_bytes() == b"new"


def test_a_dangling_symlink_creates_the_file_it_points_to(tmp_path: Path) -> None:
    link = tmp_path / "link.json"
    link.symlink_to(tmp_path / "later.json")
    write_atomic(link, b"data")
    assert link.is_symlink() and (tmp_path / "later.json").read_bytes() == b"data"


def test_a_fifo_is_written_through(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    # A reader there before the writer opens the FIFO, as `cat pipe` would be; what was
    # written waits in the pipe's buffer.
    reader = os.open(fifo, os.O_RDONLY | os.O_NONBLOCK)
    try:
        write_atomic(fifo, b"through the pipe")
        assert os.read(reader, 100) == b"through the pipe"
    finally:
        os.close(reader)
    assert stat.S_ISFIFO(os.lstat(fifo).st_mode)


def test_a_fifo_nobody_reads_is_an_error_not_a_hang(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    with pytest.raises(OSError, match="FIFO that nothing reads"):
        write_atomic(fifo, b"x")
    assert stat.S_ISFIFO(os.lstat(fifo).st_mode)


def test_a_device_is_written_through(tmp_path: Path) -> None:
    link = tmp_path / "null"
    link.symlink_to(os.devnull)
    write_atomic(link, b"gone")
    assert stat.S_ISCHR(os.stat(os.devnull).st_mode) and link.is_symlink()


_WRITE_TO_STDOUT = """
import sys
from huskycat.state import write_atomic
print("before", flush=True)
write_atomic(sys.argv[1], b"REPORT\\n")
"""


@pytest.mark.parametrize("redirect", ["pipe", "file"])
def test_stdout_through_proc_is_written_through(tmp_path: Path, redirect: str) -> None:
    # A link of our own to /proc/self/fd/1, which is what /dev/stdout is: testing
    # /dev/stdout itself would, on a regression run as root, replace the machine's.
    link = tmp_path / "stdout"
    link.symlink_to("/proc/self/fd/1")
    argv = [sys.executable, "-c", _WRITE_TO_STDOUT, str(link)]
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).parent.parent / "src")}
    if redirect == "pipe":
        out = subprocess.run(argv, capture_output=True, env=env, check=True).stdout
    else:
        with open(tmp_path / "captured", "wb") as file:
            subprocess.run(argv, stdout=file, env=env, check=True)
        out = (tmp_path / "captured").read_bytes()
    assert out == b"before\nREPORT\n"
    assert link.is_symlink()
