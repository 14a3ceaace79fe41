"""A file-local tool's results stored one row per folder: each file's name, content id
and result. Each test changes what a folder's row rests on and checks that no result
is replayed for content other than the one it was stored for: a changed file, a file
run alone, a file edited while the tool ran, a damaged row, a killed run, a database
of the previous format.
"""

from __future__ import annotations

import contextlib
import json
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest

from huskycat import content
from huskycat.cache import Cache, cached_run_tool, lookup
from huskycat.cache.store import FORMAT_VERSION
from huskycat.commands.cache import render_stats
from huskycat.core import process
from huskycat.core.results import ToolResult
from huskycat.tools.catalog import CATALOG
from huskycat.tools.programs import find_executable
from tests.conftest import GitRepo

pytestmark = [
    pytest.mark.skipif(not find_executable("ruff"), reason="ruff is not installed"),
    pytest.mark.usefixtures("fresh_content"),
]

FILES = {
    "pyproject.toml": '[tool.ruff.lint]\nselect = ["F401"]\n',
    "pkg/a.py": "VALUE = 1\n",
    "pkg/b.py": "import os\n",  # F401
    "pkg/c.py": "OTHER = 2\n",
    "top.py": "import sys\n",  # F401
}
RUFF_FILES = ["pkg/a.py", "pkg/b.py", "pkg/c.py", "top.py"]


@pytest.fixture
def repo(git_repo: GitRepo) -> GitRepo:
    for name, text in FILES.items():
        git_repo.write(name, text)
    git_repo.commit("files")
    return git_repo


@pytest.fixture
def ran(monkeypatch: pytest.MonkeyPatch) -> list[list[str]]:
    """The file arguments of each ruff process started (the real ones still run)."""
    seen: list[list[str]] = []
    lock = threading.Lock()
    real = process.run
    ruff = str(find_executable("ruff"))

    def counting(argv: Sequence[str], **kwargs: Any) -> process.ProcessResult:
        if str(argv[0]) == ruff and "--version" not in argv:
            with lock:
                seen.append([str(a) for a in argv if str(a) in RUFF_FILES + ["pkg/new.py"]])
        return real(argv, **kwargs)

    monkeypatch.setattr(process, "run", counting)
    return seen


def ruff(repo: GitRepo, files: Sequence[str] = RUFF_FILES) -> ToolResult:
    content.forget()
    with Cache.for_root(repo.path) as cache:
        return cached_run_tool(cache, CATALOG["ruff"], list(files), root=repo.path)


def flagged(result: ToolResult) -> list[str]:
    return [d.file for d in result.diagnostics]


def database(repo: GitRepo) -> Path:
    return Cache.for_root(repo.path).path


def folder_rows(repo: GitRepo) -> list[list[Any]]:
    """The values of the rows that hold more than one file's result."""
    with contextlib.closing(sqlite3.connect(database(repo))) as db:
        values = [v for (v,) in db.execute("SELECT value FROM entries WHERE files > 1")]
    return [json.loads(v) for v in values]


def test_a_folder_s_files_share_one_row_and_a_changed_file_reruns_alone(
    repo: GitRepo, ran: list[list[str]]
) -> None:
    first = ruff(repo)
    assert flagged(first) == ["pkg/b.py", "top.py"]
    [row] = folder_rows(repo)  # pkg's three files; top.py alone in its folder
    assert row[0].split("/") == ["a.py", "b.py", "c.py"] and list(row[2]) == ["b.py"]
    stats = Cache.for_root(repo.path).stats()
    assert stats.files >= len(RUFF_FILES) and stats.entries < stats.files
    assert "results:" in render_stats(stats, "here")

    repo.write("pkg/a.py", "import json\n")
    ran.clear()
    second = ruff(repo)
    assert ran == [["pkg/a.py"]]
    assert flagged(second) == ["pkg/a.py", "pkg/b.py", "top.py"]
    assert second.metadata["cached_files"] == 3

    repo.write("pkg/a.py", FILES["pkg/a.py"])  # back as it was: the first whole run again
    ran.clear()
    back = ruff(repo)
    assert flagged(back) == ["pkg/b.py", "top.py"] and back.metadata["cached"] is True
    assert ran == []  # its noted files' results read from rows that still hold their ids


