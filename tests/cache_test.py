"""The result cache: replaying unchanged runs, re-running changed files only, keys,
what is never stored, damaged entries, concurrent writers, the size bound and clearing.

Most tests run the real tools on files in a temporary git repository and count the
processes started through :func:`huskycat.core.process.run` (the only way tools start).
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import subprocess
import sys
import textwrap
import threading
import time
import zlib
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from huskycat.cache import (
    Cache,
    FileState,
    cached_run_tool,
    clear,
    file_states,
    is_file_local,
    lookup,
    merge_cached,
    state_dir,
)
from huskycat.cache.store import TOUCH_AFTER_RUNS
from huskycat.config import ToolConfig
from huskycat.core import process
from huskycat.core import summary as summaries
from huskycat.core.results import OUTCOME_ERROR, Diagnostic, ToolResult, ToolStatus
from huskycat.planning import custom_spec
from huskycat.tools import programs
from huskycat.tools.base import ToolSpec
from huskycat.tools.catalog import CATALOG
from huskycat.tools.programs import find_executable
from huskycat.tools.runner import run_tool
from tests.conftest import GitRepo

PYPROJECT = """\
[tool.ruff]
line-length = 100

[tool.ruff.lint]
select = ["E", "F"]
"""

FILES = {
    "pyproject.toml": PYPROJECT,
    "clean.py": '"""Clean."""\n\nimport os\n\nprint(os.sep)\n',
    "unused.py": "import sys\nimport os\n\nprint(os.sep)\n",
    "ugly.py": "x = {  'a':1 }\n",
    "config.yaml": "---\nkey: value\nother:   1\n",
    "script.sh": "#!/bin/sh\necho $1\n",
    "Dockerfile": "FROM python\nRUN cd /tmp && echo hi\n",
    ".gitlab-ci.yml": "job:\n  script: [echo hi]\n",
}

# The files each file-local catalog tool gets in this repository.
TOOL_FILES = {
    "black": ["clean.py", "ugly.py", "unused.py"],
    "isort": ["clean.py", "ugly.py", "unused.py"],
    "autoflake": ["clean.py", "ugly.py", "unused.py"],
    "ruff": ["clean.py", "ugly.py", "unused.py"],
    "flake8": ["clean.py", "ugly.py", "unused.py"],
    "bandit": ["clean.py", "ugly.py", "unused.py"],
    "yamllint": [".gitlab-ci.yml", "config.yaml"],
    "taplo": ["pyproject.toml"],
    "shellcheck": ["script.sh"],
    "hadolint": ["Dockerfile"],
    "gitlab-ci": [".gitlab-ci.yml"],
}


class Processes:
    """Counts the commands started, and keeps their argv."""

    def __init__(self) -> None:
        self.argvs: list[list[str]] = []
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self.argvs)

    def clear(self) -> None:
        with self._lock:
            self.argvs.clear()

    def of(self, exe: str) -> list[list[str]]:
        return [a for a in self.argvs if a[0] == exe]


@pytest.fixture
def processes(monkeypatch: pytest.MonkeyPatch) -> Processes:
    """Every ``process.run`` call, counted; the real command still runs."""
    seen = Processes()
    real = process.run

    def counting(argv: Sequence[str], **kwargs: Any) -> process.ProcessResult:
        with seen._lock:
            seen.argvs.append([str(a) for a in argv])
        return real(argv, **kwargs)

    monkeypatch.setattr(process, "run", counting)
    return seen


@pytest.fixture
def repo(git_repo: GitRepo) -> GitRepo:
    for name, text in FILES.items():
        git_repo.write(name, text, executable=name.endswith(".sh"))
    git_repo.commit("files")
    return git_repo


@pytest.fixture
def cache(repo: GitRepo) -> Iterator[Cache]:
    with Cache.for_root(repo.path) as opened:
        yield opened


def run(cache: Cache | None, name: str, repo: GitRepo, **kwargs: Any) -> ToolResult:
    spec = kwargs.pop("spec", None) or CATALOG[name]
    files = kwargs.pop("files", TOOL_FILES.get(name, []))
    return cached_run_tool(cache, spec, files, root=repo.path, **kwargs)


def comparable(result: ToolResult) -> tuple[object, ...]:
    """What a user sees of a result, without timing and cache bookkeeping."""
    return (
        result.tool_name,
        result.status,
        result.success,
        result.errors,
        result.warnings,
        result.error_message,
        result.diagnostics,
        result.metadata.get("outcome"),
    )


def installed(names: Sequence[str]) -> list[str]:
    return [n for n in names if find_executable(CATALOG[n].executable)]


# --- replaying ---------------------------------------------------------------------------


def test_second_run_with_nothing_changed_replays_every_file_local_tool_without_a_process(
    repo: GitRepo, cache: Cache, processes: Processes
) -> None:
    names = installed(list(TOOL_FILES))
    assert {"ruff", "black", "flake8", "yamllint", "taplo"} <= set(names)
    first = {n: run(cache, n, repo) for n in names}
    assert all(r.status in (ToolStatus.SUCCESS, ToolStatus.FAILED) for r in first.values())
    assert all(r.outcome != OUTCOME_ERROR for r in first.values()), {
        n: r.error_message for n, r in first.items() if r.outcome == OUTCOME_ERROR
    }
    assert first["ruff"].errors > 0 and first["black"].errors > 0  # findings are cached too
    processes.clear()

    second = {n: run(cache, n, repo) for n in names}

    assert processes.argvs == []
    for name in names:
        assert second[name].metadata["cached"] is True, name
        assert comparable(second[name]) == comparable(first[name]), name
        assert second[name].output == first[name].output, name


def test_a_new_process_remembers_tool_versions_and_starts_nothing(
    repo: GitRepo, cache: Cache, processes: Processes, monkeypatch: pytest.MonkeyPatch
) -> None:
    run(cache, "ruff", repo)
    cache.close()  # the run ends: its entries are written
    monkeypatch.setattr(programs, "_VERSIONS", {})  # what a new huskycat process knows
    processes.clear()
    with Cache.for_root(repo.path) as again:
        result = run(again, "ruff", repo)
    assert processes.argvs == []
    assert result.metadata["cached"] is True
    assert result.metadata["version"]


def test_changing_one_file_reruns_the_tool_on_that_file_only(
    repo: GitRepo, cache: Cache, processes: Processes
) -> None:
    first = run(cache, "ruff", repo)
    assert [d.file for d in first.diagnostics] == ["unused.py"]
    repo.write("clean.py", "import json\n")
    processes.clear()

    second = run(cache, "ruff", repo)

    ruff_exe = find_executable("ruff")
    assert [argv[-1:] for argv in processes.of(str(ruff_exe))] == [["clean.py"]]
    assert second.metadata["argv"][-1] == "clean.py"
    assert second.metadata["cached_files"] == 2
    assert second.metadata["files"] == 3
    assert "cached" not in second.metadata
    assert [(d.file, d.code) for d in second.diagnostics] == [
        ("clean.py", "F401"),
        ("unused.py", "F401"),
    ]
    assert second.errors == 2
    assert second.status is ToolStatus.FAILED and second.outcome == "findings"
    # The cached file's diagnostic is shown as a line of output.
    assert "unused.py:1:8: error: F401" in second.output
    # The summary says what one run over all the files says.
    assert second.error_message == run(None, "ruff", repo).error_message == "2 errors"


def test_a_fixed_file_turns_a_merged_result_clean(
    repo: GitRepo, cache: Cache, processes: Processes
) -> None:
    run(cache, "flake8", repo)
    repo.write("unused.py", "import os\n\nprint(os.sep)\n")
    repo.write("ugly.py", "x = {'a': 1}\n")
    result = run(cache, "flake8", repo)
    assert result.status is ToolStatus.SUCCESS, result.diagnostics
    assert result.errors == 0 and result.metadata["cached_files"] == 1
    assert result.error_message is None


def test_file_order_and_a_removed_file_still_hit_per_file(
    repo: GitRepo, cache: Cache, processes: Processes
) -> None:
    run(cache, "ruff", repo)
    processes.clear()
    result = run(cache, "ruff", repo, files=["unused.py", "clean.py"])
    assert processes.argvs == []
    assert result.metadata["cached"] is True
    assert [d.file for d in result.diagnostics] == ["unused.py"]
    assert result.errors == 1 and result.status is ToolStatus.FAILED


# --- what the key covers -----------------------------------------------------------------


def test_changing_a_config_file_invalidates(
    repo: GitRepo, cache: Cache, processes: Processes
) -> None:
    repo.write("long.py", "x = '" + "a" * 85 + "'\n")
    assert run(cache, "ruff", repo, files=["long.py"]).status is ToolStatus.SUCCESS
    repo.write("pyproject.toml", PYPROJECT.replace("line-length = 100", "line-length = 80"))
    processes.clear()
    result = run(cache, "ruff", repo, files=["long.py"])
    assert len(processes) == 1
    assert [d.code for d in result.diagnostics] == ["E501"]


def test_creating_a_missing_config_file_invalidates(
    repo: GitRepo, cache: Cache, processes: Processes
) -> None:
    assert run(cache, "flake8", repo, files=["clean.py"]).status is ToolStatus.SUCCESS
    repo.write(".flake8", "[flake8]\nselect = E999\n")
    repo.write("sub/.flake8", "[flake8]\nselect = E999\n")
    processes.clear()
    run(cache, "flake8", repo, files=["clean.py"])
    assert len(processes) == 1


def test_a_config_file_in_a_files_folder_invalidates_that_file_only(
    repo: GitRepo, cache: Cache, processes: Processes
) -> None:
    repo.write("pkg/mod.py", "import sys\n")
    files = ["clean.py", "pkg/mod.py"]
    run(cache, "ruff", repo, files=files)
    repo.write("pkg/ruff.toml", '[lint]\nselect = ["E"]\n')
    processes.clear()
    result = run(cache, "ruff", repo, files=files)
    assert [argv[-1] for argv in processes.argvs] == ["pkg/mod.py"]
    assert result.diagnostics == []


def test_different_arguments_invalidate(repo: GitRepo, cache: Cache, processes: Processes) -> None:
    run(cache, "ruff", repo)
    processes.clear()
    result = run(cache, "ruff", repo, extra_args=["--select", "E"])
    assert len(processes) == 1
    assert result.diagnostics == []
    processes.clear()
    assert run(cache, "ruff", repo, extra_args=["--select", "E"]).metadata["cached"] is True
    assert processes.argvs == []


def test_a_different_tool_version_invalidates(
    repo: GitRepo, cache: Cache, processes: Processes, monkeypatch: pytest.MonkeyPatch
) -> None:
    run(cache, "ruff", repo)
    monkeypatch.setattr(cache, "version_of", lambda spec, exe: "999.0.0")
    processes.clear()
    result = run(cache, "ruff", repo)
    assert len(processes) == 1
    assert result.metadata["version"] == "999.0.0"


def test_a_rewritten_program_is_asked_its_version_again(
    tmp_path: Path, repo: GitRepo, cache: Cache, processes: Processes
) -> None:
    program = tmp_path / "bin" / "fake-lint"
    program.parent.mkdir()

    def install(version: str) -> None:
        code = f"import sys\nprint('fake-lint {version}' if '--version' in sys.argv else '')\n"
        program.write_text(f"#!{sys.executable}\n{code}")
        program.chmod(0o755)

    spec = replace(CATALOG["flake8"], executable=str(program), check_args=())
    install("1.0")
    assert run(cache, "flake8", repo, spec=spec).metadata["version"] == "1.0"
    install("2.0.1")
    os.utime(program, ns=(time.time_ns(), time.time_ns() + 10**9))
    processes.clear()
    result = run(cache, "flake8", repo, spec=spec)
    assert result.metadata["version"] == "2.0.1"
    assert [a[-1] for a in processes.argvs] == ["--version", "unused.py"]


def test_fix_and_check_mode_are_separate_entries(
    repo: GitRepo, cache: Cache, processes: Processes
) -> None:
    run(cache, "isort", repo)
    processes.clear()
    fixed = run(cache, "isort", repo, fix=True)
    assert len(processes) == 1
    assert fixed.metadata["modified_files"] == ["unused.py"]


# --- what is never stored ------------------------------------------------------------------


def test_error_outcomes_are_not_cached(repo: GitRepo, cache: Cache, processes: Processes) -> None:
    repo.write("pyproject.toml", "[tool.ruff]\nno-such-option = 1\n")
    first = run(cache, "ruff", repo)
    assert first.outcome == OUTCOME_ERROR
    processes.clear()
    second = run(cache, "ruff", repo)
    assert len(processes) == 1
    assert second.outcome == OUTCOME_ERROR and "cached" not in second.metadata


def python_tool(code: str, **changes: Any) -> ToolSpec:
    """A custom tool: this interpreter running ``code`` on the files."""
    spec = custom_spec("py", ToolConfig(command=(sys.executable, "-c", code)))
    return replace(spec, **changes)


def test_timeouts_are_not_cached(repo: GitRepo, cache: Cache, processes: Processes) -> None:
    spec = python_tool("import time; time.sleep(30)")

    def call() -> ToolResult:
        return run(cache, "py", repo, spec=spec, files=["clean.py"])

    for _ in range(2):
        context = process.RunContext(deadline=time.monotonic() + 0.3, kill_grace=0.5)
        with pytest.raises(TimeoutError):
            context.call(call)
    assert len(processes) == 2
    assert entries(cache) == 0


def test_a_file_changed_while_the_tool_ran_is_not_stored(
    repo: GitRepo, cache: Cache, processes: Processes
) -> None:
    # A "linter" that rewrites the file it checks, as an editor saving midway would.
    code = "import sys\nfor name in sys.argv[1:]:\n    open(name, 'a').write('# edited\\n')\n"
    spec = replace(CATALOG["flake8"], executable=sys.executable, check_args=("-c", code))
    run(cache, "flake8", repo, spec=spec, files=["clean.py"])
    processes.clear()
    run(cache, "flake8", repo, spec=spec, files=["clean.py"])
    assert len(processes) == 1


def test_fix_mode_stores_only_files_the_writer_left_alone(
    repo: GitRepo, cache: Cache, processes: Processes
) -> None:
    files = ["clean.py", "ugly.py"]
    first = run(cache, "black", repo, fix=True, files=files)
    assert first.metadata["modified_files"] == ["ugly.py"]
    processes.clear()

    second = run(cache, "black", repo, fix=True, files=files)
    assert [a[-1] for a in processes.argvs] == ["ugly.py"]  # rewritten: checked again
    assert second.metadata["modified_files"] == []
    processes.clear()

    third = run(cache, "black", repo, fix=True, files=files)
    assert processes.argvs == []
    assert third.metadata["cached"] is True and third.status is ToolStatus.SUCCESS


def test_no_cache_runs_everything_and_stores_nothing(
    repo: GitRepo, cache: Cache, processes: Processes
) -> None:
    for _ in range(2):
        result = run(None, "ruff", repo)
        assert "cached" not in result.metadata
    assert len([a for a in processes.argvs if "--version" not in a]) == 2
    assert entries(cache) == 0


# --- project-wide tools ------------------------------------------------------------------


def test_project_tool_is_replayed_whole_and_rerun_when_any_project_file_changes(
    repo: GitRepo, cache: Cache, processes: Processes
) -> None:
    repo.write("lib.py", "def value() -> int:\n    return 1\n")
    repo.write("app.py", "from lib import value\n\nx: str = value()\n")
    spec = CATALOG["mypy"]
    assert not is_file_local(spec)
    first = run(cache, "mypy", repo, files=["app.py"])
    assert [d.file for d in first.diagnostics] == ["app.py"]
    processes.clear()
    assert run(cache, "mypy", repo, files=["app.py"]).metadata["cached"] is True
    assert processes.argvs == []

    # lib.py is not among mypy's files, but app.py imports it.
    repo.write("lib.py", "def value() -> str:\n    return 'a'\n")
    third = run(cache, "mypy", repo, files=["app.py"])
    assert len(processes) == 1
    assert third.status is ToolStatus.SUCCESS


def test_custom_tools_are_never_cached_per_file(repo: GitRepo, cache: Cache) -> None:
    spec = python_tool("pass")
    assert not is_file_local(spec)
    assert is_file_local(CATALOG["ruff"])
    assert not is_file_local(replace(CATALOG["ruff"], pass_filenames=False))


def test_a_custom_tool_without_declared_inputs_always_runs(
    repo: GitRepo, cache: Cache, processes: Processes
) -> None:
    spec = python_tool("pass", pass_filenames=False)
    for _ in range(2):
        run(cache, "py", repo, spec=spec, files=[])
    assert len(processes) == 2
    assert entries(cache) == 0


def test_a_custom_tool_with_inputs_reruns_only_when_a_declared_input_changes(
    repo: GitRepo, cache: Cache, processes: Processes
) -> None:
    spec = python_tool("pass", pass_filenames=False, inputs=("docs/**",))
    run(cache, "py", repo, spec=spec, files=[])
    run(cache, "py", repo, spec=spec, files=[])
    assert len(processes) == 1
    repo.write("other.txt", "not an input\n")
    assert run(cache, "py", repo, spec=spec, files=[]).metadata["cached"] is True
    repo.write("docs/new.txt", "an untracked input\n")
    run(cache, "py", repo, spec=spec, files=[])
    assert len(processes) == 2


def test_cache_false_turns_caching_off(repo: GitRepo, cache: Cache, processes: Processes) -> None:
    spec = replace(CATALOG["ruff"], cache=False)
    for _ in range(2):
        assert "cached" not in run(cache, "ruff", repo, spec=spec).metadata
    assert len([a for a in processes.argvs if "--version" not in a]) == 2


def test_outside_a_repository_project_tools_are_not_cached(
    tmp_path: Path, processes: Processes, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    folder = tmp_path / "plain"
    folder.mkdir()
    (folder / "a.py").write_text("import os\n")
    assert state_dir(folder) == tmp_path / "xdg" / "huskycat"
    with Cache.for_root(folder) as outside:
        spec = python_tool("pass")
        for _ in range(2):
            cached_run_tool(outside, spec, ["a.py"], root=folder)
        assert len(processes) == 2
        # File-local tools are cached there, in the user's cache folder.
        for _ in range(2):
            cached_run_tool(outside, CATALOG["ruff"], ["a.py"], root=folder)
        assert outside.folder == tmp_path / "xdg" / "huskycat" / "cache"
    assert len([a for a in processes.argvs if "--version" not in a]) == 3


# --- damaged entries and concurrency -----------------------------------------------------


def rows(cache: Cache) -> dict[bytes, bytes]:
    """The stored rows, read straight from the database (``cache`` closed first)."""
    cache.close()
    with contextlib.closing(sqlite3.connect(cache.path)) as db:
        return dict(db.execute("SELECT key, value FROM entries").fetchall())


def entries(cache: Cache) -> int:
    cache.close()
    return cache.stats().entries


@pytest.mark.parametrize(
    "damage",
    [
        lambda data: data[: len(data) // 2],
        lambda data: b"",
        lambda data: b"\x00\xff garbage \xfe",
        lambda data: b'{"format": 1, "key": "another", "value": {}}',
        lambda data: b"[7, [[1, 1, null, 9, 3]]]",
        lambda data: b"\x00" + zlib.compress(b"[1, [[1, 1, null, 0, 3]]]"),
        lambda data: b"[" * 100000,
    ],
    ids=["truncated", "empty", "garbage", "other-shape", "wrong-types", "packed-wrong", "deep"],
)
def test_damaged_entries_are_misses(
    repo: GitRepo, cache: Cache, processes: Processes, damage: Callable[[bytes], bytes]
) -> None:
    first = run(cache, "flake8", repo)
    stored = rows(cache)
    assert stored
    with contextlib.closing(sqlite3.connect(cache.path)) as db, db:
        db.executemany(
            "UPDATE entries SET value = ? WHERE key = ?",
            [(damage(v), k) for k, v in stored.items()],
        )
    processes.clear()

    second = run(cache, "flake8", repo)

    assert len(processes) >= 1
    assert "cached" not in second.metadata
    assert comparable(second) == comparable(first)
    cache.close()
    processes.clear()
    assert run(cache, "flake8", repo).metadata["cached"] is True  # rewritten whole
    assert processes.argvs == []


@pytest.mark.parametrize(
    "damage",
    [
        lambda path: path.write_bytes(b"not a database at all" * 1000),
        lambda path: path.write_bytes(path.read_bytes()[:1500]),
        lambda path: _sql(path, "UPDATE meta SET value = '99' WHERE name = 'format'"),
        lambda path: _sql(path, "DROP TABLE entries"),
    ],
    ids=["garbage", "truncated", "foreign-version", "missing-table"],
)
def test_an_unusable_database_is_set_aside_with_one_warning_and_rebuilt(
    repo: GitRepo, processes: Processes, damage: Callable[[Path], object]
) -> None:
    with Cache.for_root(repo.path) as first:
        fresh = run(first, "flake8", repo)
        run(first, "ruff", repo)
    damage(first.path)
    warnings: list[str] = []
    processes.clear()
    with Cache(first.folder, warn=warnings.append) as second:
        again = run(second, "flake8", repo)
        run(second, "ruff", repo)
    assert comparable(again) == comparable(fresh) and "cached" not in again.metadata
    assert len(warnings) == 1 and str(first.path) in warnings[0], warnings
    assert list(first.folder.glob("results.db.broken-*"))
    assert len(processes) >= 2
    with Cache(first.folder, warn=warnings.append) as third:
        assert run(third, "flake8", repo).metadata["cached"] is True
    assert len(warnings) == 1


def _sql(path: Path, statement: str) -> None:
    with contextlib.closing(sqlite3.connect(path)) as db, db:
        db.execute(statement)


WRITER = """
import os, sys
from huskycat.cache import Cache
folder, me, bound, runs = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
for r in range(runs):
    cache = Cache(folder, max_bytes=bound, warn=lambda m: sys.exit("warned: " + m))
    for i in range(40):
        key = "%064x" % ((r * 40 + i) % 300)
        cache.put(key, {"writer": me, "i": i, "payload": os.urandom(i * 37 % 1500).hex()})
        got = cache.get("%064x" % ((i * 7) % 300))
        assert got is None or set(got) == {"writer", "i", "payload"}, got
    cache.close()
