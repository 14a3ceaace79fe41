"""The fast paths of a run with the result cache, each against a stale replay.

A check run of catalog tools takes content ids from git's listing at its start (no look
at each file per tool), remembers which files each tool chose for that listing
(``file-choices``), and, on a first run, stores each shard's rows as the shard ends. Each
test changes what those shortcuts rest on and checks that the next run sees the change:
the real command (``huskycat run --json``) with the real ruff, or the cache's own calls.
"""

from __future__ import annotations

import os
import shutil
import time
from collections.abc import Callable
from typing import Any

import pytest

from huskycat import content
from huskycat.cache import Cache, cached_run_tool, lookup
from huskycat.cache.lookup import changes_no_files
from huskycat.cache.sharded import cached_sharded_call
from huskycat.commands.common import load_config
from huskycat.core.results import ToolResult
from huskycat.planning import build_plan
from huskycat.tools.catalog import CATALOG
from huskycat.tools.merge import merge_results
from huskycat.tools.runner import run_tool
from tests.cli_run_test import run_json
from tests.conftest import GitRepo

PYPROJECT = '[tool.ruff.lint]\nselect = ["F401"]\n'
FILES = {
    "pyproject.toml": PYPROJECT,
    "pkg/a.py": "VALUE = 1\n",
    "pkg/b.py": "import os\n",  # F401
    "bin/script": "#!/bin/sh\necho hi\n",  # a shell script: not ruff's
    "bin/tool": "#!/usr/bin/env python3\nimport os\n",  # not executable: not ruff's
}


pytestmark = pytest.mark.usefixtures("fresh_content")


@pytest.fixture
def repo(git_repo: GitRepo) -> GitRepo:
    for name, text in FILES.items():
        git_repo.write(name, text, executable=name == "bin/script")
    git_repo.commit("files")
    return git_repo


def ruff(repo: GitRepo) -> dict[str, Any]:
    result: dict[str, Any] = run_json(repo.path, "--tools", "ruff").results["ruff"]
    return result


def flagged(result: dict[str, Any]) -> list[str]:
    return sorted(d["file"] for d in result["diagnostics"])


def edit(repo: GitRepo) -> list[str]:
    repo.write("pkg/a.py", "import sys\n")
    return ["pkg/a.py", "pkg/b.py"]


def edit_same_size_same_time(repo: GitRepo) -> list[str]:
    # As git's racy-clean case: the size and modification time are those of the old
    # content (only the change time says the file was written).
    path = repo.path / "pkg/a.py"
    before = path.stat()
    path.write_text("import os\n")
    assert path.stat().st_size == before.st_size
    os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))
    # ruff's own cache keys a file on its size and modification time, and would say the
    # old verdict: emptied, so that what ruff says is about the file as it is.
    shutil.rmtree(repo.path / ".ruff_cache", ignore_errors=True)
    return ["pkg/a.py", "pkg/b.py"]


def add(repo: GitRepo) -> list[str]:
    repo.write("pkg/new.py", "import json\n")
    return ["pkg/b.py", "pkg/new.py"]


def delete(repo: GitRepo) -> list[str]:
    (repo.path / "pkg/b.py").unlink()
    return []


def rename(repo: GitRepo) -> list[str]:
    repo.git("mv", "pkg/b.py", "pkg/c.py")
    return ["pkg/c.py"]


def make_executable(repo: GitRepo) -> list[str]:
    (repo.path / "bin/tool").chmod(0o755)  # its shebang now makes it Python
    return ["bin/tool", "pkg/b.py"]


def change_shebang(repo: GitRepo) -> list[str]:
    repo.write("bin/script", "#!/usr/bin/env python3\nimport os\n", executable=True)
    return ["bin/script", "pkg/b.py"]


CHANGES: dict[str, Callable[[GitRepo], list[str]]] = {
    "edit": edit,
    "same size and time": edit_same_size_same_time,
    "add": add,
    "delete": delete,
    "rename": rename,
    "mode": make_executable,
    "type": change_shebang,
}


