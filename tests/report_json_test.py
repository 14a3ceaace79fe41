from __future__ import annotations

import json
import math
import stat
from pathlib import Path
from typing import Any

import jsonschema  # type: ignore[import-untyped]  # no stubs installed
import pytest

from huskycat.core.results import (
    OUTCOME_FINDINGS,
    SKIP_NOT_APPLICABLE,
    Diagnostic,
    ToolResult,
    ToolStatus,
)
from huskycat.report.json_report import FORMAT_VERSION, build_report, load_schema, write_json

REQUIRED_KEYS = [
    "format_version",
    "huskycat_version",
    "root",
    "mode",
    "success",
    "results",
    "plan",
    "statistics",
]


def sample_results() -> list[ToolResult]:
    return [
        ToolResult(
            "black",
            True,
            0.8,
            metadata={"modified_files": ["a.py"], "cached": False},
        ),
        ToolResult(
            "flake8",
            False,
            1.25,
            errors=1,
            warnings=1,
            output="a.py:3:1: E302 expected 2 blank lines\n",
            metadata={"outcome": OUTCOME_FINDINGS, "exit_code": 1},
            diagnostics=[
                Diagnostic("a.py", 3, 1, "E302", "error", "expected 2 blank lines"),
                Diagnostic("b.py", None, None, None, "warning", "file is empty"),
            ],
        ),
        ToolResult("mypy", False, 30.0, status=ToolStatus.TIMEOUT),
        ToolResult(
            "bandit",
            True,
            0.0,
            status=ToolStatus.SKIPPED,
            error_message="not installed",
            metadata={"skip_reason": SKIP_NOT_APPLICABLE},
        ),
    ]


def sample_report(results: list[ToolResult] | None = None) -> dict[str, Any]:
    return build_report(
        sample_results() if results is None else results,
        plan=[["black", "bandit"], ("flake8", "mypy")],
        statistics={"wall_time": 30.9, "measured_speedup": 1.04, "workers": 4},
        version="0.1.0",
        root=Path("/repo"),
        mode="ci",
    )


def validate(report: dict[str, Any]) -> None:
    jsonschema.Draft202012Validator(load_schema()).validate(report)


def test_schema_is_a_valid_draft_2020_12_schema_with_an_id() -> None:
    schema = load_schema()

    jsonschema.Draft202012Validator.check_schema(schema)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert schema["$id"]
    assert schema["properties"]["format_version"] == {"const": FORMAT_VERSION}


def test_report_built_from_sample_results_validates_against_the_schema() -> None:
    validate(sample_report())


def test_report_written_to_disk_validates_and_round_trips(tmp_path: Path) -> None:
    report = sample_report()
    path = tmp_path / "huskycat.json"

    write_json(report, path)

    loaded = json.loads(path.read_text(encoding="utf-8"))
    validate(loaded)
    assert loaded == report


def test_report_holds_every_result_with_its_diagnostics() -> None:
    report = sample_report()

    assert [r["tool_name"] for r in report["results"]] == ["black", "flake8", "mypy", "bandit"]
    flake8 = report["results"][1]
    assert flake8["status"] == "failed"
    assert flake8["diagnostics"] == [
        {
            "file": "a.py",
            "line": 3,
            "column": 1,
            "code": "E302",
            "severity": "error",
            "message": "expected 2 blank lines",
        },
        {
            "file": "b.py",
            "line": None,
            "column": None,
            "code": None,
            "severity": "warning",
            "message": "file is empty",
        },
    ]


def test_report_header_fields() -> None:
    report = sample_report()

    assert report["format_version"] == 1
    assert report["huskycat_version"] == "0.1.0"
    assert report["root"] == "/repo"
    assert report["mode"] == "ci"
    assert report["statistics"] == {"wall_time": 30.9, "measured_speedup": 1.04, "workers": 4}


def test_plan_levels_are_numbered_in_order() -> None:
    assert sample_report()["plan"] == [
        {"level": 0, "tools": ["black", "bandit"]},
        {"level": 1, "tools": ["flake8", "mypy"]},
    ]


def test_plan_may_be_given_as_level_and_names_pairs() -> None:
    report = build_report(
        [], plan=[(0, ["black"]), (1, ["mypy", "ruff"])], statistics={}, version="0.1.0"
    )

    assert report["plan"] == [
        {"level": 0, "tools": ["black"]},
        {"level": 1, "tools": ["mypy", "ruff"]},
    ]
    validate(report)


def test_success_is_false_when_any_tool_failed_or_timed_out() -> None:
    assert sample_report()["success"] is False


def test_success_is_true_when_tools_passed_or_were_not_applicable() -> None:
    passed = [r for r in sample_results() if r.tool_name in ("black", "bandit")]

    report = sample_report(passed)

    assert report["success"] is True
    validate(report)


@pytest.mark.parametrize("key", REQUIRED_KEYS)
def test_schema_rejects_a_report_missing_a_required_key(key: str) -> None:
    report = sample_report()
    del report[key]

    with pytest.raises(jsonschema.ValidationError, match=repr(key)):
        validate(report)


def test_schema_rejects_another_format_version() -> None:
    report = sample_report()
    report["format_version"] = 2

    with pytest.raises(jsonschema.ValidationError):
        validate(report)


def test_schema_rejects_a_result_missing_its_status() -> None:
    report = sample_report()
    del report["results"][0]["status"]

    with pytest.raises(jsonschema.ValidationError, match="'status'"):
        validate(report)


def test_schema_rejects_a_diagnostic_with_an_unknown_severity() -> None:
    report = sample_report()
    report["results"][1]["diagnostics"][0]["severity"] = "fatal"

    with pytest.raises(jsonschema.ValidationError, match="fatal"):
        validate(report)


def test_non_finite_statistics_become_null_so_the_file_is_strict_json(tmp_path: Path) -> None:
    report = build_report(
        [],
        plan=[],
        statistics={"wall_time": 0.0, "measured_speedup": math.inf, "levels": (1, 2)},
        version="0.1.0",
    )
    path = tmp_path / "r.json"

    write_json(report, path)

    loaded = json.loads(path.read_text(encoding="utf-8"))
    assert loaded["statistics"] == {"wall_time": 0.0, "measured_speedup": None, "levels": [1, 2]}
    assert loaded["root"] is None and loaded["mode"] is None
    validate(loaded)


def test_write_json_keeps_unicode_readable(tmp_path: Path) -> None:
    report = sample_report([ToolResult("black", True, 0.1, output="✓ fichier modifié\n")])
    path = tmp_path / "r.json"

    write_json(report, path)

    assert "✓ fichier modifié" in path.read_text(encoding="utf-8")


def test_a_new_report_file_is_readable_by_others(tmp_path: Path) -> None:
    path = tmp_path / "r.json"

    write_json(sample_report(), path)

    assert stat.S_IMODE(path.stat().st_mode) == 0o644
    assert [p.name for p in tmp_path.iterdir()] == ["r.json"]
