"""Every configuration key changes what a real ``huskycat run`` does, read from
``pyproject.toml`` (``[tool.huskycat]``) and from ``huskycat.toml`` alike; a bad
configuration is one message and exit code 2.

Most tools here are custom ones (``sh``, ``sleep``, ``true``), which cost nothing to run,
so the effect of a key is seen in the JSON report: the argv a tool ran, its status, and
when it started and ended (``statistics.tool_times``). The command runs in this process
(``huskycat.cli.main``) for speed.
"""

from __future__ import annotations

import re
import time
from collections.abc import Mapping
from typing import Any

import pytest

from huskycat.cli import main
from tests.conftest import GitRepo, huskycat, load_report, results_by_tool

CONFIG_FILES = ["pyproject.toml", "huskycat.toml"]


def write_config(repo: GitRepo, where: str, text: str) -> None:
    """Write ``text`` (huskycat.toml's form: top-level keys first, then ``[tools.X]``
    tables) to ``where``; in pyproject.toml it goes under ``[tool.huskycat]``."""
    if where == "pyproject.toml":
        text = "[tool.huskycat]\n" + text.replace("[tools.", "[tool.huskycat.tools.")
    repo.write(where, text)


@pytest.fixture(params=CONFIG_FILES)
def config_file(request: pytest.FixtureRequest) -> str:
    where: str = request.param
    return where


def run(
    repo: GitRepo, monkeypatch: pytest.MonkeyPatch, *args: str
) -> tuple[int, dict[str, dict[str, Any]], dict[str, Any]]:
    """``huskycat run ARGS`` in ``repo``: the exit code, results by tool, the report."""
    report_path = repo.path.parent / f"report-{time.monotonic_ns()}.json"
    monkeypatch.chdir(repo.path)
    code = main(["run", *args, "--json", str(report_path)])
    report = load_report(report_path)
    return code, results_by_tool(report), report


def file_args(result: Mapping[str, Any]) -> list[str]:
    """The file arguments a tool got: what follows its command in the argv it ran."""
    argv: list[str] = result["metadata"]["argv"]
    return [a for a in argv if "." in a and not a.startswith(("/", "-"))]


def concurrency(times: Mapping[str, Mapping[str, float]], names: list[str]) -> int:
    """The most of ``names`` running at one moment."""
    edges = sorted([(times[n]["start"], 1) for n in names] + [(times[n]["end"], -1) for n in names])
    most = running = 0
    for _, step in edges:
        running += step
        most = max(most, running)
    return most


def overlaps(a: Mapping[str, float], b: Mapping[str, float]) -> bool:
    return a["start"] < b["end"] and b["start"] < a["end"]


NAPS = """\
[tools.nap1]
command = ["sleep", "0.4"]
pass_filenames = false
[tools.nap2]
command = ["sleep", "0.4"]
pass_filenames = false
[tools.nap3]
command = ["sleep", "0.4"]
pass_filenames = false
"""

FAIL_AND_SLOW = """\
[tools.fail]
command = ["sh", "-c", "exit 1"]
pass_filenames = false
[tools.slow]
command = ["sleep", "30"]
pass_filenames = false
"""


@pytest.fixture
def repo(git_repo: GitRepo) -> GitRepo:
    """Python files in src/ and tests/, a shell script, a TOML file."""
    git_repo.write("src/app.py", "import os\n")
    git_repo.write("src/util.py", "import sys\n")
    git_repo.write("tests/app_test.py", "import json\n")
    git_repo.write("run.sh", "#!/bin/sh\necho hi\n", executable=True)
    git_repo.write("data.toml", "a = 1\n")
    git_repo.commit("files")
    return git_repo


# --- top-level keys ------------------------------------------------------------------


def test_jobs_limits_how_many_tools_run_at_once(
    repo: GitRepo, monkeypatch: pytest.MonkeyPatch, config_file: str
) -> None:
    write_config(repo, config_file, "jobs = 1\n" + NAPS)
    code, _, report = run(repo, monkeypatch, "--tools", "nap1,nap2,nap3")
    assert code == 0
    assert report["statistics"]["max_workers"] == 1
    assert concurrency(report["statistics"]["tool_times"], ["nap1", "nap2", "nap3"]) == 1


