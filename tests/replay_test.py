"""Whole-run replay (huskycat.replay): a run of a .pre-commit-config.yaml where nothing
changed prints what the last one printed, without running; any change to an input runs
it in full. Real git repositories, real hooks (pygrep, script, system), the real CLI."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from huskycat import replay
from tests.conftest import GitRepo, huskycat, make_repo, run_in_terminal

CONFIG = """\
repos:
-   repo: local
    hooks:
    -   id: no-debug
        name: no debug prints
        entry: 'DEBUG'
        language: pygrep
        types: [python]
    -   id: no-bad
        name: no BAD, as .lintrc says
        entry: ./check.sh
        language: script
        types: [python]
    -   id: external
        name: an installed linter
        entry: lint-ext
        language: system
        types: [python]
"""
CHECK = """\
#!/bin/sh
# Fails on files holding the word .lintrc names (BAD when there is no .lintrc).
word=BAD
[ -f .lintrc ] && word=$(cat .lintrc)
! grep -l "$word" "$@"
"""
LINT_EXT = "#!/bin/sh\nexit 0\n"


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> GitRepo:
    repo = make_repo(tmp_path / "repo")
    repo.write(".pre-commit-config.yaml", CONFIG)
    repo.write("check.sh", CHECK, executable=True)
    repo.write(".gitignore", ".lintrc\n*.log\n")
    repo.write("a.py", "x = 1\n")
    repo.write("b.py", "y = 2\n")
    repo.commit("start")
    tools = tmp_path / "bin"
    tools.mkdir()
    (tools / "lint-ext").write_text(LINT_EXT)
    (tools / "lint-ext").chmod(0o755)
    monkeypatch.setenv("PATH", f"{tools}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    return repo


def run(repo: GitRepo, *args: str) -> subprocess.CompletedProcess[str]:
    return huskycat(repo.path, "run", *(args or ("--all-files", "--no-progress")))


def replays(repo: GitRepo) -> int:
    return replay.replays(repo.path / ".git")[0]


def recorded(repo: GitRepo) -> bool:
    return (repo.path / ".git" / "huskycat" / replay.RECORD_FILE).is_file()


def test_a_run_where_nothing_changed_prints_and_exits_as_the_last_one(repo: GitRepo) -> None:
    first = run(repo)
    assert first.returncode == 0, first.stdout + first.stderr
    assert recorded(repo) and replays(repo) == 0
    second = run(repo)
    assert replays(repo) == 1
    assert (second.returncode, second.stdout, second.stderr) == (0, first.stdout, "")
    assert "3 passed" in second.stdout
    # A failing run is replayed as failing.
    repo.write("a.py", "DEBUG = 1\n")
    repo.commit("debug")
    failed = run(repo)
    assert failed.returncode == 1 and replays(repo) == 1
    again = run(repo)
    assert (again.returncode, again.stdout) == (1, failed.stdout) and replays(repo) == 2
    stats = huskycat(repo.path, "cache", "stats")
    assert "replays:    2 whole runs, the last at" in stats.stdout


def _same_size_edit(repo: GitRepo) -> None:
    path = repo.path / "a.py"
    st = path.stat()
    path.write_text("DEBUG\n")  # as long as "x = 1\n"; its time put back
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns))


def _staged_new_file(repo: GitRepo) -> None:
    repo.write("c.py", "DEBUG = 3\n")
    repo.add("c.py")


def _delete(repo: GitRepo) -> None:
    repo.git("rm", "-q", "b.py")


def _rename(repo: GitRepo) -> None:
    repo.git("mv", "b.py", "c.py")


def _ignored_configuration(repo: GitRepo) -> None:
    repo.write(".lintrc", "y = 2")  # gitignored, read by ./check.sh


def _untracked(repo: GitRepo) -> None:
    repo.write("notes/new.py", "BAD = 1\n")


def _installed_program(repo: GitRepo) -> None:
    program = Path(os.environ["PATH"].split(os.pathsep)[0]) / "lint-ext"
    program.write_text("#!/bin/sh\necho lint-ext says no\nexit 1\n")


def _environment(repo: GitRepo) -> None:
    os.environ["LINT_EXT_STRICT"] = "1"


def _assume_unchanged_edit(repo: GitRepo) -> None:
    repo.git("update-index", "--assume-unchanged", "a.py")  # git status no longer looks
    repo.write("a.py", "DEBUG = 1\n")


def _commit(repo: GitRepo) -> None:
    repo.write("b.py", "y = 3\n")
    repo.commit("y")


@pytest.mark.parametrize(
    ("change", "exit_code"),
    [
        (_same_size_edit, 1),
        (_staged_new_file, 1),
        (_delete, 0),
        (_rename, 0),
        (_ignored_configuration, 1),
        (_untracked, 0),  # --all-files checks tracked files, as pre-commit does
        (_installed_program, 1),
        (_environment, 0),
        (_commit, 0),
    ],
    ids=lambda v: getattr(v, "__name__", str(v)).strip("_"),
)
def test_a_change_to_any_input_runs_in_full(
    repo: GitRepo, change: object, exit_code: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("LINT_EXT_STRICT", raising=False)
    assert run(repo).returncode == 0
    assert run(repo).returncode == 0 and replays(repo) == 1
    change(repo)  # type: ignore[operator]
    after = run(repo)
    assert replays(repo) == 1, "replayed a run whose input changed"
    assert after.returncode == exit_code, after.stdout + after.stderr
    assert run(repo).returncode == exit_code and replays(repo) == 2  # recorded anew


def test_an_index_entry_git_status_does_not_look_at_turns_replay_off(repo: GitRepo) -> None:
    assert run(repo).returncode == 0
    assert run(repo).returncode == 0 and replays(repo) == 1
    _assume_unchanged_edit(repo)
    for _ in range(2):
        assert run(repo).returncode == 1
    assert replays(repo) == 1


def test_a_repository_with_a_submodule_is_never_replayed(repo: GitRepo, tmp_path: Path) -> None:
    inner = make_repo(tmp_path / "inner")
    inner.write("s.py", "z = 1\n")
    inner.commit("s")
    repo.git("-c", "protocol.file.allow=always", "submodule", "add", "-q", str(inner.path), "sub")
    repo.commit("submodule")
    for _ in range(3):
        assert run(repo).returncode == 0
    assert replays(repo) == 0


def test_staged_runs_are_replayed_and_a_staged_change_is_not(repo: GitRepo) -> None:
    repo.write("a.py", "x = 5\n")
    repo.add("a.py")
    repo.write("a.py", "DEBUG = 5\n")  # unstaged: a staged run checks "x = 5"
    first = run(repo, "--staged", "--no-progress")
    assert first.returncode == 0, first.stdout + first.stderr
    assert (repo.path / "a.py").read_text() == "DEBUG = 5\n"
    assert run(repo, "--staged", "--no-progress").stdout == first.stdout
    assert replays(repo) == 1
    repo.add("a.py")
    assert run(repo, "--staged", "--no-progress").returncode == 1
    assert replays(repo) == 1


def test_runs_that_change_or_write_anything_are_never_replayed(repo: GitRepo) -> None:
    config = CONFIG + (
        "    -   id: log\n"
        "        name: writes a log it was not given\n"
        "        entry: sh -c 'date +%N >> run.log; echo more >> notes.txt'\n"
        "        language: system\n"
        "        pass_filenames: false\n"
    )
    repo.write(".pre-commit-config.yaml", config)
    repo.commit("log")
    for _ in range(3):  # notes.txt (untracked) changes in every run: never the same
        run(repo)
    assert replays(repo) == 0 and not recorded(repo)


def test_a_fixing_hook_is_not_recorded(repo: GitRepo) -> None:
    repo.write(
        ".pre-commit-config.yaml",
        "repos:\n-   repo: local\n    hooks:\n    -   id: fix\n        name: fix\n"
        "        entry: sed -i s/x/z/\n        language: system\n        types: [python]\n",
    )
    repo.commit("fix")
    assert run(repo).returncode == 1  # it changed a.py
    assert not recorded(repo)
    assert run(repo).returncode == 0  # nothing left to change: recorded now
    assert run(repo).returncode == 0 and replays(repo) == 1


def test_options_with_effects_beyond_the_output_always_run(repo: GitRepo) -> None:
    run(repo)
    run(repo)
    assert replays(repo) == 1
    report = repo.path.parent / "report.json"
    done = run(repo, "--all-files", "--no-progress", "--json", str(report))
    assert done.returncode == 0 and json.loads(report.read_text())["results"]
    assert run(repo, "--all-files", "--no-cache", "--no-progress").returncode == 0
    assert replays(repo) == 1


def test_a_killed_staged_runs_backup_still_refuses_the_run(repo: GitRepo) -> None:
    run(repo)
    run(repo)
    assert replays(repo) == 1
    (repo.path / ".git" / "huskycat" / "unstaged-1234").mkdir()  # as a killed run leaves
    refused = run(repo)
    assert refused.returncode == 2 and replays(repo) == 1


def test_cache_clear_forgets_and_a_damaged_record_is_ignored(repo: GitRepo) -> None:
    run(repo)
    assert recorded(repo)
    assert huskycat(repo.path, "cache", "clear").returncode == 0
    assert not recorded(repo)
    run(repo)
    record = repo.path / ".git" / "huskycat" / replay.RECORD_FILE
    record.write_text("{not json")
    again = run(repo)
    assert again.returncode == 0 and "3 passed" in again.stdout
    assert json.loads(record.read_text())["format"] == replay.FORMAT  # written anew
    assert run(repo).returncode == 0 and replays(repo) == 1


def test_a_live_view_on_a_terminal_is_not_recorded(repo: GitRepo) -> None:
    for _ in range(2):
        code, _ = run_in_terminal(["run", "--all-files"], cwd=repo.path)
        assert code == 0
    assert replays(repo) == 0


def test_a_python_hooks_environment_removed_runs_in_full(repo: GitRepo) -> None:
    repo.write(
        ".pre-commit-config.yaml",
        "repos:\n-   repo: local\n    hooks:\n    -   id: py\n        name: py\n"
        "        entry: python -c 'import sys; sys.exit(0)'\n        language: python\n"
        "        types: [python]\n",
    )
    repo.commit("python hook")
    assert run(repo).returncode == 0  # installs its environment: says so, not recorded
    assert run(repo).returncode == 0
    assert run(repo).returncode == 0 and replays(repo) == 1
    assert huskycat(repo.path, "clean").returncode == 0
    rebuilt = run(repo)
    assert rebuilt.returncode == 0 and "install" in rebuilt.stderr
    assert replays(repo) == 1


def test_only_run_commands_without_side_effects_qualify() -> None:
    eligible = replay._eligible_argv
    assert eligible(["run", "--all-files", "--no-progress"])
    assert eligible(["run", "--staged"])
    assert eligible(["run", "--files", "a.py", "b.py", "-q"])
    assert eligible(["run", "src", "--skip", "mypy"])
    for argv in (
        [],
        ["cache", "stats"],
        ["run", "--fix"],
        ["run", "--json", "r.json"],
        ["run", "--no-cache"],
        ["run", "--cluster", "local:2"],
        ["run", "-j4"],
        ["run", "--changed-since", "main"],
        ["run", "--files", "-a.py"],
    ):
        assert not eligible(argv), argv


def test_the_console_script_and_python_m_both_replay(repo: GitRepo) -> None:
    script = Path(sys.executable).with_name("huskycat")
    if not script.is_file():
        pytest.skip("huskycat's console script is not installed beside this Python")
    env = dict(os.environ)  # the same for both: the environment is in the record's key
    # (readline in this process may have set LINES and COLUMNS in the C environment)
    assert huskycat(repo.path, "run", "--all-files", "--no-progress", env=env).returncode == 0
    done = subprocess.run(
        [str(script), "run", "--all-files", "--no-progress"],
        cwd=repo.path,
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    assert done.returncode == 0 and replays(repo) == 1


def test_a_replay_into_a_closed_pipe_or_without_stdout_ends_quietly(repo: GitRepo) -> None:
    run(repo)
    run(repo)
    assert replays(repo) == 1
    command = [sys.executable, "-m", "huskycat", "run", "--all-files", "--no-progress"]
    # The same environment as run()'s (readline in this process may have set LINES and
    # COLUMNS in the C environment, which os.environ does not show).
    reader = subprocess.Popen(
        command, cwd=repo.path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=dict(os.environ)
    )
    assert reader.stdout is not None
    reader.stdout.close()  # the reader is gone before the output is written
    _, err = reader.communicate(timeout=60)
    assert (reader.returncode, err) == (0, b"")
    assert replays(repo) == 2
    closed = subprocess.run(  # no standard output at all
        ["sh", "-c", 'exec >&- && exec "$@"', "sh", *command],
        cwd=repo.path,
        capture_output=False,
        stderr=subprocess.PIPE,
        text=True,
        env=dict(os.environ),
        check=False,
    )
    assert (closed.returncode, closed.stderr) == (0, "")
    assert replays(repo) == 3  # output to nowhere, as to a file: the same run


def test_ctrl_c_while_git_is_asked_ends_with_130_and_leaves_no_git_running(
    repo: GitRepo, tmp_path: Path
) -> None:
    """Ctrl-C in the replay's first moments (its two git processes): exit 130 with one
    line, no traceback, and neither git process left behind."""
    slow = tmp_path / "slow-bin"
    slow.mkdir()
    pids = tmp_path / "pids"
    real_git = shutil.which("git")
    assert real_git is not None
    # A git that says its pid, then takes its time (the same process: exec).
    (slow / "git").write_text(
        f'#!/bin/sh\necho $$ >> "{pids}"\nexec "{sys.executable}" -c '
        f"\"import os, sys, time; time.sleep(30); os.execv('{real_git}', ['git'] + sys.argv[1:])\""
        ' "$@"\n'
    )
    (slow / "git").chmod(0o755)
    env = {**os.environ, "PATH": f"{slow}{os.pathsep}{os.environ['PATH']}"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "huskycat", "run", "--all-files", "--no-progress"],
        cwd=repo.path,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    deadline = time.monotonic() + 20
    while not (pids.is_file() and len(pids.read_text().split()) == 2):
        assert time.monotonic() < deadline, "the replay did not ask git"
        time.sleep(0.05)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=20)
    assert proc.returncode == 130
    assert b"huskycat: interrupted" in err and b"Traceback" not in err
    for pid in map(int, pids.read_text().split()):
        with pytest.raises(ProcessLookupError):
            os.kill(pid, 0)  # killed and reaped, not left running


def test_a_record_that_cannot_be_written_is_no_error_and_no_replay(repo: GitRepo) -> None:
    """The record's place taken by a folder (os.replace fails, even for root, as on a
    read-only .git): every run runs in full and says nothing of it."""
    run(repo)
    record = repo.path / ".git" / "huskycat" / replay.RECORD_FILE
    record.unlink()
    record.mkdir()
    (record / "keep").write_text("")
    for _ in range(3):
        done = run(repo)
        assert done.returncode == 0, done.stderr
        assert "3 passed" in done.stdout and done.stderr == ""
    assert replays(repo) == 0
    assert not list((repo.path / ".git" / "huskycat").glob("*.tmp"))  # none left behind
