"""Fault injection: the real ``huskycat`` command under hostile input, odd files,
signals, concurrent runs and broken environments. Each test names the fault and the
promise the README's "Guarantees" section makes for it."""

from __future__ import annotations

import contextlib
import json
import os
import stat
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import GitRepo, huskycat

# A custom tool that runs in milliseconds: the faults are about huskycat, not linters.
ECHO_TOOL = """
[tools.echo]
command = ["{python}", "-c", "import sys; print(sys.argv[1:])"]
types = ["python"]
"""


def _one_line_error(proc: object) -> str:
    """stderr of an exit-2 run: one line, no traceback."""
    err = proc.stderr  # type: ignore[attr-defined]
    assert proc.returncode == 2, (proc.returncode, proc.stdout, err)  # type: ignore[attr-defined]
    assert "Traceback" not in err, err
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    return str(lines[0])


@pytest.fixture
def repo(git_repo: GitRepo) -> GitRepo:
    git_repo.write("huskycat.toml", ECHO_TOOL.format(python=sys.executable))
    git_repo.write("a.py", "x = 1\n")
    git_repo.commit("init")
    return git_repo


RUN = ("run", "--tools", "echo", "--no-progress", "--no-cache")


# --- output paths -------------------------------------------------------------------------
@pytest.mark.parametrize("option", ["--json", "--junit-xml"])
def test_a_report_through_a_symlink_keeps_the_link(
    repo: GitRepo, tmp_path: Path, option: str
) -> None:
    outside = tmp_path / "reports"
    outside.mkdir()
    link = repo.path / "report.out"
    link.symlink_to(outside / "report")
    proc = huskycat(repo.path, *RUN, option, "report.out")
    assert proc.returncode == 0, proc.stderr
    assert link.is_symlink()
    assert (outside / "report").read_text().strip()


@pytest.mark.parametrize("option", ["--json", "--junit-xml"])
def test_a_report_to_a_fifo_goes_through_the_fifo(
    repo: GitRepo, tmp_path: Path, option: str
) -> None:
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    reader = os.open(fifo, os.O_RDONLY | os.O_NONBLOCK)
    try:
        proc = huskycat(repo.path, *RUN, option, str(fifo))
        assert proc.returncode == 0, proc.stderr
        assert os.read(reader, 1 << 16).strip()
    finally:
        os.close(reader)
    assert stat.S_ISFIFO(os.lstat(fifo).st_mode)


def test_a_report_to_stdout_is_printed_not_put_in_place_of_stdout(
    repo: GitRepo, tmp_path: Path
) -> None:
    link = tmp_path / "stdout"  # what /dev/stdout is; see report_atomic_test.py for why
    link.symlink_to("/proc/self/fd/1")
    proc = huskycat(repo.path, *RUN, "-q", "--json", str(link))
    assert proc.returncode == 0, proc.stderr
    assert '"format_version"' in proc.stdout
    assert link.is_symlink()


def test_a_report_to_a_fifo_nobody_reads_is_one_line_exit_2(repo: GitRepo, tmp_path: Path) -> None:
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    line = _one_line_error(huskycat(repo.path, *RUN, "--json", str(fifo)))
    assert "FIFO" in line and str(fifo) in line


# --- numbers at the edges -----------------------------------------------------------------
@pytest.mark.parametrize(
    ("args", "named"),
    [
        (("--timeout", "1e308"), "--timeout"),
        (("--timeout", "inf"), "--timeout"),
        (("--timeout", "nan"), "--timeout"),
        (("--timeout", "0"), "--timeout"),
        (("--timeout", "-1"), "--timeout"),
        (("--timeout", "1e-300"), "--timeout"),
        (("--jobs", "99999999999999999999"), "--jobs"),
        (("--jobs", "0"), "--jobs"),
        (("--jobs", "-2"), "--jobs"),
    ],
)
def test_out_of_range_numbers_on_the_command_line_are_exit_2(
    repo: GitRepo, args: tuple[str, ...], named: str
) -> None:
    proc = huskycat(repo.path, *RUN, *args)
    assert proc.returncode == 2 and "Traceback" not in proc.stderr, proc.stderr
    error = proc.stderr.strip().splitlines()[-1]  # argparse prints its usage line first
    assert named in error and args[1] in error.replace("+", ""), error


