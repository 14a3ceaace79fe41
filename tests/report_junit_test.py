from __future__ import annotations

import os
import stat
import xml.etree.ElementTree as ET
from datetime import datetime, timezone
from pathlib import Path

import pytest
from junitparser import Failure, JUnitXml, Skipped, TestSuite

from huskycat.core.results import (
    SKIP_DEPENDENCY,
    Diagnostic,
    ToolResult,
    ToolStatus,
)
from huskycat.report.junit import build_junit_xml, write_junit_xml, xml_safe

FLAKE8_OUTPUT = "a.py:3:1: E302 expected 2 blank lines, found 1\na.py:9:80: E501 line too long\n"


def sample_results() -> list[ToolResult]:
    return [
        ToolResult("ruff", True, 0.41, output="All checks passed!\n"),
        ToolResult(
            "flake8",
            False,
            1.2,
            errors=2,
            warnings=0,
            output=FLAKE8_OUTPUT,
            status=ToolStatus.FAILED,
            error_message="exit code 1",
            diagnostics=[
                Diagnostic("a.py", 3, 1, "E302", "error", "expected 2 blank lines, found 1"),
                Diagnostic("a.py", 9, 80, "E501", "error", "line too long"),
            ],
        ),
        ToolResult(
            "mypy",
            False,
            30.0,
            output="partial output\n",
            status=ToolStatus.TIMEOUT,
            metadata={"timeout": 30.0},
        ),
        ToolResult(
            "bandit",
            True,
            0.0,
            status=ToolStatus.SKIPPED,
            error_message="not installed: pip install bandit",
            metadata={"skip_reason": "not_applicable"},
        ),
        ToolResult(
            "pytest",
            False,
            0.0,
            status=ToolStatus.SKIPPED,
            metadata={"skip_reason": SKIP_DEPENDENCY},
        ),
    ]


def write_and_parse(
    tmp_path: Path, results: list[ToolResult], *, wall_time: float | None = None
) -> TestSuite:
    path = tmp_path / "report.xml"
    write_junit_xml(results, path, wall_time=wall_time)
    xml = JUnitXml.fromfile(str(path))
    suites = list(xml)
    assert len(suites) == 1
    suite = suites[0]
    assert isinstance(suite, TestSuite)
    return suite


def test_junit_file_parses_with_one_suite_whose_counts_match(tmp_path: Path) -> None:
    suite = write_and_parse(tmp_path, sample_results())

    assert suite.name == "huskycat"
    assert suite.tests == 5
    assert suite.failures == 2  # the failed tool and the timed-out one
    assert suite.errors == 0
    assert suite.skipped == 2


def test_testsuites_root_repeats_the_counts(tmp_path: Path) -> None:
    path = tmp_path / "report.xml"
    write_junit_xml(sample_results(), path)
    root = ET.parse(path).getroot()

    assert root.tag == "testsuites"
    assert [child.tag for child in root] == ["testsuite"]
    assert {k: root.get(k) for k in ("tests", "failures", "errors", "skipped")} == {
        "tests": "5",
        "failures": "2",
        "errors": "0",
        "skipped": "2",
    }


def test_each_testcase_is_named_after_its_tool(tmp_path: Path) -> None:
    suite = write_and_parse(tmp_path, sample_results())

    cases = list(suite)
    assert [c.name for c in cases] == ["ruff", "flake8", "mypy", "bandit", "pytest"]
    assert [c.classname for c in cases] == [f"huskycat.{c.name}" for c in cases]
    assert cases[1].time == pytest.approx(1.2)


def test_failed_tool_failure_carries_output_and_diagnostics(tmp_path: Path) -> None:
    suite = write_and_parse(tmp_path, sample_results())

    flake8 = next(c for c in suite if c.name == "flake8")
    [failure] = flake8.result
    assert isinstance(failure, Failure)
    assert failure.type == "failed"
    assert failure.message == "2 errors"
    assert FLAKE8_OUTPUT.rstrip("\n") in failure.text
    assert "a.py:9:80: E501 line too long" in failure.text.split("diagnostics:")[1]


