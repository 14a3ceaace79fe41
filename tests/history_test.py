"""Tool duration history: estimates from recorded runs, what is recorded, the file."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from huskycat.cache import Cache, cached_run_tool
from huskycat.core.results import OUTCOME_ERROR, ToolResult, ToolStatus
from huskycat.history import FILE_NAME, MAX_SAMPLES, History
from huskycat.tools.catalog import CATALOG
from tests.conftest import GitRepo


def ran(name: str, seconds: float, files: int, **metadata: object) -> ToolResult:
    return ToolResult(name, True, seconds, metadata={"files": files, **metadata})


# --- estimates -----------------------------------------------------------------------------


def test_a_tool_never_run_has_no_estimate() -> None:
    assert History().expected("ruff", 10) is None
    assert History().expected_durations({"ruff": 10, "mypy": None}) == {}


def test_estimates_follow_the_recorded_fixed_cost_and_per_file_rate() -> None:
    history = History()
    for when, (files, seconds) in enumerate([(1, 1.1), (10, 2.0), (100, 11.0), (5, 1.5)]):
        history.add("flake8", files, seconds, when=when)
    assert history.expected("flake8", 200) == pytest.approx(21.0)
    assert history.expected("flake8", 0) == pytest.approx(1.0)


def test_runs_on_one_file_count_scale_by_the_per_file_rate() -> None:
    history = History()
    history.add("black", 10, 2.0, when=1)
    history.add("black", 10, 2.0, when=2)
    assert history.expected("black", 10) == pytest.approx(2.0)
    assert history.expected("black", 20) == pytest.approx(4.0)
    assert history.expected("black", 1) == pytest.approx(0.2)


def test_newer_runs_weigh_more() -> None:
    history = History()
    for when in range(5):
        history.add("ruff", 10, 1.0, when=when)
    history.add("ruff", 10, 3.0, when=10)  # the machine got slower, or the files longer
    estimate = history.expected("ruff", 10)
    assert estimate is not None and 1.5 < estimate < 3.0
    history.add("ruff", 10, 3.0, when=11)
    later = history.expected("ruff", 10)
    assert later is not None and later > estimate


def test_project_wide_tools_expect_their_recent_durations() -> None:
    history = History()
    history.add("mypy", 3, 8.0, when=1)
    history.add("mypy", 300, 6.0, when=2)
    estimate = history.expected("mypy")  # no file count: how long it took, whatever it got
    assert estimate is not None and 6.0 < estimate < 7.0
    assert history.expected_durations({"mypy": None, "ruff": 3}) == {"mypy": estimate}


def test_only_the_latest_runs_are_kept() -> None:
    history = History()
    for when in range(MAX_SAMPLES + 5):
        history.add("isort", 1, float(when + 1), when=when)
    samples = history.samples("isort")
    assert len(samples) == MAX_SAMPLES
    assert samples[0].seconds == 6.0 and samples[-1].seconds == MAX_SAMPLES + 5


def test_a_run_that_is_not_a_duration_is_refused() -> None:
    with pytest.raises(ValueError, match="'ruff'"):
        History().add("ruff", -1, 1.0)
    with pytest.raises(ValueError, match="nan"):
        History().add("ruff", 1, float("nan"))


# --- what is recorded ------------------------------------------------------------------


def test_record_takes_tools_that_ran_and_leaves_out_the_rest() -> None:
    history = History()
    results = {
        "ruff": ran("ruff", 0.5, 10),
        "black": ToolResult(
            "black", False, 1.5, status=ToolStatus.FAILED, metadata={"outcome": "findings"}
        ),
        "mypy": ToolResult("mypy", False, 30.0, status=ToolStatus.TIMEOUT),
        "cached": ran("cached", 0.01, 10, cached=True),
        "skipped": ToolResult("skipped", True, 0.0, status=ToolStatus.SKIPPED),
        "crashed": ToolResult(
            "crashed", False, 0.1, status=ToolStatus.FAILED, metadata={"outcome": OUTCOME_ERROR}
        ),
    }
    assert history.record(results, {"black": 4}) == 3
    assert [(s.files, s.seconds) for s in history.samples("ruff")] == [(10, 0.5)]
    assert [(s.files, s.seconds) for s in history.samples("black")] == [(4, 1.5)]
    assert [(s.files, s.seconds) for s in history.samples("mypy")] == [(0, 30.0)]
    for name in ("cached", "skipped", "crashed"):
        assert history.samples(name) == []


def test_a_niced_tool_is_recorded_with_its_cpu_time_when_it_waited_longer() -> None:
    # Off the critical path it waited 30 s for the CPUs; by itself it takes 4 s.
    history = History()
    history.record([ran("flake8", 30.0, 100, nice=10, cpu_seconds=4.0)])
    history.record([ran("black", 12.0, 100, cpu_seconds=21.0)])  # not niced: its wall time
    history.record([ran("bandit", 3.0, 100, nice=10, cpu_seconds=3.5)])  # it did not wait
    history.record([ran("mypy", 6.0, 100, nice=10)])  # CPU time unknown
    assert [s.seconds for s in history.samples("flake8")] == [4.0]
    assert [s.seconds for s in history.samples("black")] == [12.0]
    assert [s.seconds for s in history.samples("bandit")] == [3.0]
    assert [s.seconds for s in history.samples("mypy")] == [6.0]


def test_files_replayed_from_the_cache_do_not_count() -> None:
    history = History()
    history.record([ran("ruff", 0.2, 100, cached_files=99)], {"ruff": 100})
    assert [(s.files, s.seconds) for s in history.samples("ruff")] == [(1, 0.2)]


def test_cached_results_of_real_runs_are_not_recorded(git_repo: GitRepo) -> None:
    git_repo.write("a.py", "import os\n")
    git_repo.commit()
    with Cache.for_root(git_repo.path) as cache:
        results = []
        for _ in range(2):
            result = cached_run_tool(cache, CATALOG["ruff"], ["a.py"], root=git_repo.path)
            result.duration = 0.05  # the engine times each call
            results.append(result)
    history = History.load(git_repo.path)
    assert history.record(results) == 1
    assert [s.files for s in history.samples("ruff")] == [1]


# --- the file --------------------------------------------------------------------------


def test_history_is_saved_beside_the_cache_and_loaded_again(git_repo: GitRepo) -> None:
    history = History.load(git_repo.path)
    assert history.path == git_repo.path / ".git" / "huskycat" / FILE_NAME
    history.add("ruff", 10, 0.5, when=1.0)
    assert history.save()
    document = json.loads(history.path.read_text())
    assert document == {"format": 1, "tools": {"ruff": [[10, 0.5, 1.0]]}}
    assert History.load(git_repo.path).expected("ruff", 10) == pytest.approx(0.5)
    assert git_repo.git("status", "--porcelain") == ""


def test_two_runs_saving_at_once_keep_both_runs(tmp_path: Path) -> None:
    path = tmp_path / "state" / FILE_NAME
    first, second = History.load(path=path), History.load(path=path)
    first.add("ruff", 1, 0.1, when=1.0)
    second.add("black", 2, 0.2, when=2.0)
    second.add("ruff", 1, 0.3, when=3.0)
    assert first.save() and second.save()
    merged = History.load(path=path)
    assert [s.seconds for s in merged.samples("ruff")] == [0.1, 0.3]
    assert [s.seconds for s in merged.samples("black")] == [0.2]


def test_saves_that_overlap_in_time_keep_both_runs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Each save reads, then writes a moment later: without a lock, the second read sees
    # neither run's samples, and the last write wins.
    import threading

    from huskycat import history as module

    read = module._read

    def slow_read(path: Path) -> object:
        found = read(path)
        time.sleep(0.3)
        return found

    monkeypatch.setattr(module, "_read", slow_read)
    path = tmp_path / "state" / FILE_NAME
    runs = [History.load(path=path) for _ in range(2)]
    for number, run in enumerate(runs):
        run.add(f"tool{number}", 1, 0.5, when=1.0)
    threads = [threading.Thread(target=run.save) for run in runs]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    monkeypatch.setattr(module, "_read", read)
    merged = History.load(path=path)
    assert [bool(merged.samples(f"tool{n}")) for n in range(2)] == [True, True]


@pytest.mark.parametrize(
    "content",
    [b"", b"{", b"\xff\xfe", b"[]", b'{"format": 2, "tools": {}}', b'{"format": 1, "tools": 3}'],
)
def test_an_unreadable_history_is_empty(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / FILE_NAME
    path.write_bytes(content)
    history = History.load(path=path)
    assert history.expected("ruff", 1) is None
    assert history.warning is not None and "it will be rebuilt" in history.warning
    history.add("ruff", 1, 1.0)
    assert history.save()
    assert History.load(path=path).expected("ruff", 1) == pytest.approx(1.0)


def test_bad_rows_are_left_out(tmp_path: Path) -> None:
    path = tmp_path / FILE_NAME
    rows = {"ruff": [[1, 0.5, 1.0], [1, "x", 2.0]], "black": [[2, 0.25, 1.0]]}
    path.write_text(json.dumps({"format": 1, "tools": rows}))
    history = History.load(path=path)
    assert history.expected("black", 2) == pytest.approx(0.25)


@pytest.mark.parametrize(
    "row",
    [[1, 1e308, 1.0], [1, -1.0, 1.0], [10**30, 1.0, 1.0], [1, 1.0, 1e300], [-1, 1.0, 1.0]],
)
def test_absurd_samples_are_ignored_with_a_warning(tmp_path: Path, row: list[float]) -> None:
    path = tmp_path / FILE_NAME
    path.write_text(json.dumps({"format": 1, "tools": {"ruff": [row, [1, 0.5, 2.0]]}}))
    history = History.load(path=path)
    assert history.warning is not None and "1 damaged or absurd sample " in history.warning
    assert history.expected("ruff", 1) == pytest.approx(0.5)
    # A sample from the future would stay "newest" for ever and push real runs out.
    for when in range(3, 3 + MAX_SAMPLES):
        history.add("ruff", 1, 0.25, when=float(when))
    assert history.expected("ruff", 1) == pytest.approx(0.25)


def test_a_missing_or_sound_history_has_no_warning(tmp_path: Path) -> None:
    history = History.load(path=tmp_path / FILE_NAME)
    assert history.warning is None
    history.add("ruff", 1, 1.0)
    assert history.save()
    assert History.load(path=tmp_path / FILE_NAME).warning is None


def test_an_unwritable_history_is_not_an_error(tmp_path: Path) -> None:
    blocked = tmp_path / "a-file"
    blocked.write_text("")
    history = History.load(path=blocked / FILE_NAME)
    history.add("ruff", 1, 1.0)
    assert history.save() is False


def test_load_needs_a_root_or_a_path() -> None:
    with pytest.raises(TypeError, match="root or a path"):
        History.load()