def test_a_run_over_part_of_a_folder_keeps_the_others_results(
    repo: GitRepo, ran: list[list[str]]
) -> None:
    ruff(repo)
    repo.write("pkg/c.py", "import re\n")
    ran.clear()
    assert flagged(ruff(repo, ["pkg/c.py"])) == ["pkg/c.py"]  # as a staged run would
    assert ran == [["pkg/c.py"]]
    ran.clear()
    full = ruff(repo)
    assert ran == []  # a.py and b.py kept in the folder's row beside c.py's new result
    assert flagged(full) == ["pkg/b.py", "pkg/c.py", "top.py"]
    repo.write("pkg/new.py", "import abc\n")
    ran.clear()
    assert flagged(ruff(repo, [*RUFF_FILES, "pkg/new.py"])) == [
        "pkg/b.py",
        "pkg/c.py",
        "pkg/new.py",
        "top.py",
    ]
    assert ran == [["pkg/new.py"]]


def test_a_file_edited_while_the_tool_ran_leaves_the_rest_of_its_folder_stored(
    repo: GitRepo, ran: list[list[str]]
) -> None:
    for trusted in (False, True):  # ids looked at after the tool, or checked by git
        content.forget()
        with Cache.for_root(repo.path) as cache:
            cache.clear()
            if trusted:  # the index older than git's racy margin: the listing vouches
                time.sleep(content.RACY_NS / 1e9 + 0.1)
                content.snapshot(repo.path, fresh=True)
                cache.trust_listing(repo.path)
            found = lookup(cache, CATALOG["ruff"], RUFF_FILES, root=repo.path)
            fresh = found.run(found.misses)
            repo.write("pkg/a.py", "import json\n")  # after ruff read it as clean
            assert flagged(found.finish(fresh)) == ["pkg/b.py", "top.py"]
        ran.clear()
        assert flagged(ruff(repo)) == ["pkg/a.py", "pkg/b.py", "top.py"]
        assert ran == [["pkg/a.py"]], trusted
        repo.write("pkg/a.py", FILES["pkg/a.py"])


def test_a_result_is_replayed_only_for_the_id_stored_beside_it(
    repo: GitRepo, ran: list[list[str]]
) -> None:
    ruff(repo)
    repo.write("top.py", "X = 1\n")  # no whole run to replay: the rows are looked up
    ruff(repo)
    with contextlib.closing(sqlite3.connect(database(repo))) as db, db:
        key, value = db.execute("SELECT key, value FROM entries WHERE files = 3").fetchone()
        names, ids, rows = json.loads(value)
        forged = ids.split(" ")
        forged[1] = "0" * len(forged[1])  # b.py's id: another content's
        db.execute(
            "UPDATE entries SET value = ? WHERE key = ?",
            (json.dumps([names, " ".join(forged), rows]).encode(), key),
        )
    repo.write("top.py", "import sys\n")
    ran.clear()
    assert flagged(ruff(repo)) == ["pkg/b.py", "top.py"]
    assert sorted(ran) == [["pkg/b.py", "top.py"]]


@pytest.mark.parametrize(
    "value",
    [
        ["a.py/b.py/c.py", "1 2", {}],  # fewer ids than names
        ["a.py/a.py/c.py", "1 2 3", {}],  # a name twice
        ["a.py/b.py/c.py", "1 2 3", {"d.py": [0, []]}],  # a row for a file not listed
        ["a.py/b.py/c.py", "1 2 3", {"b.py": "?"}],  # a row that is not one
        {"names": "a.py"},
        "a.py",
    ],
    ids=["short", "twice", "unlisted", "bad-row", "dict", "text"],
)
def test_a_folder_row_that_does_not_read_is_a_miss_for_its_files(
    repo: GitRepo, ran: list[list[str]], value: object
) -> None:
    first = ruff(repo)
    repo.write("top.py", "X = 1\n")
    ruff(repo)
    with contextlib.closing(sqlite3.connect(database(repo))) as db, db:
        db.execute("UPDATE entries SET value = ? WHERE files = 3", (json.dumps(value).encode(),))
    repo.write("top.py", FILES["top.py"])
    ran.clear()
    again = ruff(repo)
    assert flagged(again) == flagged(first)
    assert sorted(f for argv in ran for f in argv) == RUFF_FILES