@pytest.mark.parametrize(
    ("setting", "key"),
    [
        ("timeout = 1e300", "timeout"),
        ("timeout = inf", "timeout"),
        ("timeout = nan", "timeout"),
        ("timeout = 1e-300", "timeout"),
        ("jobs = 100000000000000000000", "jobs"),
        ("jobs = -1", "jobs"),
        ("[tools.echo]\nweight = 100000000000000000000", "tools.echo.weight"),
        ("[tools.echo]\ntimeout = 1e300", "tools.echo.timeout"),
        ("[tools.echo]\ntimeout = -inf", "tools.echo.timeout"),
    ],
)
def test_out_of_range_numbers_in_the_configuration_are_exit_2(
    git_repo: GitRepo, setting: str, key: str
) -> None:
    tool = ECHO_TOOL.format(python=sys.executable)
    if setting.startswith("[tools.echo]"):
        config = tool.rstrip() + "\n" + setting.split("\n", 1)[1] + "\n"
    else:
        config = setting + "\n" + tool
    git_repo.write("huskycat.toml", config)
    git_repo.write("a.py", "x = 1\n")
    line = _one_line_error(huskycat(git_repo.path, *RUN))
    assert f"huskycat.toml: {key}:" in line, line


def test_absurd_history_is_ignored_with_one_warning(repo: GitRepo) -> None:
    history = repo.path / ".git" / "huskycat" / "history.json"
    history.parent.mkdir(parents=True, exist_ok=True)
    history.write_text('{"format": 1, "tools": {"echo": [[1, 1e308, 1], [1, 1e308, 1e300]]}}')
    proc = huskycat(repo.path, *RUN)
    assert proc.returncode == 0, proc.stderr
    warnings = [line for line in proc.stderr.splitlines() if "warning" in line]
    assert len(warnings) == 1 and "history.json" in warnings[0], proc.stderr
    assert "1e+308" not in history.read_text()  # rebuilt
    assert huskycat(repo.path, *RUN).stderr == ""


@pytest.mark.parametrize("timeout", [1e300, float("inf")])
def test_the_library_takes_a_far_deadline_as_no_deadline(timeout: float) -> None:
    from huskycat.core.parallel_executor import ParallelExecutor
    from huskycat.core.process import run

    executor = ParallelExecutor({"a": []}, timeout_per_tool=timeout)
    result = executor.execute_tools({"a": lambda: run(["true"]).returncode})[0]
    assert result.status.value == "success", result.output


# --- processes that escape ----------------------------------------------------------------
def _escaping_tool(repo: GitRepo, tmp_path: Path, then: str) -> Path:
    from tests.core_process_test import ESCAPE

    script = tmp_path / "escape.py"
    script.write_text(ESCAPE)
    pidfile = tmp_path / "pid"
    command = [sys.executable, str(script), str(pidfile), "double", then]
    repo.write(
        "huskycat.toml",
        f"[tools.escape]\ncommand = {json.dumps(command)}\npass_filenames = false\n"
        'types = ["python"]\ntimeout = 2\n',
    )
    return pidfile


@pytest.mark.parametrize("then", ["exit", "hang"])
def test_a_tool_whose_child_double_forks_leaves_nothing_running(
    repo: GitRepo, tmp_path: Path, then: str
) -> None:
    pidfile = _escaping_tool(repo, tmp_path, then)
    proc = huskycat(repo.path, "run", "--no-progress", "--no-cache", "--tools", "escape")
    assert proc.returncode == (1 if then == "hang" else 0), proc.stdout + proc.stderr
    from tests.core_process_test import wait_dead

    # Killed before huskycat exited: gone, or a zombie for init to reap, within moments
    # (a process left running sleeps on for a minute and fails this).
    assert wait_dead(int(pidfile.read_text()), seconds=5)


# --- paths that leave the repository ------------------------------------------------------
@pytest.mark.parametrize("how", [("--files", "linked/b.py"), ("linked/b.py",), ("linked/deep",)])
def test_a_path_through_a_symlinked_folder_is_refused(
    repo: GitRepo, tmp_path: Path, how: tuple[str, ...]
) -> None:
    outside = tmp_path / "outside"
    (outside / "deep").mkdir(parents=True)
    (outside / "b.py").write_text("x=1\n")
    (outside / "deep" / "c.py").write_text("x=1\n")
    (repo.path / "linked").symlink_to(outside)
    proc = huskycat(repo.path, "run", "--no-progress", "--fix", "--tools", "echo", *how)
    line = _one_line_error(proc)
    assert "outside the project root" in line and "'linked' is a symbolic link" in line
    assert (outside / "b.py").read_text() == "x=1\n"