@pytest.mark.parametrize("committed", [False, True], ids=["in the work tree", "committed"])
@pytest.mark.parametrize("change", list(CHANGES))
def test_a_change_after_a_replayed_run_is_seen(repo: GitRepo, change: str, committed: bool) -> None:
    first = ruff(repo)
    assert flagged(first) == ["pkg/b.py"]
    again = ruff(repo)  # replayed: the listing, choices and whole run are remembered
    assert again["metadata"].get("cached") is True and flagged(again) == ["pkg/b.py"]
    expected = CHANGES[change](repo)
    if committed:
        # Committed, the changed file is one git vouches for again: its new id and mode
        # come from the listing, and the remembered choices must not stand.
        repo.commit("change")
    after = ruff(repo)
    assert flagged(after) == expected
    assert after["errors"] == len(expected)


def test_a_file_edited_after_the_listing_is_not_stored_under_the_listed_id(
    repo: GitRepo,
) -> None:
    # The run takes pkg/a.py's id from the listing; the edit lands before ruff reads it.
    # Ruff's finding is about the edited content, so it must not be stored under the
    # listed id: once the file is back as listed, the finding must not come back.
    root = repo.path
    files = ["pkg/a.py", "pkg/b.py"]
    content.snapshot(root, fresh=True)
    with Cache.for_root(root) as cache:
        cache.trust_listing(root)
        repo.write("pkg/a.py", "import sys\n")
        seen = cached_run_tool(cache, CATALOG["ruff"], files, root=root)
        assert sorted(d.file for d in seen.diagnostics) == files
    repo.write("pkg/a.py", FILES["pkg/a.py"])
    content.snapshot(root, fresh=True)
    with Cache.for_root(root) as cache:
        cache.trust_listing(root)
        again = cached_run_tool(cache, CATALOG["ruff"], files, root=root)
    assert [d.file for d in again.diagnostics] == ["pkg/b.py"]
    assert not again.metadata.get("cached")


def test_a_first_run_stores_each_shard_s_files(git_repo: GitRepo) -> None:
    # Nothing of ruff in the store: its shards start at once and each stores its files
    # when it ends; the next run with one file changed runs that file alone.
    git_repo.write("pyproject.toml", PYPROJECT)
    names = [f"pkg/m{i:02d}.py" for i in range(24)]
    for name in names:
        git_repo.write(name, "import os\n" if name.endswith("07.py") else "X = 1\n")
    git_repo.commit("files")
    root = git_repo.path
    call = lookup(None, CATALOG["ruff"], names, root=root).call
    with Cache.for_root(root) as cache:
        sharded = cached_sharded_call(cache, call, min_files_per_shard=4, max_shards=3)
        parts = sharded.split(3)
        assert len(parts) == 3
        merged = sharded.merge([part() for part in parts])  # type: ignore[misc]
        assert isinstance(merged, ToolResult)
        assert [d.file for d in merged.diagnostics] == ["pkg/m07.py"]
    git_repo.write("pkg/m20.py", "import sys\n")
    with Cache.for_root(root) as cache:
        found = lookup(cache, CATALOG["ruff"], names, root=root)
        assert found.misses == ("pkg/m20.py",)
        result = found.finish(merge_results([found.run(found.misses)]))
    assert sorted(d.file for d in result.diagnostics) == ["pkg/m07.py", "pkg/m20.py"]


def test_a_run_that_ends_before_its_tool_s_end_keeps_no_row_of_listed_files(
    git_repo: GitRepo,
) -> None:
    # Each shard's rows of files whose ids came from the listing are written as the
    # shard ends, held until the tool's end checks those files (git diff-files). A run
    # that closes its cache before that (an error in another tool, say) keeps none: the
    # next run finds nothing of ruff, and a file edited meanwhile is judged afresh.
    git_repo.write("pyproject.toml", PYPROJECT)
    names = [f"pkg/m{i:02d}.py" for i in range(12)]
    for name in names:
        git_repo.write(name, "X = 1\n")
    git_repo.commit("files")
    root = git_repo.path
    time.sleep(content.RACY_NS / 1e9 + 0.1)
    content.snapshot(root, fresh=True)
    call = lookup(None, CATALOG["ruff"], names, root=root).call
    with Cache.for_root(root) as cache:
        cache.trust_listing(root)
        sharded = cached_sharded_call(cache, call, min_files_per_shard=4, max_shards=3)
        parts = sharded.split(3)
        assert len(parts) == 3
        for part in parts:
            part()  # each shard's rows written, held; the merge never comes
        git_repo.write("pkg/m05.py", "import os\n")  # edited after ruff read it
    git_repo.write("pkg/m05.py", "X = 1\n")  # and back, as listed
    content.snapshot(root, fresh=True)
    with Cache.for_root(root) as cache:
        assert cache.stats().entries < len(names)  # ruff's version at most: no file's row
        found = lookup(cache, CATALOG["ruff"], names, root=root)
        assert found.misses == tuple(names)
    with Cache.for_root(root) as cache:  # and a whole first run stores every file
        found = lookup(cache, CATALOG["ruff"], names, root=root)
        found.finish(merge_results([found.run(found.misses)]))
    with Cache.for_root(root) as cache:
        assert lookup(cache, CATALOG["ruff"], names, root=root).result is not None


