"""``huskycat report FORMAT --from run.json``, GitLab code quality and the GitHub step
summary, on the real run of tests/report_trace_test.py.

A report made after the fact from the saved JSON must be the very report the run wrote.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import huskycat
from tests.report_sarif_test import validate
from tests.report_trace_test import SharedRun, shared_run  # noqa: F401 - the fixture

WRITTEN_BY_RUN = {
    "sarif": "run.sarif",
    "trace": "trace.json",
    "timeline": "timeline.html",
    "codequality": "codequality.json",
}


@pytest.mark.parametrize("format", sorted(WRITTEN_BY_RUN))
def test_report_from_saved_json_is_what_the_run_wrote(
    shared_run: SharedRun, format: str, tmp_path: Path  # noqa: F811
) -> None:
    target = tmp_path / f"again.{format}"
    proc = huskycat(
        shared_run.repo,
        "report",
        format,
        "--from",
        str(shared_run.out / "run.json"),
        "-o",
        str(target),
    )
    assert proc.returncode == 0, proc.stderr
    written = (shared_run.out / WRITTEN_BY_RUN[format]).read_text("utf-8")
    assert target.read_text("utf-8") == written


def test_report_reads_standard_input_and_writes_standard_output(
    shared_run: SharedRun,  # noqa: F811
) -> None:
    import subprocess
    import sys

    with open(shared_run.out / "run.json", "rb") as source:
        proc = subprocess.run(
            [sys.executable, "-m", "huskycat", "report", "sarif"],
            stdin=source,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
    assert proc.returncode == 0, proc.stderr
    validate(json.loads(proc.stdout))


def test_step_summary_is_appended_and_matches_report_markdown(
    shared_run: SharedRun,  # noqa: F811
) -> None:
    text = (shared_run.out / "step-summary.md").read_text("utf-8")
    assert text.startswith("earlier step\n### huskycat: 1 passed, 4 failed, 1 timed out, 1 skipped")
    rows = {
        line.split(" | ")[0].strip("| "): line
        for line in text.splitlines()
        if line.startswith("| ") and "---" not in line
    }
    assert "❌ failed: exit code 3: cannot read settings" in rows["crash"]
    assert "⏱️ timed out after 0.6s" in rows["slow"]
    assert "⏭️ skipped: dependency 'crash' failed" in rows["needs-crash"]
    assert "| 0 | 0 | 1 |" in rows["shellcheck"]  # its info note counted as a note
    assert "<details><summary>ruff: failed 1 error</summary>" in text
    assert "pkg/bad.py:1:8: F401" in text
    proc = huskycat(
        shared_run.repo, "report", "markdown", "--from", str(shared_run.out / "run.json")
    )
    assert proc.returncode == 0
    assert text == "earlier step\n" + proc.stdout


def test_gitlab_code_quality_has_every_finding_and_every_tool_that_did_not_work(
    shared_run: SharedRun,  # noqa: F811
) -> None:
    issues = json.loads((shared_run.out / "codequality.json").read_text("utf-8"))
    for issue in issues:
        assert set(issue) == {"description", "check_name", "fingerprint", "severity", "location"}
        assert issue["severity"] in ("info", "minor", "major", "critical", "blocker")
        assert issue["location"]["lines"]["begin"] >= 1
        assert not Path(issue["location"]["path"]).is_absolute()
    assert len({i["fingerprint"] for i in issues}) == len(issues)
    by_check = {i["check_name"]: i for i in issues}
    assert by_check["ruff F401"]["severity"] == "major"
    assert by_check["ruff F401"]["location"] == {"path": "pkg/bad.py", "lines": {"begin": 1}}
    assert by_check["shellcheck SC2086"]["severity"] == "info"
    assert by_check["hadolint DL3006"]["severity"] == "minor"
    for tool in ("crash", "slow", "needs-crash"):
        issue = by_check[f"huskycat {tool}"]
        assert issue["severity"] == "critical"
        assert issue["location"]["path"] == "pyproject.toml"
    assert "timed out" in by_check["huskycat slow"]["description"]


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (None, "No such file or directory"),
        ("not json", "not JSON"),
        ('{"format_version": 7}', "format_version 1 (found 7)"),
        ('{"format_version": 1, "results": [{"tool_name": "x"}]}', "malformed result"),
    ],
)
def test_a_bad_saved_report_is_exit_2_with_one_line_naming_it(
    tmp_path: Path, content: str | None, expected: str
) -> None:
    source = tmp_path / "run.json"
    if content is not None:
        source.write_text(content, encoding="utf-8")
    proc = huskycat(tmp_path, "report", "sarif", "--from", str(source))
    assert proc.returncode == 2
    [line] = proc.stderr.splitlines()
    assert str(source) in line and expected in line
    assert "Traceback" not in proc.stderr


def test_run_options_are_the_formats_report_writes() -> None:
    from huskycat.commands.run import EXTRA_REPORTS, STEP_SUMMARY_ENV
    from huskycat.report.outputs import RUN_OPTIONS
    from huskycat.report.step_summary import ENV_VAR

    assert EXTRA_REPORTS == RUN_OPTIONS
    assert STEP_SUMMARY_ENV == ENV_VAR
