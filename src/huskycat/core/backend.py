"""Where tools run: the small interface the scheduler submits to, and the thread backend.

The whole contract is ``concurrent.futures``'s: ``submit(fn, *args) -> Future``. Two
additions let the scheduler walk away from a call that overran its deadline
(``abandon``) and end a run (``shutdown``). ``submit`` also receives the name of the
call (a distributed engine uses it in its task key) and its weight (the slots it
takes); the thread backend ignores both. A distributed engine plugs in by implementing
these three methods (:mod:`huskycat.core.dask_backend`); the scheduler does not change.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable
from concurrent.futures import Future
from typing import Any, Protocol, TypeVar

T = TypeVar("T")


class Backend(Protocol):
    """What the scheduler needs from an execution engine."""

    def submit(
        self, fn: Callable[..., T], /, *args: Any, name: str = "", weight: int = 1
    ) -> Future[T]:
        """Start ``fn(*args)``; the scheduler never submits more than its slots allow.
        ``name`` says which tool (or shard) the call is; ``weight`` how many slots it
        takes."""
        ...

    def abandon(self, future: Future[Any]) -> None:
        """The scheduler will not wait for this call (it overran its deadline or was
        cancelled); it must not keep a worker from later calls."""
        ...

    def shutdown(self, *, cancel_futures: bool = False) -> None:
        """End the run without waiting for abandoned calls."""
        ...


_Item = tuple[Future[Any], Callable[..., Any], tuple[Any, ...]]


class ThreadBackend:
    """Runs calls on daemon worker threads fed from one queue.

    Why not ``ThreadPoolExecutor``: a Python thread cannot be killed, and
    ``ThreadPoolExecutor`` joins its (non-daemon) workers when the interpreter exits, so
    one abandoned call that never returns would keep the program from exiting after
    ``execute_tools`` has returned. Here workers are daemon threads, and ``abandon``
    starts a replacement worker so that the stuck one costs no capacity. The scheduler
    bounds how many calls run at once; this class only provides the threads. Futures are
    ``concurrent.futures.Future`` objects, driven through their public API.
    """

    def __init__(self, max_workers: int) -> None:
        if max_workers < 1:
            raise ValueError(f"max_workers must be at least 1, got {max_workers!r}")
        self._queue: queue.SimpleQueue[_Item | None] = queue.SimpleQueue()
        self._wanted = max_workers
        self._threads: list[threading.Thread] = []
        self._closed = False

    def submit(
        self, fn: Callable[..., T], /, *args: Any, name: str = "", weight: int = 1
    ) -> Future[T]:
        del name, weight  # every thread takes any call; the scheduler counts the slots
        if self._closed:
            raise RuntimeError("submit() after shutdown()")
        future: Future[T] = Future()
        self._queue.put((future, fn, args))
        if len(self._threads) < self._wanted:
            self._start_worker()
        return future

    def abandon(self, future: Future[Any]) -> None:
        if future.cancel() or future.done():
            return
        self._wanted += 1  # its worker is stuck in the call: add one
        if not self._closed:
            self._start_worker()

    def shutdown(self, *, cancel_futures: bool = False) -> None:
        self._closed = True
        if cancel_futures:
            while True:
                try:
                    item = self._queue.get_nowait()
                except queue.Empty:
                    break
                if item is not None:
                    item[0].cancel()
        for _ in self._threads:
            self._queue.put(None)

    def _start_worker(self) -> None:
        thread = threading.Thread(
            target=_work, args=(self._queue,), name="huskycat-worker", daemon=True
        )
        thread.start()
        self._threads.append(thread)


def _work(items: queue.SimpleQueue[_Item | None]) -> None:
    while True:
        item = items.get()
        if item is None:
            return
        future, fn, args = item
        del item
        if not future.set_running_or_notify_cancel():
            continue
        try:
            result = fn(*args)
        # Handed to the future, as ThreadPoolExecutor does.
        except BaseException as exc:  # noqa: BLE001
            future.set_exception(exc)
        else:
            future.set_result(result)
        del future, fn, args
