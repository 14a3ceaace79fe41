"""Staged mode: unstaged changes set aside for the tools and put back byte for byte.

Real git repositories, real files, real signals and a real SIGKILL; the only stand-in is
a counting wrapper around ``subprocess.run`` to measure the fast path.
"""

from __future__ import annotations

import os
import shutil
import signal
import stat
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from huskycat import signals, staged

if TYPE_CHECKING:  # tests/ may or may not be a package; only mypy imports this
    from tests.conftest import GitRepo, MakeRepo

NON_UTF8 = os.fsdecode(b"latin-\xe9.txt")
Entry = tuple[str, int, bytes]  # kind, permission bits (files), bytes or symlink target


# --- looking at a repository -------------------------------------------------------------
def git_bytes(root: Path, *args: str) -> bytes:
    proc = subprocess.run(
        ["git", *args], cwd=root, stdin=subprocess.DEVNULL, capture_output=True, check=True
    )
    return proc.stdout


def tree(root: Path) -> dict[str, Entry | None]:
    """Every file, symlink and folder of the work tree (not .git), by relative path."""
    found: dict[str, Entry | None] = {}
    for folder, dirs, files in os.walk(root):
        rel = Path(folder).relative_to(root)
        if rel == Path("."):
            dirs.remove(".git")
        else:
            found[rel.as_posix() + "/"] = None
        for name in files + [d for d in dirs if os.path.islink(os.path.join(folder, d))]:
            found[(rel / name).as_posix()] = entry(Path(folder, name))
    return found


def entry(path: Path) -> Entry:
    info = os.lstat(path)
    if stat.S_ISLNK(info.st_mode):
        return ("symlink", 0, os.fsencode(os.readlink(path)))
    return ("file", stat.S_IMODE(info.st_mode), path.read_bytes())


def snapshot(root: Path) -> dict[str, Any]:
    """The work tree's bytes and modes, and git's view of unstaged and staged changes."""
    return {
        "tree": tree(root),
        "diff": git_bytes(root, "diff", "--binary", "--no-ext-diff"),
        "cached": git_bytes(root, "diff", "--cached", "--binary", "--no-ext-diff"),
        "stage": git_bytes(root, "ls-files", "--stage", "-z"),
    }


def staged_view_mismatches(root: Path, skip: tuple[str, ...] = ()) -> list[str]:
    """Index entries whose work-tree file is not the staged version (bytes, mode, kind)."""
    wrong = []
    for record in git_bytes(root, "ls-files", "--stage", "-z").split(b"\0"):
        if not record:
            continue
        info, raw = record.split(b"\t", 1)
        mode, blob, _ = info.split()
        name = os.fsdecode(raw)
        if name in skip:
            continue
        content = git_bytes(root, "cat-file", "blob", blob.decode())
        path = root / name
        if mode == b"120000":
            ok = path.is_symlink() and os.fsencode(os.readlink(path)) == content
        else:
            executable = bool(os.lstat(path).st_mode & 0o100) if os.path.lexists(path) else None
            ok = (
                path.is_file()
                and not path.is_symlink()
                and path.read_bytes() == content
                and executable == (mode == b"100755")
            )
        if not ok:
            wrong.append(name)
    return wrong


def write(root: Path, name: str, data: bytes) -> None:
    path = root / name
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.is_symlink():
        path.unlink()
    path.write_bytes(data)


def backups(root: Path) -> list[Path]:
    store = root / ".git" / "huskycat"
    return sorted(store.glob("unstaged-*")) if store.is_dir() else []


# --- the repositories ----------------------------------------------------------------------
SET_ASIDE = {
    "partial.py",
    "new file.txt",
    "renamed.txt",
    "blob.bin",
    "nonl.txt",
    "script.sh",
    "crlf.txt",
    "unstaged-deleted.txt",
    "gone/only.txt",
    "dir with space/ünï cödé.txt",
    "new\nline.txt",
    "link",
    "typechange",
    NON_UTF8,
}
UNTOUCHED = {"stays.txt", "untracked.txt", "ita.txt", "unindexed.txt"}