def test_a_fixer_never_writes_through_a_symlinked_folder(repo: GitRepo, tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "b.py").write_text("x=1\n")
    (repo.path / "linked").symlink_to(outside)
    proc = huskycat(
        repo.path, "run", "--no-progress", "--fix", "--tools", "black", "--files", "linked/b.py"
    )
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert (outside / "b.py").read_text() == "x=1\n"


# --- interrupts ---------------------------------------------------------------------------
# A tool that signals huskycat (its parent) twice, 0.4 s apart, while it and a child of its
# own ignore SIGTERM: the second signal arrives while huskycat waits out the kill grace.
TWICE = """
import os, signal, sys, time
pidfile, sig = sys.argv[1], getattr(signal, sys.argv[2])
signal.signal(signal.SIGTERM, signal.SIG_IGN)
child = os.fork()
if child == 0:
    time.sleep(120)
    os._exit(0)
with open(pidfile, "w") as out:
    out.write(str(child))
parent = os.getppid()
os.kill(parent, sig)
time.sleep(0.4)
os.kill(parent, signal.SIGINT if sig == signal.SIGTERM else signal.SIGTERM)
time.sleep(120)
"""


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state not in ("Z", "X")


def _twice_tool(repo: GitRepo, tmp_path: Path, sig: str) -> Path:
    script = tmp_path / "twice.py"
    script.write_text(TWICE)
    pidfile = tmp_path / "pid"
    command = [sys.executable, str(script), str(pidfile), sig]
    repo.write(
        "huskycat.toml",
        f"[tools.twice]\ncommand = {json.dumps(command)}\npass_filenames = false\n"
        'types = ["python"]\n',
    )
    repo.commit("twice")
    return pidfile


@pytest.mark.parametrize("sig", ["SIGINT", "SIGTERM"])
@pytest.mark.parametrize("staged", [False, True])
def test_a_second_signal_during_the_clean_up_changes_nothing(
    repo: GitRepo, tmp_path: Path, sig: str, staged: bool
) -> None:
    pidfile = _twice_tool(repo, tmp_path, sig)
    repo.write("b.py", "y = 1\n")
    repo.add("b.py")
    repo.write("a.py", "x = 2  # unstaged\n")
    how = ("--staged",) if staged else ()
    proc = huskycat(repo.path, "run", "--no-progress", "--no-cache", *how)
    assert proc.returncode == 130, proc.stdout + proc.stderr
    assert "Traceback" not in proc.stderr
    assert not _alive(int(pidfile.read_text()))
    assert (repo.path / "a.py").read_text() == "x = 2  # unstaged\n"
    assert not list((repo.path / ".git" / "huskycat").glob("unstaged-*"))


# Drives the real command in-process, with a signal sent to itself at a chosen moment.
RACE = """
import contextlib, os, signal, sys
from huskycat import cli, staged
from huskycat.commands import common

moment = sys.argv[1]
real_deferred, real_write, real_config = (
    staged.signals_deferred, staged._write_backup, common.load_config
)
holds = 0

@contextlib.contextmanager
def deferred():
    global holds
    holds += 1
    if moment == "before the restore holds signals" and holds == 2:
        os.kill(os.getpid(), signal.SIGTERM)  # handled at once: before the hold
    with real_deferred():
        if moment == "during the restore" and holds == 2:
            os.kill(os.getpid(), signal.SIGTERM)
            os.kill(os.getpid(), signal.SIGINT)
        yield

def write_backup(*args, **kwargs):
    if moment == "while setting aside":
        os.kill(os.getpid(), signal.SIGINT)
    return real_write(*args, **kwargs)

def load_config(*args, **kwargs):
    if moment == "while reading the configuration":
        os.kill(os.getpid(), signal.SIGTERM)
    return real_config(*args, **kwargs)

staged.signals_deferred, staged._write_backup, common.load_config = (
    deferred, write_backup, load_config
)
sys.exit(cli.main(["run", "--staged", "--no-progress", "--no-cache", "--tools", "echo"]))
"""


