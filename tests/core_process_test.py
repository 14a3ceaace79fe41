"""Running real commands: deadlines, process groups, output caps, cancellation."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from huskycat.core.process import RunContext, run


def alive(pid: int) -> bool:
    """A process that exists and is not a zombie."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, ProcessLookupError):
        return False
    return state not in ("Z", "X")


def wait_dead(pid: int, seconds: float = 3.0) -> bool:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        if not alive(pid):
            return True
        time.sleep(0.02)
    return False


def test_captures_stdout_stderr_and_exit_code() -> None:
    result = run(
        [
            sys.executable,
            "-c",
            "import sys; print('out'); print('err', file=sys.stderr); sys.exit(3)",
        ]
    )
    assert (result.returncode, result.stdout, result.stderr) == (3, "out\n", "err\n")
    assert not result.timed_out and not result.cancelled


def test_stdin_is_dev_null() -> None:
    result = run([sys.executable, "-c", "import sys; print(repr(sys.stdin.read()))"])
    assert result.stdout == "''\n"


def test_missing_executable_raises_file_not_found() -> None:
    with pytest.raises(FileNotFoundError):
        run(["huskycat-no-such-tool-xyz"])


def test_timeout_kills_the_whole_group_grandchildren_included(tmp_path: Path) -> None:
    pidfile, late = tmp_path / "pid", tmp_path / "late"
    script = f"(sleep 60; touch {late}) & echo $! > {pidfile}; echo started; wait"
    result = run(["sh", "-c", script], timeout=0.5)
    assert result.timed_out and result.stdout == "started\n"
    # Returned before the grandchild's own end, which now never comes.
    assert not late.exists() and wait_dead(int(pidfile.read_text()))


def test_a_command_ignoring_sigterm_is_killed_after_the_grace(tmp_path: Path) -> None:
    ctx = RunContext(time.monotonic() + 0.3, kill_grace=0.3)
    code = (
        "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); "
        "print('up', flush=True); time.sleep(60)"
    )
    with ctx.active():
        result = run([sys.executable, "-c", code])
    assert result.timed_out and result.returncode == -signal.SIGKILL
    assert result.stdout == "up\n"


def test_deadline_comes_from_the_current_context_without_passing_it() -> None:
    ctx = RunContext(time.monotonic() + 0.3)
    with ctx.active():
        result = run(["sleep", "30"])
    # Killed at the context's deadline, not ended by itself (that would be exit code 0).
    assert result.timed_out and result.returncode < 0


def test_processes_left_behind_by_a_finished_command_are_killed(tmp_path: Path) -> None:
    pidfile, late = tmp_path / "pid", tmp_path / "late"
    # The grandchild keeps the pipes open; run() must still return, before it ends.
    script = f"(sleep 60; touch {late}) & echo $! > {pidfile}; echo done"
    result = run(["sh", "-c", script])
    assert result.returncode == 0 and result.stdout == "done\n"
    assert not late.exists() and wait_dead(int(pidfile.read_text()))


def test_output_is_capped_and_marked_truncated() -> None:
    result = run([sys.executable, "-c", "print('x' * 100000)"], output_limit=1000)
    assert len(result.stdout) == 1000 and result.truncated


def test_large_output_is_read_without_deadlock() -> None:
    code = "import sys; sys.stdout.write('o' * 300000); sys.stderr.write('e' * 300000)"
    result = run([sys.executable, "-c", code])
    assert len(result.stdout) == 300000 and len(result.stderr) == 300000


def test_cancel_from_another_thread_stops_the_command_promptly(tmp_path: Path) -> None:
    pidfile = tmp_path / "pid"
    ctx = RunContext(None)
    box: list[object] = []

    def worker() -> None:
        with ctx.active():
            box.append(run(["sh", "-c", f"echo $$ > {pidfile}; sleep 60"]))

    thread = threading.Thread(target=worker)
    thread.start()
    while not pidfile.exists() or not pidfile.read_text().strip():
        time.sleep(0.01)
    ctx.cancel("fail-fast")
    ctx.kill_all()
    thread.join(60)
    assert not thread.is_alive()
    (result,) = box
    # Stopped by the cancellation (a signal), not ended by its own 60 s.
    assert result.cancelled is True and result.returncode < 0
    assert wait_dead(int(pidfile.read_text()))


def test_run_after_cancellation_does_not_start_the_command(tmp_path: Path) -> None:
    ctx = RunContext(None)
    ctx.cancel()
    marker = tmp_path / "ran"
    with ctx.active():
        result = run(["touch", str(marker)])
    assert result.cancelled and not marker.exists()


def test_context_records_output_of_finished_commands() -> None:
    ctx = RunContext(None)
    with ctx.active():
        run(["echo", "one"])
        run(["echo", "two"])
    assert ctx.captured_output() == "one\ntwo\n"
    assert not ctx.has_processes()


def test_no_file_descriptors_leak_over_many_runs() -> None:
    before = len(os.listdir("/proc/self/fd"))
    for _ in range(50):
        ctx = RunContext(time.monotonic() + 10)
        with ctx.active():
            run(["true"])
    assert len(os.listdir("/proc/self/fd")) <= before + 2


