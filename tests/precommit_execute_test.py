"""The in-process pygrep against pre-commit's own, and the file index that remembers
digests by stat signature."""

from __future__ import annotations

import contextlib
import io
import os
from pathlib import Path

import pytest

from huskycat.precommit.execute import pygrep
from huskycat.precommit.index import FileIndex

FILES = {
    "a.txt": b"one\nTODO two\nthree todo\n",
    "b.txt": b"nothing here\r\nat all\r\n",
    "c.txt": b"start\nmiddle\nend",
    "d.txt": b"",
}


@pytest.mark.parametrize(
    ("pattern", "args"),
    [
        ("TODO", []),
        ("todo", ["-i"]),
        ("TODO", ["--negate"]),
        ("start.*end", ["--multiline"]),
        ("middle\nend", ["--multiline"]),
        ("nope", ["--multiline", "--negate"]),
        ("here\r", []),
    ],
)
def test_pygrep_says_what_pre_commit_says(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, pattern: str, args: list[str]
) -> None:
    pre_commit_pygrep = pytest.importorskip("pre_commit.languages.pygrep")
    for name, data in FILES.items():
        (tmp_path / name).write_bytes(data)
    monkeypatch.chdir(tmp_path)
    names = sorted(FILES)
    captured = io.BytesIO()
    wrapper = io.TextIOWrapper(captured, write_through=True)
    with contextlib.redirect_stdout(wrapper):
        from pre_commit import output

        monkeypatch.setattr(output, "write", lambda s, stream=wrapper: stream.write(s))
        monkeypatch.setattr(
            output,
            "write_line_b",
            lambda s=None, **_: captured.write((s or b"") + b"\n"),
        )
        monkeypatch.setattr(
            output, "write_line", lambda s=None, **_: wrapper.write((s or "") + "\n")
        )
        expected_code = pre_commit_pygrep.main([*args, pattern, *names])
    code, out = pygrep(tmp_path, pattern, args, names)
    assert code == expected_code
    assert out == captured.getvalue().decode()


def test_index_reads_a_file_again_when_it_changes_within_the_same_second(tmp_path: Path) -> None:
    state = tmp_path / "index.json"
    (tmp_path / "f").write_bytes(b"aaaa")
    first = FileIndex(tmp_path, state)
    before = first.digest("f")
    first.save()
    # Rewritten at once, same size: only the signature's times tell.
    (tmp_path / "f").write_bytes(b"bbbb")
    second = FileIndex(tmp_path, state)
    assert second.digest("f") != before
    # Same size, same times: an entry saved within a second of the change is not trusted.
    st = os.stat(tmp_path / "f")
    second.save()
    (tmp_path / "f").write_bytes(b"cccc")
    os.utime(tmp_path / "f", ns=(st.st_atime_ns, st.st_mtime_ns))
    third = FileIndex(tmp_path, state)
    assert third.digest("f") == FileIndex(tmp_path, None).digest("f")


def test_index_trusts_old_entries_and_forgets_missing_files(tmp_path: Path) -> None:
    state = tmp_path / "index.json"
    (tmp_path / "f").write_bytes(b"x")
    old = 1_000_000_000 * 1_000_000_000  # 2001
    os.utime(tmp_path / "f", ns=(old, old))
    index = FileIndex(tmp_path, state)
    digest = index.digest("f")
    assert index.tags("f") >= {"file", "text"}
    index.save()
    reread = FileIndex(tmp_path, state)
    assert reread.digest("f") == digest
    (tmp_path / "f").unlink()
    assert reread.digest("f") is None