def test_jobs_on_the_command_line_wins_over_the_configuration(
    repo: GitRepo, monkeypatch: pytest.MonkeyPatch, config_file: str
) -> None:
    write_config(repo, config_file, "jobs = 1\n" + NAPS)
    _, _, report = run(repo, monkeypatch, "--tools", "nap1,nap2,nap3", "--jobs", "3")
    assert concurrency(report["statistics"]["tool_times"], ["nap1", "nap2", "nap3"]) == 3


def test_timeout_limits_every_tool(
    repo: GitRepo, monkeypatch: pytest.MonkeyPatch, config_file: str
) -> None:
    write_config(repo, config_file, "timeout = 1\n" + FAIL_AND_SLOW)
    code, results, _ = run(repo, monkeypatch, "--tools", "slow")
    assert code == 1
    assert (results["slow"]["status"], results["slow"]["error_message"]) == (
        "timeout",
        "timed out after 1s",
    )


def test_fail_fast_stops_at_the_first_failure(
    repo: GitRepo, monkeypatch: pytest.MonkeyPatch, config_file: str
) -> None:
    write_config(repo, config_file, "fail_fast = true\njobs = 2\n" + FAIL_AND_SLOW)
    code, results, report = run(repo, monkeypatch, "--tools", "fail,slow")
    assert code == 1
    assert results["slow"]["error_message"] == "cancelled: fail-fast after 'fail' failed"
    assert report["statistics"]["wall_time"] < 10


def test_exclude_leaves_files_out_for_every_tool(
    repo: GitRepo, monkeypatch: pytest.MonkeyPatch, config_file: str
) -> None:
    write_config(repo, config_file, 'exclude = ["tests/**", "util.py"]\n')
    code, results, _ = run(repo, monkeypatch, "--tools", "ruff,shellcheck")
    assert code == 1
    assert {d["file"] for d in results["ruff"]["diagnostics"]} == {"src/app.py"}
    assert file_args(results["ruff"]) == ["src/app.py"]


def test_disable_keeps_a_tool_from_running(
    git_repo: GitRepo, monkeypatch: pytest.MonkeyPatch, config_file: str
) -> None:
    git_repo.write("run.sh", "#!/bin/sh\ncd /tmp\n", executable=True)
    write_config(git_repo, config_file, 'disable = ["shellcheck"]\n')
    git_repo.add()
    code, results, _ = run(git_repo, monkeypatch)  # every tool
    assert code == 0  # shellcheck would have failed on "cd /tmp"
    assert "shellcheck" not in results
    assert len(results) == 14


# --- per-tool keys on catalog tools --------------------------------------------------


def test_args_are_added_to_a_catalog_tools_command(
    repo: GitRepo, monkeypatch: pytest.MonkeyPatch, config_file: str
) -> None:
    repo.write("src/style.py", "import os\nx = os.sep  ;\n")
    write_config(repo, config_file, '[tools.flake8]\nargs = ["--select=E703"]\n')
    repo.add()
    code, results, _ = run(repo, monkeypatch, "--tools", "flake8")
    assert code == 1
    flake8 = results["flake8"]
    assert "--select=E703" in flake8["metadata"]["argv"]
    assert [(d["file"], d["code"]) for d in flake8["diagnostics"]] == [("src/style.py", "E703")]


def test_command_replaces_a_catalog_tools_command(
    repo: GitRepo, monkeypatch: pytest.MonkeyPatch, config_file: str
) -> None:
    command = "ruff check --no-fix --output-format=json --isolated --select=D100"
    write_config(repo, config_file, f'[tools.ruff]\ncommand = "{command}"\n')
    code, results, _ = run(repo, monkeypatch, "--tools", "ruff")
    assert code == 1
    ruff = results["ruff"]
    assert ruff["metadata"]["argv"][1:6] == command.split()[1:]
    assert {(d["file"], d["code"]) for d in ruff["diagnostics"]} == {
        ("src/app.py", "D100"),
        ("src/util.py", "D100"),
        ("tests/app_test.py", "D100"),
    }


def test_files_exclude_and_types_choose_a_tools_files(
    repo: GitRepo, monkeypatch: pytest.MonkeyPatch, config_file: str
) -> None:
    write_config(
        repo,
        config_file,
        '[tools.ruff]\nfiles = ["src/**", "tests/**"]\nexclude = ["util.py"]\n'
        '[tools.lister]\ncommand = ["true"]\ntypes = ["shell"]\n',
    )
    code, results, _ = run(repo, monkeypatch, "--tools", "ruff,lister")
    assert code == 1
    assert file_args(results["ruff"]) == ["src/app.py", "tests/app_test.py"]
    assert results["lister"]["metadata"]["argv"][1:] == ["run.sh"]


