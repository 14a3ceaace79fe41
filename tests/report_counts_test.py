"""Every diagnostic is counted: notes (shellcheck's info and style, hadolint's info and
style, bandit's LOW) are in each result's counts, the summary line and every report;
``fail_on`` changes which levels fail a tool. Real tools, real runs.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from junitparser import Failure, JUnitXml

from tests.conftest import GitRepo, huskycat, load_report, results_by_tool

SCRIPT = "#!/bin/sh\necho $1\n"  # SC2086: shellcheck's info level
DOCKERFILE = "FROM python:3.11-slim\nRUN cd /tmp && echo hi\n"  # DL3003: hadolint's warning
LOW_ONLY = '"""Checks."""\n\nimport subprocess  # B404: LOW\n'


def run(repo: GitRepo, *args: str) -> tuple[str, dict[str, Any], Path]:
    out = repo.path.parent
    proc = huskycat(
        repo.path,
        "run",
        "--no-cache",
        "--json",
        str(out / "run.json"),
        "--junit-xml",
        str(out / "junit.xml"),
        "--sarif",
        str(out / "run.sarif"),
        *args,
    )
    assert proc.returncode in (0, 1), proc.stderr
    return proc.stdout, load_report(out / "run.json"), out


def test_notes_are_counted_in_results_summary_and_every_report(git_repo: GitRepo) -> None:
    git_repo.write("run.sh", SCRIPT)
    git_repo.write("sec.py", LOW_ONLY)
    git_repo.add()
    stdout, report, out = run(git_repo, "--tools", "shellcheck,bandit")
    results = results_by_tool(report)
    shellcheck, bandit = results["shellcheck"], results["bandit"]
    assert (shellcheck["errors"], shellcheck["warnings"], shellcheck["notes"]) == (0, 0, 1)
    assert (bandit["errors"], bandit["warnings"], bandit["notes"]) == (0, 0, 1)
    # Both tools fail on their notes by default: their own verdict (exit 1).
    assert shellcheck["status"] == bandit["status"] == "failed"
    assert "==> shellcheck: failed 1 note" in stdout
    assert "==> bandit: failed 1 note" in stdout
    summary = stdout.strip().splitlines()[-1]
    assert re.fullmatch(r"0 passed, 2 failed, .* in .*; 0 errors, 0 warnings, 2 notes", summary)

    cases = {c.name: c for suite in JUnitXml.fromfile(str(out / "junit.xml")) for c in suite}
    [failure] = [r for r in cases["shellcheck"].result if isinstance(r, Failure)]
    assert failure.message == "1 note"

    sarif = json.loads((out / "run.sarif").read_text("utf-8"))
    levels = {
        run["tool"]["driver"]["name"]: [r["level"] for r in run["results"]] for run in sarif["runs"]
    }
    assert levels == {"shellcheck": ["note"], "bandit": ["note"]}


def test_fail_on_warning_lets_notes_pass_and_still_counts_them(git_repo: GitRepo) -> None:
    git_repo.write(
        "huskycat.toml",
        '[tools.shellcheck]\nfail_on = "warning"\n[tools.bandit]\nfail_on = "warning"\n',
    )
    git_repo.write("run.sh", SCRIPT)
    git_repo.write("sec.py", LOW_ONLY)
    git_repo.add()
    stdout, report, _ = run(git_repo, "--tools", "shellcheck,bandit")
    results = results_by_tool(report)
    for name in ("shellcheck", "bandit"):
        assert results[name]["status"] == "success", name
        assert results[name]["notes"] == 1
        assert results[name]["metadata"]["fail_on"] == "warning"
    assert re.search(r"^shellcheck \.+ passed \(1 note\) ", stdout, re.MULTILINE), stdout
    assert stdout.strip().splitlines()[-1].endswith("; 0 errors, 0 warnings, 2 notes")


def test_fail_on_error_lets_warnings_pass_and_note_makes_notes_fail(git_repo: GitRepo) -> None:
    git_repo.write(
        "huskycat.toml",
        '[tools.hadolint]\nfail_on = "error"\n' '[tools.yamllint]\nfail_on = "note"\n',
    )
    git_repo.write("Dockerfile", DOCKERFILE)
    # yamllint's default config: a missing document start is a warning that passes.
    git_repo.write("a.yaml", "key: value\n")
    git_repo.add()
    _, report, _ = run(git_repo, "--tools", "hadolint,yamllint")
    results = results_by_tool(report)
    hadolint, yamllint = results["hadolint"], results["yamllint"]
    assert hadolint["warnings"] >= 1 and hadolint["status"] == "success"
    assert yamllint["warnings"] == 1
    assert yamllint["status"] == "failed" and yamllint["metadata"]["outcome"] == "findings"
    assert yamllint["error_message"] == "1 warning"


@pytest.mark.parametrize("value", ['"warnings"', "1", "true"])
def test_bad_fail_on_is_exit_2_naming_file_key_and_value(git_repo: GitRepo, value: str) -> None:
    git_repo.write("huskycat.toml", f"[tools.ruff]\nfail_on = {value}\n")
    git_repo.add()
    proc = huskycat(git_repo.path, "run", "--tools", "ruff")
    assert proc.returncode == 2
    [line] = proc.stderr.splitlines()
    assert "huskycat.toml" in line and "tools.ruff.fail_on" in line
    assert "expected one of 'error', 'warning', 'note'" in line
