"""What a person sees while tools run, and the summary after.

Two views take the engine's :class:`~huskycat.core.results.ToolEvent` stream through
``handle(event)``; the scheduler loop calls them from its one thread:

- :class:`PlainView` writes one line per finished tool to any text stream (CI logs, git
  hooks), so the log reads in the order tools finished and never redraws.
- :class:`LiveView` redraws a table with one row per tool on a terminal (rich ``Live``):
  waiting, running for how long, and how each finished.

:func:`render_summary` then prints each failed or timed-out tool's output as one block,
the files that fixers changed, and a line of totals.

This is the only report module that imports rich; the CLI imports it only when it is
about to show something.
"""

from __future__ import annotations

import math
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from types import TracebackType
from typing import TYPE_CHECKING, Any, TextIO, cast

from huskycat.core.results import FINAL_STATUSES, ToolEvent, ToolResult, ToolStatus
from huskycat.report.describe import (
    Results,
    as_list,
    describe,
    diagnostic_line,
    is_cached,
    modified_files,
    plural,
    totals_text,
)
from huskycat.tools.facts import facts_of

if TYPE_CHECKING:
    from rich.console import Console, RenderableType
    from rich.live import Live
    from typing_extensions import Self

# Rich style of each status; PlainView maps the same names to ANSI codes.
STATUS_STYLE = {
    ToolStatus.PENDING: "dim",
    ToolStatus.RUNNING: "yellow",
    ToolStatus.SUCCESS: "green",
    ToolStatus.FAILED: "bold red",
    ToolStatus.TIMEOUT: "bold red",
    ToolStatus.SKIPPED: "dim",
}
_ANSI = {"dim": "\x1b[2m", "yellow": "\x1b[33m", "green": "\x1b[32m", "bold red": "\x1b[1;31m"}
_ANSI_RESET = "\x1b[0m"

# Tool names shorter than this still get a few leader dots: "ruff ........ passed".
MIN_NAME_WIDTH = 12
_MIN_DOTS = 3


def _duration(seconds: float) -> str:
    return f"{seconds:.2f}s"


def _finite_number(value: object) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return float(value) if math.isfinite(value) else None


def _outcome_text(result: ToolResult) -> str:
    """The status words of a finished tool, with its duration where that means something."""
    text = describe(result)
    if result.status in (ToolStatus.SUCCESS, ToolStatus.FAILED):
        text += f" {_duration(result.duration)}"
    if is_cached(result):
        text += " (cached)"
    return text


class PlainView:
    """One line per finished tool, written to ``stream`` as it finishes.

    ``verbosity`` < 0 writes only failed and timed-out tools; > 0 also writes a line when
    each tool starts. ``color`` adds ANSI colours to the status words.
    """

    def __init__(self, stream: TextIO, *, verbosity: int = 0, color: bool = False) -> None:
        self._stream = stream
        self._verbosity = verbosity
        self._color = color
        self._width = MIN_NAME_WIDTH

    def start(
        self, tool_names: Sequence[str] = (), skipped_before_run: Iterable[ToolResult] = ()
    ) -> None:
        """Optional: align the lines to the longest name and report tools already skipped."""
        skipped = list(skipped_before_run)
        names = [*tool_names, *(r.tool_name for r in skipped)]
        if names:
            self._width = max(MIN_NAME_WIDTH, max(len(n) for n in names) + _MIN_DOTS)
        if self._verbosity > 0 and tool_names:
            self._write(f"running {plural(len(tool_names), 'tool')}: {', '.join(tool_names)}\n")
        for result in skipped:
            self._write_result(result)

    def handle(self, event: ToolEvent) -> None:
        """Take one status change from the engine."""
        if event.status in FINAL_STATUSES and event.result is not None:
            self._write_result(event.result)
        elif event.status is ToolStatus.RUNNING and self._verbosity > 0:
            self._write_line(event.tool_name, "running", ToolStatus.RUNNING)

    def stop(self) -> None:
        """Flush the stream; there is nothing else to tidy."""
        self._stream.flush()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def _write_result(self, result: ToolResult) -> None:
        if self._verbosity < 0 and result.status not in (ToolStatus.FAILED, ToolStatus.TIMEOUT):
            return
        self._write_line(result.tool_name, _outcome_text(result), result.status)

    def _write_line(self, name: str, text: str, status: ToolStatus) -> None:
        dots = "." * max(_MIN_DOTS, self._width - len(name))
        if self._color:
            text = f"{_ANSI[STATUS_STYLE[status]]}{text}{_ANSI_RESET}"
        self._write(f"{name} {dots} {text}\n")

    def _write(self, text: str) -> None:
        # Flush at once: a git hook's output should appear as each tool finishes.
        self._stream.write(text)
        self._stream.flush()


