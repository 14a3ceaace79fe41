"""Sharded tools: split over free slots, one result, one event of each kind."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence

from huskycat.core import summary as summaries
from huskycat.core.parallel_executor import ParallelExecutor, ShardedTool, ToolResult, ToolStatus
from huskycat.core.process import current_context
from huskycat.core.results import Diagnostic, ToolEvent
from huskycat.tools.merge import merge_results


def file_tool(files: Sequence[str], seen: list[list[str]], lock: threading.Lock) -> ShardedTool:
    """A tool over ``files`` that reports one warning per file."""

    def split(n: int) -> list[Callable[[], object]]:
        chunks = [list(files[i::n]) for i in range(n)]
        return [lambda c=c: run(c) for c in chunks if c]

    def run(chunk: list[str]) -> ToolResult:
        with lock:
            seen.append(chunk)
        time.sleep(0.02)
        return ToolResult(
            "lint",
            False,
            0.0,
            warnings=len(chunk),
            metadata={"outcome": "findings"},
            diagnostics=[Diagnostic(f, 1, 1, "W1", "warning", "w") for f in chunk],
        )

    return ShardedTool(split, merge_results, max_shards=8)


def test_a_sharded_tool_uses_the_free_slots_and_merges_into_one_result() -> None:
    seen: list[list[str]] = []
    files = [f"f{i:02d}.py" for i in range(10)]
    events: list[ToolEvent] = []
    executor = ParallelExecutor({}, max_workers=4)
    (result,) = executor.execute_tools(
        {"lint": file_tool(files, seen, threading.Lock())}, event_callback=events.append
    )
    assert len(seen) == 4  # four free slots, nothing else ready
    assert sorted(f for chunk in seen for f in chunk) == files
    assert result.status is ToolStatus.FAILED and result.warnings == 10
    assert [d.file for d in result.diagnostics] == files  # file order, not shard order
    assert result.metadata["shards"] == 4
    assert [(e.tool_name, e.status.value) for e in events] == [
        ("lint", "running"),
        ("lint", "failed"),
    ]


def test_shards_leave_a_slot_for_each_other_ready_tool() -> None:
    seen: list[list[str]] = []
    executor = ParallelExecutor({}, max_workers=4, expected_durations={"lint": 5.0})
    started = threading.Event()
    results = executor.execute_tools(
        {
            "lint": file_tool([f"f{i}" for i in range(8)], seen, threading.Lock()),
            "mypy": lambda: started.set(),
            "bandit": lambda: None,
        }
    )
    assert len(seen) == 2  # 4 slots, two other tools ready: two shards
    assert all(r.tool_name for r in results) and started.is_set()


def test_a_sharded_tool_called_directly_runs_as_one_shard() -> None:
    seen: list[list[str]] = []
    tool = file_tool(["a", "b"], seen, threading.Lock())
    merged = tool()
    assert isinstance(merged, ToolResult) and merged.warnings == 2 and seen == [["a", "b"]]


def test_a_timed_out_shard_times_out_the_tool_and_stops_its_siblings() -> None:
    stopped: list[bool] = []

    def split(n: int) -> list[Callable[[], object]]:
        def hang() -> None:
            ctx = current_context()
            assert ctx is not None
            stopped.append(ctx.wait(10))

        return [hang for _ in range(n)]

    executor = ParallelExecutor({}, max_workers=3, timeout_per_tool=0.2)
    (result,) = executor.execute_tools({"slow": ShardedTool(split, merge_results)})
    assert result.status is ToolStatus.TIMEOUT
    end = time.monotonic() + 10  # the shards' threads report back after the run
    while len(stopped) < 3 and time.monotonic() < end:
        time.sleep(0.01)
    assert stopped == [True, True, True]  # each woken by the cancellation, not its 10 s


def test_a_failing_split_is_that_tools_failure() -> None:
    def split(n: int) -> list[Callable[[], object]]:
        raise OSError("cannot list files")

    (result,) = ParallelExecutor({}, max_workers=2).execute_tools(
        {"lint": ShardedTool(split, merge_results)}
    )
    assert result.status is ToolStatus.FAILED
    assert result.error_message == "OSError: cannot list files"


def test_dependents_of_a_sharded_tool_wait_for_every_shard() -> None:
    done: list[str] = []
    lock = threading.Lock()

    def split(n: int) -> list[Callable[[], object]]:
        def part(i: int) -> None:
            time.sleep(0.01 * (i + 1))
            with lock:
                done.append(f"shard{i}")

        return [lambda i=i: part(i) for i in range(n)]

    executor = ParallelExecutor({"fmt": [], "lint": ["fmt"]}, max_workers=3)
    executor.execute_tools(
        {"fmt": ShardedTool(split, merge_results), "lint": lambda: done.append("lint")}
    )
    assert done[-1] == "lint" and len(done) == 4


def test_merge_results_keeps_the_worst_status_and_unites_modified_files() -> None:
    ok = ToolResult("t", True, 0.1, metadata={"modified_files": ["a"]})
    bad = ToolResult(
        "t", False, 0.2, errors=2, metadata={"outcome": "error", "modified_files": ["b"]}
    )
    merged = merge_results([ok, bad])
    assert merged.status is ToolStatus.FAILED and merged.errors == 2
    assert merged.metadata["modified_files"] == ["a", "b"] and merged.metadata["outcome"] == "error"
    assert merged.duration == 0.1 + 0.2


def _with_summary(errors: int, warnings: int, *phrases: summaries.Phrase) -> ToolResult:
    summary = (*summaries.counts(errors, warnings), *phrases)
    return ToolResult(
        "t",
        not (errors or warnings),
        0.1,
        errors=errors,
        warnings=warnings,
        error_message=summaries.render(summary),
        metadata={"outcome": "findings", "summary": summaries.to_json(summary)},
    )


def test_merged_summaries_add_up_as_data_in_the_parser_s_order() -> None:
    merged = merge_results([_with_summary(0, 1), _with_summary(2, 3), _with_summary(1, 0)])
    assert merged.error_message == "3 errors, 4 warnings"
    black = [
        _with_summary(0, 0, summaries.files("would reformat ", ["a.py", "b.py"])),
        _with_summary(0, 0, summaries.files("would reformat ", ["c.py"])),
    ]
    assert merge_results(black).error_message == "would reformat 3 files"
    assert merge_results([]).error_message is None


def test_merging_never_reads_counts_out_of_text() -> None:
    # A message with digits in it is a phrase, kept once, not a count to add up.
    odd = ToolResult(
        "t", False, 0.1, error_message="found 3 files", metadata={"outcome": "findings"}
    )
    assert merge_results([odd, odd]).error_message == "found 3 files"


def test_summaries_split_by_file_and_merge_back_to_the_whole() -> None:
    summary = (*summaries.counts(3, 1), summaries.files("would reformat ", ["a.py"], rank=5))
    a = summaries.for_file(summary, "a.py", {"error": 2})
    b = summaries.for_file(summary, "b.py", {"error": 1, "warning": 1})
    assert a is not None and b is not None
    assert (
        summaries.render(summaries.merge([b, a]))
        == summaries.render(summary)
        == ("3 errors, 1 warning, would reformat 1 file")
    )
    assert summaries.for_file(("exit code 1",), "a.py", {}) is None
    assert summaries.from_json(summaries.to_json(summary)) == summary
    assert summaries.from_json([["x", "not a count", "", "", 0, "", None]]) is None


def test_merge_results_says_why_a_shard_failed_rather_than_the_others_counts() -> None:
    found = _with_summary(3, 0)
    broke = ToolResult(
        "t", False, 0.1, error_message="exit code 2: bad option", metadata={"outcome": "error"}
    )
    assert merge_results([found, broke]).error_message == "exit code 2: bad option"
    assert merge_results([found, found]).error_message == "6 errors"