def make_mixed(repo: GitRepo) -> None:
    """Every kind of unstaged change on top of every kind of staged one."""
    p = repo.path
    for name, data in {
        "partial.py": b"a\nb\nc\n",
        "old name.txt": b"rename me\n",
        "blob.bin": bytes(range(256)),
        "nonl.txt": b"x\ny",
        "script.sh": b"echo hi\n",
        "crlf.txt": b"one\r\ntwo\r\n",
        "staged-deleted.txt": b"bye\n",
        "unindexed.txt": b"kept in the work tree\n",
        "unstaged-deleted.txt": b"1\n",
        "gone/only.txt": b"only\n",
        "dir with space/ünï cödé.txt": "café\n".encode(),
        "new\nline.txt": b"nl\n",
        "typechange": b"file\n",
        "stays.txt": b"same\n",
        NON_UTF8: b"latin\n",
    }.items():
        write(p, name, data)
    os.symlink("partial.py", p / "link")
    repo.commit()
    # Staged changes.
    write(p, "partial.py", b"a\nB\nc\n")
    write(p, "new file.txt", b"hello\n")
    repo.git("mv", "old name.txt", "renamed.txt")
    write(p, "blob.bin", bytes(range(255, -1, -1)))
    write(p, "nonl.txt", b"x\nY")
    write(p, "crlf.txt", b"one\r\nTWO\r\n")
    repo.git("rm", "-q", "staged-deleted.txt")
    repo.git("rm", "-q", "--cached", "unindexed.txt")
    write(p, "unstaged-deleted.txt", b"2\n")
    write(p, "dir with space/ünï cödé.txt", "café au lait\n".encode())
    repo.git("add", "-A")
    # Unstaged changes on top.
    write(p, "partial.py", b"a\nB\nc\nd\n")
    write(p, "new file.txt", b"hello\nworld\n")
    write(p, "renamed.txt", b"rename me\nand edit me\n")
    write(p, "blob.bin", bytes(range(256)) * 2 + b"\0")
    write(p, "nonl.txt", b"x\nY\nz")
    (p / "script.sh").chmod(0o755)
    write(p, "crlf.txt", b"one\r\nTWO\r\nthree")
    (p / "unstaged-deleted.txt").unlink()
    shutil.rmtree(p / "gone")
    write(p, "dir with space/ünï cödé.txt", "café noir\n".encode())
    write(p, "new\nline.txt", b"nl\nmore\n")
    (p / "link").unlink()
    os.symlink("nonl.txt", p / "link")
    (p / "typechange").unlink()
    os.symlink("partial.py", p / "typechange")
    write(p, NON_UTF8, b"latin changed\n")
    write(p, "untracked.txt", b"not tracked\n")
    write(p, "ita.txt", b"intent to add\n")
    repo.git("add", "-N", "ita.txt")


@pytest.fixture
def mixed(git_repo: GitRepo) -> GitRepo:
    make_mixed(git_repo)
    return git_repo


def two_files(repo: GitRepo) -> None:
    """f.py partially staged (line 1 staged, line 9 unstaged) and g.py fully staged."""
    lines = [f"line{i}\n".encode() for i in range(10)]
    write(repo.path, "f.py", b"".join(lines))
    write(repo.path, "g.py", b"g\n")
    repo.commit()
    write(repo.path, "f.py", b"".join([b"LINE0\n", *lines[1:]]))
    write(repo.path, "g.py", b"G\n")
    repo.add()
    write(repo.path, "f.py", b"".join([b"LINE0\n", *lines[1:9], b"user9\n"]))


