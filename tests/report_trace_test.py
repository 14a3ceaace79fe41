"""``--trace``: a Chrome Trace Event file of a real run, with shards on their own lanes.

The run of this module (shared with tests/report_timeline_test.py and
tests/report_command_test.py) has a sharded tool (ruff on 40 files), tools with
findings, a crashing tool, a tool it blocks, and a timed-out one, on 3 worker slots.
"""

from __future__ import annotations

import itertools
import json
import os
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import hermetic_git_environment, huskycat, load_report, make_repo

JOBS = 3
CONFIG = """\
[tool.ruff.lint]
select = ["E9", "F"]

# Ordered so that ruff starts with at least two slots free, and so runs in shards.
[tool.huskycat.tools.ruff]
after = ["shellcheck", "hadolint"]

[tool.huskycat.tools.crash]
command = ["sh", "-c", "echo cannot read settings >&2; exit 3"]
pass_filenames = false
after = ["shellcheck"]

[tool.huskycat.tools.needs-crash]
command = ["true"]
pass_filenames = false
depends_on = ["crash"]

[tool.huskycat.tools.slow]
command = ["sleep", "30"]
pass_filenames = false
timeout = 0.6
after = ["ruff"]

[tool.huskycat.tools.ok]
command = ["sleep", "0.3"]
pass_filenames = false
after = ["ruff"]
"""
TOOLS = "ruff,shellcheck,hadolint,crash,needs-crash,slow,ok"


@dataclass(frozen=True)
class SharedRun:
    repo: Path
    out: Path  # folder of the reports
    returncode: int
    report: dict[str, Any]


@pytest.fixture(scope="module")
def shared_run(tmp_path_factory: pytest.TempPathFactory) -> SharedRun:
    base = tmp_path_factory.mktemp("reports")
    out = base / "out"
    out.mkdir()
    summary = out / "step-summary.md"
    summary.write_text("earlier step\n", encoding="utf-8")
    with hermetic_git_environment(base):
        repo = make_repo(base / "repo")
        repo.write("pyproject.toml", CONFIG)
        for i in range(40):
            repo.write(f"pkg/m{i:02d}.py", f'"""Module {i}."""\n\nVALUE = {i}\n')
        repo.write("pkg/bad.py", "import os\n")
        repo.write("bin/run.sh", "#!/bin/sh\necho $1\n")
        repo.write("Dockerfile", "FROM ubuntu\n")
        repo.commit("sources")
        proc = huskycat(
            repo.path,
            "run",
            "--no-progress",
            "--no-cache",
            "--jobs",
            str(JOBS),
            "--tools",
            TOOLS,
            "--json",
            str(out / "run.json"),
            "--trace",
            str(out / "trace.json"),
            "--timeline",
            str(out / "timeline.html"),
            "--sarif",
            str(out / "run.sarif"),
            "--gitlab-codequality",
            str(out / "codequality.json"),
            env={**os.environ, "GITHUB_STEP_SUMMARY": str(summary)},
        )
    assert proc.returncode == 1, proc.stderr
    return SharedRun(repo.path, out, proc.returncode, load_report(out / "run.json"))


def trace_of(shared_run: SharedRun) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((shared_run.out / "trace.json").read_text("utf-8"))
    return data


def test_trace_has_a_named_lane_per_worker_slot(shared_run: SharedRun) -> None:
    events = trace_of(shared_run)["traceEvents"]
    names = {e["tid"]: e["args"]["name"] for e in events if e["name"] == "thread_name"}
    assert names == {1: "slot 1", 2: "slot 2", 3: "slot 3"}
    [process] = [e for e in events if e["name"] == "process_name"]
    assert process["ph"] == "M" and process["args"]["name"] == "huskycat run"


def test_every_call_is_a_complete_event_and_calls_on_one_lane_never_overlap(
    shared_run: SharedRun,
) -> None:
    events = [e for e in trace_of(shared_run)["traceEvents"] if e["ph"] == "X"]
    by_lane: dict[int, list[tuple[float, float]]] = defaultdict(list)
    for event in events:
        assert 1 <= event["tid"] <= JOBS and event["pid"] == 1
        assert event["ts"] >= 0 and event["dur"] >= 0
        by_lane[event["tid"]].append((event["ts"], event["ts"] + event["dur"]))
    for spans in by_lane.values():
        spans.sort()
        for (_, end), (start, _) in itertools.pairwise(spans):
            assert start >= end - 1, spans  # 1 µs of rounding
    tools = {e["args"]["tool"] for e in events}
    assert tools == {"ruff", "shellcheck", "hadolint", "crash", "slow", "ok"}


def test_shards_are_their_own_events_and_carry_the_tool_outcome(shared_run: SharedRun) -> None:
    ruff = next(r for r in shared_run.report["results"] if r["tool_name"] == "ruff")
    shards = ruff["metadata"]["shards"]
    assert shards >= 2
    events = [e for e in trace_of(shared_run)["traceEvents"] if e["args"].get("tool") == "ruff"]
    assert sorted(e["name"] for e in events) == [f"ruff [shard {i}]" for i in range(1, shards + 1)]
    assert all(e["cat"] == "shard" and e["args"]["outcome"] == "findings" for e in events)
    assert all(e["args"]["errors"] == 1 and e["args"]["files"] == 41 for e in events)
    assert len({e["tid"] for e in events}) == shards  # side by side


def test_timeout_and_blocked_tools_are_in_the_trace(shared_run: SharedRun) -> None:
    events = trace_of(shared_run)["traceEvents"]
    [slow] = [e for e in events if e["args"].get("tool") == "slow"]
    assert slow["args"]["outcome"] == "timeout" and slow["dur"] >= 500_000
    [blocked] = [e for e in events if e["args"].get("tool") == "needs-crash"]
    assert blocked["ph"] == "i" and blocked["args"]["outcome"] == "blocked"
    assert "crash" in blocked["name"]
    other = trace_of(shared_run)["otherData"]
    assert other["slots"] == JOBS and other["wall_time"] > 0.5
    # A sharded tool adds its elapsed time to a chain, not its shards' summed work.
    assert other["lower_bound"] <= other["wall_time"] + 0.01
    assert "ruff" in other["critical_path_tools"] and "slow" in other["critical_path_tools"]


def test_a_report_without_calls_places_tools_on_the_lowest_free_slot() -> None:
    from huskycat.core.results import ToolResult
    from huskycat.report.run_data import RunData
    from huskycat.report.trace import build_trace

    results = tuple(ToolResult(name, True, 1.0) for name in ("a", "b", "c", "d"))
    times = {
        "a": {"start": 0.0, "end": 2.0},
        "b": {"start": 0.0, "end": 1.0},
        "c": {"start": 1.0, "end": 3.0},  # b's slot is free again
        "d": {"start": 2.5, "end": 3.0},  # a's slot is free again
    }
    trace = build_trace(RunData(results, {"tool_times": times, "max_workers": 2}))
    lanes = {e["name"]: e["tid"] for e in trace["traceEvents"] if e["ph"] == "X"}
    assert lanes["a"] != lanes["b"] and {lanes["a"], lanes["b"]} == {1, 2}
    assert lanes["c"] == lanes["b"] and lanes["d"] == lanes["a"]
