"""Signals that must not end huskycat outright.

SIGTERM (a CI job cancelled) and SIGHUP (the terminal closed) would, left to their
default, kill huskycat at once: its tools, each in a session of their own, would keep
running, and files set aside by staged mode would stay set aside. While it matters, they
raise :class:`Terminated` instead, a ``KeyboardInterrupt``, so that the engine kills every
tool's processes and the staged-mode block puts the files back, exactly as for Ctrl-C.

A second signal must not interrupt that clean-up (a user pressing Ctrl-C twice, a CI
runner sending SIGTERM then SIGINT): under :func:`interrupted_once`, the whole of a
command, only the first SIGINT, SIGTERM or SIGHUP raises; later ones are noted and
dropped, and the command ends as for one interrupt.
"""

from __future__ import annotations

import contextlib
import signal
import threading
from collections.abc import Iterator
from types import FrameType

TERMINATING = tuple(getattr(signal, n) for n in ("SIGTERM", "SIGHUP") if hasattr(signal, n))


class Terminated(KeyboardInterrupt):
    """SIGTERM or SIGHUP arrived; stopped like Ctrl-C. ``signum`` says which."""

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum

    def __str__(self) -> str:
        return f"terminated by {signal.Signals(self.signum).name}"


class _Once:
    """The handler of :func:`interrupted_once`: raises for the first signal only."""

    def __init__(self) -> None:
        self.first: int | None = None
        self.later = 0

    def __call__(self, signum: int, frame: FrameType | None) -> None:
        if self.first is not None:
            self.later += 1  # the first one's clean-up is under way: let it finish
            return
        self.first = signum
        if signum == signal.SIGINT:
            raise KeyboardInterrupt
        raise Terminated(signum)


@contextlib.contextmanager
def interrupted_once() -> Iterator[None]:
    """For the block (a whole command): SIGINT raises ``KeyboardInterrupt``, SIGTERM and
    SIGHUP :class:`Terminated`, the first time only; a later one, while the first is being
    handled (processes killed, files put back), does nothing. Handlers someone else set,
    and SIG_IGN (``nohup``), are kept. Main thread only."""
    if not _main_thread():
        yield
        return
    once = _Once()
    previous = {}
    for sig in (signal.SIGINT, *TERMINATING):
        handler = signal.getsignal(sig)
        if handler in (signal.SIG_DFL, signal.default_int_handler):
            previous[sig] = signal.signal(sig, once)
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def _main_thread() -> bool:
    return threading.current_thread() is threading.main_thread()


@contextlib.contextmanager
def terminate_raises() -> Iterator[None]:
    """SIGTERM and SIGHUP raise :class:`Terminated` in the block (main thread only: only
    it may set handlers). A handler someone else set, or SIG_IGN, is kept."""
    if not _main_thread():
        yield
        return

    def terminate(signum: int, frame: FrameType | None) -> None:
        raise Terminated(signum)

    previous = {}
    for sig in TERMINATING:
        if signal.getsignal(sig) is signal.SIG_DFL:
            previous[sig] = signal.signal(sig, terminate)
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


@contextlib.contextmanager
def signals_deferred() -> Iterator[None]:
    """Hold SIGINT, SIGTERM and SIGHUP during the block (files being swapped); deliver
    them after it."""
    if not _main_thread():
        yield
        return
    pending: list[int] = []

    def hold(signum: int, frame: FrameType | None) -> None:
        pending.append(signum)

    previous = {}
    for sig in (signal.SIGINT, *TERMINATING):
        handler = signal.getsignal(sig)
        if handler is not signal.SIG_IGN and handler is not None:
            previous[sig] = signal.signal(sig, hold)
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        for sig in dict.fromkeys(pending):
            signal.raise_signal(sig)