@pytest.mark.parametrize(
    "moment",
    [
        "while reading the configuration",
        "while setting aside",
        "before the restore holds signals",
        "during the restore",
    ],
)
def test_a_signal_at_any_moment_of_a_staged_run_is_one_interrupt(
    repo: GitRepo, moment: str
) -> None:
    import subprocess

    repo.write("b.py", "y = 1\n")
    repo.add("b.py")
    repo.write("a.py", "x = 2  # unstaged\n")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    proc = subprocess.run(
        [sys.executable, "-c", RACE, moment],
        cwd=repo.path,
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 130, proc.stdout + proc.stderr
    assert "Traceback" not in proc.stderr, proc.stderr
    assert (repo.path / "a.py").read_text() == "x = 2  # unstaged\n"
    assert not list((repo.path / ".git" / "huskycat").glob("unstaged-*"))


# --- concurrent huskycat processes --------------------------------------------------------
# A tool that says it started, then waits for the test to let it finish.
WAIT = """
import os, sys, time
started, go = sys.argv[1], sys.argv[2]
open(started, "w").close()
end = time.monotonic() + 60
while not os.path.exists(go) and time.monotonic() < end:
    time.sleep(0.02)
"""


def test_recover_and_a_second_run_refuse_while_a_staged_run_is_alive(
    repo: GitRepo, tmp_path: Path
) -> None:
    import subprocess

    script = tmp_path / "wait.py"
    script.write_text(WAIT)
    started, go = tmp_path / "started", tmp_path / "go"
    command = [sys.executable, str(script), str(started), str(go)]
    repo.write(
        "huskycat.toml",
        f"[tools.wait]\ncommand = {json.dumps(command)}\npass_filenames = false\n"
        'types = ["python"]\n',
    )
    repo.write("b.py", "y = 1\n")
    repo.commit("wait", "huskycat.toml", "b.py")
    repo.write("b.py", "y = 2\n")
    repo.add("b.py")
    repo.write("a.py", "x = 2  # unstaged\n")
    first = subprocess.Popen(
        [sys.executable, "-m", "huskycat", "run", "--staged", "--no-progress", "--no-cache"],
        cwd=repo.path,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        end = time.monotonic() + 60
        while not started.exists() and first.poll() is None and time.monotonic() < end:
            time.sleep(0.02)
        assert started.exists(), first.communicate()
        assert (repo.path / "a.py").read_text() == "x = 1\n"  # set aside by the first run
        for args in (("recover",), ("run", "--staged"), ("run", "--all-files")):
            line = _one_line_error(huskycat(repo.path, *args))
            assert f"huskycat (pid {first.pid}) is running" in line, line
        assert (repo.path / "a.py").read_text() == "x = 1\n"  # not recovered under its feet
    finally:
        go.touch()
        out, err = first.communicate(timeout=60)
    assert first.returncode == 0, out + err
    assert (repo.path / "a.py").read_text() == "x = 2  # unstaged\n"


# A fixer that edits the first line of each file it gets, then SIGKILLs huskycat.
FIX_AND_KILL = """
import os, signal, sys
for name in sys.argv[1:]:
    with open(name) as f:
        lines = f.readlines()
    lines[0] = lines[0].upper()
    with open(name, "w") as f:
        f.writelines(lines)
os.kill(os.getppid(), signal.SIGKILL)
"""


@pytest.mark.parametrize("overlap", [False, True])
def test_recover_after_a_killed_staged_fix_run_keeps_or_names_the_fixers_edits(
    git_repo: GitRepo, tmp_path: Path, overlap: bool
) -> None:
    script = tmp_path / "fix.py"
    script.write_text(FIX_AND_KILL)
    command = [sys.executable, str(script)]
    git_repo.write(
        "huskycat.toml",
        f"[tools.fixer]\ncommand = {json.dumps([sys.executable, '-c', 'pass'])}\n"
        f'fix = {json.dumps(command)}\ntypes = ["python"]\n',
    )
    lines = [f"line{i}\n" for i in range(10)]
    git_repo.write("a.py", "".join(lines))
    git_repo.commit("init")
    git_repo.write("a.py", "".join(["line0 = 1\n", *lines[1:]]))
    git_repo.add("a.py")
    unstaged = ["user0\n" if overlap else "line0 = 1\n", *lines[1:9], "user9\n"]
    git_repo.write("a.py", "".join(unstaged))
    killed = huskycat(git_repo.path, "run", "--staged", "--fix", "--no-progress", "--no-cache")
    assert killed.returncode == -9, killed.stdout + killed.stderr
    assert (git_repo.path / "a.py").read_text().startswith("LINE0 = 1\n")  # the fixer's edit

    recovered = huskycat(git_repo.path, "recover")
    if not overlap:
        assert recovered.returncode == 0, recovered.stderr
        assert "kept the later edits to 'a.py'" in recovered.stdout
        merged = ["LINE0 = 1\n", *lines[1:9], "user9\n"]
        assert (git_repo.path / "a.py").read_text() == "".join(merged)
    else:
        line = _one_line_error(recovered)
        assert "'a.py' changed since" in line and "--overwrite" in line
        assert (git_repo.path / "a.py").read_text().startswith("LINE0 = 1\n")  # untouched
        assert huskycat(git_repo.path, "recover", "--overwrite").returncode == 0
        assert (git_repo.path / "a.py").read_text() == "".join(unstaged)
    assert huskycat(git_repo.path, "run", "--no-progress", "--tools", "fixer").returncode == 0


# --- environments -------------------------------------------------------------------------
def _in_namespace(repo: GitRepo, setup: str, *args: str, after: str = "") -> tuple[int, str]:
    """Run ``huskycat ARGS`` in ``repo`` in a private mount namespace prepared by the sh
    commands ``setup`` (a full tmpfs, a read-only bind mount: gone with the namespace,
    nothing to undo), then the sh commands ``after``; returns huskycat's exit code and
    everything printed. Needs user namespaces (``unshare -Urm``), as root or not."""
    import shlex
    import subprocess

    probe = subprocess.run(["unshare", "-Urm", "true"], capture_output=True, check=False)
    if probe.returncode != 0:
        pytest.skip(f"no user namespaces here to mount in: {probe.stderr.decode().strip()}")
    command = shlex.join([sys.executable, "-m", "huskycat", *args])
    script = f'set -e\n{setup}\nset +e\n{command}\necho "rc=$?"\n{after}'
    proc = subprocess.run(
        ["unshare", "-Urm", "sh", "-c", script],
        cwd=repo.path,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    out = proc.stdout + proc.stderr
    codes = [line for line in proc.stdout.splitlines() if line.startswith("rc=")]
    assert codes, out
    return int(codes[0][3:]), out


def _error_lines(out: str) -> list[str]:
    assert "Traceback" not in out, out
    return [line for line in out.splitlines() if line.startswith("huskycat: error:")]


FILL = "dd if=/dev/zero of={0}/fill bs=4096 2>/dev/null || true"


def _with_unstaged(repo: GitRepo) -> None:
    repo.write("b.py", "y = 1\n")
    repo.add("b.py")
    repo.write("a.py", "x = 2  # unstaged\n")


def test_a_full_disk_while_setting_aside_loses_nothing(repo: GitRepo) -> None:
    _with_unstaged(repo)
    store = repo.path / ".git" / "huskycat"
    store.mkdir(exist_ok=True)
    setup = f"mount -t tmpfs -o size=64k tmpfs {store}\n{FILL.format(store)}"
    code, out = _in_namespace(
        repo, setup, *RUN, "--staged", after=f"ls {store} | grep -v -x -e fill -e staged.lock"
    )
    assert code == 2, out
    [line] = _error_lines(out)
    assert "No space left on device" in line
    assert "unstaged-" not in out and "incomplete-" not in out  # nothing left behind
    assert (repo.path / "a.py").read_text() == "x = 2  # unstaged\n"


def test_a_full_disk_for_a_report_is_one_line(repo: GitRepo) -> None:
    line = _one_line_error(huskycat(repo.path, *RUN, "--json", "/dev/full"))
    assert "--json '/dev/full'" in line and "No space left on device" in line


def test_a_full_disk_for_a_hook_keeps_the_old_hook(repo: GitRepo) -> None:
    hooks = repo.path / ".git" / "hooks"
    setup = (
        f"mount -t tmpfs -o size=64k tmpfs {hooks}\n"
        f"printf '#!/bin/sh\\necho mine\\n' > {hooks}/pre-commit\n"
        f"chmod +x {hooks}/pre-commit\n{FILL.format(hooks)}"
    )
    code, out = _in_namespace(
        repo, setup, "install", "--force", after=f"cat {hooks}/pre-commit; ls {hooks}"
    )
    assert code == 2, out
    [line] = _error_lines(out)
    assert "cannot write the pre-commit hook" in line and "No space left" in line
    assert "echo mine" in out and "pre-commit.legacy" not in out


@pytest.mark.parametrize(
    ("args", "expected_code"),
    [((*RUN, "--staged"), 2), (("install",), 2), (RUN, 0)],
)
def test_a_read_only_git_folder_is_one_line_and_loses_nothing(
    repo: GitRepo, args: tuple[str, ...], expected_code: int
) -> None:
    _with_unstaged(repo)
    git_dir = repo.path / ".git"
    setup = f"mount --bind {git_dir} {git_dir}\nmount -o remount,ro,bind {git_dir}"
    code, out = _in_namespace(repo, setup, *args)
    assert code == expected_code, out
    errors = _error_lines(out)
    assert len(errors) == (1 if expected_code == 2 else 0), out
    if errors:
        assert "Read-only file system" in errors[0]
    assert (repo.path / "a.py").read_text() == "x = 2  # unstaged\n"


@contextlib.contextmanager
def _unwritable(folder: Path) -> Iterator[None]:
    """``folder`` refuses new files: immutable for root (who ignores permissions),
    read-only for anyone else."""
    import subprocess

    if os.geteuid() == 0:
        flag = subprocess.run(["chattr", "+i", str(folder)], capture_output=True, check=False)
        if flag.returncode != 0:
            pytest.skip(f"cannot make {folder} immutable: {flag.stderr.decode().strip()}")
        try:
            yield
        finally:
            subprocess.run(["chattr", "-i", str(folder)], check=True)
    else:
        folder.chmod(0o555)
        try:
            yield
        finally:
            folder.chmod(0o755)


def test_permission_errors_are_one_line(repo: GitRepo) -> None:
    _with_unstaged(repo)
    git_dir = repo.path / ".git"
    with _unwritable(git_dir / "hooks"):
        line = _one_line_error(huskycat(repo.path, "install"))
    assert "cannot write the pre-commit hook" in line
    with _unwritable(git_dir):  # no .git/huskycat can be made
        line = _one_line_error(huskycat(repo.path, *RUN, "--staged"))
    assert "could not set aside" in line
    assert (repo.path / "a.py").read_text() == "x = 2  # unstaged\n"


def test_a_terminal_that_is_not_utf8_gets_escapes_not_a_traceback(git_repo: GitRepo) -> None:
    code = "import sys; sys.stdout.buffer.write('h\\u00e9llo \\u2713\\n'.encode()); sys.exit(1)"
    git_repo.write(
        "huskycat.toml",
        f'[tools.uni]\ncommand = {json.dumps([sys.executable, "-c", code])}\n'
        'types = ["python"]\n',
    )
    git_repo.write("\u00e9t\u00e9.py", "x = 1\n")
    git_repo.commit("init")
    env = {**os.environ, "LANG": "C", "LC_ALL": "C", "PYTHONIOENCODING": "ascii"}
    proc = huskycat(git_repo.path, "run", "--no-progress", "--no-cache", "-v", env=env)
    assert proc.returncode == 1 and "Traceback" not in proc.stderr, proc.stderr
    assert "h\\xe9llo \\u2713" in proc.stdout


def test_a_bare_repository_is_refused_and_nothing_is_written(tmp_path: Path) -> None:
    import subprocess

    bare = tmp_path / "bare.git"
    subprocess.run(["git", "init", "-q", "--bare", str(bare)], check=True)
    cache = tmp_path / "xdg-cache"
    env = {**os.environ, "XDG_CACHE_HOME": str(cache)}
    for args in (("run",), ("run", "--staged"), ("install",), ("cache", "clear")):
        line = _one_line_error(huskycat(bare, *args, env=env))
        assert "bare repository" in line, line
    assert not cache.exists()


def test_a_merge_with_conflicts_is_one_line_and_a_resolved_one_runs(repo: GitRepo) -> None:
    repo.git("checkout", "-q", "-b", "other")
    repo.write("a.py", "x = 2\n")
    repo.commit("other")
    repo.git("checkout", "-q", "main")
    repo.write("a.py", "x = 3\n")
    repo.commit("main")
    repo.git("merge", "other", check=False)
    repo.write("b.py", "y = 1  # unstaged, untracked\n")
    line = _one_line_error(huskycat(repo.path, *RUN, "--staged"))
    assert "'a.py' is unmerged" in line
    repo.write("a.py", "x = 4\n")
    repo.add("a.py")
    repo.write("a.py", "x = 5  # unstaged\n")
    proc = huskycat(repo.path, *RUN, "--staged")
    assert proc.returncode == 0, proc.stderr
    assert (repo.path / "a.py").read_text() == "x = 5  # unstaged\n"
    assert (repo.path / ".git" / "MERGE_HEAD").exists()


def test_a_missing_hooks_path_outside_the_repository_is_not_created(
    repo: GitRepo, tmp_path: Path
) -> None:
    missing = tmp_path / "elsewhere" / "hooks"
    repo.git("config", "core.hooksPath", str(missing))
    line = _one_line_error(huskycat(repo.path, "install"))
    assert "does not exist" in line and str(missing) in line
    assert not (tmp_path / "elsewhere").exists()
    repo.git("config", "core.hooksPath", ".githooks")  # inside: made, as git users expect
    assert huskycat(repo.path, "install").returncode == 0
    assert (repo.path / ".githooks" / "pre-commit").exists()


# --- corrupt state ------------------------------------------------------------------------
def _killed_staged_run(repo: GitRepo, tmp_path: Path) -> Path:
    """A staged run SIGKILLed by its tool while a.py's unstaged change is set aside;
    returns the backup folder it left."""
    script = tmp_path / "kill.py"
    script.write_text("import os, signal\nos.kill(os.getppid(), signal.SIGKILL)\n")
    repo.write(
        "huskycat.toml",
        f"[tools.kill]\ncommand = {json.dumps([sys.executable, str(script)])}\n"
        'pass_filenames = false\ntypes = ["python"]\n',
    )
    repo.write("sub/c.py", "z = 1\n")
    repo.commit("kill")
    _with_unstaged(repo)
    repo.write("sub/c.py", "z = 2  # unstaged\n")
    killed = huskycat(repo.path, "run", "--staged", "--no-progress", "--no-cache")
    assert killed.returncode == -9, killed.stdout + killed.stderr
    [backup] = (repo.path / ".git" / "huskycat").glob("unstaged-*")
    return backup


_FILE = {"kind": "file", "mode": 0o644, "sha256": "0" * 64}
_ESCAPING = {"path": "../../escaped", "saved": _FILE, "base": _FILE}
_ABSURD = {"path": "a.py", "saved": {"kind": "file", "mode": 10**12, "sha256": 7}, "base": {}}


@pytest.mark.parametrize(
    "damage",
    [
        b"",  # truncated to nothing
        b'{"format": 1, "entr',  # truncated
        b"\x00\xff garbage",
        json.dumps({"format": 1, "entries": [_ESCAPING], "created_dirs": ["../../m"]}).encode(),
        json.dumps({"format": 1, "entries": [_ABSURD], "created_dirs": []}).encode(),
    ],
)
def test_a_damaged_backup_manifest_is_rebuilt_with_one_warning(
    repo: GitRepo, tmp_path: Path, damage: bytes
) -> None:
    backup = _killed_staged_run(repo, tmp_path)
    assert (repo.path / "a.py").read_text() == "x = 1\n"  # still set aside
    (backup / "manifest.json").write_bytes(damage)
    proc = huskycat(repo.path, "recover")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    warnings = [line for line in proc.stderr.splitlines() if "warning" in line]
    assert len(warnings) == 1 and "rebuilt" in warnings[0], proc.stderr
    assert (repo.path / "a.py").read_text() == "x = 2  # unstaged\n"
    assert (repo.path / "sub" / "c.py").read_text() == "z = 2  # unstaged\n"
    assert not backup.exists()
    assert not (tmp_path / "escaped").exists() and not (repo.path.parent / "escaped").exists()


def test_a_stray_file_named_like_a_backup_does_not_block_runs(repo: GitRepo) -> None:
    store = repo.path / ".git" / "huskycat"
    store.mkdir(exist_ok=True)
    (store / "unstaged-garbage").write_bytes(b"\x00junk")
    (store / "staged.lock").write_bytes(b"not a pid\xff")
    _with_unstaged(repo)
    proc = huskycat(repo.path, *RUN, "--staged")
    assert proc.returncode == 0, proc.stderr
    assert huskycat(repo.path, "recover").returncode == 0
    assert (repo.path / "a.py").read_text() == "x = 2  # unstaged\n"


# --- files tools choke on -----------------------------------------------------------------
def test_a_file_one_tool_chokes_on_hides_no_finding_on_other_files(git_repo: GitRepo) -> None:
    git_repo.write("good.py", 'import os\n\nx:int="a"\nassert x\n')
    (git_repo.path / "bin.py").write_bytes(bytes(range(256)) * 2)
    (git_repo.path / "latin.py").write_bytes(b'import sys\ny = "caf\xe9"\n')
    git_repo.commit("init")
    tools = "ruff,flake8,black,mypy,bandit"
    report = git_repo.path.parent / "report.json"
    proc = huskycat(
        git_repo.path, "run", "--no-progress", "--no-cache", "--tools", tools, "--json", str(report)
    )
    assert proc.returncode == 1 and "Traceback" not in proc.stderr, proc.stderr
    from tests.conftest import load_report, results_by_tool

    results = results_by_tool(load_report(report))
    for name in tools.split(","):
        files = {d["file"] for d in results[name]["diagnostics"]}
        assert results[name]["status"] == "failed", (name, results[name]["error_message"])
        assert "good.py" in files, (name, results[name]["output"])


def test_a_file_name_that_is_not_utf8_hides_no_finding_on_other_files(git_repo: GitRepo) -> None:
    # flake8 crashes printing such a name, ruff cannot write its cache: run on their own,
    # they fail on that one file, and their findings on the others are kept.
    git_repo.write("good.py", 'import os\n\nx:int="a"\nassert x\n')
    (git_repo.path / os.fsdecode(b"bad\xff.py")).write_bytes(b"import sys\n")
    git_repo.commit("init")
    report, sarif = git_repo.path.parent / "report.json", git_repo.path.parent / "report.sarif"
    proc = huskycat(
        git_repo.path,
        *("run", "--no-progress", "--tools", "ruff,flake8"),
        *("--json", str(report), "--sarif", str(sarif)),
    )
    assert proc.returncode == 1 and "huskycat/" not in proc.stderr, proc.stderr
    from tests.conftest import load_report, results_by_tool

    results = results_by_tool(load_report(report))
    for name in ("ruff", "flake8"):
        assert results[name]["status"] == "failed"
        assert "good.py" in {d["file"] for d in results[name]["diagnostics"]}, name
        assert "on b'bad\\xff.py', a file name that is not UTF-8" in results[name]["error_message"]
    assert results["ruff"]["metadata"]["batches"] == 2
    assert json.loads(sarif.read_text(encoding="utf-8"))["runs"]
    # The console says it too, beside the findings' counts, not only the reports.
    status_lines = [line for line in proc.stdout.splitlines() if line.startswith("==> ruff:")]
    assert status_lines and "failed 1 error; exit code 2" in status_lines[0], proc.stdout
    assert "a file name that is not UTF-8" in status_lines[0], proc.stdout


def test_sigterm_while_an_escaped_process_runs_leaves_nothing_running(
    repo: GitRepo, tmp_path: Path
) -> None:
    import signal
    import subprocess

    pidfile = _escaping_tool(repo, tmp_path, "hang")
    repo.write("huskycat.toml", (repo.path / "huskycat.toml").read_text().replace("2\n", "60\n"))
    proc = subprocess.Popen(
        [sys.executable, "-m", "huskycat", "run", "--no-progress", "--no-cache"],
        cwd=repo.path,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        end = time.monotonic() + 60
        while not pidfile.exists() and proc.poll() is None and time.monotonic() < end:
            time.sleep(0.02)
        assert pidfile.exists(), proc.communicate()
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 130, out + err
    assert not _alive(int(pidfile.read_text()))
