from __future__ import annotations

import pytest

from huskycat.core.results import SKIP_DEPENDENCY, Diagnostic, ToolResult, ToolStatus
from huskycat.report import github
from huskycat.report.github import escape_data, escape_property, should_annotate


def failed_with(*diagnostics: Diagnostic, tool: str = "flake8") -> ToolResult:
    return ToolResult(tool, False, 1.0, errors=len(diagnostics), diagnostics=list(diagnostics))


def test_error_diagnostic_becomes_an_error_command_with_place_and_title() -> None:
    result = failed_with(Diagnostic("src/a.py", 3, 7, "E302", "error", "expected 2 blank lines"))

    assert github.annotations([result]) == [
        "::error file=src/a.py,line=3,col=7,title=flake8 E302::expected 2 blank lines"
    ]


def test_warning_and_info_become_warning_and_notice() -> None:
    result = failed_with(
        Diagnostic("a.py", 1, 1, "W1", "warning", "careful"),
        Diagnostic("a.py", 2, 1, "I1", "info", "fyi"),
    )

    assert github.annotations([result]) == [
        "::warning file=a.py,line=1,col=1,title=flake8 W1::careful",
        "::notice file=a.py,line=2,col=1,title=flake8 I1::fyi",
    ]


def test_diagnostic_without_line_column_or_code_leaves_them_out() -> None:
    result = failed_with(
        Diagnostic("a.yaml", None, None, None, "error", "bad document"),
        Diagnostic("b.yaml", 4, None, None, "error", "bad key"),
        tool="yamllint",
    )

    assert github.annotations([result]) == [
        "::error file=a.yaml,title=yamllint::bad document",
        "::error file=b.yaml,line=4,title=yamllint::bad key",
    ]


def test_message_escapes_percent_carriage_return_and_newline() -> None:
    result = failed_with(Diagnostic("a.py", 1, 2, "X", "error", "100% bad\r\nsee: a, b"))

    [line] = github.annotations([result])

    assert line.endswith("::100%25 bad%0D%0Asee: a, b")
    assert "\n" not in line and "\r" not in line


def test_property_values_also_escape_colon_and_comma() -> None:
    result = failed_with(Diagnostic("C:/dir,x/a%.py", 1, 1, "E:1", "error", "m"), tool="tool,name")

    assert github.annotations([result]) == [
        "::error file=C%3A/dir%2Cx/a%25.py,line=1,col=1,title=tool%2Cname E%3A1::m"
    ]


def test_escape_functions_escape_percent_first() -> None:
    assert escape_data("%0A\n") == "%250A%0A"
    assert escape_property("%3A:") == "%253A%3A"


def test_failed_tool_without_diagnostics_gives_one_error_with_its_message() -> None:
    result = ToolResult("taplo", False, 0.2, error_message="exit code 2\nusage: taplo ...")

    assert github.annotations([result]) == ["::error title=taplo::exit code 2%0Ausage: taplo ..."]


def test_failed_tool_without_message_or_diagnostics_says_failed() -> None:
    assert github.annotations([ToolResult("taplo", False, 0.2)]) == ["::error title=taplo::failed"]


def test_timed_out_tool_gives_an_error_saying_after_how_long() -> None:
    result = ToolResult("mypy", False, 30.0, status=ToolStatus.TIMEOUT)

    assert github.annotations([result]) == ["::error title=mypy::timed out after 30.0s"]


def test_passed_and_skipped_tools_give_no_lines() -> None:
    results = {
        "ruff": ToolResult("ruff", True, 0.1, output="All checks passed!"),
        "bandit": ToolResult(
            "bandit",
            False,
            0.0,
            status=ToolStatus.SKIPPED,
            metadata={"skip_reason": SKIP_DEPENDENCY},
        ),
    }

    assert github.annotations(results) == []


def test_passed_tool_with_warnings_still_annotates_them() -> None:
    result = ToolResult(
        "ruff",
        True,
        0.1,
        warnings=1,
        diagnostics=[Diagnostic("a.py", 5, 1, "W291", "warning", "trailing whitespace")],
    )

    assert github.annotations([result]) == [
        "::warning file=a.py,line=5,col=1,title=ruff W291::trailing whitespace"
    ]


@pytest.mark.parametrize(
    ("environ", "expected"),
    [
        ({"GITHUB_ACTIONS": "true"}, True),
        ({"GITHUB_ACTIONS": "false"}, False),
        ({"GITHUB_ACTIONS": "1"}, False),
        ({"CI": "true"}, False),
        ({}, False),
    ],
)
def test_should_annotate_only_when_github_actions_is_true(
    environ: dict[str, str], expected: bool
) -> None:
    assert should_annotate(environ) is expected


def test_should_annotate_reads_the_process_environment_by_default(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    assert should_annotate() is True
    monkeypatch.delenv("GITHUB_ACTIONS")
    assert should_annotate() is False
