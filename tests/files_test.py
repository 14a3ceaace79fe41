from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from huskycat import files
from huskycat.files import (
    FilesError,
    collect_files,
    command_length,
    file_tags,
    matches_glob,
    partition,
    select_for_tool,
)
from huskycat.git import GitError

if TYPE_CHECKING:  # tests/ may or may not be a package; only mypy imports this
    from tests.conftest import GitRepo


def _write(path: Path, content: str = "", *, mode: int | None = None) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(content, encoding="utf-8")
    if mode is not None:
        path.chmod(mode)
    return path


# collect_files, in a git repository


def test_all_is_tracked_plus_untracked_not_ignored(git_repo: GitRepo) -> None:
    git_repo.write(".gitignore", "*.log\n")
    git_repo.write("tracked.py")
    git_repo.commit()
    git_repo.write("new.py")
    git_repo.write("ignored.log")
    found = collect_files(git_repo.path)
    assert found == [".gitignore", "new.py", "tracked.py"]


def test_all_under_paths_only(git_repo: GitRepo) -> None:
    git_repo.write("src/a.py")
    git_repo.write("tests/b.py")
    git_repo.write("setup.py")
    git_repo.commit()
    git_repo.write("src/new.py")
    found = collect_files(git_repo.path, paths=["src", "setup.py"])
    assert found == ["setup.py", "src/a.py", "src/new.py"]


def test_all_accepts_absolute_paths_inside_the_root(git_repo: GitRepo) -> None:
    git_repo.write("src/a.py")
    git_repo.write("b.py")
    found = collect_files(git_repo.path, paths=[str(git_repo.path / "src")])
    assert found == ["src/a.py"]


def test_a_missing_path_is_an_error_naming_it(git_repo: GitRepo) -> None:
    with pytest.raises(FilesError, match="path 'nope' does not exist"):
        collect_files(git_repo.path, paths=["nope"])


def test_a_path_outside_the_root_is_an_error(git_repo: GitRepo, tmp_path: Path) -> None:
    with pytest.raises(FilesError, match="outside the project root"):
        collect_files(git_repo.path, paths=[str(tmp_path)])


def test_staged_mode_lists_the_index(git_repo: GitRepo) -> None:
    git_repo.write("a.py")
    git_repo.commit()
    git_repo.write("a.py", "changed")
    git_repo.write("b.py")
    git_repo.write("c.py")
    git_repo.add("a.py", "b.py")
    assert collect_files(git_repo.path, mode="staged") == ["a.py", "b.py"]
    assert collect_files(git_repo.path, mode="staged", paths=["b.py"]) == ["b.py"]


def test_changed_mode_lists_changes_since_the_ref(git_repo: GitRepo) -> None:
    git_repo.write("a.py")
    git_repo.write("b.py")
    git_repo.commit()
    git_repo.write("b.py", "changed")
    git_repo.write("c.py")
    assert collect_files(git_repo.path, mode="changed", ref="HEAD") == ["b.py", "c.py"]


def test_changed_mode_with_a_bad_ref_raises_git_error(git_repo: GitRepo) -> None:
    git_repo.write("a.py")
    git_repo.commit()
    with pytest.raises(GitError, match="'origin/nope'"):
        collect_files(git_repo.path, mode="changed", ref="origin/nope")


def test_files_mode_is_exactly_the_given_files(git_repo: GitRepo) -> None:
    git_repo.write("a.py")
    git_repo.write("ignored.log")
    git_repo.write(".gitignore", "*.log\n")
    found = collect_files(git_repo.path, mode="files", files=["ignored.log", "./a.py", "a.py"])
    assert found == ["a.py", "ignored.log"]


def test_files_mode_names_a_missing_file(git_repo: GitRepo) -> None:
    git_repo.write("a.py")
    with pytest.raises(FilesError, match="file 'missing.py' does not exist"):
        collect_files(git_repo.path, mode="files", files=["a.py", "missing.py"])