# Burns CPU in a child it waits for and in itself; prints the CPU seconds of both.
BURN = """
import subprocess, sys, time
code = "import time\\nx = 0\\nfor i in range(2_000_000): x += i\\nprint(time.process_time())"
child = float(subprocess.run([sys.executable, "-c", code], capture_output=True).stdout)
x = 0
for i in range(2_000_000):
    x += i
print(child + time.process_time())
"""


def test_a_command_reports_its_cpu_time_with_its_childrens() -> None:
    ctx = RunContext(None)
    with ctx.active():
        result = run([sys.executable, "-c", BURN])
    assert result.returncode == 0, result.stderr
    measured = float(result.stdout)
    assert result.cpu is not None and measured > 0
    # In clock ticks, and with the interpreters' start-up that process_time() misses.
    assert result.cpu >= measured - 0.05
    assert ctx.cpu_seconds() == result.cpu


def test_a_stopped_command_has_no_cpu_time() -> None:
    ctx = RunContext(None)
    with ctx.active():
        result = run([sys.executable, "-c", "import time; time.sleep(30)"], timeout=0.5)
    assert result.timed_out and result.cpu is None
    assert ctx.cpu_seconds() is None
    assert RunContext(None).cpu_seconds() is None  # ran nothing


# What a command sees of its place: its process group, its session, its autogroup (the
# unit Linux shares the CPUs between; absent when the kernel has no autogroups).
WHERE = """
import os
try:
    group = open("/proc/self/autogroup").read().split()[0]
except (OSError, IndexError):  # no autogroups, or a kernel that reads it as empty
    group = "-"
print(os.getpid(), os.getpgid(0), os.getsid(0), group)
"""


def test_a_command_leads_its_own_group_in_our_session_so_niceness_counts() -> None:
    where = run([sys.executable, "-c", WHERE])
    assert where.returncode == 0, where.stderr
    pid, pgid, sid, autogroup = where.stdout.split()
    assert pgid == pid  # killable as one group
    if sys.version_info >= (3, 11):
        # Not a session (and so not an autogroup) of its own: a niced tool yields the
        # CPUs to the others of the run instead of getting an equal share.
        assert int(sid) == os.getsid(0)
        try:
            with open("/proc/self/autogroup") as ours:
                assert autogroup == ours.read().split()[0]
        except (OSError, IndexError):
            assert autogroup == "-"
    else:
        assert sid == pid


# A tool whose child leaves its process group: `setsid`, or a daemon's double fork. The
# escaped process writes its pid to argv[1] and sleeps; the tool then exits or hangs.
ESCAPE = """
import os, sys, time
pidfile, how, then = sys.argv[1], sys.argv[2], sys.argv[3]
if os.fork() == 0:
    if how == "double" and os.fork() != 0:
        os._exit(0)
    os.setsid()
    if how == "double" and os.fork() != 0:
        os._exit(0)
    null = os.open(os.devnull, os.O_RDWR)
    for fd in (0, 1, 2):
        os.dup2(null, fd)
    with open(pidfile + ".tmp", "w") as out:
        out.write(str(os.getpid()))
    os.rename(pidfile + ".tmp", pidfile)
    time.sleep(120)
    os._exit(0)
while not os.path.exists(pidfile):
    time.sleep(0.01)
print("escaped", flush=True)
if then == "hang":
    time.sleep(120)
"""


@pytest.mark.parametrize("how", ["setsid", "double"])
@pytest.mark.parametrize("then", ["exit", "hang"])
def test_a_descendant_that_left_the_group_is_killed_with_the_tool(
    tmp_path: Path, how: str, then: str
) -> None:
    pidfile = tmp_path / "pid"
    result = run([sys.executable, "-c", ESCAPE, str(pidfile), how, then], timeout=2)
    assert result.stdout == "escaped\n" and result.timed_out == (then == "hang")
    # Killed before run() returned: no waiting needed (a zombie does not count).
    assert not alive(int(pidfile.read_text()))


def test_an_escaped_orphan_is_reaped_by_the_subreaper(tmp_path: Path) -> None:
    # In a child interpreter: becoming a subreaper changes the test process for good.
    code = f"""
import os, sys
from huskycat.core.process import become_subreaper, run
assert become_subreaper()
run([sys.executable, "-c", {ESCAPE!r}, {str(tmp_path / "pid")!r}, "double", "exit"])
pid = int(open({str(tmp_path / "pid")!r}).read())
# Reparented to us, killed and reaped: not even a zombie is left.
print(os.path.exists(f"/proc/{{pid}}"))
"""
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).parent.parent / "src")}
    proc = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=False,
    )
    assert (proc.returncode, proc.stdout) == (0, "False\n"), proc.stderr


def test_each_command_carries_its_own_mark() -> None:
    code = "import os; print(os.environ['HUSKYCAT_TOOL_CALL'])"
    first, second = (run([sys.executable, "-c", code]).stdout for _ in range(2))
    assert first != second and first.startswith(f"{os.getpid()}.")


def test_one_default_timeout_for_the_engine_and_the_command() -> None:
    from huskycat import planning
    from huskycat.core import parallel_executor, process

    assert parallel_executor.ParallelExecutor({}).timeout_per_tool == process.DEFAULT_TIMEOUT
    assert planning.DEFAULT_TIMEOUT is process.DEFAULT_TIMEOUT