# --- round trips -----------------------------------------------------------------------------
def test_block_sees_the_staged_content_and_every_change_comes_back_byte_for_byte(
    mixed: GitRepo,
) -> None:
    before = snapshot(mixed.path)
    with staged.checking_staged(mixed.path) as stash:
        assert staged_view_mismatches(mixed.path, skip=("ita.txt",)) == []
        inside = tree(mixed.path)
        assert set(stash.files) == SET_ASIDE
        assert "gone/only.txt" in inside
    assert snapshot(mixed.path) == before
    for name in UNTOUCHED:
        assert inside[name] == before["tree"][name]
    assert stash.restored and stash.merged == () and stash.rolled_back == ()
    assert stash.messages() == []


def test_changes_come_back_when_the_block_raises(mixed: GitRepo) -> None:
    before = snapshot(mixed.path)
    with pytest.raises(RuntimeError, match="tool crashed"), staged.checking_staged(mixed.path):
        raise RuntimeError("tool crashed")
    assert snapshot(mixed.path) == before
    assert backups(mixed.path) == []


def test_changes_come_back_on_keyboard_interrupt(mixed: GitRepo) -> None:
    before = snapshot(mixed.path)
    with pytest.raises(KeyboardInterrupt), staged.checking_staged(mixed.path):
        raise KeyboardInterrupt
    assert snapshot(mixed.path) == before


def test_sigterm_in_the_block_raises_terminated_and_changes_come_back(mixed: GitRepo) -> None:
    before = snapshot(mixed.path)
    with pytest.raises(staged.Terminated, match="SIGTERM"), staged.checking_staged(mixed.path):
        os.kill(os.getpid(), signal.SIGTERM)
        time.sleep(5)  # the handler raises long before
    assert snapshot(mixed.path) == before
    assert signal.getsignal(signal.SIGTERM) is signal.SIG_DFL


def test_backup_exists_during_the_block_and_is_gone_after(mixed: GitRepo) -> None:
    with staged.checking_staged(mixed.path) as stash:
        assert stash.backup is not None and backups(mixed.path) == [stash.backup]
        assert (stash.backup / "saved" / "partial.py").read_bytes() == b"a\nB\nc\nd\n"
        assert (stash.backup / "base" / "partial.py").read_bytes() == b"a\nB\nc\n"
        patch = (stash.backup / "unstaged.patch").read_bytes()
        assert b"diff --git a/partial.py b/partial.py" in patch
        assert b"ita.txt" not in patch  # intent-to-add files are not set aside
    assert backups(mixed.path) == []
    # Only the lock stays: deleting a file others may be about to flock() is a race.
    assert [p.name for p in (mixed.path / ".git" / "huskycat").iterdir()] == [staged.LOCK_NAME]


def test_unstaged_patch_applies_to_the_checked_out_tree(mixed: GitRepo) -> None:
    before = tree(mixed.path)
    with staged.checking_staged(mixed.path) as stash:
        assert stash.backup is not None
        patch = stash.backup / "unstaged.patch"
        git_bytes(mixed.path, "apply", "--check", "--whitespace=nowarn", str(patch))
    assert tree(mixed.path) == before


def test_index_is_never_written(mixed: GitRepo) -> None:
    index = mixed.path / ".git" / "index"
    stage, data = git_bytes(mixed.path, "ls-files", "--stage", "-z"), index.read_bytes()
    with staged.checking_staged(mixed.path):
        assert index.read_bytes() == data
    assert index.read_bytes() == data
    assert git_bytes(mixed.path, "ls-files", "--stage", "-z") == stage


def test_fast_path_costs_two_git_calls_and_writes_nothing(
    git_repo: GitRepo, monkeypatch: pytest.MonkeyPatch
) -> None:
    git_repo.write("a.py", "x\n")
    git_repo.commit()
    git_repo.write("a.py", "y\n")
    git_repo.add()
    git_repo.write("untracked.py", "z\n")
    calls: list[list[str]] = []
    real_run = subprocess.run

    def counting_run(argv: list[str], *args: Any, **kwargs: Any) -> Any:
        calls.append(argv)
        return real_run(argv, *args, **kwargs)

    monkeypatch.setattr(subprocess, "run", counting_run)
    with staged.checking_staged(git_repo.path) as stash:
        at_start = len(calls)
    assert len(calls) == at_start <= 2
    assert stash.files == () and stash.backup is None
    assert not (git_repo.path / ".git" / "huskycat").exists()