def test_files_mode_rejects_a_folder(git_repo: GitRepo) -> None:
    git_repo.write("src/a.py")
    with pytest.raises(FilesError, match="'src' is a folder"):
        collect_files(git_repo.path, mode="files", files=["src"])


def test_unknown_mode_is_rejected(git_repo: GitRepo) -> None:
    with pytest.raises(ValueError, match="unknown file mode 'some'"):
        collect_files(git_repo.path, mode="some")  # type: ignore[arg-type]  # on purpose


# collect_files, outside git


def test_outside_git_all_walks_and_skips_vcs_venvs_and_caches(tmp_path: Path) -> None:
    for name in [
        "a.py",
        "pkg/b.py",
        ".git/config",
        ".hg/x",
        ".svn/x",
        ".venv/lib/x.py",
        "venv/x.py",
        ".tox/x.py",
        ".nox/x.py",
        "__pycache__/x.pyc",
        ".mypy_cache/x",
        ".ruff_cache/x",
        ".pytest_cache/x",
        "node_modules/x.js",
        ".cache/x",
        "myenv/pyvenv.cfg",
        "myenv/lib/x.py",
        "pkg/__pycache__/y.pyc",
    ]:
        _write(tmp_path / name)
    assert collect_files(tmp_path) == ["a.py", "pkg/b.py"]


def test_outside_git_all_walks_only_the_paths(tmp_path: Path) -> None:
    _write(tmp_path / "a.py")
    _write(tmp_path / "src/b.py")
    _write(tmp_path / "src/c/d.py")
    assert collect_files(tmp_path, paths=["src"]) == ["src/b.py", "src/c/d.py"]
    assert collect_files(tmp_path, paths=["a.py"]) == ["a.py"]


def test_outside_git_symlinks_are_files_not_walked(tmp_path: Path) -> None:
    _write(tmp_path / "real/x.py")
    os.symlink("real", tmp_path / "link")
    assert collect_files(tmp_path) == ["link", "real/x.py"]


@pytest.mark.parametrize("mode", ["staged", "changed"])
def test_outside_git_staged_and_changed_are_errors(tmp_path: Path, mode: files.Mode) -> None:
    with pytest.raises(FilesError, match=f"cannot list {mode} files: .* not in a git repo"):
        collect_files(tmp_path, mode=mode, ref="HEAD")


def test_outside_git_files_mode_works(tmp_path: Path) -> None:
    _write(tmp_path / "a.py")
    assert collect_files(tmp_path, mode="files", files=["a.py"]) == ["a.py"]


# file_tags


def test_tags_of_a_python_file(tmp_path: Path) -> None:
    tags = file_tags(_write(tmp_path / "a.py", "x = 1\n"))
    assert {"file", "text", "python", "non-executable"} <= tags


def test_tags_read_a_python_shebang_without_extension(tmp_path: Path) -> None:
    script = _write(tmp_path / "tool", "#!/usr/bin/env python3\nprint()\n", mode=0o755)
    assert "python" in file_tags(script)


def test_tags_read_a_sh_shebang(tmp_path: Path) -> None:
    script = _write(tmp_path / "run", "#!/bin/sh\necho\n", mode=0o755)
    assert {"shell", "sh"} <= file_tags(script)


def test_tags_of_missing_and_broken_symlink_are_empty(tmp_path: Path) -> None:
    os.symlink("nowhere", tmp_path / "broken.py")
    assert file_tags(tmp_path / "broken.py") == frozenset()
    assert file_tags(tmp_path / "missing.py") == frozenset()


def test_tags_of_a_symlink_are_symlink(tmp_path: Path) -> None:
    _write(tmp_path / "real.py")
    os.symlink("real.py", tmp_path / "link.py")
    assert file_tags(tmp_path / "link.py") == frozenset({"symlink"})


def test_tags_of_an_unreadable_script_are_empty(tmp_path: Path) -> None:
    if os.geteuid() == 0:
        pytest.skip("root reads every file")
    script = _write(tmp_path / "tool", "#!/bin/sh\n", mode=0o311)
    assert file_tags(script) == frozenset()


