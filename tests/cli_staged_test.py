"""``huskycat run --staged`` end to end: the real command on real git repositories.

The tools must see what will be committed, and the user's unstaged changes must come
back byte for byte however the run ends: passed, failed, a tool timed out, Ctrl-C,
SIGTERM, an error of ours (exit 2), a crash of huskycat. A SIGKILL leaves a backup that
blocks the next run until ``huskycat recover`` puts it back. Fixers that touch partially
staged files keep their edits when they merge with the unstaged changes; huskycat
stages nothing unless ``--stage-fixes`` asks it to. ``tests/staged_test.py`` tests the
mechanism itself; this module tests the command around it.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from huskycat.cli import main
from huskycat.tools.base import ParseResult, ToolOutput
from huskycat.tools.catalog import CATALOG
from tests.cli_run_test import gone
from tests.conftest import GitRepo, huskycat, load_report, results_by_tool
from tests.staged_test import backups, git_bytes, make_mixed, snapshot, staged_view_mismatches

PYPROJECT = '[tool.ruff.lint]\nselect = ["E9", "F"]\n'
CLEAN = '"""Clean."""\n\nX = 1\n'
UNUSED = '"""Unused import."""\n\nimport os\n'


def state(root: Path) -> dict[str, Any]:
    """``snapshot`` (work tree bytes and modes, git's diffs and index) without the caches
    the tools keep in the work tree for themselves."""
    found = snapshot(root)
    found["tree"] = {k: v for k, v in found["tree"].items() if not k.startswith(TOOL_CACHES)}
    return found


TOOL_CACHES = (".ruff_cache/", ".mypy_cache/")


def toml_list(*items: str) -> str:
    return json.dumps(list(items))  # a JSON list of strings is a TOML array


def wait_for(path: Path, proc: subprocess.Popen[str], seconds: float = 30) -> None:
    """Until ``path`` holds something; fails if ``proc`` ends first."""
    deadline = time.monotonic() + seconds
    while not (path.exists() and path.read_text().strip()):
        assert proc.poll() is None, proc.communicate()
        assert time.monotonic() < deadline, f"{path} never written"
        time.sleep(0.05)


def kill_group(pid_file: Path) -> None:
    """Kill what a killed huskycat left running: the tool's process group."""
    try:
        os.killpg(int(pid_file.read_text()), signal.SIGKILL)
    except (ProcessLookupError, ValueError, FileNotFoundError):
        pass


def start(root: Path, *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "huskycat", *args],
        cwd=root,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


# --- the verdict is the staged content's -------------------------------------------------


@pytest.fixture
def py_repo(git_repo: GitRepo) -> GitRepo:
    git_repo.write("pyproject.toml", PYPROJECT)
    git_repo.write("a.py", CLEAN)
    git_repo.commit("clean")
    return git_repo


def test_staged_bad_version_fails_although_the_work_tree_is_fixed(py_repo: GitRepo) -> None:
    py_repo.write("a.py", UNUSED)
    py_repo.add("a.py")
    py_repo.write("a.py", CLEAN + "Y = 2\n")  # fixed, not staged
    report = py_repo.path.parent / "report.json"
    proc = huskycat(py_repo.path, "run", "--staged", "--tools", "ruff", "--json", str(report))
    assert proc.returncode == 1, proc.stdout
    ruff = results_by_tool(load_report(report))["ruff"]
    assert [(d["file"], d["line"], d["code"]) for d in ruff["diagnostics"]] == [("a.py", 3, "F401")]
    assert (py_repo.path / "a.py").read_text() == CLEAN + "Y = 2\n"


def test_staged_good_version_passes_although_the_work_tree_is_bad(py_repo: GitRepo) -> None:
    py_repo.write("a.py", CLEAN + "Y = 2\n")
    py_repo.add("a.py")
    py_repo.write("a.py", UNUSED)  # broken again, not staged
    proc = huskycat(py_repo.path, "run", "--staged", "--tools", "ruff,flake8")
    assert proc.returncode == 0, proc.stdout
    assert (py_repo.path / "a.py").read_text() == UNUSED


def test_a_commit_under_a_huskycat_configuration_loads_no_rich_and_no_pre_commit_support(
    py_repo: GitRepo,
) -> None:
    # What a git hook pays on every commit: rich only draws a live table on a terminal,
    # and pre-commit's rollback only serves repositories run from .pre-commit-config.yaml.
    py_repo.write("huskycat.toml", "fail_fast = false\n")
    py_repo.commit("configured")
    py_repo.write("a.py", UNUSED)
    py_repo.add("a.py")
    env = {**os.environ, "PYTHONPROFILEIMPORTTIME": "1"}
    proc = huskycat(py_repo.path, "run", "--staged", "--tools", "ruff", env=env)
    assert proc.returncode == 1 and "F401" in proc.stdout, proc.stdout
    imported = {
        line.rpartition("|")[2].strip()
        for line in proc.stderr.splitlines()
        if line.startswith("import time:")
    }
    assert "huskycat.staged" in imported  # the profile is of the staged run
    assert not {name for name in imported if name == "rich" or name.startswith("rich.")}
    assert "huskycat.precommit.rollback" not in imported


# --- unstaged changes come back, however the run ends --------------------------------------


@pytest.fixture
def mixed(git_repo: GitRepo, tmp_path: Path) -> GitRepo:
    """Every kind of staged and unstaged change (tests/staged_test.py), and custom tools
    that pass, fail, hang, or delete the folder of the JSON report. Their marks go to
    tmp_path/marks, outside the repository."""
    make_mixed(git_repo)
    marks = tmp_path / "marks"
    (marks / "reports").mkdir(parents=True)
    hang = f"echo $$ > {marks}/sh.pid; sleep 60 & echo $! > {marks}/sleep.pid; wait"
    config = f"""\
[tools.pass]
command = {toml_list("sh", "-c", f"cat partial.py > {marks}/seen")}
pass_filenames = false
[tools.fail]
command = {toml_list("sh", "-c", "echo bad; exit 1")}
pass_filenames = false
[tools.hang]
command = {toml_list("sh", "-c", hang)}
pass_filenames = false
timeout = 1
[tools.wait]
command = {toml_list("sh", "-c", hang)}
pass_filenames = false
[tools.unwritable]
command = {toml_list("rm", "-rf", str(marks / "reports"))}
pass_filenames = false
"""
    # Untracked: staged mode leaves it where it is, and it is in the snapshots.
    git_repo.write("huskycat.toml", config)
    return git_repo


def marks_of(repo: GitRepo) -> Path:
    return repo.path.parent / "marks"


@pytest.mark.parametrize(
    ("tools", "code", "status"),
    [("pass", 0, "success"), ("fail", 1, "failed"), ("hang", 1, "timeout")],
)
def test_unstaged_changes_come_back_after_a_run_that(
    mixed: GitRepo, tools: str, code: int, status: str
) -> None:
    before = state(mixed.path)
    report = mixed.path.parent / "report.json"
    proc = huskycat(mixed.path, "run", "--staged", "--tools", tools, "--json", str(report))
    assert proc.returncode == code, (proc.stdout, proc.stderr)
    assert results_by_tool(load_report(report))[tools]["status"] == status
    assert state(mixed.path) == before
    assert backups(mixed.path) == []


def test_the_tools_saw_the_staged_content(mixed: GitRepo) -> None:
    assert huskycat(mixed.path, "run", "--staged", "--tools", "pass").returncode == 0
    assert (marks_of(mixed) / "seen").read_bytes() == b"a\nB\nc\n"  # work tree: a B c d
    assert (mixed.path / "partial.py").read_bytes() == b"a\nB\nc\nd\n"


@pytest.mark.parametrize(
    ("signum", "message"),
    [
        (signal.SIGINT, "huskycat: interrupted\n"),
        (signal.SIGTERM, "huskycat: interrupted by SIGTERM\n"),
        (signal.SIGHUP, "huskycat: interrupted by SIGHUP\n"),
    ],
    ids=["SIGINT", "SIGTERM", "SIGHUP"],
)
def test_unstaged_changes_come_back_when_the_run_is_interrupted(
    mixed: GitRepo, signum: signal.Signals, message: str
) -> None:
    before = state(mixed.path)
    proc = start(mixed.path, "run", "--staged", "--tools", "wait")
    wait_for(marks_of(mixed) / "sleep.pid", proc)
    assert staged_view_mismatches(mixed.path, skip=("ita.txt",)) == []  # set aside now
    proc.send_signal(signum)
    out, err = proc.communicate(timeout=30)
    assert proc.returncode == 130, (out, err)
    assert err == message
    assert state(mixed.path) == before
    assert backups(mixed.path) == []
    pids = [int((marks_of(mixed) / name).read_text()) for name in ("sh.pid", "sleep.pid")]
    deadline = time.monotonic() + 5
    while not all(map(gone, pids)) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert all(map(gone, pids)), pids


def test_unstaged_changes_come_back_when_a_report_cannot_be_written_exit_2(
    mixed: GitRepo,
) -> None:
    before = state(mixed.path)
    report = marks_of(mixed) / "reports" / "report.json"  # its folder is gone after the run
    proc = huskycat(mixed.path, "run", "--staged", "--tools", "unwritable", "--json", str(report))
    assert proc.returncode == 2, (proc.stdout, proc.stderr)
    assert proc.stderr.startswith(f"huskycat: error: cannot write --json {str(report)!r}")
    assert state(mixed.path) == before
    assert backups(mixed.path) == []


def test_unstaged_changes_come_back_when_huskycat_crashes(
    mixed: GitRepo, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = state(mixed.path)

    def crash(*args: Any, **kwargs: Any) -> None:
        raise RuntimeError("a bug in the report")

    monkeypatch.setattr("huskycat.commands.run._report", crash)
    monkeypatch.chdir(mixed.path)
    with pytest.raises(RuntimeError, match="a bug in the report"):
        main(["run", "--staged", "--tools", "pass"])
    assert state(mixed.path) == before
    assert backups(mixed.path) == []


def test_a_tool_whose_parser_raises_is_a_failed_result_and_changes_come_back(
    mixed: GitRepo, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(output: ToolOutput) -> ParseResult:
        raise ValueError("unexpected output")

    monkeypatch.setitem(CATALOG, "ruff", replace(CATALOG["ruff"], parse=broken))
    before = state(mixed.path)
    report = mixed.path.parent / "report.json"
    monkeypatch.chdir(mixed.path)
    assert main(["run", "--staged", "--tools", "ruff", "--no-cache", "--json", str(report)]) == 1
    ruff = results_by_tool(load_report(report))["ruff"]
    assert (ruff["status"], ruff["error_message"]) == ("failed", "ValueError: unexpected output")
    assert state(mixed.path) == before
    assert backups(mixed.path) == []


def test_sigkilled_run_leaves_a_backup_the_next_run_names_and_recover_puts_back(
    mixed: GitRepo,
) -> None:
    before = state(mixed.path)
    proc = start(mixed.path, "run", "--staged", "--tools", "wait")
    try:
        wait_for(marks_of(mixed) / "sleep.pid", proc)
        proc.kill()
        proc.communicate(timeout=30)
    finally:
        kill_group(marks_of(mixed) / "sh.pid")
    [backup] = backups(mixed.path)
    assert staged_view_mismatches(mixed.path, skip=("ita.txt",)) == []  # still set aside

    for mode in ("--staged", "--all-files"):  # the work tree lacks the user's changes
        again = huskycat(mixed.path, "run", mode, "--tools", "pass")
        assert again.returncode == 2, mode
        assert repr(str(backup)) in again.stderr and "`huskycat recover`" in again.stderr
        assert "Traceback" not in again.stderr
    assert staged_view_mismatches(mixed.path, skip=("ita.txt",)) == []  # nothing touched

    recovered = huskycat(mixed.path, "recover")
    assert recovered.returncode == 0, recovered.stderr
    assert "put back the unstaged changes to" in recovered.stdout
    assert state(mixed.path) == before
    assert backups(mixed.path) == []
    assert huskycat(mixed.path, "run", "--staged", "--tools", "pass").returncode == 0


# --- fixers and the index --------------------------------------------------------------------

HEAD = "import os\n\n\ndef f( ):\n    return os.getcwd()\n" + "".join(
    f"# line {i}\n" for i in range(20)
)
STAGED = HEAD.replace("def f( ):", "def f( x ):")
FIXED = HEAD.replace("def f( ):", "def f(x):").replace("\n# line 0", "\n\n\n# line 0")


@pytest.fixture
def fix_repo(git_repo: GitRepo) -> GitRepo:
    """a.py: committed, then a change staged that black reformats; b.py clean."""
    git_repo.write("a.py", HEAD)
    git_repo.write("b.py", "X = 1\n")
    git_repo.commit("head")
    git_repo.write("a.py", STAGED)
    git_repo.add("a.py")
    return git_repo


def index_of(repo: GitRepo) -> bytes:
    return git_bytes(repo.path, "ls-files", "--stage", "-z")


def staged_text(repo: GitRepo, name: str) -> str:
    return repo.git("show", f":{name}")


def test_fix_that_merges_with_unstaged_changes_is_kept_with_them_and_nothing_is_staged(
    fix_repo: GitRepo,
) -> None:
    unstaged = STAGED.replace("# line 19", "# the user's edit")
    fix_repo.write("a.py", unstaged)
    index = index_of(fix_repo)
    proc = huskycat(fix_repo.path, "run", "--staged", "--fix", "--tools", "black")
    assert proc.returncode == 1, (proc.stdout, proc.stderr)
    assert "files modified by fixers:\n  a.py (black)\n" in proc.stdout
    assert (fix_repo.path / "a.py").read_text() == FIXED.replace("# line 19", "# the user's edit")
    assert proc.stderr == (
        "huskycat: the fixes to 'a.py' were kept together with your unstaged changes\n"
    )
    assert index_of(fix_repo) == index  # the user stages the fixes, or not
    assert backups(fix_repo.path) == []


def test_fix_that_conflicts_with_unstaged_changes_is_rolled_back_and_the_user_told(
    fix_repo: GitRepo,
) -> None:
    unstaged = STAGED.replace("def f( x ):", "def f( x, y ):")  # the line black fixes
    fix_repo.write("a.py", unstaged)
    index = index_of(fix_repo)
    proc = huskycat(fix_repo.path, "run", "--staged", "--fix", "--tools", "black")
    assert proc.returncode == 1
    assert (fix_repo.path / "a.py").read_text() == unstaged
    assert proc.stderr == (
        "huskycat: the fixes to 'a.py' conflicted with your unstaged changes and were rolled "
        "back; your unstaged changes are back as they were\n"
    )
    assert index_of(fix_repo) == index
    assert backups(fix_repo.path) == []


def test_stage_fixes_stages_only_the_fixes_not_the_unstaged_changes(fix_repo: GitRepo) -> None:
    unstaged = STAGED.replace("# line 19", "# the user's edit")
    fix_repo.write("a.py", unstaged)
    proc = huskycat(fix_repo.path, "run", "--staged", "--fix", "--stage-fixes", "--tools", "black")
    assert proc.returncode == 0, (proc.stdout, proc.stderr)
    assert proc.stderr.splitlines()[-1] == "huskycat: staged the fixes to 'a.py'"
    assert staged_text(fix_repo, "a.py") == FIXED
    assert (fix_repo.path / "a.py").read_text() == FIXED.replace("# line 19", "# the user's edit")
    # What is left unstaged is exactly the user's edit.
    diff = fix_repo.git("diff", "--no-color", "-U0", "--", "a.py").splitlines()
    changed = [line for line in diff if line.startswith(("+", "-"))]
    assert changed == ["--- a/a.py", "+++ b/a.py", "-# line 19", "+# the user's edit"]
    again = huskycat(fix_repo.path, "run", "--staged", "--tools", "black")
    assert again.returncode == 0, again.stdout


def test_stage_fixes_leaves_a_rolled_back_fix_unstaged_too(fix_repo: GitRepo) -> None:
    unstaged = STAGED.replace("def f( x ):", "def f( x, y ):")
    fix_repo.write("a.py", unstaged)
    index = index_of(fix_repo)
    proc = huskycat(fix_repo.path, "run", "--staged", "--fix", "--stage-fixes", "--tools", "black")
    assert proc.returncode == 1  # the staged a.py is still not formatted
    assert "rolled back" in proc.stderr and "staged the fixes" not in proc.stderr
    assert index_of(fix_repo) == index
    assert (fix_repo.path / "a.py").read_text() == unstaged


def test_stage_fixes_outside_staged_mode_stages_tracked_files_only(git_repo: GitRepo) -> None:
    git_repo.write("a.py", HEAD)
    git_repo.commit("head")
    git_repo.write("a.py", STAGED)  # changed, not staged
    git_repo.write("new.py", STAGED)  # untracked
    proc = huskycat(git_repo.path, "run", "--fix", "--stage-fixes", "--tools", "black")
    assert proc.returncode == 1  # new.py was changed and is left for the user
    assert "huskycat: staged the fixes to 'a.py'\n" in proc.stderr
    assert staged_text(git_repo, "a.py") == FIXED
    assert (git_repo.path / "new.py").read_text() == FIXED
    assert git_repo.git("ls-files", "--", "new.py") == ""


def test_stage_fixes_without_fix_is_a_usage_error(fix_repo: GitRepo) -> None:
    proc = huskycat(fix_repo.path, "run", "--staged", "--stage-fixes", "--tools", "black")
    assert (proc.returncode, proc.stdout) == (2, "")
    assert proc.stderr == (
        "huskycat: error: --stage-fixes stages the files --fix changes: give --fix as well\n"
    )


# --- a real commit through the installed hook ------------------------------------------------


@pytest.fixture
def hooked(py_repo: GitRepo) -> GitRepo:
    others = sorted(set(CATALOG) - {"ruff"})
    py_repo.write("huskycat.toml", f"disable = {toml_list(*others)}\n")
    py_repo.commit("only ruff")
    proc = huskycat(py_repo.path, "install")
    assert proc.returncode == 0, proc.stderr
    return py_repo


def commit(repo: GitRepo) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["git", "commit", "-q", "-m", "through the hook"],
        cwd=repo.path,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        check=False,
    )


def test_commit_through_the_hook_checks_the_staged_part_and_keeps_the_unstaged_part(
    hooked: GitRepo,
) -> None:
    staged = CLEAN + "Y = 2\n"
    hooked.write("a.py", staged)
    hooked.add("a.py")
    work = "import sys\n" + staged  # an unused import ruff would refuse, not staged
    hooked.write("a.py", work)
    proc = commit(hooked)
    assert proc.returncode == 0, proc.stderr
    assert hooked.git("show", "HEAD:a.py") == staged
    assert (hooked.path / "a.py").read_bytes() == work.encode()
    assert hooked.git("status", "--porcelain") == " M a.py\n"
    assert backups(hooked.path) == []


def test_commit_through_the_hook_is_refused_for_a_bad_staged_part(hooked: GitRepo) -> None:
    hooked.write("a.py", UNUSED)
    hooked.add("a.py")
    hooked.write("a.py", CLEAN + "Y = 2\n")  # fixed in the work tree only
    head = hooked.git("rev-parse", "HEAD")
    proc = commit(hooked)
    assert proc.returncode != 0
    assert "F401" in proc.stdout + proc.stderr
    assert hooked.git("rev-parse", "HEAD") == head
    assert (hooked.path / "a.py").read_text() == CLEAN + "Y = 2\n"
    assert hooked.git("show", ":a.py") == UNUSED


def test_commit_through_a_fixing_hook_commits_the_fixes_and_keeps_the_unstaged_part(
    fix_repo: GitRepo,
) -> None:
    hook = fix_repo.path / ".git" / "hooks" / "pre-commit"
    hook.parent.mkdir(exist_ok=True)
    hook.write_text(
        f"#!/bin/sh\nexec '{sys.executable}' -m huskycat run --staged --fix --stage-fixes "
        "--tools black\n"
    )
    hook.chmod(0o755)
    work = STAGED.replace("# line 19", "# the user's edit")
    fix_repo.write("a.py", work)
    proc = commit(fix_repo)
    assert proc.returncode == 0, proc.stderr
    assert fix_repo.git("show", "HEAD:a.py") == FIXED
    assert (fix_repo.path / "a.py").read_text() == FIXED.replace("# line 19", "# the user's edit")
    assert fix_repo.git("status", "--porcelain") == " M a.py\n"
    assert backups(fix_repo.path) == []
