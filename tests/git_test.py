from __future__ import annotations

import os
import shlex
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from huskycat import git

if TYPE_CHECKING:  # tests/ may or may not be a package; only mypy imports this
    from tests.conftest import GitRepo, MakeRepo

ODD_NAMES = ["with space.py", "ünïcode.py", "-leading-dash.py", "new\nline.py", "*.py"]


def test_find_root_returns_top_level_from_a_subfolder_and_a_file(git_repo: GitRepo) -> None:
    file = git_repo.write("a/b/c.py")
    top = git_repo.path.resolve()
    assert git.find_root(git_repo.path / "a" / "b") == top
    assert git.find_root(file) == top
    assert git.find_root(git_repo.path / "a" / "missing" / "x.py") == top


def test_find_root_is_none_outside_a_repository(tmp_path: Path) -> None:
    assert git.find_root(tmp_path) is None


def test_find_root_is_none_inside_the_git_directory(git_repo: GitRepo) -> None:
    assert git.find_root(git_repo.path / ".git") is None


def test_git_dir_is_absolute(git_repo: GitRepo) -> None:
    assert git.git_dir(git_repo.path) == (git_repo.path / ".git").resolve()


def test_git_dir_of_a_worktree_is_its_own(git_repo: GitRepo, tmp_path: Path) -> None:
    git_repo.write("a.py")
    git_repo.commit()
    other = tmp_path / "wt"
    git_repo.git("worktree", "add", "-q", "-b", "side", str(other))
    found = git.git_dir(other)
    assert found.is_absolute()
    assert found == (git_repo.path / ".git" / "worktrees" / "wt").resolve()


def test_git_path_honours_core_hooks_path(git_repo: GitRepo) -> None:
    assert git.git_path(git_repo.path, "hooks") == git_repo.path / ".git" / "hooks"
    git_repo.git("config", "core.hooksPath", "my-hooks")
    assert git.git_path(git_repo.path, "hooks") == git_repo.path / "my-hooks"


def test_tracked_files_lists_odd_names_sorted(git_repo: GitRepo) -> None:
    for name in ODD_NAMES:
        git_repo.write(name)
    git_repo.write("sub/dir/x.txt")
    git_repo.commit()
    assert git.tracked_files(git_repo.path) == sorted([*ODD_NAMES, "sub/dir/x.txt"])


def test_tracked_files_under_paths_treats_paths_literally(git_repo: GitRepo) -> None:
    git_repo.write("*.py")
    git_repo.write("real.py")
    git_repo.write("sub/x.py")
    git_repo.write("other/y.py")
    git_repo.commit()
    assert git.tracked_files(git_repo.path, ["*.py"]) == ["*.py"]
    assert git.tracked_files(git_repo.path, ["sub", "real.py"]) == ["real.py", "sub/x.py"]


def test_tracked_files_skip_deleted_files_and_submodules(
    git_repo: GitRepo, make_git_repo: MakeRepo
) -> None:
    git_repo.write("keep.py")
    git_repo.write("gone.py")
    inner = make_git_repo(git_repo.path / "inner")
    inner.write("x.py")
    inner.commit()
    git_repo.commit()  # adds inner as a gitlink
    assert "inner" in git_repo.git("ls-files").split()
    (git_repo.path / "gone.py").unlink()
    assert git.tracked_files(git_repo.path) == ["keep.py"]


def test_tracked_files_keep_symlinks_even_broken(git_repo: GitRepo) -> None:
    git_repo.write("target.py")
    os.symlink("target.py", git_repo.path / "link.py")
    os.symlink("nowhere", git_repo.path / "broken")
    git_repo.commit()
    assert git.tracked_files(git_repo.path) == ["broken", "link.py", "target.py"]


def test_files_are_relative_to_a_subfolder_root(git_repo: GitRepo) -> None:
    git_repo.write("top.py")
    git_repo.write("pkg/a.py")
    git_repo.commit()
    git_repo.write("pkg/b.py", "new")
    git_repo.write("pkg/a.py", "changed")
    git_repo.add("pkg/a.py")
    pkg = git_repo.path / "pkg"
    assert git.tracked_files(pkg) == ["a.py"]
    assert git.untracked_files(pkg) == ["b.py"]
    assert git.staged_files(pkg) == ["a.py"]
    assert git.changed_since(pkg, "HEAD") == ["a.py", "b.py"]


