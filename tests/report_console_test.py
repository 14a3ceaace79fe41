from __future__ import annotations

import io

import pytest
from rich.console import Console

from huskycat.core.results import (
    SKIP_DEPENDENCY,
    SKIP_FAIL_FAST,
    SKIP_INTERRUPTED,
    Diagnostic,
    ToolEvent,
    ToolResult,
    ToolStatus,
)
from huskycat.report.console import LiveView, PlainView, render_summary, summary_line

FLAKE8_OUTPUT = (
    "a.py:3:1: E302 expected 2 blank lines, found 1\n"
    "a.py:9:80: E501 line too long (88 > 79 characters)\n"
    "\n"
    "    indented context line [bold]not markup[/bold]\n"
)
MYPY_OUTPUT = "src/x.py:1: error: Incompatible types  [assignment]\n"


def passed(name: str = "ruff", duration: float = 0.41, **kwargs: object) -> ToolResult:
    return ToolResult(name, True, duration, **kwargs)  # type: ignore[arg-type]


def flake8_failed() -> ToolResult:
    return ToolResult(
        "flake8",
        False,
        1.2,
        errors=3,
        warnings=1,
        output=FLAKE8_OUTPUT,
        status=ToolStatus.FAILED,
        diagnostics=[
            Diagnostic("a.py", 3, 1, "E302", "error", "expected 2 blank lines, found 1"),
            Diagnostic("a.py", 9, 80, "E501", "error", "line too long"),
        ],
    )


def mypy_timeout() -> ToolResult:
    return ToolResult(
        "mypy",
        False,
        30.02,
        output=MYPY_OUTPUT,
        status=ToolStatus.TIMEOUT,
        metadata={"timeout": 30.0},
    )


def bandit_skipped() -> ToolResult:
    return ToolResult(
        "bandit",
        True,
        0.0,
        status=ToolStatus.SKIPPED,
        error_message="not installed: pip install bandit",
        metadata={"skip_reason": "not_applicable"},
    )


def finished(result: ToolResult, time: float = 0.0) -> ToolEvent:
    return ToolEvent(result.tool_name, result.status, time, result)


def running(name: str, time: float = 0.0) -> ToolEvent:
    return ToolEvent(name, ToolStatus.RUNNING, time)


# PlainView


def test_plain_view_prints_one_line_per_finished_tool() -> None:
    out = io.StringIO()
    view = PlainView(out)

    view.handle(running("ruff"))
    view.handle(finished(passed()))
    view.handle(running("flake8"))
    view.handle(finished(flake8_failed()))
    view.handle(finished(bandit_skipped()))
    view.handle(finished(mypy_timeout()))

    assert out.getvalue().splitlines() == [
        "ruff ........ passed 0.41s",
        "flake8 ...... failed 3 errors, 1 warning 1.20s",
        "bandit ...... skipped: not installed: pip install bandit",
        "mypy ........ timed out after 30.0s",
    ]


def test_plain_view_prints_nothing_for_running_or_pending_tools() -> None:
    out = io.StringIO()
    view = PlainView(out)

    view.handle(ToolEvent("ruff", ToolStatus.PENDING, 0.0))
    view.handle(running("ruff"))

    assert out.getvalue() == ""


def test_plain_view_verbose_also_prints_a_line_when_a_tool_starts() -> None:
    out = io.StringIO()
    view = PlainView(out, verbosity=1)

    view.start(["ruff", "mypy"])
    view.handle(running("ruff"))

    assert out.getvalue().splitlines() == [
        "running 2 tools: ruff, mypy",
        "ruff ........ running",
    ]


def test_plain_view_quiet_prints_only_failed_and_timed_out_tools() -> None:
    out = io.StringIO()
    view = PlainView(out, verbosity=-1)

    for result in (passed(), flake8_failed(), bandit_skipped(), mypy_timeout()):
        view.handle(finished(result))

    assert [line.split()[0] for line in out.getvalue().splitlines()] == ["flake8", "mypy"]