def test_types_replace_a_catalog_tools_file_types(
    repo: GitRepo, monkeypatch: pytest.MonkeyPatch, config_file: str
) -> None:
    write_config(repo, config_file, '[tools.ruff]\ntypes = ["pyi"]\n')
    code, results, _ = run(repo, monkeypatch, "--tools", "ruff")
    assert code == 0
    assert (results["ruff"]["status"], results["ruff"]["error_message"]) == (
        "skipped",
        "no files to check",
    )


def test_pass_filenames_false_runs_a_catalog_tool_without_file_arguments(
    repo: GitRepo, monkeypatch: pytest.MonkeyPatch, config_file: str
) -> None:
    write_config(repo, config_file, '[tools.ruff]\npass_filenames = false\nargs = ["src"]\n')
    code, results, _ = run(repo, monkeypatch, "--tools", "ruff")
    assert code == 1
    assert results["ruff"]["metadata"]["argv"][-1] == "src"
    assert {d["file"] for d in results["ruff"]["diagnostics"]} == {"src/app.py", "src/util.py"}


def test_files_decide_whether_a_tool_without_file_arguments_runs(
    repo: GitRepo, monkeypatch: pytest.MonkeyPatch, config_file: str
) -> None:
    write_config(
        repo,
        config_file,
        '[tools.docs]\ncommand = ["true"]\npass_filenames = false\nfiles = ["docs/**"]\n',
    )
    code, results, _ = run(repo, monkeypatch, "--tools", "docs")
    assert code == 0
    assert (results["docs"]["status"], results["docs"]["error_message"]) == (
        "skipped",
        "no files to check",
    )
    repo.write("docs/index.md", "# Docs\n")
    repo.add()
    code, results, _ = run(repo, monkeypatch, "--tools", "docs")
    assert (code, results["docs"]["status"]) == (0, "success")
    assert results["docs"]["metadata"]["argv"][1:] == []


def test_enabled_false_keeps_a_tool_from_running(
    repo: GitRepo, monkeypatch: pytest.MonkeyPatch, config_file: str
) -> None:
    write_config(repo, config_file, NAPS + "enabled = false\n")
    python = "black,isort,autoflake,ruff,mypy,flake8,bandit,shellcheck,taplo"
    _, results, _ = run(repo, monkeypatch, "--skip", python)
    assert sorted(n for n in results if n.startswith("nap")) == ["nap1", "nap2"]


def test_per_tool_timeout_overrides_the_default(
    repo: GitRepo, monkeypatch: pytest.MonkeyPatch, config_file: str
) -> None:
    write_config(repo, config_file, FAIL_AND_SLOW + "timeout = 1\n" + NAPS)
    code, results, _ = run(repo, monkeypatch, "--tools", "slow,nap1")
    assert code == 1
    assert results["slow"]["status"] == "timeout"
    assert results["nap1"]["status"] == "success"


def test_a_tools_timeout_wins_over_the_command_line_which_wins_over_the_configuration(
    repo: GitRepo, monkeypatch: pytest.MonkeyPatch, config_file: str
) -> None:
    naps = NAPS.replace("[tools.nap1]", "[tools.nap1]\ntimeout = 5")
    write_config(repo, config_file, "timeout = 0.1\n" + naps)
    _, results, _ = run(repo, monkeypatch, "--tools", "nap1,nap2,nap3")
    assert [results[n]["status"] for n in ("nap1", "nap2", "nap3")] == [
        "success",
        "timeout",
        "timeout",
    ]
    _, results, _ = run(repo, monkeypatch, "--tools", "nap1,nap2", "--timeout", "0.2")
    assert [results[n]["status"] for n in ("nap1", "nap2")] == ["success", "timeout"]
    _, results, _ = run(repo, monkeypatch, "--tools", "nap2", "--timeout", "5")
    assert results["nap2"]["status"] == "success"