@dataclass(frozen=True)
class _Row:
    status: ToolStatus
    started: float | None = None
    result: ToolResult | None = None


class LiveView:
    """A table on a terminal with one row per tool, redrawn about 8 times a second.

    ``expected`` maps tool names to how long each usually takes; with it a last line
    estimates the time left, spreading the remaining work over ``workers`` (by default,
    over the tools running at the moment). ``clock`` must be the clock that stamped the
    events' ``time`` (``time.monotonic``). Use as a context manager or call start() and
    stop(); the final table stays on the screen unless ``transient``.
    """

    def __init__(
        self,
        console: Console,
        *,
        tool_names: Sequence[str],
        expected: Mapping[str, float] | None = None,
        workers: int | None = None,
        skipped_before_run: Iterable[ToolResult] = (),
        refresh_per_second: float = 8.0,
        transient: bool = False,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._console = console
        self._expected = dict(expected) if expected is not None else None
        self._workers = workers
        self._refresh_per_second = refresh_per_second
        self._transient = transient
        self._clock = clock
        self._rows: dict[str, _Row] = {name: _Row(ToolStatus.PENDING) for name in tool_names}
        for result in skipped_before_run:
            self._rows[result.tool_name] = _Row(result.status, result=result)
        self._live: Live | None = None

    def start(self) -> None:
        """Begin drawing; calling it again does nothing."""
        if self._live is not None:
            return
        from rich.live import Live

        self._live = Live(
            console=self._console,
            get_renderable=self.render,
            refresh_per_second=self._refresh_per_second,
            transient=self._transient,
        )
        self._live.start(refresh=True)

    def stop(self) -> None:
        """Draw the final table and stop redrawing; calling it again does nothing."""
        if self._live is not None:
            self._live.stop()
            self._live = None

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def handle(self, event: ToolEvent) -> None:
        """Take one status change from the engine; the next redraw shows it."""
        # rich redraws from its own thread, which only reads: replacing one dict item
        # (and render() copying the dict) is atomic, so no lock is needed.
        if event.status is ToolStatus.RUNNING:
            self._rows[event.tool_name] = _Row(ToolStatus.RUNNING, started=event.time)
        elif event.status in FINAL_STATUSES:
            self._rows[event.tool_name] = _Row(event.status, result=event.result)
        else:
            self._rows[event.tool_name] = _Row(event.status)

    def render(self) -> RenderableType:
        """The table as it stands now (what the next redraw shows)."""
        from rich.console import Group
        from rich.table import Table
        from rich.text import Text

        rows = dict(self._rows)
        now = self._clock()
        table = Table.grid(padding=(0, 2))
        table.add_column(no_wrap=True)
        table.add_column(no_wrap=True, overflow="ellipsis")
        for name, row in rows.items():
            style = STATUS_STYLE[row.status]
            table.add_row(Text(name), Text(self._row_text(row, now), style=style))
        footer = self._footer(rows, now)
        return Group(table, Text(footer, style="dim")) if footer else table

    def estimate_left(self) -> float | None:
        """Seconds until every tool is done, by the expected durations; None without them."""
        return self._estimate(dict(self._rows), self._clock())

    @staticmethod
    def _row_text(row: _Row, now: float) -> str:
        if row.result is not None:
            return _outcome_text(row.result)
        if row.status is ToolStatus.RUNNING:
            elapsed = max(0.0, now - row.started) if row.started is not None else 0.0
            return f"running {elapsed:.1f}s"
        if row.status is ToolStatus.PENDING:
            return "waiting"
        return str(row.status)

    def _footer(self, rows: Mapping[str, _Row], now: float) -> str:
        done = sum(row.status in FINAL_STATUSES for row in rows.values())
        text = f"{done}/{len(rows)} done"
        left = self._estimate(rows, now)
        if left is not None and done < len(rows):
            text += f", about {math.ceil(left)}s left"
        return text

    def _estimate(self, rows: Mapping[str, _Row], now: float) -> float | None:
        if self._expected is None:
            return None
        work = 0.0
        longest_running = 0.0
        running = 0
        for name, row in rows.items():
            expected = self._expected.get(name)
            if row.status is ToolStatus.PENDING and expected is not None:
                work += expected
            elif row.status is ToolStatus.RUNNING:
                running += 1
                if expected is not None:
                    elapsed = now - row.started if row.started is not None else 0.0
                    left = max(0.0, expected - elapsed)
                    work += left
                    longest_running = max(longest_running, left)
        lanes = max(1, self._workers or running)
        return max(work / lanes, longest_running)


def summary_line(results: Results, stats: Mapping[str, Any] | None = None) -> str:
    """``"N passed, N failed, N timed out, N skipped in W.WWs (T.TTs of tool time, C.CCx
    at once on average); E errors, W warnings, N notes"``.

    The figures come from ``stats["wall_time"]``, ``stats["sum_of_durations"]`` and
    ``stats["measured_speedup"]``; each part is left out when its figure is missing.
    """
    listed = as_list(results)
    counts = Counter(r.status for r in listed)
    text = (
        f"{counts[ToolStatus.SUCCESS]} passed, {counts[ToolStatus.FAILED]} failed, "
        f"{counts[ToolStatus.TIMEOUT]} timed out, {counts[ToolStatus.SKIPPED]} skipped"
    )
    stats = stats or {}
    wall_time = _finite_number(stats.get("wall_time"))
    if wall_time is not None:
        text += f" in {_duration(wall_time)}"
    speedup = _finite_number(stats.get("measured_speedup"))
    work = _finite_number(stats.get("sum_of_durations"))
    if speedup is not None and speedup > 0:
        # What was measured: tool time over wall time. Tools sharing CPUs each take
        # longer than alone, so this is not a speed-up over a one-by-one run; say what it is.
        spent = f"{_duration(work)} of tool time, " if work is not None else ""
        text += f" ({spent}{speedup:.2f}x at once on average)"
    totals = totals_text(listed)
    if totals:
        text += f"; {totals}"
    return text


def render_summary(
    results: Results,
    stats: Mapping[str, Any] | None,
    out: TextIO | Console,
    *,
    verbosity: int = 0,
) -> None:
    """Print what a person needs after the run, to a text stream or a rich Console.

    Each failed or timed-out tool's output comes as one block: a header line with the
    tool's name and status, then ``result.output`` verbatim (quiet, ``verbosity`` < 0:
    only its diagnostics as ``file:line:col: code message``, when it has any). With
    ``verbosity`` > 0 passed tools that printed something come first. Then the files that
    fixers modified, then :func:`summary_line`.
    """
    listed = as_list(results)
    shown = [r for r in listed if r.status in (ToolStatus.FAILED, ToolStatus.TIMEOUT)]
    # A pre-commit hook marked verbose shows its output when it passes too.
    passed = [
        r
        for r in listed
        if r.status is ToolStatus.SUCCESS
        and r.output.strip()
        and (verbosity > 0 or facts_of(r).verbose)
    ]
    shown = passed + shown
    for result in shown:
        header = f"==> {result.tool_name}: {_outcome_text(result)}"
        _emit_block(out, header, _body(result, verbosity), STATUS_STYLE[result.status])
    modified = _modified_files_text(listed)
    if modified:
        _emit_block(out, "files modified by fixers:", modified, "bold")
    failed = any(r.status in (ToolStatus.FAILED, ToolStatus.TIMEOUT) for r in listed)
    _emit_block(out, summary_line(listed, stats), "", "bold red" if failed else "bold green")


def _body(result: ToolResult, verbosity: int) -> str:
    diagnostics = "\n".join(diagnostic_line(d) for d in result.diagnostics)
    if verbosity < 0 and diagnostics:
        return diagnostics
    raw = result.output.strip()
    if diagnostics and raw[:1] in ("[", "{") and verbosity <= 0:
        # JSON written for us, not for people: its diagnostics say the same, readably
        # (-v shows the tool's own output).
        return diagnostics
    if raw:
        return result.output
    return diagnostics or (result.error_message or "")


def _modified_files_text(results: Sequence[ToolResult]) -> str:
    tools_by_file: dict[str, list[str]] = {}
    for result in results:
        for path in modified_files(result):
            tools_by_file.setdefault(path, []).append(result.tool_name)
    return "\n".join(f"  {path} ({', '.join(tools)})" for path, tools in tools_by_file.items())


def _emit_block(out: TextIO | Console, header: str, body: str, style: str) -> None:
    """Write a header and a body in one call, so nothing can come between them."""
    body = body.rstrip("\n")
    # rich is imported only by a live view (a terminal): without it, ``out`` is a stream.
    rich_console = sys.modules.get("rich.console")
    if rich_console is not None and isinstance(out, rich_console.Console):
        from rich.console import Group
        from rich.text import Text

        parts: list[RenderableType] = [Text(header, style=style)]
        if body:
            # Tools may colour their output; from_ansi keeps that and never reads markup.
            parts.append(Text.from_ansi(body))
        out.print(Group(*parts), soft_wrap=True, highlight=False)
    else:
        stream = cast("TextIO", out)
        stream.write(f"{header}\n{body}\n" if body else f"{header}\n")
        stream.flush()