def test_slow_path_git_calls_do_not_grow_with_the_number_of_files(
    git_repo: GitRepo, monkeypatch: pytest.MonkeyPatch
) -> None:
    for i in range(20):
        git_repo.write(f"f{i}.py", "x\n")
    git_repo.commit()
    for i in range(20):
        git_repo.write(f"f{i}.py", "unstaged\n")
    calls: list[list[str]] = []
    real_run = subprocess.run

    def counting_run(argv: list[str], *args: Any, **kwargs: Any) -> Any:
        calls.append(argv)
        return real_run(argv, *args, **kwargs)

    monkeypatch.setattr(subprocess, "run", counting_run)
    with staged.checking_staged(git_repo.path) as stash:
        pass
    assert len(stash.files) == 20
    # rev-parse, diff --raw, checkout-index, diff --binary; nothing to put back.
    assert len(calls) == 4


def test_mode_only_change_comes_back(git_repo: GitRepo) -> None:
    git_repo.write("run.sh", "echo\n")
    git_repo.commit()
    (git_repo.path / "run.sh").chmod(0o750)
    with staged.checking_staged(git_repo.path) as stash:
        assert stash.files == ("run.sh",)
        assert stat.S_IMODE(os.stat(git_repo.path / "run.sh").st_mode) & 0o111 == 0
    assert stat.S_IMODE(os.stat(git_repo.path / "run.sh").st_mode) == 0o750


def test_root_may_be_a_subfolder(mixed: GitRepo) -> None:
    before = snapshot(mixed.path)
    with staged.checking_staged(mixed.path / "dir with space") as stash:
        assert stash.top == mixed.path.absolute()
        assert set(stash.files) == SET_ASIDE
    assert snapshot(mixed.path) == before


def test_refuses_to_write_through_a_symlinked_folder(git_repo: GitRepo, tmp_path: Path) -> None:
    write(git_repo.path, "d/f.txt", b"inside\n")
    write(git_repo.path, "e.txt", b"e\n")
    git_repo.commit()
    write(git_repo.path, "e.txt", b"e changed\n")
    outside = tmp_path / "outside"
    write(outside, "f.txt", b"not the repository's\n")
    shutil.rmtree(git_repo.path / "d")
    os.symlink(outside, git_repo.path / "d")
    before = snapshot(git_repo.path)
    with (
        pytest.raises(staged.StagedError, match="'d' is a symlink"),
        staged.checking_staged(git_repo.path),
    ):
        pytest.fail("must not start")
    assert snapshot(git_repo.path) == before
    assert (outside / "f.txt").read_bytes() == b"not the repository's\n"
    assert backups(git_repo.path) == []


# --- user configuration and hooks ------------------------------------------------------------
def test_user_configuration_does_not_change_anything(mixed: GitRepo) -> None:
    hooks = mixed.path / ".git" / "my-hooks"
    hooks.mkdir()
    marker = mixed.path / ".git" / "hook-ran"
    for hook in ("post-checkout", "post-index-change"):
        (hooks / hook).write_text(f"#!/bin/sh\ntouch '{marker}'\n")
        (hooks / hook).chmod(0o755)
    for key, value in {
        "color.ui": "always",
        "diff.noprefix": "true",
        "diff.mnemonicPrefix": "true",
        "diff.relative": "true",
        "diff.renames": "copies",
        "diff.external": "false",
        "core.hooksPath": str(hooks),
        "core.quotePath": "true",
    }.items():
        mixed.git("config", key, value)
    before = snapshot(mixed.path)
    with staged.checking_staged(mixed.path) as stash:
        assert set(stash.files) == SET_ASIDE
        assert stash.backup is not None
        patch = (stash.backup / "unstaged.patch").read_bytes()
        assert b"\x1b[" not in patch and b"diff --git a/partial.py b/partial.py" in patch
    assert snapshot(mixed.path) == before
    assert not marker.exists()