def test_weight_takes_that_many_worker_slots(
    repo: GitRepo, monkeypatch: pytest.MonkeyPatch, config_file: str
) -> None:
    heavy = NAPS.replace("[tools.nap2]", "[tools.nap2]\nweight = 2")
    write_config(repo, config_file, "jobs = 2\n" + heavy)
    code, _, report = run(repo, monkeypatch, "--tools", "nap1,nap2,nap3")
    assert code == 0
    times = report["statistics"]["tool_times"]
    assert not overlaps(times["nap2"], times["nap1"])
    assert not overlaps(times["nap2"], times["nap3"])
    assert overlaps(times["nap1"], times["nap3"])


# --- edges ---------------------------------------------------------------------------

EDGES = """\
[tools.first]
command = ["sh", "-c", "sleep 0.3; echo one finding; exit 1"]
pass_filenames = false
[tools.needs]
command = ["true"]
pass_filenames = false
depends_on = ["first"]
[tools.follows]
command = ["true"]
pass_filenames = false
after = ["first"]
"""


def test_depends_on_needs_success_and_after_only_orders(
    repo: GitRepo, monkeypatch: pytest.MonkeyPatch, config_file: str
) -> None:
    write_config(repo, config_file, EDGES)
    code, results, report = run(repo, monkeypatch, "--tools", "first,needs,follows")
    assert code == 1
    assert results["first"]["status"] == "failed"
    assert (results["needs"]["status"], results["needs"]["error_message"]) == (
        "skipped",
        "dependency 'first' failed",
    )
    assert results["follows"]["status"] == "success"
    times = report["statistics"]["tool_times"]
    assert times["follows"]["start"] >= times["first"]["end"]


CRASH = """\
[tools.crash]
command = ["sh", "-c", "echo oops >&2; exit 3"]
pass_filenames = false
[tools.follows]
command = ["true"]
pass_filenames = false
after = ["crash"]
"""


def test_custom_tool_exit_1_is_findings_any_other_code_an_error_that_blocks(
    repo: GitRepo,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    config_file: str,
) -> None:
    write_config(repo, config_file, EDGES)
    code, results, _ = run(repo, monkeypatch, "--tools", "first,follows")
    first = results["first"]
    assert (first["metadata"]["outcome"], first["error_message"]) == ("findings", "exit code 1")
    assert (first["errors"], first["warnings"]) == (0, 0)  # a bare exit code counts nothing
    assert results["follows"]["status"] == "success"
    assert re.search(r"^first \.+ failed: exit code 1 ", capsys.readouterr().out, re.MULTILINE)

    write_config(repo, config_file, CRASH)
    code, results, _ = run(repo, monkeypatch, "--tools", "crash,follows")
    assert code == 1
    crash = results["crash"]
    assert (crash["metadata"]["outcome"], crash["error_message"]) == ("error", "exit code 3: oops")
    assert results["follows"]["error_message"] == "dependency 'crash' failed"


def test_depends_on_a_catalog_tool_orders_a_custom_tool_after_it(
    repo: GitRepo, monkeypatch: pytest.MonkeyPatch, config_file: str
) -> None:
    write_config(
        repo, config_file, '[tools.after-ruff]\ncommand = ["true"]\ndepends_on = ["ruff"]\n'
    )
    _, results, _ = run(repo, monkeypatch, "--tools", "ruff,after-ruff")
    assert results["after-ruff"]["error_message"] == "dependency 'ruff' failed"


# --- custom tools and their fix command --------------------------------------------------

FIXER = """\
[tools.stamp]
command = ["sh", "-c", "grep -L stamped \\"$@\\" | grep . && exit 1 || exit 0", "stamp"]
fix = ["sh", "-c", "for f; do echo stamped >> \\"$f\\"; done", "stamp"]
types = ["python"]
"""


def test_custom_tool_runs_its_command_and_its_fix_command_with_fix(
    repo: GitRepo, monkeypatch: pytest.MonkeyPatch, config_file: str
) -> None:
    write_config(repo, config_file, FIXER)
    code, results, _ = run(repo, monkeypatch, "--tools", "stamp")
    assert code == 1
    assert results["stamp"]["status"] == "failed"
    python_files = ["src/app.py", "src/util.py", "tests/app_test.py"]
    assert results["stamp"]["metadata"]["argv"][-3:] == python_files
    assert results["stamp"]["output"].split() == python_files  # grep -L: not stamped yet
    code, results, _ = run(repo, monkeypatch, "--tools", "stamp", "--fix")
    assert code == 1  # it changed files
    assert results["stamp"]["metadata"]["modified_files"] == [
        "src/app.py",
        "src/util.py",
        "tests/app_test.py",
    ]
    assert (repo.path / "src/app.py").read_text() == "import os\nstamped\n"
    code, results, _ = run(repo, monkeypatch, "--tools", "stamp")
    assert (code, results["stamp"]["status"]) == (0, "success")


