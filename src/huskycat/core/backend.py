"""Where tools run: the small interface the scheduler submits to, and the thread backend.

The whole contract is ``concurrent.futures``'s: ``submit(fn, *args) -> Future``. Two
additions let the scheduler walk away from a call that overran its deadline
(``abandon``) and end a run (``shutdown``). A distributed engine plugs in by
implementing these three methods; the scheduler does not change.
"""

from __future__ import annotations

import concurrent.futures.thread as _cf_thread
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any, Protocol, TypeVar

T = TypeVar("T")


class Backend(Protocol):
    """What the scheduler needs from an execution engine."""

    def submit(self, fn: Callable[..., T], /, *args: Any) -> Future[T]:
        """Start ``fn(*args)``; the scheduler never submits more than its slots allow."""
        ...

    def abandon(self, future: Future[Any]) -> None:
        """The scheduler will not wait for this call (it overran its deadline or was
        cancelled); its worker must not keep a slot or hold up the interpreter's exit."""
        ...

    def shutdown(self, *, cancel_futures: bool = False) -> None:
        """End the run without waiting for abandoned calls."""
        ...


class ThreadBackend:
    """Runs tools on a :class:`ThreadPoolExecutor` sized to the scheduler's slots.

    A Python thread cannot be killed, so a call that overran its deadline keeps its
    thread. ``abandon`` moves later submissions to a fresh pool (the scheduler has
    already freed the slot) and detaches the stuck thread from the interpreter's exit
    handler, so that neither later tools nor the exit of the program wait for it.
    """

    def __init__(self, max_workers: int) -> None:
        self._max_workers = max_workers
        self._pool = self._new_pool()
        self._old_pools: list[ThreadPoolExecutor] = []
        # Which thread runs which call, to detach it if the call is abandoned.
        self._threads: dict[object, threading.Thread] = {}
        self._tokens: dict[Future[Any], object] = {}

    def _new_pool(self) -> ThreadPoolExecutor:
        return ThreadPoolExecutor(self._max_workers, thread_name_prefix="huskycat-worker")

    def submit(self, fn: Callable[..., T], /, *args: Any) -> Future[T]:
        threads = self._threads
        token = object()

        def call() -> T:
            threads[token] = threading.current_thread()
            try:
                return fn(*args)
            finally:
                threads.pop(token, None)

        future = self._pool.submit(call)
        self._tokens[future] = token
        future.add_done_callback(self._tokens_pop)
        return future

    def _tokens_pop(self, future: Future[Any]) -> None:
        self._tokens.pop(future, None)

    def abandon(self, future: Future[Any]) -> None:
        if future.cancel() or future.done():
            return
        thread = self._threads.get(self._tokens.get(future))
        self._old_pools.append(self._pool)
        self._pool.shutdown(wait=False)
        self._pool = self._new_pool()
        if thread is not None:
            # concurrent.futures joins every worker thread at exit; an abandoned call may
            # never return, so take its thread off that list (private, hence guarded).
            queues = getattr(_cf_thread, "_threads_queues", None)
            if queues is not None:
                queues.pop(thread, None)

    def shutdown(self, *, cancel_futures: bool = False) -> None:
        self._pool.shutdown(wait=False, cancel_futures=cancel_futures)
        for pool in self._old_pools:
            pool.shutdown(wait=False, cancel_futures=cancel_futures)
