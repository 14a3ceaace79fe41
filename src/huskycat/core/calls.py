"""What a worker thread does with one tool, and how an exception becomes a result.

Workers only call the tool and hand back a :class:`Returned`; turning that into a
:class:`ToolResult` happens in the scheduler's loop.
"""

from __future__ import annotations

import dataclasses
import time
import traceback
from collections.abc import Callable
from typing import NamedTuple

from huskycat.core.process import Cancelled, RunContext
from huskycat.core.results import (
    OUTCOME_ERROR,
    SKIP_FAIL_FAST,
    ToolResult,
    ToolStatus,
)


class Returned(NamedTuple):
    """What a worker hands back: the value or the exception, and how long the call took.

    ``notes`` are what the backend has to say about the call (a distributed one: the
    worker that died while running it, and the retry); they end up in the result."""

    value: object
    error: BaseException | None
    traceback: str
    duration: float
    notes: tuple[str, ...] = ()


def call(fn: Callable[[], object], ctx: RunContext) -> Returned:
    """Run one tool (or shard) in a worker thread; report, never raise."""
    start = time.perf_counter()
    try:
        value = ctx.call(fn)
    except BaseException as exc:  # noqa: BLE001 - a tool's crash is a result, even SystemExit
        return Returned(None, exc, traceback.format_exc(), time.perf_counter() - start)
    return Returned(value, None, "", time.perf_counter() - start)


def error_result(name: str, returned: Returned) -> ToolResult:
    """The result of a tool that raised: TimeoutError is TIMEOUT, a cancellation is a
    fail-fast skip, anything else FAILED with the traceback as output."""
    exc = returned.error
    assert exc is not None
    if isinstance(exc, TimeoutError):
        return ToolResult(
            name,
            False,
            returned.duration,
            output=str(getattr(exc, "output", "") or returned.traceback),
            status=ToolStatus.TIMEOUT,
            error_message=f"{type(exc).__name__}: {exc}" if str(exc) else "timed out",
        )
    if isinstance(exc, Cancelled):
        return ToolResult(
            name,
            False,
            returned.duration,
            status=ToolStatus.SKIPPED,
            error_message=f"cancelled: {exc}",
            metadata={"skip_reason": SKIP_FAIL_FAST},
        )
    return ToolResult(
        name,
        False,
        returned.duration,
        output=returned.traceback,
        status=ToolStatus.FAILED,
        error_message=f"{type(exc).__name__}: {exc}",
        metadata={"outcome": OUTCOME_ERROR, "exception": type(exc).__name__},
    )


def with_notes(result: ToolResult, notes: tuple[str, ...]) -> ToolResult:
    """``result`` with the backend's notes in its metadata and before its output."""
    if not notes:
        return result
    lines = "".join(f"huskycat: {note}\n" for note in notes)
    return dataclasses.replace(
        result,
        metadata={**result.metadata, "backend_notes": list(notes)},
        output=lines + result.output,
    )