def test_plain_view_marks_cached_results() -> None:
    out = io.StringIO()

    PlainView(out).handle(finished(passed(metadata={"cached": True})))

    assert out.getvalue() == "ruff ........ passed 0.41s (cached)\n"


@pytest.mark.parametrize(
    ("reason", "message", "shown"),
    [
        (SKIP_DEPENDENCY, None, "skipped: a dependency did not pass"),
        (SKIP_FAIL_FAST, None, "skipped: stopped after the first failure"),
        (SKIP_INTERRUPTED, None, "skipped: interrupted"),
        ("not_applicable", None, "skipped: not applicable"),
        (SKIP_DEPENDENCY, "dependency black failed", "skipped: dependency black failed"),
    ],
)
def test_plain_view_shows_the_skip_message_else_the_reason(
    reason: str, message: str | None, shown: str
) -> None:
    out = io.StringIO()
    result = ToolResult(
        "isort",
        False,
        0.0,
        status=ToolStatus.SKIPPED,
        error_message=message,
        metadata={"skip_reason": reason},
    )

    PlainView(out).handle(finished(result))

    assert out.getvalue() == f"isort ....... {shown}\n"


def test_plain_view_failed_tool_without_counts_shows_its_error_message() -> None:
    out = io.StringIO()
    result = ToolResult("taplo", False, 0.5, error_message="exit code 2")

    PlainView(out).handle(finished(result))

    assert out.getvalue() == "taplo ....... failed: exit code 2 0.50s\n"


def test_plain_view_start_aligns_to_the_longest_name_and_reports_early_skips() -> None:
    out = io.StringIO()
    view = PlainView(out)

    view.start(["ruff", "check-jsonschema"], skipped_before_run=[bandit_skipped()])
    view.handle(finished(passed()))

    assert out.getvalue().splitlines() == [
        "bandit ............. skipped: not installed: pip install bandit",
        "ruff ............... passed 0.41s",
    ]


def test_plain_view_colours_status_words_only_when_asked() -> None:
    plain, coloured = io.StringIO(), io.StringIO()

    PlainView(plain).handle(finished(flake8_failed()))
    PlainView(coloured, color=True).handle(finished(flake8_failed()))

    assert "\x1b[" not in plain.getvalue()
    assert coloured.getvalue() == (
        "flake8 ...... \x1b[1;31mfailed 3 errors, 1 warning 1.20s\x1b[0m\n"
    )


# LiveView


