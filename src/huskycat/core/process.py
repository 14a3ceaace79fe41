"""Run one command so that it can always be killed: the only way tools start processes.

Every command runs the same way: an argv list (never a shell), stdin from /dev/null, a
process group of its own (so the command and everything it starts can be signalled as
one), stdout and stderr captured up to a size cap, and a deadline. At the deadline, or
when the run is cancelled, the whole group gets SIGTERM, then after :data:`KILL_GRACE`
seconds SIGKILL. When the command exits by itself, whatever it left behind in its group
is killed too, so no process started by a tool outlives it.

A descendant that leaves the group (``setsid``, a daemon's double fork) is found another
way: every command gets a variable of its own, ``HUSKYCAT_TOOL_CALL=<pid>.<n>``, in its
environment, which its descendants inherit. When the command ends or is stopped, every
process whose ``/proc/<pid>/environ`` carries that variable gets SIGKILL, until none is
left. :func:`become_subreaper` (``huskycat run`` calls it) makes huskycat, not init, the
parent of such orphans (Linux ``PR_SET_CHILD_SUBREAPER``), so that they are reaped
rather than left as zombies. Limits: only processes of our own user are seen (others'
``environ`` is unreadable), a descendant that clears its environment is not recognized,
and where ``/proc`` is missing (not Linux) only the group is killed.

The group is in huskycat's session, not a new one. Linux schedules each session as one
group ("autogroup") with an equal share of the CPUs: with a session per command, every
tool got the same share whatever its niceness (a niced tool off the critical path
slowed the one on it as much as an equal would), and a run competed with the rest of the
machine as several sessions rather than one. Not being the terminal's foreground group,
a command still gets no Ctrl-C of its own (huskycat gets it and stops the commands), and
stdin is /dev/null. Python 3.10 cannot start a process in a new group without a new
session; there each command gets a session of its own (:func:`_start`).

The deadline and the cancellation come from the :class:`RunContext` of the tool being
run, which the scheduler sets in a context variable before it calls the tool: a tool
calls :func:`run` and never passes its deadline along. ::

    scheduler thread                     worker thread
    ----------------                     -------------
    ctx = RunContext(deadline)  ----->   with ctx.active(): tool()
                                             run(argv) -> registers its Popen in ctx
    at the deadline / fail-fast:             waits on pipes, pidfd, ctx wake-up pipe
    ctx.cancel()   ------------------>       wakes, TERM -> grace -> KILL the group
    ctx.kill_all() (bounded by grace)        returns a ProcessResult(cancelled=True)
"""

from __future__ import annotations

import contextlib
import contextvars
import itertools
import os
import selectors
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import TypeVar

T = TypeVar("T")

# Seconds a tool may run, for the engine and the command alike (the one default: the
# executor's ``timeout_per_tool`` and planning both take it from here).
DEFAULT_TIMEOUT = 300.0
KILL_GRACE = 2.0  # seconds between SIGTERM and SIGKILL
OUTPUT_LIMIT = 16 * 1024 * 1024  # bytes kept per stream; the rest is counted and dropped
_READ_SIZE = 65536
_POLL_INTERVAL = 0.05  # only where pidfd_open is missing
_MAX_WAIT = 3600.0  # seconds per select(); a far deadline (1e300) would overflow it
MARKER = "HUSKYCAT_TOOL_CALL"  # environment variable marking a command's descendants
_PR_SET_CHILD_SUBREAPER = 36  # from <linux/prctl.h>
_SWEEP_ROUNDS = 20  # a process may fork while we kill: look again, this many times at most
_calls = itertools.count(1)
# pid of each running command -> the marker value its descendants carry
_MARKS: dict[int, str] = {}


class Cancelled(Exception):
    """Raised by :func:`check_cancelled` in a tool whose run was cancelled."""