def test_tags_of_an_executable_fifo_are_empty_without_blocking(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "pipe", 0o755)
    assert file_tags(tmp_path / "pipe") == frozenset()


def test_outside_git_fifos_are_not_files(tmp_path: Path) -> None:
    _write(tmp_path / "a.py")
    os.mkfifo(tmp_path / "pipe")
    assert collect_files(tmp_path) == ["a.py"]


def test_tags_are_cached_per_path(tmp_path: Path) -> None:
    path = _write(tmp_path / "x", "#!/bin/sh\n", mode=0o755)
    first = file_tags(path)
    path.write_text("#!/usr/bin/env python3\n")
    assert file_tags(path) is first
    file_tags.cache_clear()
    assert "python" in file_tags(path)


# matches_glob


@pytest.mark.parametrize(
    ("path", "pattern", "expected"),
    [
        ("a.py", "*.py", True),
        ("src/deep/a.py", "*.py", True),  # no slash: the name at any depth
        ("src/a.pyi", "*.py", False),
        ("src/a.py", "src/*.py", True),
        ("src/deep/a.py", "src/*.py", False),  # "*" stays in one folder
        ("src/deep/a.py", "src/**/*.py", True),
        ("src/a.py", "src/**/*.py", True),  # "**/" may be no folder at all
        ("lib/src/a.py", "src/**/*.py", False),  # a slash anchors at the root
        ("lib/src/a.py", "**/src/*.py", True),
        ("/abs.py", "abs.py", True),
        ("a.py", "/a.py", True),
        ("a.py", "./a.py", True),
        ("vendor/x/y.py", "vendor", True),  # a folder matches what is under it
        ("lib/vendor/y.py", "vendor", True),
        ("vendor", "vendor/", False),  # a trailing slash: folders only
        ("vendor/y.py", "vendor/", True),
        ("build/a/b.o", "build/**", True),
        ("build", "build/**", False),
        ("docs/sub/a.md", "docs/*", True),
        ("a1.py", "a?.py", True),
        ("a10.py", "a?.py", False),
        ("ab.py", "a[bc].py", True),
        ("ad.py", "a[!bc].py", True),
        ("ab.py", "a[!bc].py", False),
        ("a[b.py", "a[b.py", True),  # an unclosed class is literal
        ("a+b.py", "a+b.py", True),  # regex characters are literal
        ("A.PY", "*.py", False),  # case-sensitive
        ("x/y/z", "**", True),
    ],
)
def test_matches_glob(path: str, pattern: str, expected: bool) -> None:
    assert matches_glob(path.lstrip("/"), pattern) is expected


# select_for_tool

TAGS = {
    "a.py": frozenset({"file", "text", "python"}),
    "b.pyi": frozenset({"file", "text", "python", "pyi"}),
    "run": frozenset({"file", "text", "shell"}),
    "tests/t.py": frozenset({"file", "text", "python"}),
    "x.yaml": frozenset({"file", "text", "yaml"}),
}


def _tags(name: str) -> frozenset[str]:
    return TAGS[name]


def test_select_with_nothing_set_keeps_every_file() -> None:
    assert select_for_tool(list(TAGS), _tags) == list(TAGS)


def test_select_keeps_files_with_any_of_the_types() -> None:
    found = select_for_tool(list(TAGS), _tags, types=["python", "shell"])
    assert found == ["a.py", "b.pyi", "run", "tests/t.py"]


def test_select_drops_files_with_an_excluded_type() -> None:
    found = select_for_tool(list(TAGS), _tags, types=["python"], exclude_types=["pyi"])
    assert found == ["a.py", "tests/t.py"]


def test_select_applies_regexes_with_search() -> None:
    found = select_for_tool(list(TAGS), _tags, files_regex=r"\.py", exclude_regex="^tests/")
    assert found == ["a.py", "b.pyi"]


def test_select_applies_globs() -> None:
    found = select_for_tool(
        list(TAGS), _tags, include_globs=["*.py", "*.yaml"], exclude_globs=["tests"]
    )
    assert found == ["a.py", "x.yaml"]