def test_crlf_files_come_back_with_autocrlf_on(git_repo: GitRepo) -> None:
    git_repo.git("config", "core.autocrlf", "true")
    git_repo.git("config", "core.safecrlf", "false")
    write(git_repo.path, "w.txt", b"a\r\nb\r\n")
    write(git_repo.path, "lf.txt", b"a\nb\n")
    git_repo.commit()
    write(git_repo.path, "w.txt", b"a\r\nB\r\nmixed\n")
    write(git_repo.path, "lf.txt", b"a\nb\nc")
    before = snapshot(git_repo.path)
    with staged.checking_staged(git_repo.path) as stash:
        assert set(stash.files) == {"w.txt", "lf.txt"}
        assert (git_repo.path / "w.txt").read_bytes() == b"a\r\nb\r\n"  # as git checks out
    assert snapshot(git_repo.path) == before


def test_git_index_file_names_the_index_that_is_checked(
    git_repo: GitRepo, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write(git_repo.path, "f.txt", b"committed\n")
    git_repo.commit()
    write(git_repo.path, "f.txt", b"in the other index\n")
    git_repo.add()
    other = tmp_path / "other-index"
    shutil.copyfile(git_repo.path / ".git" / "index", other)
    write(git_repo.path, "f.txt", b"in the real index\n")
    git_repo.add()
    write(git_repo.path, "f.txt", b"work tree\n")
    real_index = (git_repo.path / ".git" / "index").read_bytes()
    other_index = other.read_bytes()
    monkeypatch.setenv("GIT_INDEX_FILE", str(other))
    with staged.checking_staged(git_repo.path) as stash:
        assert stash.files == ("f.txt",)
        assert (git_repo.path / "f.txt").read_bytes() == b"in the other index\n"
    assert (git_repo.path / "f.txt").read_bytes() == b"work tree\n"
    assert (git_repo.path / ".git" / "index").read_bytes() == real_index
    assert other.read_bytes() == other_index


HOOK = textwrap.dedent("""
    from pathlib import Path
    from huskycat import staged

    root = Path.cwd()
    with staged.checking_staged(root) as stash:
        seen = b"|".join((root / n).read_bytes() for n in ("f.txt", "g.txt"))
        with open(root / ".git" / "seen", "ab") as out:
            out.write(seen + b"\\n")
    """)


def test_in_a_real_pre_commit_hook_the_commits_own_index_is_checked(git_repo: GitRepo) -> None:
    src = str(Path(staged.__file__).resolve().parents[1])
    hook = git_repo.path / ".git" / "hooks" / "pre-commit"
    hook.parent.mkdir(exist_ok=True)
    hook.write_text(f"#!/bin/sh\nPYTHONPATH='{src}' exec '{sys.executable}' -c '{HOOK}'\n")
    hook.chmod(0o755)
    write(git_repo.path, "f.txt", b"f0")
    write(git_repo.path, "g.txt", b"g0")
    git_repo.commit()
    write(git_repo.path, "g.txt", b"g1")
    git_repo.add("g.txt")
    write(git_repo.path, "f.txt", b"f1")
    write(git_repo.path, "g.txt", b"g2")
    git_repo.git("commit", "-q", "-m", "only f", "--", "f.txt")  # a temporary index
    git_repo.git("commit", "-q", "-a", "-m", "everything")  # index.lock, all changes
    seen = (git_repo.path / ".git" / "seen").read_bytes()
    assert seen == b"f1|g0\nf1|g2\n"
    assert (git_repo.path / "g.txt").read_bytes() == b"g2"
    assert git_bytes(git_repo.path, "show", "HEAD~1:g.txt", "HEAD:g.txt") == b"g0g2"
    assert backups(git_repo.path) == []


# --- fixers ----------------------------------------------------------------------------------
def test_fixes_that_do_not_overlap_unstaged_changes_are_kept_with_them(git_repo: GitRepo) -> None:
    two_files(git_repo)
    with staged.checking_staged(git_repo.path) as stash:
        assert stash.files == ("f.py",)
        fixed = (git_repo.path / "f.py").read_bytes().replace(b"line2\n", b"fixed2\n")
        write(git_repo.path, "f.py", fixed)
        write(git_repo.path, "g.py", b"G fixed\n")
    expected = b"LINE0\nline1\nfixed2\n" + b"".join(f"line{i}\n".encode() for i in range(3, 9))
    assert (git_repo.path / "f.py").read_bytes() == expected + b"user9\n"
    assert (git_repo.path / "g.py").read_bytes() == b"G fixed\n"
    assert stash.merged == ("f.py",) and stash.rolled_back == ()
    assert stash.messages() == ["the fixes to 'f.py' were kept together with your unstaged changes"]
    assert backups(git_repo.path) == []


def test_fixes_that_overlap_unstaged_changes_are_rolled_back_and_reported(
    git_repo: GitRepo,
) -> None:
    two_files(git_repo)
    before = snapshot(git_repo.path)
    with staged.checking_staged(git_repo.path) as stash:
        fixed = (git_repo.path / "f.py").read_bytes().replace(b"line9\n", b"fixed9\n")
        write(git_repo.path, "f.py", fixed)
        write(git_repo.path, "g.py", b"G fixed\n")
    after = tree(git_repo.path)
    assert after["f.py"] == before["tree"]["f.py"]
    # A fully staged file has no unstaged changes to conflict with: its fix stays.
    assert after["g.py"] == ("file", 0o644, b"G fixed\n")
    assert stash.rolled_back == ("f.py",) and stash.merged == ()
    assert "'f.py' conflicted with your unstaged changes and were rolled back" in (
        stash.messages()[0]
    )


def test_fix_of_a_file_deleted_in_the_work_tree_is_rolled_back(git_repo: GitRepo) -> None:
    write(git_repo.path, "d.py", b"x\n")
    git_repo.commit()
    (git_repo.path / "d.py").unlink()
    with staged.checking_staged(git_repo.path) as stash:
        write(git_repo.path, "d.py", b"x fixed\n")
    assert not (git_repo.path / "d.py").exists()
    assert stash.rolled_back == ("d.py",)


def test_fix_of_a_binary_file_with_unstaged_changes_is_rolled_back(git_repo: GitRepo) -> None:
    write(git_repo.path, "b.bin", b"\0\1\2")
    git_repo.commit()
    write(git_repo.path, "b.bin", b"\0\1\3")
    with staged.checking_staged(git_repo.path) as stash:
        write(git_repo.path, "b.bin", b"\0\4\2")
    assert (git_repo.path / "b.bin").read_bytes() == b"\0\1\3"
    assert stash.rolled_back == ("b.bin",)


# --- crashes, leftovers and recovery ---------------------------------------------------------
KILLED_RUN = textwrap.dedent("""
    import os, signal, sys
    from pathlib import Path
    from huskycat import staged

    root = Path(sys.argv[1])
    with staged.checking_staged(root):
        for name, text in zip(sys.argv[2::2], sys.argv[3::2]):  # a fixer's edits
            (root / name).write_text(text)
        print("set aside", flush=True)
        os.kill(os.getpid(), signal.SIGKILL)
    """)


def killed_run(root: Path, *edits: str) -> subprocess.CompletedProcess[str]:
    src = str(Path(staged.__file__).resolve().parents[1])
    env = dict(os.environ, PYTHONPATH=src + os.pathsep + os.environ.get("PYTHONPATH", ""))
    return subprocess.run(
        [sys.executable, "-c", KILLED_RUN, str(root), *edits],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=False,
    )


def test_sigkilled_run_leaves_a_backup_that_blocks_the_next_run_until_recovered(
    mixed: GitRepo,
) -> None:
    before = snapshot(mixed.path)
    proc = killed_run(mixed.path)
    assert proc.returncode == -signal.SIGKILL and proc.stdout == "set aside\n"
    [backup] = backups(mixed.path)
    assert staged.leftover_backups(mixed.path) == [backup]
    assert staged_view_mismatches(mixed.path, skip=("ita.txt",)) == []  # as the tools saw it

    with pytest.raises(staged.UnrestoredBackupError) as refused, staged.checking_staged(mixed.path):
        pytest.fail("must not start")
    message = str(refused.value)
    assert repr(str(backup)) in message and staged.RECOVER_COMMAND in message
    assert staged_view_mismatches(mixed.path, skip=("ita.txt",)) == []  # nothing touched

    [done] = staged.recover(mixed.path)
    assert done.backup == backup and set(done.files) == SET_ASIDE
    assert snapshot(mixed.path) == before
    assert staged.leftover_backups(mixed.path) == [] and staged.recover(mixed.path) == []


def test_recover_keeps_a_killed_fixers_edit_that_merges(git_repo: GitRepo) -> None:
    two_files(git_repo)
    middle = "".join(f"line{i}\n" for i in range(1, 9)).replace("line2", "fixed2")
    fixed = "LINE0\n" + middle + "line9\n"
    assert killed_run(git_repo.path, "f.py", fixed).returncode == -signal.SIGKILL
    [done] = staged.recover(git_repo.path)
    assert done.merged == ("f.py",)
    assert (git_repo.path / "f.py").read_text() == "LINE0\n" + middle + "user9\n"


def test_recover_refuses_to_overwrite_overlapping_edits_unless_told(git_repo: GitRepo) -> None:
    two_files(git_repo)
    before = tree(git_repo.path)
    edited = "LINE0\n" + "".join(f"line{i}\n" for i in range(1, 9)) + "edited9\n"
    assert killed_run(git_repo.path, "f.py", edited).returncode == -signal.SIGKILL
    with pytest.raises(staged.RecoveryConflictError) as refused:
        staged.recover(git_repo.path)
    assert "'f.py' changed since" in str(refused.value)
    assert (git_repo.path / "f.py").read_text() == edited  # nothing written
    assert len(backups(git_repo.path)) == 1
    [done] = staged.recover(git_repo.path, overwrite=True)
    assert done.rolled_back == ("f.py",)
    assert tree(git_repo.path) == before


def test_recover_command_puts_a_killed_runs_changes_back(mixed: GitRepo) -> None:
    before = snapshot(mixed.path)
    assert killed_run(mixed.path).returncode == -signal.SIGKILL
    src = str(Path(staged.__file__).resolve().parents[1])
    command = staged.RECOVER_COMMAND.split()
    assert command[0] == "huskycat"
    proc = subprocess.run(
        [sys.executable, "-m", *command],
        cwd=mixed.path / "dir with space",
        env=dict(os.environ, PYTHONPATH=src),
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert "put back the unstaged changes to" in proc.stdout
    assert snapshot(mixed.path) == before


def test_failed_put_back_keeps_the_backup_and_names_it(git_repo: GitRepo) -> None:
    two_files(git_repo)
    before = tree(git_repo.path)
    with (
        pytest.raises(staged.RestoreError) as failed,
        staged.checking_staged(git_repo.path) as stash,
    ):
        (git_repo.path / "f.py").unlink()
        (git_repo.path / "f.py").mkdir()  # a tool made a folder where the file was
    assert stash.backup is not None and repr(str(stash.backup)) in str(failed.value)
    assert backups(git_repo.path) == [stash.backup]
    (git_repo.path / "f.py").rmdir()
    with pytest.raises(staged.RecoveryConflictError):
        staged.recover(git_repo.path)  # the file is gone: changed since, so ask
    staged.recover(git_repo.path, overwrite=True)
    assert tree(git_repo.path) == before


def test_incomplete_backup_of_a_dead_run_is_discarded(git_repo: GitRepo) -> None:
    two_files(git_repo)
    store = git_repo.path / ".git" / "huskycat"
    dead = store / "incomplete-20000101T000000Z-999999999"
    (dead / "saved").mkdir(parents=True)
    with staged.checking_staged(git_repo.path) as stash:
        assert stash.files == ("f.py",)
    assert not dead.exists()


def test_signals_wait_while_files_are_swapped() -> None:
    with pytest.raises(KeyboardInterrupt):
        with signals.signals_deferred():
            os.kill(os.getpid(), signal.SIGINT)
            time.sleep(0.05)
            delivered_inside = False
        delivered_inside = True  # pragma: no cover - the interrupt comes first
    assert not delivered_inside


# --- property: random mixes of staged and unstaged edits -------------------------------------
FILES = ("f0.txt", "sub/f 1.txt", "ü2.dat")
FIX = b"# fixed\n"
contents = st.lists(st.sampled_from([b"a\n", b"b\n", b"c\r\n", b"\0\n", b"d"]), max_size=4).map(
    b"".join
)
# Per file: committed, staged and work-tree content (None: absent), +x in the work tree,
# and whether a fixer edits it while the tools run.
file_plans = st.tuples(
    st.one_of(st.none(), contents),
    st.one_of(st.just("same"), st.none(), contents),
    st.one_of(st.just("same"), st.none(), contents),
    st.booleans(),
    st.booleans(),
)


@settings(
    max_examples=30,
    deadline=None,
    # make_git_repo is a plain function; each example makes its own repository.
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(plans=st.tuples(file_plans, file_plans, file_plans))
def test_any_mix_of_staged_and_unstaged_edits_round_trips(
    make_git_repo: MakeRepo, plans: tuple[Any, ...]
) -> None:
    with tempfile.TemporaryDirectory() as folder:
        repo = make_git_repo(Path(folder) / "repo")
        root = repo.path
        for name, (head, *_) in zip(FILES, plans):
            if head is not None:
                write(root, name, head)
        if any(plan[0] is not None for plan in plans):
            repo.commit()
        for name, (head, index, *_) in zip(FILES, plans):
            if index is None and head is not None:
                repo.git("rm", "-q", "--cached", "--", name)
            elif index not in ("same", None):
                write(root, name, index)
                repo.git("add", "--", name)
        for name, (_, _, work, executable, _) in zip(FILES, plans):
            if work is None:
                (root / name).unlink(missing_ok=True)
            elif work != "same":
                write(root, name, work)
            if executable and (root / name).is_file():
                (root / name).chmod(0o755)
        before = snapshot(root)

        with staged.checking_staged(root) as stash:
            assert staged_view_mismatches(root) == []
            fixed = []
            for name, plan in zip(FILES, plans):
                if plan[4] and (root / name).is_file():
                    (root / name).write_bytes(FIX + (root / name).read_bytes())
                    fixed.append(name)

        after = tree(root)
        assert git_bytes(root, "ls-files", "--stage", "-z") == before["stage"]
        assert {k for k in after if k.endswith("/")} == {
            k for k in before["tree"] if k.endswith("/")
        }
        for name in FILES:
            was, now = before["tree"].get(name), after.get(name)
            if name in stash.merged or name in fixed and name not in stash.files:
                assert was is not None and now == (was[0], was[1], FIX + was[2])
            else:  # untouched, put back, or the fix rolled back
                assert now == was
        assert set(stash.merged) | set(stash.rolled_back) <= set(fixed) & set(stash.files)
        assert backups(root) == []