KILLED = """
import os, sys
from huskycat.cache import Cache, cached_run_tool
from huskycat.tools.catalog import CATALOG
root = sys.argv[1]
cache = Cache.for_root(root)
cached_run_tool(cache, CATALOG["ruff"], sys.argv[2:], root=root)
os._exit(0)  # killed before the run's one transaction is committed
"""


def test_a_run_killed_before_it_closes_the_cache_stores_nothing(
    repo: GitRepo, ran: list[list[str]]
) -> None:
    subprocess.run(
        [sys.executable, "-c", KILLED, str(repo.path), *RUFF_FILES],
        cwd=repo.path,
        check=True,
        stdin=subprocess.DEVNULL,
    )
    assert Cache.for_root(repo.path).stats().files == 0
    assert flagged(ruff(repo)) == ["pkg/b.py", "top.py"]
    assert sorted(f for argv in ran for f in argv) == sorted(RUFF_FILES)


def test_a_database_of_the_previous_format_is_set_aside_and_never_replayed(
    repo: GitRepo, ran: list[list[str]]
) -> None:
    # Format 2 kept one row per file and no ``files`` column; whatever its rows say, they
    # are not read: the database is moved aside with one warning and the tool runs.
    path = database(repo)
    path.parent.mkdir(parents=True, exist_ok=True)
    with contextlib.closing(sqlite3.connect(path)) as db, db:
        db.execute(
            "CREATE TABLE entries (key BLOB PRIMARY KEY, value BLOB NOT NULL,"
            " used INTEGER NOT NULL) WITHOUT ROWID"
        )
        db.execute("CREATE TABLE meta (name TEXT PRIMARY KEY, value TEXT)")
        db.execute("INSERT INTO meta VALUES ('format', '2'), ('run', '7')")
        db.executemany(
            "INSERT INTO entries VALUES (?, ?, 7)",
            [(bytes([i]) * 16, b"[1,[]]") for i in range(9)],
        )
    assert FORMAT_VERSION != 2
    warnings: list[str] = []
    content.forget()
    with Cache(path.parent, warn=warnings.append) as cache:
        result = cached_run_tool(cache, CATALOG["ruff"], RUFF_FILES, root=repo.path)
    assert flagged(result) == ["pkg/b.py", "top.py"] and "cached" not in result.metadata
    assert sorted(f for argv in ran for f in argv) == sorted(RUFF_FILES)
    assert len(warnings) == 1 and "format '2'" in warnings[0], warnings
    assert list(path.parent.glob("results.db.broken-*"))
    ran.clear()
    assert ruff(repo).metadata["cached"] is True and ran == []


def test_a_name_that_is_not_utf8_is_stored_and_read_back(tmp_path: Path) -> None:
    # Names from the file system come as surrogate escapes when they are not UTF-8; a
    # folder's row holds names, so its value must keep them as they were.
    value = ["b\udcff.py/a b é.py", "01 02", {"a b é.py": [0, []]}]
    with Cache(tmp_path / "c", warn=pytest.fail) as store:
        assert store.put("1".zfill(64), value, files=2, compress=False)
    with Cache(tmp_path / "c", warn=pytest.fail) as store:
        assert store.get("1".zfill(64)) == value
        assert store.stats().files == 2


def test_names_with_spaces_and_accents_share_their_folder_s_row(
    repo: GitRepo, ran: list[list[str]]
) -> None:
    repo.write("pkg/a b é.py", "import os\n")
    repo.commit("odd name")
    files = [*RUFF_FILES, "pkg/a b é.py"]
    first = ruff(repo, files)
    assert "pkg/a b é.py" in flagged(first)
    repo.write("pkg/a.py", "X = 3\n")
    ran.clear()
    again = ruff(repo, files)
    assert flagged(again) == flagged(first) and ran == [["pkg/a.py"]]