def test_select_asks_for_tags_only_when_types_are_set() -> None:
    def no_tags(name: str) -> frozenset[str]:
        raise AssertionError(f"tags of {name} asked for")

    assert select_for_tool(["a.py"], no_tags, files_regex="a") == ["a.py"]


def test_select_keeps_the_input_order() -> None:
    names = ["x.yaml", "a.py", "run"]
    assert select_for_tool(names, _tags) == names


# partition


def test_partition_of_no_files_is_no_batches() -> None:
    assert partition(10, []) == []


def test_partition_fits_everything_in_one_batch_when_it_can() -> None:
    names = [f"f{i}.py" for i in range(100)]
    assert partition(command_length(["black", "--check"]), names) == [names]


def test_partition_splits_at_the_limit() -> None:
    # Each name costs len + NUL + pointer = 5 + 1 + 8 = 14 bytes.
    names = ["a.py1", "a.py2", "a.py3", "a.py4", "a.py5"]
    assert partition(0, names, max_chars=28) == [names[0:2], names[2:4], names[4:]]
    assert partition(10, names, max_chars=38) == [names[0:2], names[2:4], names[4:]]


def test_partition_rejects_a_file_that_cannot_fit() -> None:
    with pytest.raises(ValueError, match="'very-long-name.py' does not fit"):
        partition(20, ["very-long-name.py"], max_chars=30)


def test_default_limit_is_conservative() -> None:
    assert 4096 <= files.max_command_length() <= 128 * 1024


@given(
    prefix=st.integers(min_value=0, max_value=200),
    names=st.lists(st.text(min_size=1, max_size=40), max_size=60),
    room=st.integers(min_value=60, max_value=600),
)
def test_partition_keeps_order_and_respects_the_limit(
    prefix: int, names: list[str], room: int
) -> None:
    names = [n.replace("\0", "") or "x" for n in names]
    # Each name alone must fit (one that cannot is an error, tested elsewhere); in UTF-8 a
    # 40-character name can take up to 160 bytes.
    assume(all(command_length([n]) <= room for n in names))
    limit = prefix + room
    batches = partition(prefix, names, max_chars=limit)
    assert [name for batch in batches for name in batch] == names
    for batch in batches:
        assert batch
        assert prefix + command_length(batch) <= limit


@pytest.mark.parametrize(
    ("name", "text", "mode"),
    [
        ("a.py", "x = 1\n", 0o644),
        ("run.py", "#!/usr/bin/env python3\n", 0o755),
        ("tool", "#!/bin/sh\necho\n", 0o755),
        ("tool2", "#!/bin/sh\necho\n", 0o644),
        ("notes", "plain words\n", 0o644),
        ("blob", "\x00\x01\x02", 0o644),
        ("Dockerfile", "FROM alpine\n", 0o644),
        ("Makefile", "all:\n", 0o644),
        ("image.png", "not really a png\n", 0o644),
        ("data.svg", "<svg/>\n", 0o644),
        ("x.tar.gz", "\x1f\x8b", 0o755),
        (".bashrc", "alias x=y\n", 0o644),
        ("odd.PY", "x = 1\n", 0o644),
        ("owner-only", "#!/bin/sh\n", 0o744),
    ],
)
def test_tags_for_a_known_kind_are_identifys(
    tmp_path: Path, name: str, text: str, mode: int
) -> None:
    path = _write(tmp_path / name, text, mode=mode)
    kind = "x" if mode & 0o111 else "f"
    assert files.tags_for(str(path), kind) == files.find_tags(path)


def test_tags_for_a_symlink_or_unknown_kind_look_at_the_file(tmp_path: Path) -> None:
    _write(tmp_path / "real.py", "x = 1\n")
    os.symlink("real.py", tmp_path / "link.py")
    assert files.tags_for(str(tmp_path / "link.py"), "l") == frozenset({"symlink"})
    assert files.tags_for(str(tmp_path / "missing.py"), "") == frozenset()