def test_failed_tool_without_counts_uses_its_error_message(tmp_path: Path) -> None:
    crashed = ToolResult("taplo", False, 0.3, error_message="taplo: config error")

    suite = write_and_parse(tmp_path, [crashed])

    [failure] = next(iter(suite)).result
    assert failure.message == "taplo: config error"
    assert "taplo: config error" in failure.text


def test_timeout_is_a_failure_of_type_timeout_saying_after_how_long(tmp_path: Path) -> None:
    suite = write_and_parse(tmp_path, sample_results())

    mypy = next(c for c in suite if c.name == "mypy")
    [failure] = mypy.result
    assert isinstance(failure, Failure)
    assert failure.type == "timeout"
    assert failure.message == "timed out after 30.0s"
    assert "partial output" in failure.text


def test_skipped_tool_says_why(tmp_path: Path) -> None:
    suite = write_and_parse(tmp_path, sample_results())

    cases = {c.name: c for c in suite}
    [bandit_skip] = cases["bandit"].result
    [pytest_skip] = cases["pytest"].result
    assert isinstance(bandit_skip, Skipped)
    assert bandit_skip.message == "not installed: pip install bandit"
    assert pytest_skip.message == "a dependency did not pass"


def test_passed_tool_output_goes_to_system_out(tmp_path: Path) -> None:
    suite = write_and_parse(tmp_path, sample_results())

    ruff = next(c for c in suite if c.name == "ruff")
    assert ruff.is_passed
    assert ruff.system_out == "All checks passed!\n"


def test_control_characters_in_tool_output_are_dropped_so_the_file_parses(
    tmp_path: Path,
) -> None:
    noisy = ToolResult(
        "shellcheck",
        False,
        0.5,
        errors=1,
        output="\x1b[31mIn x.sh line 1:\x1b[0m\x00\x07 bell\x0b\ud800 tab\tok\n",
        error_message="bad \x1b[1mthing\x1b[0m\x01",
    )

    suite = write_and_parse(tmp_path, [noisy])

    [failure] = next(iter(suite)).result
    assert failure.text.startswith("bad thing\n\nIn x.sh line 1: bell tab\tok")


def test_xml_safe_keeps_newlines_tabs_and_unicode() -> None:
    assert xml_safe("é\tü\r\n✓ \x1b[2Kx\x1f") == "é\tü\r\n✓ x"


def test_suite_time_is_the_wall_time_when_given(tmp_path: Path) -> None:
    results = sample_results()
    assert write_and_parse(tmp_path, results, wall_time=31.5).time == pytest.approx(31.5)
    assert write_and_parse(tmp_path, results).time == pytest.approx(0.41 + 1.2 + 30.0)


def test_timestamp_is_written_when_given() -> None:
    when = datetime(2024, 5, 1, 12, 30, 15, 999, tzinfo=timezone.utc)

    root = build_junit_xml([], suite_name="hook", timestamp=when)

    suite = root.find("testsuite")
    assert suite is not None
    assert suite.get("timestamp") == "2024-05-01T12:30:15+00:00"
    assert suite.get("name") == "hook"
    untimed = build_junit_xml([]).find("testsuite")
    assert untimed is not None
    assert untimed.get("timestamp") is None


def test_results_may_be_given_as_a_mapping_by_name(tmp_path: Path) -> None:
    results = {r.tool_name: r for r in sample_results()}

    suite = write_and_parse(tmp_path, list(results.values()))
    by_mapping = build_junit_xml(results)

    assert [c.get("name") for c in by_mapping.iter("testcase")] == [c.name for c in suite]


def test_writing_replaces_the_old_file_keeping_its_mode_and_leaves_no_temp(
    tmp_path: Path,
) -> None:
    path = tmp_path / "report.xml"
    path.write_text("old")
    path.chmod(0o600)

    write_junit_xml(sample_results(), path)

    assert os.listdir(tmp_path) == ["report.xml"]
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert path.read_bytes().startswith(b"<?xml")


def test_a_failed_write_leaves_the_old_file_whole(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "report.xml"
    path.write_text("old report")

    def broken_replace(src: str, dst: str) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", broken_replace)
    with pytest.raises(OSError, match="disk full"):
        write_junit_xml(sample_results(), path)

    assert path.read_text() == "old report"
    assert os.listdir(tmp_path) == ["report.xml"]
