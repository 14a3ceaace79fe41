"""No tool process outlives the worker process that started it, even a SIGKILLed one.

Tool commands run in their own sessions (so that a timeout kills a whole group), which
also means they survive their parent. A worker process therefore starts one small
reaper process that holds the read end of a pipe; the worker writes the process groups
of its running commands to the pipe whenever they change. When the worker dies, however
it dies, the pipe reaches end of file and the reaper SIGKILLs the last groups it was told.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
from collections.abc import Iterable

# Runs in the reaper: the last line read is the set of groups alive in the worker.
_SCRIPT = """
import os, signal, sys
groups = []
for line in sys.stdin:
    groups = [int(g) for g in line.split()]
for group in groups:
    try:
        os.killpg(group, signal.SIGKILL)
    except OSError:
        pass
"""


class Reaper:
    """One per worker process; :meth:`watch` tells it which groups to kill if we die."""

    def __init__(self) -> None:
        read, self._write = os.pipe()
        try:
            self._proc = subprocess.Popen(
                [sys.executable, "-c", _SCRIPT],
                stdin=read,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                start_new_session=True,  # a Ctrl-C to the worker's group must not end it first
                close_fds=True,
            )
        finally:
            os.close(read)
        self._told: frozenset[int] = frozenset()

    def watch(self, groups: Iterable[int]) -> None:
        """Kill these groups (and no others) if this process dies."""
        wanted = frozenset(groups)
        if wanted == self._told:
            return
        line = " ".join(str(g) for g in sorted(wanted)) + "\n"
        with contextlib.suppress(OSError):
            os.write(self._write, line.encode())
            self._told = wanted