class RunContext:
    """The deadline and cancellation of one tool call, and the processes it started.

    Created by the scheduler; shared by the scheduler thread (cancel, kill_all) and the
    worker thread running the tool (register, unregister), hence the lock.
    """

    # One is made per tool call: slots, and no list until a command finished, keep the
    # garbage collector's work flat on runs of a hundred thousand tools.
    __slots__ = (
        "_cancelled",
        "_event",
        "_finished",
        "_lock",
        "_procs",
        "_wake_r",
        "_wake_w",
        "cancel_reason",
        "deadline",
        "kill_grace",
        "nice",
    )

    def __init__(
        self, deadline: float | None = None, *, kill_grace: float = KILL_GRACE, nice: int = 0
    ) -> None:
        self.deadline = deadline  # time.monotonic() value, or None for no deadline
        self.kill_grace = kill_grace
        # Added to the CPU niceness of the commands the tool starts: the scheduler lowers
        # tools off the critical path so that the longest chain gets the CPUs first.
        self.nice = nice
        self._cancelled = False
        self._event: threading.Event | None = None  # made only if a tool waits on it
        self.cancel_reason = ""
        self._lock = threading.Lock()
        # Each running command with its output buffers, read live for a timeout's output.
        self._procs: dict[subprocess.Popen[bytes], tuple[bytearray, ...]] = {}
        self._wake_r = -1
        self._wake_w = -1
        self._finished: tuple[ProcessResult, ...] = ()

    # --- used by the scheduler -------------------------------------------------------
    def cancel(self, reason: str = "cancelled") -> None:
        """Ask the tool to stop: wake its waits and SIGTERM every process it started."""
        with self._lock:
            if self._cancelled:
                return
            self.cancel_reason = reason
            self._cancelled = True
            if self._event is not None:
                self._event.set()
            if self._wake_w >= 0:
                with contextlib.suppress(OSError):
                    os.write(self._wake_w, b"x")
            procs = list(self._procs)
        for proc in procs:
            _signal_group(proc, signal.SIGTERM)

    def kill_all(self, grace: float | None = None) -> None:
        """After :meth:`cancel`: wait up to the grace period, then SIGKILL what is left."""
        grace = self.kill_grace if grace is None else grace
        end = time.monotonic() + grace
        with self._lock:
            procs = list(self._procs)
        for proc in procs:
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(max(0.0, end - time.monotonic()))
            _kill_all_of(proc)

    # --- used by the worker thread -----------------------------------------------------
    @contextlib.contextmanager
    def active(self) -> Iterator[RunContext]:
        """Make this the current context of the calling thread while a tool runs."""
        token = _CURRENT.set(self)
        try:
            yield self
        finally:
            _CURRENT.reset(token)
            self._close_wakeup()

    def call(self, fn: Callable[[], T]) -> T:
        """``fn()`` with this as the current context (what :meth:`active` does, faster)."""
        token = _CURRENT.set(self)
        try:
            return fn()
        finally:
            _CURRENT.reset(token)
            if self._wake_r >= 0:
                self._close_wakeup()

    @property
    def cancelled(self) -> bool:
        """Whether :meth:`cancel` was called."""
        return self._cancelled

    def process_groups(self) -> list[int]:
        """The process groups of the commands still running (each is its own group):
        what a distributed worker's reaper kills if the worker dies."""
        with self._lock:
            return [proc.pid for proc in self._procs]

    def has_processes(self) -> bool:
        """Whether a command this tool started is still being waited on."""
        with self._lock:
            return bool(self._procs)

    def captured_output(self) -> str:
        """The output of the commands this tool ran so far, in order."""
        with self._lock:
            texts = [r.output for r in self._finished]
            for bufs in self._procs.values():  # still running: what it printed so far
                texts.extend(bytes(b).decode("utf-8", "replace") for b in bufs)
        return "".join(t if t.endswith("\n") else t + "\n" for t in texts if t)

    def raise_priority(self) -> None:
        """Give up the added niceness (the tool is now on the critical path): the commands
        it starts from now on run at ours, and so do the running ones where the system
        lets a process lower a niceness (root, or a raised RLIMIT_NICE); elsewhere they
        keep theirs."""
        with self._lock:
            if not self.nice:
                return
            self.nice = 0
            procs = list(self._procs)
        with contextlib.suppress(OSError):
            base = os.getpriority(os.PRIO_PROCESS, 0)
            for proc in procs:  # each leads a group with the processes it started
                with contextlib.suppress(OSError):
                    os.setpriority(os.PRIO_PGRP, proc.pid, base)

    def cpu_seconds(self) -> float | None:
        """CPU seconds of the commands this tool ran to their end (with their children);
        None when it ran none, or any of them is unknown."""
        with self._lock:
            done = self._finished
        if not done or any(r.cpu is None for r in done):
            return None
        return sum(r.cpu or 0.0 for r in done)

    def remaining(self) -> float | None:
        """Seconds left before the deadline (never negative), or None."""
        if self.deadline is None:
            return None
        return max(0.0, self.deadline - time.monotonic())

    def wait(self, seconds: float) -> bool:
        """Sleep up to ``seconds``, waking early on cancellation; True if cancelled."""
        with self._lock:
            if self._event is None:
                self._event = threading.Event()
                if self._cancelled:
                    self._event.set()
            event = self._event
        return event.wait(seconds)

    def _wakeup_fd(self) -> int:
        with self._lock:
            if self._wake_r < 0:
                self._wake_r, self._wake_w = os.pipe()
                os.set_blocking(self._wake_r, False)
                if self._cancelled:
                    os.write(self._wake_w, b"x")
            return self._wake_r

    def _register(self, proc: subprocess.Popen[bytes], bufs: tuple[bytearray, ...]) -> None:
        with self._lock:
            self._procs[proc] = bufs
            cancelled = self._cancelled
        if cancelled:  # cancel() ran between Popen and here
            _signal_group(proc, signal.SIGTERM)

    def _unregister(self, proc: subprocess.Popen[bytes], result: ProcessResult | None) -> None:
        with self._lock:
            self._procs.pop(proc, None)
            if result is not None:
                self._finished = (*self._finished, result)

    def _close_wakeup(self) -> None:
        if self._wake_r < 0:
            return
        with self._lock:
            for fd in (self._wake_r, self._wake_w):
                if fd >= 0:
                    with contextlib.suppress(OSError):
                        os.close(fd)
            self._wake_r = self._wake_w = -1