"""


def test_concurrent_writers_never_corrupt_the_cache(tmp_path: Path) -> None:
    folder = tmp_path / "shared"
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", WRITER, str(folder), str(n), str(256 * 1024), "15"],
            stdin=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        for n in range(6)
    ]
    for proc in procs:
        _, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, err.decode()
    reader = Cache(folder, warn=pytest.fail)
    stored = rows(reader)
    assert stored
    values = reader.get_many(f"{k.hex():0>64}" for k in stored)
    assert len(values) == len(stored)
    assert all(v["writer"] in range(6) for v in values.values())


def test_a_killed_writer_leaves_a_whole_database(tmp_path: Path) -> None:
    folder = tmp_path / "killed"
    proc = subprocess.Popen(
        [sys.executable, "-c", WRITER, str(folder), "0", str(64 * 1024 * 1024), str(10**9)],
        stdin=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if (folder / "results.db").exists() and Cache(folder).stats().entries >= 80:
            break
        time.sleep(0.05)
    proc.kill()
    proc.wait()
    reader = Cache(folder, warn=pytest.fail)
    stored = rows(reader)
    assert len(stored) >= 80
    values = reader.get_many(f"{k.hex():0>64}" for k in stored)
    assert len(values) == len(stored) and all(v["writer"] == 0 for v in values.values())


def test_tools_in_worker_threads_share_one_cache(
    repo: GitRepo, cache: Cache, processes: Processes
) -> None:
    names = installed(["black", "isort", "ruff", "flake8", "bandit", "yamllint", "taplo"])
    plain = {n: run(None, n, repo) for n in names}

    def both(name: str) -> tuple[ToolResult, ToolResult]:
        return run(cache, name, repo), run(cache, name, repo)

    with ThreadPoolExecutor(8) as pool:
        pairs = dict(zip(names, pool.map(both, names)))
    for name, (cold, warm) in pairs.items():
        assert comparable(cold) == comparable(plain[name]) == comparable(warm), name
        assert warm.metadata["cached"] is True


def test_a_run_writes_nothing_until_it_closes(repo: GitRepo, cache: Cache) -> None:
    run(cache, "ruff", repo)
    with Cache.for_root(repo.path) as other:  # another run, at the same time
        assert other.stats().entries == 0
    assert entries(cache) > 0


# --- size bound and clearing -------------------------------------------------------------


def _payload(size: int) -> str:
    return os.urandom(size // 2).hex()  # random: compression cannot shrink it


def test_size_bound_evicts_least_recently_used_entries(tmp_path: Path) -> None:
    folder = tmp_path / "c"
    keys = [f"{i:064x}" for i in range(30)]
    for key in keys:  # one run each: keys[0] is the least recently used
        with Cache(folder) as store:
            store.put(key, {"n": _payload(3000)})
    with Cache(folder) as store:
        assert store.prune() == 0  # 30 entries of 3 kB: within the bound
        assert store.get(keys[0]) is not None  # a hit makes the oldest the newest
    with Cache(folder) as store:
        assert store.get(keys[1]) is not None  # used by this run: never evicted by it
        assert store.prune(max_bytes=20 * 4096) > 0
        assert store.size() <= 20 * 4096
    with Cache(folder) as store:
        assert store.get(keys[0]) is not None and store.get(keys[1]) is not None
        assert store.get(keys[2]) is None and store.get(keys[3]) is None
        assert store.get(keys[-1]) is not None


def test_runs_writing_past_the_bound_keep_the_database_within_it(tmp_path: Path) -> None:
    bound = 256 * 1024
    folder = tmp_path / "c"
    for run_number in range(40):
        with Cache(folder, max_bytes=bound) as store:
            for i in range(10):
                store.put(f"{run_number * 10 + i:064x}", {"payload": _payload(2000)})
        assert store.size() <= bound
        assert os.path.getsize(store.path) <= 2 * bound  # the file shrinks too
    with Cache(folder) as store:
        assert store.get(f"{399:064x}") is not None


def test_a_cached_file_entry_takes_well_under_a_kibibyte(tmp_path: Path) -> None:
    from huskycat.cache.merge import FileState

    with Cache(tmp_path / "c") as store:
        for i in range(5000):
            diags = (diag(f"f{i}.py"),) if i % 10 == 0 else ()
            store.put(f"{i:064x}", FileState(not diags, diags).to_row())
    assert store.stats().entries == 5000
    assert store.stats().bytes_on_disk / 5000 < 200


def test_clear_removes_everything(repo: GitRepo, cache: Cache, processes: Processes) -> None:
    for name in ("ruff", "flake8"):
        run(cache, name, repo)
    count = entries(cache)
    assert count > 4
    assert clear(repo.path) == count
    assert entries(cache) == 0
    assert clear(repo.path) == 0
    processes.clear()
    run(cache, "ruff", repo)
    assert len(processes) >= 1


def test_clear_removes_an_older_huskycat_s_entry_files(repo: GitRepo, cache: Cache) -> None:
    old = cache.folder / "ab" / ("c" * 62 + ".json")
    old.parent.mkdir(parents=True)
    old.write_text("{}")
    assert clear(repo.path) == 1
    assert not old.parent.exists()


def test_cache_lives_in_the_git_directory(repo: GitRepo, cache: Cache) -> None:
    assert cache.folder == repo.path / ".git" / "huskycat" / "cache"
    run(cache, "ruff", repo)
    cache.close()
    assert (cache.folder / "results.db").is_file()
    assert repo.git("status", "--porcelain") == ""


def test_stats_count_the_last_run_s_hits_and_misses(repo: GitRepo, cache: Cache) -> None:
    run(cache, "ruff", repo)
    cache.close()
    assert (cache.stats().last_hits, cache.stats().last_misses) == (0, 3)
    repo.write("ugly.py", "x = 1\n")
    run(cache, "ruff", repo)
    run(cache, "mypy", repo, files=["clean.py"])
    cache.close()
    stats = cache.stats()
    assert (stats.last_hits, stats.last_misses) == (2, 2)  # ruff: 2 of 3 files; mypy: 1 run
    assert stats.entries > 0 and stats.bytes_on_disk > 0


def test_a_read_only_cache_runs_the_tools_and_says_nothing(
    tmp_path: Path, repo: GitRepo, processes: Processes
) -> None:
    blocked = tmp_path / "file-not-folder"
    blocked.write_text("")
    store = Cache(blocked / "cache", warn=pytest.fail)
    assert not store.put("ab" + "0" * 62, {"a": 1})
    result = run(store, "ruff", repo)
    assert result.errors == 1
    store.close()


# --- pure pieces ---------------------------------------------------------------------------


def diag(file: str, severity: str = "error", line: int = 1) -> Diagnostic:
    return Diagnostic(file, line, 1, "X1", severity, "m")  # type: ignore[arg-type]


def result_of(*diags: Diagnostic, outcome: str = "findings") -> ToolResult:
    errors = sum(d.severity == "error" for d in diags)
    warnings = sum(d.severity == "warning" for d in diags)
    ok = outcome == "ok"
    return ToolResult(
        "t",
        ok,
        0.0,
        errors=errors,
        warnings=warnings,
        status=ToolStatus.SUCCESS if ok else ToolStatus.FAILED,
        metadata={"outcome": outcome},
        diagnostics=list(diags),
    )


def test_file_states_split_a_result_by_file() -> None:
    states = file_states(result_of(diag("a"), diag("b", "warning")), ["a", "b", "c"])
    assert states == {
        "a": FileState(False, (diag("a"),)),
        # Only a warning among several findings: whether it fails alone is unknown.
        "b": FileState(None, (diag("b", "warning"),)),
        "c": FileState(True),
    }
    alone = file_states(result_of(diag("b", "warning")), ["a", "b"])
    assert alone == {"a": FileState(True), "b": FileState(False, (diag("b", "warning"),))}
    passing = file_states(result_of(diag("b", "warning"), outcome="ok"), ["a", "b"])
    assert passing == {"a": FileState(True), "b": FileState(True, (diag("b", "warning"),))}


def test_file_states_refuse_what_cannot_be_split() -> None:
    assert file_states(result_of(diag("elsewhere")), ["a"]) is None
    assert file_states(result_of(outcome="findings"), ["a"]) is None
    assert file_states(result_of(diag("a"), outcome=OUTCOME_ERROR), ["a"]) is None
    uncounted = result_of(diag("a"))
    uncounted.errors += 1
    assert file_states(uncounted, ["a"]) is None


def test_file_states_carry_each_file_s_part_of_the_summary() -> None:
    whole = result_of(diag("a"), diag("a", line=2), diag("b", "warning"))
    summary = (*summaries.counts(2, 1), summaries.files("would reformat ", ["b"], rank=3))
    whole.metadata["summary"] = summaries.to_json(summary)
    states = file_states(whole, ["a", "b", "c"])
    assert states is not None
    assert states["a"].summary == (replace(summary[0], n=2),)
    assert states["b"].summary == (summary[1], summary[2])
    assert states["c"].summary == ()
    merged = merge_cached("t", None, states)
    assert merged.error_message == "2 errors, 1 warning, would reformat 1 file"
    for state in states.values():  # and through the stored row
        assert FileState.from_row("a", state.to_row()) == replace(
            state, diagnostics=tuple(replace(d, file="a") for d in state.diagnostics)
        )
    whole.metadata["summary"] = ["1 thing, unsplittable"]
    assert file_states(whole, ["a", "b", "c"]) is None


def test_merge_cached_sums_counts_and_sorts_diagnostics_by_file() -> None:
    fresh = result_of(diag("b", line=3))
    fresh.output = "b:3: fresh\n"
    fresh.metadata["summary"] = summaries.to_json(summaries.counts(1, 0))
    cached = {
        "a": FileState(False, (diag("a", line=2),), (summaries.counts(1, 0)[0],)),
        "c": FileState(True, (diag("c", "warning"),), (summaries.counts(0, 1)[1],)),
    }
    merged = merge_cached("t", fresh, cached)
    assert [d.file for d in merged.diagnostics] == ["a", "b", "c"]
    assert (merged.errors, merged.warnings) == (2, 1)
    assert merged.output == "b:3: fresh\na:2:1: error: X1 m\nc:1:1: warning: X1 m\n"
    assert merged.error_message == "2 errors, 1 warning"
    assert merged.metadata["cached_files"] == 2
    assert merged.status is ToolStatus.FAILED and merged.outcome == "findings"
    only_cached = merge_cached("t", None, {"c": cached["c"]}, {"argv": ["x"]})
    assert only_cached.status is ToolStatus.SUCCESS and only_cached.metadata["cached"]


def test_lookup_lets_a_caller_run_the_misses_in_shards(
    repo: GitRepo, cache: Cache, processes: Processes
) -> None:
    run(cache, "ruff", repo, files=["clean.py"])
    found = lookup(cache, CATALOG["ruff"], TOOL_FILES["ruff"], root=repo.path)
    assert found.result is None and found.misses == ("ugly.py", "unused.py")
    shards = [found.run([name]) for name in found.misses]
    from huskycat.tools.merge import merge_results

    result = found.finish(merge_results(shards))
    plain = run_tool(CATALOG["ruff"], TOOL_FILES["ruff"], root=repo.path)
    assert comparable(result) == comparable(plain)
    processes.clear()
    assert run(cache, "ruff", repo).metadata["cached"] is True
    assert processes.argvs == []


def test_importing_the_cache_and_history_starts_no_process() -> None:
    # The cache module must not run git or read files when imported (hook start-up).
    code = textwrap.dedent("""
        import subprocess, sys
        calls = []
        real = subprocess.Popen.__init__
        def spy(self, *a, **k):
            calls.append(a)
            return real(self, *a, **k)
        subprocess.Popen.__init__ = spy
        import huskycat.cache, huskycat.history
        assert calls == [], calls
        """)
    subprocess.run([sys.executable, "-c", code], check=True, stdin=subprocess.DEVNULL)


def test_replaying_a_whole_run_keeps_its_files_rows_from_eviction(repo: GitRepo) -> None:
    # A whole run replayed from its one row reads no file row; every few runs it marks
    # them as used, so that the least recently used rows evicted are not these.
    with Cache.for_root(repo.path) as first:
        run(first, "ruff", repo)
    path = Cache.for_root(repo.path).path
    for _ in range(TOUCH_AFTER_RUNS + 3):
        with Cache.for_root(repo.path) as again:
            assert run(again, "ruff", repo).metadata["cached"] is True
    with contextlib.closing(sqlite3.connect(path)) as db:
        last = int(db.execute("SELECT value FROM meta WHERE name = 'run'").fetchone()[0])
        oldest = db.execute("SELECT min(used) FROM entries").fetchone()[0]
        count = db.execute("SELECT count(*) FROM entries").fetchone()[0]
    assert count >= len(TOOL_FILES["ruff"]) + 1  # each file's row and the whole run's
    assert oldest >= last - TOUCH_AFTER_RUNS - 1
