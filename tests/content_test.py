"""Content identity: git's blob ids, from the index where git vouches for a file."""

from __future__ import annotations

import os
import subprocess
import time
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from huskycat import content
from huskycat.cache import fingerprint

if TYPE_CHECKING:  # tests/ may or may not be a package; only mypy imports this
    from tests.conftest import GitRepo, MakeRepo

ODD_NAMES = ["with space.py", "ünïcode.py", "-dash.py", "new\nline.py", "*.py", "tab\there.py"]


pytestmark = pytest.mark.usefixtures("fresh_content")


@pytest.fixture
def settled_now(monkeypatch: pytest.MonkeyPatch) -> None:
    """Files count as settled as soon as they are older than the snapshot, so that a
    test need not wait two seconds before git's ids are trusted."""
    monkeypatch.setattr(content, "RACY_NS", 0)
    monkeypatch.setattr(content, "INDEX_MARGIN_NS", 0)


@pytest.fixture
def no_hashing(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Records every file hashed here (rather than taken from the index)."""
    hashed: list[str] = []
    real = content.identity

    def spy(full: str, *, algorithm: str = "sha1") -> tuple[str | None, str]:
        hashed.append(os.path.basename(full))
        return real(full, algorithm=algorithm)

    monkeypatch.setattr(content, "identity", spy)
    return hashed


def hash_object(repo: GitRepo, name: str) -> str:
    return subprocess.run(
        ["git", "hash-object", "--no-filters", "--", name],
        cwd=repo.path,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()


def test_blob_id_is_gits() -> None:
    assert content.blob_id(b"") == "e69de29bb2d1d6434b8b29ae775ad8c2e48c5391"
    assert content.blob_id(b"hello\n") == "ce013625030ba8dba906f756967f9e9ca394464a"


def test_ids_agree_with_git_for_tracked_modified_and_untracked_files(git_repo: GitRepo) -> None:
    for name in ODD_NAMES:
        git_repo.write(name, f"# {name!r}\n")
    git_repo.write("run", "#!/bin/sh\n", executable=True)
    git_repo.write("empty.py")
    git_repo.commit()
    git_repo.write("with space.py", "# changed\n")
    git_repo.write("new.py", "x = 1\n")
    names = [*ODD_NAMES, "run", "empty.py", "new.py"]
    ids = content.content_ids(git_repo.path, names)
    assert ids == {name: hash_object(git_repo, name) for name in names}
    assert fingerprint.file_digests(git_repo.path, names) == ids


def test_a_missing_file_a_folder_and_a_broken_link_have_no_id(git_repo: GitRepo) -> None:
    git_repo.write("gone.py", "x\n")
    git_repo.write("dir/a.py")
    git_repo.commit()
    os.remove(git_repo.path / "gone.py")
    os.symlink("nowhere", git_repo.path / "broken")
    ids = content.content_ids(git_repo.path, ["gone.py", "dir", "broken", "never.py"])
    assert ids == dict.fromkeys(["gone.py", "dir", "broken", "never.py"])


def test_a_symlink_has_the_id_of_what_it_points_to(git_repo: GitRepo) -> None:
    git_repo.write("real.py", "x = 1\n")
    os.symlink("real.py", git_repo.path / "link.py")
    git_repo.commit()
    found = content.identities(git_repo.path, ["link.py"])
    assert found == {"link.py": (content.blob_id(b"x = 1\n"), "l")}


def test_unchanged_tracked_files_are_not_read(
    git_repo: GitRepo, settled_now: None, no_hashing: list[str]
) -> None:
    git_repo.write("a.py", "a = 1\n")
    git_repo.write("tool", "#!/bin/sh\n", executable=True)
    git_repo.commit()
    git_repo.write("b.py", "b = 1\n")  # untracked: hashed
    content.snapshot(git_repo.path)  # as listing the files does
    found = content.identities(git_repo.path, ["a.py", "tool", "b.py"])
    assert found == {
        "a.py": (content.blob_id(b"a = 1\n"), "f"),
        "tool": (content.blob_id(b"#!/bin/sh\n"), "x"),
        "b.py": (content.blob_id(b"b = 1\n"), "f"),
    }
    assert no_hashing == ["b.py"]


def test_a_few_files_are_hashed_rather_than_worth_a_snapshot(
    git_repo: GitRepo, settled_now: None, no_hashing: list[str]
) -> None:
    git_repo.write("a.py", "a = 1\n")
    git_repo.commit()
    assert content.content_ids(git_repo.path, ["a.py"]) == {"a.py": content.blob_id(b"a = 1\n")}
    assert no_hashing == ["a.py"]
    assert content.snapshot(git_repo.path, take=False) is None


def test_a_racy_edit_of_the_same_size_in_the_same_second_is_seen(git_repo: GitRepo) -> None:
    # Committed and rewritten at once: same size, most likely the same mtime second as the
    # index entry. Git's racy-clean check (and our settling time) must see it.
    git_repo.write("a.py", "aaaa\n")
    git_repo.commit()
    git_repo.write("a.py", "bbbb\n")
    assert content.content_ids(git_repo.path, ["a.py"]) == {"a.py": content.blob_id(b"bbbb\n")}


def test_a_file_changed_after_the_snapshot_is_hashed_again(
    git_repo: GitRepo, settled_now: None
) -> None:
    git_repo.write("a.py", "a = 1\n")
    git_repo.commit()
    assert content.content_ids(git_repo.path, ["a.py"]) == {"a.py": content.blob_id(b"a = 1\n")}
    assert content.snapshot(git_repo.path) is not None  # the one taken above, kept
    git_repo.write("a.py", "a = 22\n")
    assert content.content_ids(git_repo.path, ["a.py"]) == {"a.py": content.blob_id(b"a = 22\n")}


@pytest.mark.parametrize("flag", ["--assume-unchanged", "--skip-worktree"])
def test_files_git_does_not_look_at_are_hashed(
    git_repo: GitRepo, settled_now: None, flag: str
) -> None:
    git_repo.write("a.py", "a = 1\n")
    git_repo.commit()
    git_repo.git("update-index", flag, "a.py")
    git_repo.write("a.py", "a = 2\n")
    assert git_repo.git("diff", "--name-only") == ""  # git would say "unchanged"
    assert content.content_ids(git_repo.path, ["a.py"]) == {"a.py": content.blob_id(b"a = 2\n")}


def test_core_autocrlf_makes_every_file_hashed(
    git_repo: GitRepo, settled_now: None, no_hashing: list[str]
) -> None:
    git_repo.git("config", "core.autocrlf", "true")
    (git_repo.path / "a.txt").write_bytes(b"one\r\ntwo\r\n")
    git_repo.commit()
    assert git_repo.git("diff", "--name-only") == ""
    content.snapshot(git_repo.path)
    ids = content.content_ids(git_repo.path, ["a.txt"])
    assert ids == {"a.txt": content.blob_id(b"one\r\ntwo\r\n")}  # not the index's LF blob
    assert no_hashing == ["a.txt"]


def test_files_with_a_converting_attribute_are_hashed_and_others_not(
    git_repo: GitRepo, settled_now: None, no_hashing: list[str]
) -> None:
    git_repo.write(".gitattributes", "*.txt text eol=crlf\n")
    git_repo.write("a.txt", "one\ntwo\n")
    git_repo.write("b.py", "b = 1\n")
    git_repo.commit()
    os.remove(git_repo.path / "a.txt")
    git_repo.git("checkout", "--", "a.txt")  # written with CRLF line ends
    content.snapshot(git_repo.path)
    assert (git_repo.path / "a.txt").read_bytes() == b"one\r\ntwo\r\n"
    ids = content.content_ids(git_repo.path, ["a.txt", "b.py"])
    assert ids == {"a.txt": content.blob_id(b"one\r\ntwo\r\n"), "b.py": content.blob_id(b"b = 1\n")}
    assert no_hashing == ["a.txt"]


def test_a_sha256_repository_has_sha256_ids(make_git_repo: MakeRepo, tmp_path: Path) -> None:
    path = tmp_path / "r256"
    path.mkdir()
    proc = subprocess.run(
        ["git", "init", "-q", "--object-format=sha256"], cwd=path, capture_output=True, check=False
    )
    if proc.returncode != 0:
        pytest.skip(f"this git cannot make a sha256 repository: {proc.stderr!r}")
    repo = make_git_repo(path)
    repo.write("a.py", "a = 1\n")
    repo.commit()
    repo.write("b.py", "b = 1\n")
    ids = content.content_ids(repo.path, ["a.py", "b.py"])
    assert ids == {"a.py": hash_object(repo, "a.py"), "b.py": hash_object(repo, "b.py")}
    assert len(ids["a.py"] or "") == 64


def test_snapshot_lists_existing_tracked_and_untracked_files(
    git_repo: GitRepo, make_git_repo: MakeRepo
) -> None:
    git_repo.write(".gitignore", "*.log\n")
    for name in ("kept.py", "gone.py", "sub/x.py"):
        git_repo.write(name)
    git_repo.commit()
    os.remove(git_repo.path / "gone.py")
    git_repo.write("new.py")
    git_repo.write("debug.log")
    make_git_repo(git_repo.path / "nested").write("inner.py")
    taken = content.take_snapshot(git_repo.path)
    assert taken is not None
    assert taken.files == (".gitignore", "kept.py", "new.py", "sub/x.py")
    assert set(taken.ids) <= set(taken.files)


def test_a_snapshot_of_a_subfolder_names_files_relative_to_it(git_repo: GitRepo) -> None:
    git_repo.write("top.py")
    git_repo.write("sub/a.py", "a\n")
    git_repo.commit()
    git_repo.write("sub/b.py", "b\n")
    taken = content.take_snapshot(git_repo.path / "sub")
    assert taken is not None and taken.files == ("a.py", "b.py")


def test_outside_a_repository_every_file_is_hashed(tmp_path: Path) -> None:
    (tmp_path / "a.py").write_bytes(b"a\n")
    assert content.take_snapshot(tmp_path) is None
    assert content.content_ids(tmp_path, ["a.py"]) == {"a.py": content.blob_id(b"a\n")}
    assert fingerprint.file_digest(tmp_path / "a.py") == content.blob_id(b"a\n")


def test_project_digest_changes_with_an_added_edited_or_removed_file(git_repo: GitRepo) -> None:
    git_repo.write("a.py", "a = 1\n")
    git_repo.commit()
    first = fingerprint.project_digest(git_repo.path)
    git_repo.write("b.py", "b = 1\n")
    added = fingerprint.project_digest(git_repo.path)
    git_repo.write("b.py", "b = 2\n")
    edited = fingerprint.project_digest(git_repo.path)
    os.remove(git_repo.path / "b.py")
    assert len({first, added, edited}) == 3
    assert fingerprint.project_digest(git_repo.path) == first


def test_an_untracked_nested_attributes_file_is_heeded(
    git_repo: GitRepo, settled_now: None, no_hashing: list[str]
) -> None:
    git_repo.write("sub/a.py", "a = 1\n")
    git_repo.write("sub/b.py", "b = 1\n")
    git_repo.commit()
    git_repo.write("sub/.gitattributes", "a.py ident\n")  # $Id$ expanded on checkout
    content.snapshot(git_repo.path)
    ids = content.content_ids(git_repo.path, ["sub/a.py", "sub/b.py"])
    assert ids == {"sub/a.py": content.blob_id(b"a = 1\n"), "sub/b.py": content.blob_id(b"b = 1\n")}
    assert no_hashing == ["a.py"]


def test_no_id_is_vouched_for_while_the_index_keeps_changing(
    git_repo: GitRepo, settled_now: None, no_hashing: list[str]
) -> None:
    # As if `git add` rewrote the index while the listings ran, every time: one listing
    # could have read the old index, the other compared the work tree with the new one.
    git_repo.write("a.py", "a = 1\n")
    git_repo.commit()
    index = git_repo.path / ".git" / "index"
    future = time.time() + 3600
    os.utime(index, (future, future))
    taken = content.snapshot(git_repo.path)
    assert taken is not None and taken.ids == {} and taken.files == ("a.py",)
    assert content.content_ids(git_repo.path, ["a.py"]) == {"a.py": content.blob_id(b"a = 1\n")}
    assert no_hashing == ["a.py"]