class FakeClock:
    def __init__(self, now: float = 100.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def rendered(view: LiveView, width: int = 80) -> list[str]:
    console = Console(file=io.StringIO(), width=width, record=True, color_system=None)
    console.print(view.render())
    return [line.rstrip() for line in console.export_text().splitlines()]


def test_live_view_shows_one_row_per_tool_in_each_state() -> None:
    clock = FakeClock(100.0)
    view = LiveView(
        Console(file=io.StringIO()),
        tool_names=["ruff", "mypy", "flake8", "bandit", "pytest"],
        clock=clock,
    )

    view.handle(finished(passed()))
    view.handle(running("mypy", time=97.5))
    view.handle(finished(flake8_failed()))
    view.handle(finished(bandit_skipped()))

    assert rendered(view) == [
        "ruff    passed 0.41s",
        "mypy    running 2.5s",
        "flake8  failed 3 errors, 1 warning 1.20s",
        "bandit  skipped: not installed: pip install bandit",
        "pytest  waiting",
        "3/5 done",
    ]


def test_live_view_running_time_grows_with_the_clock() -> None:
    clock = FakeClock(10.0)
    view = LiveView(Console(file=io.StringIO()), tool_names=["mypy"], clock=clock)
    view.handle(running("mypy", time=10.0))

    clock.now = 11.25
    first = rendered(view)[0]
    clock.now = 14.0
    second = rendered(view)[0]

    assert (first, second) == ("mypy  running 1.2s", "mypy  running 4.0s")


def test_live_view_shows_timeouts_and_tools_it_was_not_told_about() -> None:
    view = LiveView(Console(file=io.StringIO()), tool_names=[], clock=FakeClock())

    view.handle(finished(mypy_timeout()))

    assert rendered(view) == ["mypy  timed out after 30.0s", "1/1 done"]


def test_live_view_estimates_time_left_from_expected_durations() -> None:
    clock = FakeClock(100.0)
    view = LiveView(
        Console(file=io.StringIO()),
        tool_names=["black", "mypy", "pytest", "ruff"],
        expected={"black": 1.0, "mypy": 10.0, "pytest": 6.0, "ruff": 0.5},
        workers=2,
        clock=clock,
    )
    view.handle(finished(passed("black", 1.0)))
    view.handle(running("mypy", time=96.0))  # 4s in, about 6s to go
    view.handle(running("pytest", time=100.0))  # just started, 6s to go

    # 6 + 6 + 0.5 seconds of work over 2 workers; no less than the longest running tool.
    assert view.estimate_left() == pytest.approx(6.25)
    assert rendered(view)[-1] == "1/4 done, about 7s left"

    clock.now = 120.0  # both overran their expected durations
    assert view.estimate_left() == pytest.approx(0.25)


def test_live_view_estimate_is_at_least_the_longest_running_tool() -> None:
    view = LiveView(
        Console(file=io.StringIO()),
        tool_names=["mypy", "ruff"],
        expected={"mypy": 20.0, "ruff": 1.0},
        workers=8,
        clock=FakeClock(0.0),
    )
    view.handle(running("mypy", time=0.0))

    assert view.estimate_left() == pytest.approx(20.0)


def test_live_view_without_expected_durations_estimates_nothing() -> None:
    view = LiveView(Console(file=io.StringIO()), tool_names=["mypy"], clock=FakeClock())
    view.handle(running("mypy", time=0.0))

    assert view.estimate_left() is None
    assert rendered(view)[-1] == "0/1 done"


def test_live_view_draws_the_final_table_on_a_terminal() -> None:
    out = io.StringIO()
    console = Console(file=out, force_terminal=True, width=80, color_system=None)
    view = LiveView(console, tool_names=["ruff", "flake8"], skipped_before_run=[bandit_skipped()])

    with view:
        view.handle(running("ruff"))
        view.handle(finished(passed()))
        view.handle(finished(flake8_failed()))

    text = out.getvalue()
    final = text[text.rindex("ruff") :]
    assert "ruff    passed 0.41s" in final
    assert "flake8  failed 3 errors, 1 warning 1.20s" in final
    assert "bandit  skipped: not installed: pip install bandit" in final
    assert "3/3 done" in final


def test_live_view_start_and_stop_twice_hide_and_restore_the_cursor_once() -> None:
    out = io.StringIO()
    console = Console(file=out, force_terminal=True, width=80)
    view = LiveView(console, tool_names=["ruff"])

    view.start()
    view.start()
    view.stop()
    view.stop()

    assert (out.getvalue().count("\x1b[?25l"), out.getvalue().count("\x1b[?25h")) == (1, 1)


# render_summary


def summary_text(
    results: list[ToolResult],
    stats: dict[str, float] | None = None,
    *,
    verbosity: int = 0,
) -> str:
    out = io.StringIO()
    render_summary(results, stats, out, verbosity=verbosity)
    return out.getvalue()


def test_summary_prints_each_failed_tool_output_as_one_verbatim_block() -> None:
    text = summary_text([passed(), flake8_failed(), bandit_skipped(), mypy_timeout()])

    flake8_block = "==> flake8: failed 3 errors, 1 warning 1.20s\n" + FLAKE8_OUTPUT
    mypy_block = "==> mypy: timed out after 30.0s\n" + MYPY_OUTPUT
    assert text.startswith(flake8_block + mypy_block)
    assert "All checks" not in text and "ruff" not in text


def test_summary_ends_with_counts_wall_time_and_measured_speedup() -> None:
    results = [passed(), flake8_failed(), bandit_skipped(), mypy_timeout()]

    stats = {"wall_time": 30.5, "measured_speedup": 1.0467, "sum_of_durations": 31.92}
    text = summary_text(results, stats)

    assert text.splitlines()[-1] == (
        "1 passed, 1 failed, 1 timed out, 1 skipped in 30.50s "
        "(31.92s of tool time, 1.05x at once on average); 3 errors, 1 warning, 0 notes"
    )


def test_summary_line_leaves_out_figures_that_are_missing() -> None:
    results = [passed(), passed("black")]

    assert summary_line(results, {"wall_time": 0.8}) == (
        "2 passed, 0 failed, 0 timed out, 0 skipped in 0.80s"
    )
    assert summary_line(results, {"measured_speedup": None}) == (
        "2 passed, 0 failed, 0 timed out, 0 skipped"
    )
    assert summary_line(results, None) == "2 passed, 0 failed, 0 timed out, 0 skipped"


def test_quiet_summary_shows_only_the_diagnostic_lines() -> None:
    text = summary_text([flake8_failed()], verbosity=-1)

    assert text.splitlines()[:3] == [
        "==> flake8: failed 3 errors, 1 warning 1.20s",
        "a.py:3:1: E302 expected 2 blank lines, found 1",
        "a.py:9:80: E501 line too long",
    ]
    assert "indented context" not in text


def test_quiet_summary_falls_back_to_output_when_there_are_no_diagnostics() -> None:
    text = summary_text([mypy_timeout()], verbosity=-1)

    assert text.startswith("==> mypy: timed out after 30.0s\n" + MYPY_OUTPUT)


def test_failed_tool_without_output_shows_its_error_message() -> None:
    result = ToolResult("taplo", False, 0.5, error_message="could not run taplo:\nENOENT")

    text = summary_text([result])

    assert text.startswith("==> taplo: failed: could not run taplo: 0.50s\n")
    assert "could not run taplo:\nENOENT\n" in text


def test_verbose_summary_also_shows_passed_tools_that_printed_something() -> None:
    results = [passed(output="1 file would be left unchanged\n"), passed("black"), flake8_failed()]

    text = summary_text(results, verbosity=1)

    assert text.startswith("==> ruff: passed 0.41s\n1 file would be left unchanged\n==> flake8")
    assert "==> black" not in text


def test_summary_lists_files_modified_by_fixers() -> None:
    results = [
        passed("black", metadata={"modified_files": ["a.py", "b.py"]}),
        passed("isort", metadata={"modified_files": ["a.py"]}),
    ]

    text = summary_text(results)

    assert text.splitlines()[:3] == [
        "files modified by fixers:",
        "  a.py (black, isort)",
        "  b.py (black)",
    ]


def test_summary_on_a_console_keeps_output_verbatim_without_markup_or_wrapping() -> None:
    long_line = "src/module.py:1:1: " + "x" * 120
    result = ToolResult("ruff", False, 0.3, errors=1, output=long_line + "\n[red]kept[/red]\n")
    console = Console(file=io.StringIO(), width=40, record=True, color_system=None)

    render_summary([result], {"wall_time": 0.3}, console)

    assert console.export_text().splitlines() == [
        "==> ruff: failed 1 error 0.30s",
        long_line,
        "[red]kept[/red]",
        "0 passed, 1 failed, 0 timed out, 0 skipped in 0.30s; 1 error, 0 warnings, 0 notes",
    ]


def test_summary_on_a_console_renders_tool_colours_instead_of_escape_codes() -> None:
    result = ToolResult("ruff", False, 0.3, errors=1, output="\x1b[31mE501\x1b[0m too long\n")
    console = Console(file=io.StringIO(), width=80, record=True, color_system=None)

    render_summary({"ruff": result}, None, console)

    assert console.export_text().splitlines()[1] == "E501 too long"