def test_a_file_made_clean_during_a_first_run_is_not_stored_clean_under_its_listed_id(
    git_repo: GitRepo,
) -> None:
    # A first run writes every file's row as clean while ruff runs, held. pkg/m05.py has
    # a finding as listed, but is fixed before ruff reads it: ruff finds it clean, and
    # that clean row must not stay under the listed id (the content with the finding).
    git_repo.write("pyproject.toml", PYPROJECT)
    names = [f"pkg/m{i:02d}.py" for i in range(12)]
    for name in names:
        git_repo.write(name, "import os\n" if name == "pkg/m05.py" else "X = 1\n")
    git_repo.commit("files")
    root = git_repo.path
    time.sleep(content.RACY_NS / 1e9 + 0.1)
    content.snapshot(root, fresh=True)
    call = lookup(None, CATALOG["ruff"], names, root=root).call
    with Cache.for_root(root) as cache:
        cache.trust_listing(root)
        sharded = cached_sharded_call(cache, call, min_files_per_shard=4, max_shards=3)
        parts = sharded.split(3)
        git_repo.write("pkg/m05.py", "X = 1\n")  # fixed after the listing
        merged = sharded.merge([part() for part in parts])  # type: ignore[misc]
        assert isinstance(merged, ToolResult) and not merged.diagnostics
    git_repo.write("pkg/m05.py", "import os\n")  # back as listed
    content.snapshot(root, fresh=True)
    with Cache.for_root(root) as cache:
        cache.trust_listing(root)
        found = lookup(cache, CATALOG["ruff"], names, root=root)
        assert found.result is None and "pkg/m05.py" in found.misses
        again = found.finish(merge_results([found.run(found.misses)]))
    assert [d.file for d in again.diagnostics] == ["pkg/m05.py"]


def test_only_a_run_that_changes_no_file_takes_the_listing_on_its_word(repo: GitRepo) -> None:
    root = repo.path
    files = sorted(FILES)

    def plan(toml: str, **kwargs: Any) -> bool:
        (root / "huskycat.toml").write_text(toml)
        return changes_no_files(build_plan(root, load_config(root), files, **kwargs))

    assert plan("", only=["ruff", "flake8"])
    assert plan("", only=["flake8"], fix=True)  # no fixer among them
    assert not plan("", only=["ruff"], fix=True)
    assert not plan('[tools.gen]\ncommand = ["true"]\n', only=["gen"])
    assert not plan('[tools.ruff]\ncommand = ["ruff", "check"]\n', only=["ruff"])


def test_a_damaged_choices_file_is_ignored(repo: GitRepo) -> None:
    assert flagged(ruff(repo)) == ["pkg/b.py"]
    choices = repo.path / ".git" / "huskycat" / "file-choices"
    assert choices.is_file()
    choices.write_bytes(b'{"key": 1, "chosen": ')
    assert flagged(ruff(repo)) == ["pkg/b.py"]
    choices.write_text('{"key": "x", "chosen": {"a": "not base64"}}')
    make_executable(repo)
    repo.commit("mode")
    assert flagged(ruff(repo)) == ["bin/tool", "pkg/b.py"]


def test_git_tells_which_listed_files_were_written_since_the_listing(repo: GitRepo) -> None:
    # Only about an index written well before the listing, and only that index.
    root = repo.path
    assert content.changed_since(content.snapshot(root, fresh=True)) is None  # just written
    time.sleep(content.RACY_NS / 1e9 + 0.1)
    taken = content.snapshot(root, fresh=True)
    assert content.changed_since(taken) == frozenset()
    repo.write("pkg/a.py", "VALUE = 2\n")
    assert content.changed_since(taken) == {"pkg/a.py"}
    # The index rewritten: a refresh rewrites it only when an entry's recorded status is
    # out of date, so one file's times are changed first (its content is the same).
    later = time.time() + 5
    os.utime(root / "pkg/b.py", (later, later))
    repo.git("update-index", "--refresh", check=False)
    assert content.changed_since(taken) is None


