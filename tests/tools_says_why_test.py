"""A failure always says why: tools run unbuffered, and a silent failure is an error.

The real case: autoflake runs a pool of worker processes; from an environment without
``PYTHONUNBUFFERED`` (a CI job, ``env -i``) their buffered output was often lost, and
the run said "failed" with some or none of the findings. The test runs huskycat from an
environment stripped to PATH and HOME, as such a job does, several times.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from huskycat.planning import tool_env
from huskycat.tools.base import ParseResult, ToolOutput
from huskycat.tools.catalog import CATALOG
from huskycat.tools.parsing import says_why
from tests.conftest import GitRepo

FILES = 60
UNUSED = "import os\nimport sys\n\nprint(sys.argv)\n"


def output(returncode: int, stdout: str = "", stderr: str = "") -> ToolOutput:
    return ToolOutput(("tool",), returncode, stdout, stderr, ("a.py",), "/tmp")


def test_findings_with_nothing_found_and_nothing_printed_become_an_error() -> None:
    guarded = says_why(lambda out: ParseResult("findings", message="exit code 1"))
    result = guarded(output(1))
    assert result.outcome == "error"
    assert result.message == (
        "exit code 1 with no output and no findings: nothing says why it failed"
    )


def test_findings_with_output_or_counts_stay_findings() -> None:
    plain = says_why(lambda out: ParseResult("findings", message="exit code 1"))
    assert plain(output(1, stdout="a.py: bad\n")).outcome == "findings"
    assert plain(output(1, stderr="a.py: bad\n")).outcome == "findings"
    counted = says_why(lambda out: ParseResult("findings", errors=2, message="2 errors"))
    assert counted(output(1)).outcome == "findings"
    passed = says_why(lambda out: ParseResult("ok"))
    assert passed(output(0)).outcome == "ok"


def test_every_catalog_tool_reads_a_silent_failure_as_an_error() -> None:
    for name, spec in CATALOG.items():
        assert spec.parse(output(1)).outcome == "error", name


def test_tools_run_unbuffered_without_git_hook_variables() -> None:
    env = tool_env({"PATH": "/bin", "GIT_DIR": "/elsewhere", "PYTHONUNBUFFERED": ""})
    assert env == {"PATH": "/bin", "PYTHONUNBUFFERED": "1"}


def stripped_environment() -> dict[str, str]:
    """Only what a clean login has; no PYTHON* or other variables a developer's shell
    may set (git's test settings kept, so the user's git config stays out)."""
    keep = {"PATH", "HOME", "GIT_CONFIG_GLOBAL", "GIT_CONFIG_NOSYSTEM"}
    return {k: v for k, v in os.environ.items() if k in keep}


def test_autoflake_reports_every_file_from_a_stripped_environment(git_repo: GitRepo) -> None:
    for i in range(FILES):
        git_repo.write(f"pkg/m{i:02d}.py", UNUSED)
    git_repo.add()
    report = git_repo.path.parent / "run.json"
    argv = [sys.executable, "-m", "huskycat", "run", "--tools", "autoflake", "--no-cache"]
    argv += ["--no-progress", "--jobs", "2", "--json", str(report)]
    for attempt in range(3):
        proc = subprocess.run(
            argv,
            cwd=git_repo.path,
            env=stripped_environment(),
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert proc.returncode == 1, proc.stderr
        [result] = json.loads(Path(report).read_text("utf-8"))["results"]
        assert result["metadata"]["outcome"] == "findings", (attempt, result["error_message"])
        assert len(result["diagnostics"]) == FILES, attempt
        assert result["error_message"] == f"unused imports in {FILES} files"


def test_custom_tool_failing_in_silence_is_an_error_that_says_so(git_repo: GitRepo) -> None:
    git_repo.write(
        "huskycat.toml",
        '[tools.silent]\ncommand = ["sh", "-c", "exit 1"]\npass_filenames = false\n'
        '[tools.talks]\ncommand = ["sh", "-c", "echo one finding; exit 1"]\n'
        "pass_filenames = false\n",
    )
    git_repo.add()
    report = git_repo.path.parent / "run.json"
    proc = subprocess.run(
        [sys.executable, "-m", "huskycat", "run", "--no-progress", "--json", str(report)],
        cwd=git_repo.path,
        env=stripped_environment(),
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 1
    results = {r["tool_name"]: r for r in json.loads(report.read_text("utf-8"))["results"]}
    silent, talks = results["silent"], results["talks"]
    assert silent["metadata"]["outcome"] == "error"
    assert "no output and no findings" in silent["error_message"]
    assert "silent" in proc.stdout and "no output and no findings" in proc.stdout
    assert (talks["metadata"]["outcome"], talks["error_message"]) == ("findings", "exit code 1")