_CURRENT: contextvars.ContextVar[RunContext | None] = contextvars.ContextVar(
    "huskycat_run_context", default=None
)


def current_context() -> RunContext | None:
    """The RunContext of the tool running in this thread, if any."""
    return _CURRENT.get()


def check_cancelled() -> None:
    """Raise :class:`Cancelled` if the current tool's run was cancelled."""
    ctx = _CURRENT.get()
    if ctx is not None and ctx.cancelled:
        raise Cancelled(ctx.cancel_reason)


@dataclass(frozen=True)
class ProcessResult:
    """How one command ended. ``returncode`` is negative for a signal, as in subprocess."""

    argv: tuple[str, ...]
    returncode: int
    stdout: str
    stderr: str
    duration: float
    timed_out: bool = False
    cancelled: bool = False
    truncated: bool = False  # output past OUTPUT_LIMIT was dropped
    # CPU seconds of the command and the children it waited for; None when unknown (it
    # was stopped, or there is no /proc to read it from).
    cpu: float | None = None

    @property
    def output(self) -> str:
        """stdout then stderr, for showing to a person."""
        if self.stdout and self.stderr:
            sep = "" if self.stdout.endswith("\n") else "\n"
            return self.stdout + sep + self.stderr
        return self.stdout or self.stderr


def run(
    argv: Sequence[str],
    *,
    cwd: str | os.PathLike[str] | None = None,
    env: Mapping[str, str] | None = None,
    timeout: float | None = None,
    output_limit: int = OUTPUT_LIMIT,
) -> ProcessResult:
    """Run ``argv`` to completion, its deadline or its cancellation, whichever comes first.

    The deadline is the earlier of ``timeout`` (seconds from now) and the current tool's
    deadline. A missing executable raises ``FileNotFoundError`` as subprocess does.
    """
    argv = tuple(str(a) for a in argv)
    if not argv:
        raise ValueError("run() needs a command: argv is empty")
    ctx = _CURRENT.get()
    start = time.monotonic()
    deadline = start + timeout if timeout is not None else None
    if ctx is not None and ctx.deadline is not None:
        deadline = ctx.deadline if deadline is None else min(deadline, ctx.deadline)
    if ctx is not None and ctx.cancelled:
        return ProcessResult(argv, -signal.SIGTERM, "", "", 0.0, cancelled=True)

    mark = f"{os.getpid()}.{next(_calls)}"
    proc = _start(argv, cwd, {**(os.environ if env is None else env), MARKER: mark})
    _MARKS[proc.pid] = mark
    assert proc.stdout is not None and proc.stderr is not None
    bufs = {proc.stdout.fileno(): bytearray(), proc.stderr.fileno(): bytearray()}
    if ctx is not None:
        if ctx.nice:
            # Right after the fork, before the command has started anything of its own
            # (its children inherit it). Not preexec_fn: that is unsafe with threads.
            with contextlib.suppress(OSError):
                mine = os.getpriority(os.PRIO_PROCESS, 0)
                os.setpriority(os.PRIO_PROCESS, proc.pid, min(19, mine + ctx.nice))
        ctx._register(proc, tuple(bufs.values()))
    result: ProcessResult | None = None
    cpu: float | None = None
    try:
        stop = _wait(proc, bufs, ctx, deadline, output_limit)
        if stop:
            _terminate(proc, ctx.kill_grace if ctx is not None else KILL_GRACE)
        else:
            cpu = _cpu_of_exited(proc.pid)  # before wait() reaps it and its /proc entry
            proc.wait()
            # The command is gone; anything it left running goes with it.
            _kill_all_of(proc)
        truncated = _drain(bufs, output_limit)
        out, err = bufs.values()
        result = ProcessResult(
            argv,
            proc.returncode if proc.returncode is not None else -signal.SIGKILL,
            out.decode("utf-8", "replace"),
            err.decode("utf-8", "replace"),
            time.monotonic() - start,
            timed_out=stop == "timeout",
            cancelled=stop == "cancelled",
            truncated=truncated,
            cpu=None if stop else cpu,
        )
    finally:
        if result is None:  # an exception (KeyboardInterrupt) while waiting
            _terminate(proc, 0.0)
        _MARKS.pop(proc.pid, None)
        if ctx is not None:
            ctx._unregister(proc, result)
        proc.stdout.close()
        proc.stderr.close()
    return result