def test_rows_of_listed_files_are_stored_after_git_s_look_at_them(repo: GitRepo) -> None:
    # The index is older than the listing by the margin: one `git diff-files` tells which
    # listed files were written while the tool ran. The one edited is not stored under
    # its listed id; the others are, and a later run replays them.
    root = repo.path
    files = ["pkg/a.py", "pkg/b.py"]
    time.sleep(content.RACY_NS / 1e9 + 0.1)
    taken = content.snapshot(root, fresh=True)
    with Cache.for_root(root) as cache:
        cache.trust_listing(root)
        repo.write("pkg/a.py", "import sys\n")
        seen = cached_run_tool(cache, CATALOG["ruff"], files, root=root)
        assert sorted(d.file for d in seen.diagnostics) == files
    assert content.changed_since(taken) == {"pkg/a.py"}
    repo.write("pkg/a.py", FILES["pkg/a.py"])
    content.snapshot(root, fresh=True)
    with Cache.for_root(root) as cache:
        cache.trust_listing(root)
        found = lookup(cache, CATALOG["ruff"], files, root=root)
        assert found.misses == ("pkg/a.py",)  # pkg/b.py was stored, pkg/a.py not
        again = found.finish(merge_results([found.run(found.misses)]))
    assert [d.file for d in again.diagnostics] == ["pkg/b.py"]


def test_a_run_with_a_few_files_changed_starts_from_the_last_whole_run(
    git_repo: GitRepo,
) -> None:
    # The files of folders unchanged since the tool's last whole run are hits without a
    # key each (a noted file's diagnostics read from its row); the changed folders' files
    # are looked up one by one. Whatever changed, the result is a fresh run's.
    git_repo.write("pyproject.toml", PYPROJECT)
    names = [f"pkg/s{i // 4}/m{i % 4}.py" for i in range(16)]
    for name in names:
        git_repo.write(name, "import os\n" if name == "pkg/s1/m2.py" else "X = 1\n")
    git_repo.commit("files")
    root = git_repo.path

    def once(files: list[str]) -> tuple[tuple[str, ...], list[str]]:
        content.forget()
        with Cache.for_root(root) as cache:
            found = lookup(cache, CATALOG["ruff"], files, root=root)
            if found.result is not None:
                return (), [d.file for d in found.result.diagnostics]
            misses = found.misses
            fresh = found.run(misses) if found.run_needed else None
            result = found.finish(merge_results([fresh]) if fresh is not None else None)
        plain = run_tool(CATALOG["ruff"], files, root=root)
        assert [d.file for d in result.diagnostics] == [d.file for d in plain.diagnostics]
        assert (result.errors, result.status) == (plain.errors, plain.status)
        return misses, [d.file for d in result.diagnostics]

    assert once(names) == (tuple(names), ["pkg/s1/m2.py"])
    assert once(names) == ((), ["pkg/s1/m2.py"])  # replayed whole
    git_repo.write("pkg/s3/m0.py", "import sys\n")  # edited
    assert once(names) == (("pkg/s3/m0.py",), ["pkg/s1/m2.py", "pkg/s3/m0.py"])
    git_repo.write("pkg/s1/m2.py", "X = 2\n")  # the noted file fixed
    assert once(names) == (("pkg/s1/m2.py",), ["pkg/s3/m0.py"])
    git_repo.write("pkg/s0/new.py", "import json\n")  # added: its folder looked up
    assert once([*names, "pkg/s0/new.py"]) == (
        ("pkg/s0/new.py",),
        ["pkg/s0/new.py", "pkg/s3/m0.py"],
    )
    (root / "pkg/s3/m0.py").rename(root / "pkg/s2/m9.py")  # moved to another folder
    moved = [n for n in names if n != "pkg/s3/m0.py"] + ["pkg/s0/new.py", "pkg/s2/m9.py"]
    assert once(sorted(moved)) == (("pkg/s2/m9.py",), ["pkg/s0/new.py", "pkg/s2/m9.py"])
    git_repo.write("pkg/s1/ruff.toml", '[lint]\nselect = ["E"]\n')  # its folder's config
    misses, _ = once(sorted(moved))
    assert misses == tuple(n for n in sorted(moved) if n.startswith("pkg/s1/"))
