"""File types remembered across runs by (path, content id, kind)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from huskycat import content, filetypes
from huskycat.commands.common import load_config
from huskycat.filetypes import FileTypes
from huskycat.planning import build_plan

if TYPE_CHECKING:  # tests/ may or may not be a package; only mypy imports this
    from tests.conftest import GitRepo


pytestmark = pytest.mark.usefixtures("fresh_content")


@pytest.fixture
def typed(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Records the name of every file typed with identify (not remembered)."""
    names: list[str] = []
    real = filetypes.tags_for

    def spy(path: str, kind: str) -> frozenset[str]:
        names.append(os.path.basename(path))
        return real(path, kind)

    monkeypatch.setattr(filetypes, "tags_for", spy)
    return names


def next_run(root: Path) -> FileTypes:
    """The types as a new process would see them."""
    content.forget()
    return FileTypes.for_root(root)


def test_unchanged_files_are_not_typed_again(git_repo: GitRepo, typed: list[str]) -> None:
    git_repo.write("a.py", "a = 1\n")
    git_repo.write("tool", "#!/bin/sh\necho hi\n", executable=True)
    git_repo.commit()
    first = FileTypes.for_root(git_repo.path)
    assert "python" in first.tags_of("a.py") and "shell" in first.tags_of("tool")
    first.save()
    assert sorted(typed) == ["a.py", "tool"]
    second = next_run(git_repo.path)
    assert second.tags_of("a.py") == first.tags_of("a.py")
    assert second.tags_of("tool") == first.tags_of("tool")
    assert sorted(typed) == ["a.py", "tool"]  # nothing typed again


def test_a_file_whose_content_or_mode_changed_is_typed_again(
    git_repo: GitRepo, typed: list[str]
) -> None:
    git_repo.write("tool", "#!/bin/sh\n", executable=True)
    git_repo.write("script", "#!/bin/sh\n")
    git_repo.commit()
    first = FileTypes.for_root(git_repo.path)
    assert "shell" in first.tags_of("tool")
    assert "shell" not in first.tags_of("script")  # a shebang counts only when executable
    first.save()
    git_repo.write("tool", "#!/usr/bin/env python3\n", executable=True)
    (git_repo.path / "script").chmod(0o755)
    second = next_run(git_repo.path)
    assert "python" in second.tags_of("tool")
    assert "shell" in second.tags_of("script")
    assert typed == ["tool", "script", "tool", "script"]


def test_a_damaged_store_is_ignored_and_rewritten(git_repo: GitRepo, typed: list[str]) -> None:
    git_repo.write("a.py", "a = 1\n")
    git_repo.commit()
    first = FileTypes.for_root(git_repo.path)
    first.tags_of("a.py")
    first.save()
    store = git_repo.path / ".git" / "huskycat" / filetypes.FILE_NAME
    good = store.read_bytes()
    for damaged in (b"", b"garbage", good[:-5], good.replace(b"f0", b"fX"), good[:30]):
        store.write_bytes(damaged)
        again = next_run(git_repo.path)
        assert "python" in again.tags_of("a.py")
        again.save()
        assert filetypes.load(store) == filetypes.load(store) != {}
    assert typed == ["a.py"] * 6
    store.write_bytes(good[:-5])
    assert filetypes.load(store) == {}
    assert not [p for p in store.parent.iterdir() if p.name.startswith(".tmp")]


def test_odd_names_round_trip(tmp_path: Path) -> None:
    names = ["new\nline.py", "tab\there.py", "ünï.py", os.fsdecode(b"bad-\xff.py"), "sp ace"]
    entries = {name: ("0" * 40, "f", frozenset({"text", "python"})) for name in names}
    entries["x"] = ("1" * 40, "x", frozenset({"shell", "executable"}))
    filetypes.dump(tmp_path / "store", entries)
    assert filetypes.load(tmp_path / "store") == entries


def test_outside_a_repository_nothing_is_stored(tmp_path: Path) -> None:
    (tmp_path / "a.py").write_text("a = 1\n")
    types = FileTypes.for_root(tmp_path)
    assert "python" in types.tags_of("a.py")
    types.save()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.py"]


def test_planning_remembers_types_in_the_state_folder(git_repo: GitRepo) -> None:
    git_repo.write("a.py", "a = 1\n")
    git_repo.write("b.sh", "echo hi\n")
    git_repo.commit()
    root = git_repo.path
    build_plan(root, load_config(root), ["a.py", "b.sh"], only=["ruff", "shellcheck"])
    known = filetypes.load(root / ".git" / "huskycat" / filetypes.FILE_NAME)
    assert known["a.py"][:2] == (content.blob_id(b"a = 1\n"), "f")
    assert "shell" in known["b.sh"][2]


def test_an_old_listing_is_not_taken_on_its_word(
    git_repo: GitRepo, monkeypatch: pytest.MonkeyPatch
) -> None:
    git_repo.write("tool", "#!/bin/sh\n", executable=True)
    git_repo.commit()
    first = FileTypes.for_root(git_repo.path)
    assert "shell" in first.tags_of("tool")
    first.save()
    git_repo.write("tool", "#!/usr/bin/env python3\n", executable=True)
    # The snapshot listed before the edit: within LISTED_NS of it, planning takes the
    # files as listed; after, it looks at each file.
    monkeypatch.setattr(content, "LISTED_NS", 0)
    assert "python" in FileTypes.for_root(git_repo.path).tags_of("tool")
