"""The in-process pygrep against pre-commit's own, the file index (git's blob ids)."""

from __future__ import annotations

import contextlib
import io
import os
from pathlib import Path

import pytest

from huskycat import content
from huskycat.precommit import index as index_module
from huskycat.precommit.execute import pygrep, spread_batches
from huskycat.precommit.index import FileIndex
from tests.conftest import GitRepo

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


def test_index_takes_ids_from_git_and_looks_again_once_a_hook_runs(git_repo: GitRepo) -> None:
    content.forget()
    index_module.forget()
    old = 1_000_000_000 * 1_000_000_000  # 2001: settled, git's word stands
    git_repo.write("f", "aaaa")
    git_repo.write("g", "x")
    git_repo.commit("init", "f", "g")
    for name in ("f", "g"):
        os.utime(git_repo.path / name, ns=(old, old))
    index = FileIndex(git_repo.path)
    blob = git_repo.git("rev-parse", "HEAD:f").strip()
    assert index.digest("f") == f"{blob}:f"
    assert index.tags("f") >= {"file", "text"}
    # Rewritten, same size and times: before any hook ran, the run's first look stands.
    (git_repo.path / "f").write_bytes(b"bbbb")
    os.utime(git_repo.path / "f", ns=(old, old))
    assert index.digest("f") == f"{blob}:f"
    index.hook_runs()
    # From now on every lookup looks: the change time gives it away, the bytes are read.
    assert index.digest("f") == f"{content.blob_id(b'bbbb')}:f"
    os.chmod(git_repo.path / "g", 0o755)
    assert index.digest("g") == f"{content.blob_id(b'x')}:x"
    (git_repo.path / "g").unlink()
    assert index.digest("g") is None
    # Once any hook ran, every index of the process looks (a project's hook may write
    # another project's files).
    assert FileIndex(git_repo.path).digest("f") == f"{content.blob_id(b'bbbb')}:f"
    index_module.forget()


@pytest.mark.parametrize(
    ("count", "spread", "sizes"),
    [(10, 2, [10]), (32, 2, [16, 16]), (33, 2, [17, 16]), (100, 1, [100]), (64, 8, [16] * 4)],
)
def test_spread_batches_are_consecutive_slices_of_at_least_16_files(
    count: int, spread: int, sizes: list[int]
) -> None:
    files = [f"f{i}" for i in range(count)]
    batches = spread_batches(files, spread)
    assert [len(b) for b in batches] == sizes
    assert [name for batch in batches for name in batch] == files
    assert spread_batches([], 2) == [[]]


_MEET = """\
#!/bin/sh
# Each batch says it started, then waits (up to 20 s) for the other batch to start too.
touch "started.$$"
for _ in $(seq 200); do
  [ "$(ls started.* | wc -l)" -ge 2 ] && exit 0
  sleep 0.1
done
exit 1
"""


def test_a_hooks_batches_run_side_by_side_as_pre_commits_xargs_does(tmp_path: Path) -> None:
    from huskycat.precommit.execute import HookCall, run_on
    from huskycat.precommit.plan import load_hooks

    (tmp_path / "meet.sh").write_text(_MEET)
    (tmp_path / "meet.sh").chmod(0o755)
    (tmp_path / ".pre-commit-config.yaml").write_text(
        "repos:\n- repo: local\n  hooks:\n"
        "  - {id: meet, name: meet, entry: ./meet.sh, language: script}\n"
    )
    files = [f"f{i}.txt" for i in range(40)]
    for name in files:
        (tmp_path / name).write_text("x\n")
    _, (hook,) = load_hooks(tmp_path)
    call = HookCall(name="meet", hook=hook, root=tmp_path, env=dict(os.environ), spread=2)
    result = run_on(call, files)
    assert result.success, result.output  # both batches were running at the same time
    assert result.metadata["returncodes"] == [0]
    assert len(list(tmp_path.glob("started.*"))) == 2


def test_all_files_are_the_tracked_ones_with_or_without_the_snapshots_word(
    git_repo: GitRepo,
) -> None:
    from huskycat.files import collect_files
    from huskycat.precommit.plan import candidates_for, tracked_lister

    git_repo.write("a.txt", "a\n")
    git_repo.write("b/c.txt", "c\n")
    git_repo.commit()
    root = git_repo.path
    # Every file clean in git's index: the snapshot says they are tracked, no git asked.
    collected = collect_files(root, mode="all")
    assert candidates_for(root, "all files", collected, None) == ["a.txt", "b/c.txt"]
    # A changed tracked file and an untracked one: git lists the tracked ones.
    git_repo.write("a.txt", "changed\n")
    git_repo.write("new.txt", "not tracked\n")
    collected = collect_files(root, mode="all")
    assert "new.txt" in collected
    found = candidates_for(root, "all files", collected, None, tracked_lister(root))
    assert found == ["a.txt", "b/c.txt"]