def test_huskycat_toml_wins_over_pyproject(repo: GitRepo, monkeypatch: pytest.MonkeyPatch) -> None:
    write_config(repo, "pyproject.toml", "jobs = 3\n" + NAPS)
    write_config(repo, "huskycat.toml", "jobs = 1\n" + NAPS)
    _, _, report = run(repo, monkeypatch, "--tools", "nap1,nap2")
    assert report["statistics"]["max_workers"] == 1


def test_dot_huskycat_toml_is_read_too(repo: GitRepo, monkeypatch: pytest.MonkeyPatch) -> None:
    repo.write(".huskycat.toml", "jobs = 1\n" + NAPS)
    _, _, report = run(repo, monkeypatch, "--tools", "nap1,nap2")
    assert report["statistics"]["max_workers"] == 1


# --- bad configuration -----------------------------------------------------------------

BAD = [
    ("jbos = 2\n", "jbos: unknown key 'jbos'; did you mean 'jobs'?"),
    ('jobs = "2"\n', "jobs: expected an integer from 1 to 1024, got '2'"),
    ("fail_fast = 1\n", "fail_fast: expected true or false, got 1"),
    ('exclude = "vendor"\n', "exclude: expected a list of globs, got 'vendor'"),
    ('[tools.mypy]\ndepends_on = ["nope"]\n', "tools.mypy.depends_on: unknown tool 'nope'"),
    (
        '[tools.ruff]\nafter = ["blak"]\n',
        "tools.ruff.after: unknown tool 'blak'; did you mean 'black'?",
    ),
    (
        '[tools.black]\ndepends_on = ["mypy"]\n',
        "tools.black.depends_on: dependency cycle black -> mypy -> black",
    ),
    (
        '[tools.ruff]\ntimeout = "fast"\n',
        "tools.ruff.timeout: expected seconds from 0.001 to 604800 (a week), got 'fast'",
    ),
    ("[tools.ruff]\nweight = 0\n", "tools.ruff.weight: expected an integer from 1 to 1024, got 0"),
    (
        '[tools.ruff]\ntypes = ["pyton"]\n',
        (
            "tools.ruff.types: unknown file type 'pyton'; did you mean 'python'? "
            "(types are identify tags)"
        ),
    ),
    (
        '[tools.mine]\nargs = ["x"]\n',
        "tools.mine: 'mine' is not a catalog tool, so it needs a 'command' to run",
    ),
    (
        '[tools.mine]\ncommand = "true"\nenv = ["A-B"]\n',
        (
            "tools.mine.env: invalid environment variable name 'A-B': use letters, digits"
            " and '_', not starting with a digit, with an optional '*' at the end"
        ),
    ),
]


@pytest.mark.parametrize(("text", "message"), BAD, ids=[m.split(":")[0] for _, m in BAD])
def test_bad_configuration_is_one_message_naming_file_key_and_value_and_exit_2(
    repo: GitRepo,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    config_file: str,
    text: str,
    message: str,
) -> None:
    write_config(repo, config_file, text)
    monkeypatch.chdir(repo.path)
    assert main(["run", "--tools", "ruff"]) == 2
    prefix = "tool.huskycat." if config_file == "pyproject.toml" else ""
    out, err = capsys.readouterr()
    assert (out, err) == ("", f"huskycat: error: {config_file}: {prefix}{message}\n")


def test_bad_configuration_from_the_real_command_has_no_traceback(repo: GitRepo) -> None:
    repo.write("huskycat.toml", "[tools.ruff]\nargs = 3\n")
    proc = huskycat(repo.path, "run")
    assert proc.returncode == 2
    assert proc.stderr == (
        "huskycat: error: huskycat.toml: tools.ruff.args: expected a list of strings, got 3\n"
    )
    assert proc.stdout == ""


def test_invalid_toml_names_the_file_and_line(repo: GitRepo) -> None:
    repo.write("huskycat.toml", "jobs = 1\njobs =\n")
    proc = huskycat(repo.path, "plan")
    assert proc.returncode == 2
    assert proc.stderr.startswith("huskycat: error: huskycat.toml:2: invalid TOML: ")
    assert len(proc.stderr.splitlines()) == 1