def _cpu_of_exited(pid: int) -> float | None:
    """CPU seconds of a command that exited but is not reaped yet (a zombie keeps its
    ``/proc/<pid>/stat``): its own user and system time and its waited-for children's
    (a tool's worker processes). None where it cannot be read."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as stat:
            text = stat.read()
        # Fields 14 to 17 (utime, stime, cutime, cstime) in clock ticks; the command
        # name before them may hold spaces and parentheses.
        fields = text[text.rindex(b")") + 2 :].split()
        return sum(int(f) for f in fields[11:15]) / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):
        return None


def _start(
    argv: Sequence[str], cwd: str | os.PathLike[str] | None, env: Mapping[str, str]
) -> subprocess.Popen[bytes]:
    """Popen ``argv`` as the leader of a new process group: in our session where Python
    can (3.11+: setpgid in the child), else in a session of its own (see the module
    docstring)."""
    null, pipe = subprocess.DEVNULL, subprocess.PIPE
    if sys.version_info >= (3, 11):
        return subprocess.Popen(
            argv, cwd=cwd, env=env, stdin=null, stdout=pipe, stderr=pipe, process_group=0
        )
    return subprocess.Popen(
        argv, cwd=cwd, env=env, stdin=null, stdout=pipe, stderr=pipe, start_new_session=True
    )


def _wait(
    proc: subprocess.Popen[bytes],
    bufs: dict[int, bytearray],
    ctx: RunContext | None,
    deadline: float | None,
    limit: int,
) -> str:
    """Read both pipes until the command exits, times out or is cancelled.

    Returns "" when the command exited by itself, else "timeout" or "cancelled". Exit is
    seen through a pidfd, not through pipe EOF, so a grandchild holding the pipes open
    cannot hang us. Output past ``limit`` is read and dropped (one byte over the limit
    is kept as the marker that output was truncated).
    """
    pidfd = -1
    sel = selectors.DefaultSelector()
    try:
        for fd in bufs:
            os.set_blocking(fd, False)
            sel.register(fd, selectors.EVENT_READ)
        if hasattr(os, "pidfd_open"):
            with contextlib.suppress(OSError):
                pidfd = os.pidfd_open(proc.pid)
                sel.register(pidfd, selectors.EVENT_READ)
        wake = ctx._wakeup_fd() if ctx is not None else -1
        if wake >= 0:
            sel.register(wake, selectors.EVENT_READ)
        open_pipes = len(bufs)
        exited = False
        while True:
            if ctx is not None and ctx.cancelled:
                return "cancelled"
            if exited:
                return ""  # what is still in the pipes is drained by the caller
            if open_pipes == 0 and pidfd < 0 and proc.poll() is not None:
                return ""
            wait: float | None = None
            if deadline is not None:
                wait = deadline - time.monotonic()
                if wait <= 0:
                    return "timeout"
                wait = min(wait, _MAX_WAIT)
            if pidfd < 0:
                wait = _POLL_INTERVAL if wait is None else min(wait, _POLL_INTERVAL)
            for key, _ in sel.select(wait):
                fd = int(key.fd)
                if fd == pidfd:
                    exited = True
                elif fd != wake:
                    try:
                        chunk = os.read(fd, _READ_SIZE)
                    except BlockingIOError:
                        continue
                    if chunk:
                        _keep(bufs[fd], chunk, limit)
                    else:
                        sel.unregister(fd)
                        open_pipes -= 1
    finally:
        sel.close()
        if pidfd >= 0:
            os.close(pidfd)


def _keep(buf: bytearray, chunk: bytes, limit: int) -> None:
    room = limit + 1 - len(buf)
    if room > 0:
        buf += chunk[:room]


def _drain(bufs: dict[int, bytearray], limit: int) -> bool:
    """Take what is already in the pipes without waiting for more; trim to the limit."""
    for fd, buf in bufs.items():
        while True:
            try:
                chunk = os.read(fd, _READ_SIZE)
            except OSError:  # BlockingIOError: a grandchild keeps the pipe open
                break
            if not chunk:
                break
            _keep(buf, chunk, limit)
    truncated = False
    for buf in bufs.values():
        if len(buf) > limit:
            del buf[limit:]
            truncated = True
    return truncated


def _terminate(proc: subprocess.Popen[bytes], grace: float) -> None:
    """SIGTERM the group, wait out the grace period, SIGKILL the group, reap."""
    _signal_group(proc, signal.SIGTERM)
    try:
        proc.wait(grace)
    except subprocess.TimeoutExpired:
        pass
    _kill_all_of(proc)
    proc.wait()


def _signal_group(proc: subprocess.Popen[bytes], sig: int) -> None:
    # _start made the command a group leader: its pid is the group id.
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, sig)


def _kill_all_of(proc: subprocess.Popen[bytes]) -> None:
    """SIGKILL the command's group and every descendant that left it (see the module's
    docstring)."""
    _signal_group(proc, signal.SIGKILL)
    mark = _MARKS.get(proc.pid)
    if mark is not None:
        kill_marked(mark, since=proc.pid)


def kill_marked(mark: str, *, since: int = 0) -> int:
    """SIGKILL every process of ours whose environment has ``MARKER=mark``, and reap those
    that are our children; returns how many were killed.

    ``since``: the pid of the command that started them. Its descendants were born after
    it, so only pids above it are read, unless pids wrapped around since (then all are).
    """
    needle = f"{MARKER}={mark}".encode()
    me = os.getpid()
    killed: set[int] = set()
    for _ in range(_SWEEP_ROUNDS):
        found = [pid for pid in _marked(needle, since) if pid != me]
        if not found:
            break
        for pid in found:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(pid, signal.SIGKILL)
            killed.add(pid)
        # Not a command still being waited on: its Popen reaps it, and must see its code.
        _reap([pid for pid in found if pid not in _MARKS])
    return len(killed)


def _marked(needle: bytes, since: int) -> list[int]:
    try:
        names = os.listdir("/proc")
    except OSError:  # no /proc: only the group is killed
        return []
    # Reading every process's environment costs ~40 µs each; most are older than the
    # command. The last pid handed out tells whether numbering wrapped around since.
    try:
        with open("/proc/sys/kernel/ns_last_pid", "rb") as last:
            wrapped = int(last.read()) < since
    except (OSError, ValueError):
        wrapped = True
    lowest = 0 if wrapped else since
    found = []
    for name in names:
        if not name.isdigit() or int(name) < lowest:
            continue
        try:
            with open(f"/proc/{name}/environ", "rb") as env:
                data = env.read()
        except OSError:  # gone, or someone else's
            continue
        # Variables are NUL-separated: match a whole one, not a prefix of a longer mark.
        if (b"\0" + needle + b"\0") in (b"\0" + data + b"\0"):
            found.append(int(name))
    return found


def _reap(pids: Sequence[int]) -> None:
    """Wait for those of ``pids`` that are our children (orphans we are the subreaper
    of), so that they do not stay zombies; briefly, SIGKILL is prompt."""
    end = time.monotonic() + KILL_GRACE
    waiting = list(pids)
    while waiting and time.monotonic() < end:
        left = []
        for pid in waiting:
            try:
                done, _ = os.waitpid(pid, os.WNOHANG)
            except ChildProcessError:  # not ours: its own parent reaps it
                continue
            if done == 0:
                left.append(pid)
        waiting = left
        if waiting:
            time.sleep(0.005)


def ignore_terminal_stops() -> bool:
    """Ignore SIGTTIN and SIGTTOU, in this process and (inherited through exec) in the
    commands it starts: a command is not in the terminal's foreground group, so one that
    reads the terminal (``/dev/tty``) would be stopped until its deadline; ignored, its
    read fails at once (EIO) and it says so. Call from the main thread (False
    elsewhere, or where the platform has no such signals)."""
    import threading

    if threading.current_thread() is not threading.main_thread():
        return False
    names = ("SIGTTIN", "SIGTTOU")
    if not all(hasattr(signal, n) for n in names):
        return False
    for name in names:
        signal.signal(getattr(signal, name), signal.SIG_IGN)
    return True


def become_subreaper() -> bool:
    """Make this process the parent of its descendants' orphans (Linux 3.4+), so that a
    tool's child that double-forks is reparented to huskycat instead of init, where
    :func:`kill_marked` can reap it. False where the platform has no such thing."""
    import ctypes
    import sys

    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        return int(libc.prctl(_PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)) == 0
    except (OSError, AttributeError):
        return False
