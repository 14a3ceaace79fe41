"""How many CPUs a process tree left unused, whatever else runs on the machine.

On a shared machine a run's wall time says how much of the CPUs it got; whether the run
itself left a CPU unused (none of its threads ready to run) says how well it schedules.
:class:`Sampler` looks, every :data:`INTERVAL` seconds, at how many threads of the tree
are runnable (state R: running, or waiting for a CPU another program holds) and adds up
``max(0, cpus - runnable) * interval`` over the run: the CPU-seconds the run left idle,
split by whether the root process had any descendant then (a tool, git) or was alone
(its own start-up, planning and reports). Linux only (``/proc``); elsewhere it reports
nothing. Sampling reads a few small ``/proc`` files ten times a second, in a thread of
the benchmark (its CPU time is not the run's).
"""

from __future__ import annotations

import os
import threading
import time
from dataclasses import dataclass

INTERVAL = 0.1  # seconds between samples


@dataclass(frozen=True)
class Idle:
    """CPU-seconds a run left unused: while it had processes of its own running (tools),
    and while its root process was alone; with how many samples they rest on."""

    with_children: float
    alone: float
    samples: int

    @property
    def total(self) -> float:
        return self.with_children + self.alone

    def describe(self, cpus: int) -> str:
        return (
            f"{self.total:.2f} CPU-seconds with fewer than {cpus} of its threads runnable "
            f"({self.alone:.2f} while huskycat's process was alone: start-up, planning, "
            f"reports; {self.with_children:.2f} while tools ran; {self.samples} samples)"
        )


class Sampler:
    """Samples the tree of ``pid`` from :meth:`start` to :meth:`stop`."""

    def __init__(self, pid: int, cpus: int) -> None:
        self.pid = pid
        self.cpus = cpus
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)
        self._with_children = self._alone = 0.0
        self._samples = 0

    def start(self) -> Sampler:
        self._thread.start()
        return self

    def stop(self) -> Idle | None:
        self._stop.set()
        self._thread.join()
        if not self._samples:
            return None
        return Idle(self._with_children, self._alone, self._samples)

    def _loop(self) -> None:
        last = time.monotonic()
        while not self._stop.wait(INTERVAL):
            now = time.monotonic()
            seen = _runnable(self.pid)
            if seen is None:
                return  # no /proc, or the root is gone
            runnable, processes = seen
            idle = max(0, self.cpus - runnable) * (now - last)
            if processes > 1:
                self._with_children += idle
            else:
                self._alone += idle
            self._samples += 1
            last = now


def _runnable(root: int) -> tuple[int, int] | None:
    """(runnable threads, processes) of the tree of ``root``; None when it is gone."""
    runnable = processes = 0
    stack = [root]
    while stack:
        pid = stack.pop()
        try:
            tids = os.listdir(f"/proc/{pid}/task")
        except OSError:
            if pid == root:
                return None
            continue
        processes += 1
        for tid in tids:
            try:
                with open(f"/proc/{pid}/task/{tid}/stat", "rb") as stat:
                    text = stat.read()
                with open(f"/proc/{pid}/task/{tid}/children", "rb") as kids:
                    stack.extend(int(k) for k in kids.read().split())
            except OSError:
                continue  # the thread ended meanwhile
            # The state follows the command name, which may hold spaces and parentheses.
            if text[text.rindex(b")") + 2 : text.rindex(b")") + 3] == b"R":
                runnable += 1
    return runnable, processes
