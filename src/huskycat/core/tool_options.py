"""What the engine is told about one tool beyond its callable: one frozen record per tool.

:class:`ParallelExecutor <huskycat.core.parallel_executor.ParallelExecutor>` takes
``tool_options={name: ToolOptions(...)}`` in place of one dictionary per property keyed by
name (``tool_timeouts``, ``tool_resources``, ``expected_durations``; the seed's keyword
arguments still work, and a record's field, when set, wins over them).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass


@dataclass(frozen=True, kw_only=True)
class ToolOptions:
    """``timeout``: seconds before the tool is TIMEOUT (None: the executor's
    ``timeout_per_tool``); ``weight``: worker slots it takes (None: 1);
    ``expected_duration``: seconds, for priorities and estimates (None: measured or 1)."""

    timeout: float | None = None
    weight: int | None = None
    expected_duration: float | None = None


def split_options(
    options: Mapping[str, ToolOptions],
) -> tuple[dict[str, float], dict[str, int], dict[str, float]]:
    """The records as the executor's three maps (timeouts, weights, expected durations),
    each holding only the tools whose field is set."""
    timeouts = {n: o.timeout for n, o in options.items() if o.timeout is not None}
    weights = {n: o.weight for n, o in options.items() if o.weight is not None}
    expected = {
        n: o.expected_duration for n, o in options.items() if o.expected_duration is not None
    }
    return timeouts, weights, expected