def test_untracked_files_leave_out_ignored_and_tracked(git_repo: GitRepo) -> None:
    git_repo.write(".gitignore", "*.log\nbuild/\n")
    git_repo.write("tracked.py")
    git_repo.commit()
    git_repo.write("new file.py")
    git_repo.write("debug.log")
    git_repo.write("build/out.py")
    assert git.untracked_files(git_repo.path) == ["new file.py"]


def test_staged_files_before_the_first_commit(git_repo: GitRepo) -> None:
    git_repo.write("a.py")
    git_repo.write("b.py")
    git_repo.add("a.py")
    assert git.staged_files(git_repo.path) == ["a.py"]


def test_staged_files_include_added_modified_renamed_not_deleted(git_repo: GitRepo) -> None:
    for name in ("mod.py", "old.py", "del.py", "same.py"):
        git_repo.write(name, f"content of {name}\n" * 5)
    git_repo.commit()
    git_repo.write("mod.py", "changed\n")
    git_repo.git("mv", "old.py", "renamed.py")
    git_repo.git("rm", "-q", "del.py")
    git_repo.write("-new file\n.py", "x")
    git_repo.write("unstaged.py", "x")
    git_repo.add("mod.py", "-new file\n.py")
    assert git.staged_files(git_repo.path) == ["-new file\n.py", "mod.py", "renamed.py"]


def test_staged_files_skip_a_staged_file_deleted_since(git_repo: GitRepo) -> None:
    git_repo.write("a.py")
    git_repo.add("a.py")
    (git_repo.path / "a.py").unlink()
    assert git.staged_files(git_repo.path) == []


def test_changed_since_counts_from_the_fork_point(git_repo: GitRepo) -> None:
    git_repo.write("base.py", "base\n")
    git_repo.commit("base")
    git_repo.git("checkout", "-q", "-b", "feature")
    git_repo.write("feature.py", "feature\n")
    git_repo.commit("feature")
    git_repo.git("checkout", "-q", "main")
    git_repo.write("main-only.py", "main\n")
    git_repo.write("base.py", "changed on main\n")
    git_repo.commit("main moves on")
    git_repo.git("checkout", "-q", "feature")
    git_repo.write("dirty.py", "uncommitted\n")
    git_repo.add("dirty.py")
    git_repo.write("untracked.py", "new\n")
    assert git.changed_since(git_repo.path, "main") == ["dirty.py", "feature.py", "untracked.py"]


def test_changed_since_includes_unstaged_changes(git_repo: GitRepo) -> None:
    git_repo.write("a.py", "1\n")
    git_repo.write("b.py", "1\n")
    git_repo.commit()
    git_repo.write("a.py", "2\n")
    assert git.changed_since(git_repo.path, "HEAD") == ["a.py"]


def test_changed_since_a_bad_ref_names_the_ref(git_repo: GitRepo) -> None:
    git_repo.write("a.py")
    git_repo.commit()
    with pytest.raises(git.GitError) as info:
        git.changed_since(git_repo.path, "no-such-branch")
    message = str(info.value)
    assert "'no-such-branch'" in message
    assert "exit code 128" in message
    assert "git rev-parse" in message
    assert info.value.returncode == 128


def test_changed_since_refuses_a_ref_that_looks_like_an_option(git_repo: GitRepo) -> None:
    git_repo.write("a.py")
    git_repo.commit()
    with pytest.raises(git.GitError, match="'--output=x'"):
        git.changed_since(git_repo.path, "--output=x")


def test_git_error_renders_command_code_and_stderr() -> None:
    error = git.GitError(["git", "diff", "a b"], 129, "fatal: bad\n  thing\n")
    assert str(error) == "`git diff 'a b'` failed with exit code 129: fatal: bad thing"


def test_stage_adds_exactly_the_named_files(git_repo: GitRepo) -> None:
    for name in [*ODD_NAMES, "real.py", "not-me.py"]:
        git_repo.write(name)
    git.stage(git_repo.path, ODD_NAMES)
    assert git.staged_files(git_repo.path) == sorted(ODD_NAMES)


def test_stage_of_nothing_does_nothing(git_repo: GitRepo) -> None:
    git_repo.write("a.py")
    git.stage(git_repo.path, [])
    assert git.staged_files(git_repo.path) == []


def test_stage_of_a_missing_file_raises(git_repo: GitRepo) -> None:
    with pytest.raises(git.GitError, match="missing.py"):
        git.stage(git_repo.path, ["missing.py"])


def test_commands_ignore_a_hooks_git_dir(
    git_repo: GitRepo, make_git_repo: MakeRepo, tmp_path: Path
) -> None:
    other = make_git_repo(tmp_path / "other")
    other.write("other.py")
    other.commit()
    git_repo.write("mine.py")
    git_repo.commit()
    os.environ["GIT_DIR"] = str(other.path / ".git")
    os.environ["GIT_WORK_TREE"] = str(other.path)
    assert git.tracked_files(git_repo.path) == ["mine.py"]
    assert git.find_root(git_repo.path) == git_repo.path.resolve()


def _hook_reporting_staged_files(repo: GitRepo, log: Path) -> None:
    src = Path(git.__file__).resolve().parent.parent
    code = (
        f"import sys; sys.path.insert(0, {str(src)!r}); from huskycat import git; "
        "import os; os.chdir('sub'); "  # a relative GIT_INDEX_FILE must still be found
        f"open({str(log)!r}, 'w').write(repr(git.staged_files('..')))"
    )
    script = f"#!/bin/sh\nexec {shlex.quote(sys.executable)} -c {shlex.quote(code)}\n"
    repo.write(".git/hooks/pre-commit", script, executable=True)
    (repo.path / "sub").mkdir(exist_ok=True)


def test_staged_files_inside_a_commit_all_hook_see_gits_index(
    git_repo: GitRepo, tmp_path: Path
) -> None:
    git_repo.write("a.py", "1\n")
    git_repo.write("b.py", "1\n")
    git_repo.commit()
    git_repo.write("a.py", "2\n")  # modified, not staged: `commit -a` stages it
    log = tmp_path / "staged.log"
    _hook_reporting_staged_files(git_repo, log)
    git_repo.git("commit", "-q", "-a", "-m", "all")
    assert log.read_text() == "['a.py']"


def test_staged_files_inside_a_partial_commit_hook(git_repo: GitRepo, tmp_path: Path) -> None:
    git_repo.write("a.py", "1\n")
    git_repo.write("b.py", "1\n")
    git_repo.commit()
    git_repo.write("a.py", "2\n")
    git_repo.write("b.py", "2\n")
    git_repo.add("b.py")
    log = tmp_path / "staged.log"
    _hook_reporting_staged_files(git_repo, log)
    git_repo.git("commit", "-q", "-m", "only a", "--", "a.py")
    assert log.read_text() == "['a.py']"


def test_staged_files_inside_a_plain_commit_hook(git_repo: GitRepo, tmp_path: Path) -> None:
    git_repo.write("a.py", "1\n")
    git_repo.commit()
    git_repo.write("a.py", "2\n")
    git_repo.write("c.py", "new\n")
    git_repo.add("a.py", "c.py")
    log = tmp_path / "staged.log"
    _hook_reporting_staged_files(git_repo, log)
    git_repo.git("commit", "-q", "-m", "plain")
    assert log.read_text() == "['a.py', 'c.py']"


def test_is_file_counts_files_and_symlinks_even_broken_but_not_folders_or_fifos(
    tmp_path: Path,
) -> None:
    (tmp_path / "file").write_text("x")
    os.symlink("nowhere", tmp_path / "broken")
    os.symlink("file", tmp_path / "link")
    (tmp_path / "folder").mkdir()
    os.mkfifo(tmp_path / "fifo")
    found = {p.name: git.is_file(str(p)) for p in tmp_path.iterdir()}
    assert found == {"file": True, "broken": True, "link": True, "folder": False, "fifo": False}
    assert not git.is_file(str(tmp_path / "missing"))
