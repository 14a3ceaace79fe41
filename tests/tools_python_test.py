"""The seven Python tools, run for real on files in a temporary project.

Each project pins the settings the tools would otherwise take from their own, changing,
defaults (ruff's rule selection), so the counts below stay exact across versions.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from huskycat.core.results import OUTCOME_ERROR, OUTCOME_FINDINGS, ToolResult, ToolStatus
from huskycat.tools import autoflake, bandit, black, flake8, isort, mypy, ruff
from huskycat.tools.base import ToolOutput, ToolSpec
from huskycat.tools.runner import run_tool

PYPROJECT = """\
[tool.ruff.lint]
select = ["E9", "F"]
"""

CLEAN = '''\
"""A clean module."""

import os


def cwd() -> str:
    """Return the working folder."""
    return os.getcwd()
'''

# An unused import (sys), imports out of order, an unused local variable.
UNUSED_IMPORT = """\
import sys
import os


def cwd() -> str:
    unused = 1
    return os.getcwd()
"""

SYNTAX_ERROR = "def f(:\n    pass\n"

ALL_SPECS = [black.SPEC, isort.SPEC, autoflake.SPEC, ruff.SPEC, mypy.SPEC, flake8.SPEC, bandit.SPEC]


@pytest.fixture
def project(tmp_path: Path) -> Path:
    root = tmp_path / "project"
    root.mkdir()
    (root / "pyproject.toml").write_text(PYPROJECT)
    return root


def write(root: Path, name: str, text: str) -> str:
    (root / name).write_text(text, encoding="utf-8")
    return name


def places(result: ToolResult) -> list[tuple[str, int | None, str | None]]:
    return [(d.file, d.line, d.code) for d in result.diagnostics]


@pytest.mark.parametrize("spec", ALL_SPECS, ids=lambda s: s.name)
def test_clean_file_is_ok(project: Path, spec: ToolSpec) -> None:
    write(project, "clean.py", CLEAN)
    result = run_tool(spec, ["clean.py"], root=project)
    assert result.status is ToolStatus.SUCCESS, result.output
    assert result.metadata["outcome"] == "ok"
    assert (result.errors, result.warnings, result.diagnostics) == (0, 0, [])


@pytest.mark.parametrize("spec", ALL_SPECS, ids=lambda s: s.name)
def test_syntax_error_is_not_a_crash(project: Path, spec: ToolSpec) -> None:
    write(project, "broken.py", SYNTAX_ERROR)
    result = run_tool(spec, ["broken.py"], root=project)
    assert result.metadata["outcome"] != OUTCOME_ERROR, result.error_message


# --- black ------------------------------------------------------------------------------


def test_black_lists_each_file_it_would_reformat(project: Path) -> None:
    names = [write(project, "a.py", "x=1\n"), write(project, "b.py", "y = [1,2]\n")]
    write(project, "clean.py", CLEAN)
    result = run_tool(black.SPEC, [*names, "clean.py"], root=project)
    assert result.status is ToolStatus.FAILED
    assert result.metadata["outcome"] == OUTCOME_FINDINGS
    assert result.error_message == "would reformat 2 files"
    assert places(result) == [("a.py", None, None), ("b.py", None, None)]
    assert result.errors == 2
    assert "would reformat a.py" in result.output


def test_black_reports_a_syntax_error_at_its_line(project: Path) -> None:
    write(project, "broken.py", SYNTAX_ERROR)
    result = run_tool(black.SPEC, ["broken.py"], root=project)
    assert result.metadata["outcome"] == OUTCOME_FINDINGS
    assert result.metadata["returncodes"] == [123]
    [diag] = result.diagnostics
    assert (diag.file, diag.line, diag.column, diag.severity) == ("broken.py", 1, 6, "error")
    assert diag.message == "cannot parse: bad input"
    assert result.error_message == "cannot parse 1 file"


def test_black_reads_the_older_cannot_format_syntax_error_line() -> None:
    out = ToolOutput(
        argv=("black", "--check", "x.py"),
        returncode=123,
        stdout="",
        stderr="error: cannot format x.py: Cannot parse: 3:4: def f(:\nOh no!\n",
        files=("x.py",),
        cwd="/",
    )
    parsed = black.parse(out)
    assert parsed.outcome == "findings"
    assert [(d.file, d.line, d.column) for d in parsed.diagnostics] == [("x.py", 3, 4)]


def test_black_internal_error_is_an_error() -> None:
    out = ToolOutput(
        argv=("black", "x.py"),
        returncode=123,
        stdout="",
        stderr="error: cannot format x.py: INTERNAL ERROR: Black produced invalid code\n",
        files=("x.py",),
        cwd="/",
    )
    assert black.parse(out).outcome == "error"


@pytest.mark.parametrize(
    "why",
    [
        "invalid or missing encoding declaration",
        "unknown encoding: bogus",
        "'utf-8' codec can't decode byte 0xe9 in position 6: invalid continuation byte",
    ],
)
def test_black_on_a_file_it_cannot_decode_is_a_finding_on_that_file(why: str) -> None:
    out = ToolOutput(
        argv=("black", "--check", "bin.py", "x.py"),
        returncode=123,
        stdout="",
        stderr=f"would reformat x.py\nerror: cannot format bin.py: {why}\nOh no!\n",
        files=("bin.py", "x.py"),
        cwd="/",
    )
    parsed = black.parse(out)
    assert parsed.outcome == "findings"  # tools after black still run
    assert [(d.file, d.message) for d in parsed.diagnostics] == [
        ("x.py", "would reformat"),
        ("bin.py", why),
    ]
    assert parsed.message == "would reformat 1 file, cannot parse 1 file"


def test_mypy_is_not_given_files_that_are_not_source_text(project: Path) -> None:
    from huskycat.tools import mypy

    write(project, "good.py", "x: int = 1\n")
    (project / "bin.py").write_bytes(b"\x00\xff\xfe\x80 binary")
    (project / "latin.py").write_bytes(b'y = "\xe9"\n')
    (project / "declared.py").write_bytes(b'# -*- coding: latin-1 -*-\ny = "\xe9"\n')
    # ASCII with an unknown coding: mypy reads it (and reports nothing of the cookie).
    (project / "bogus.py").write_bytes(b"# -*- coding: bogus -*-\ny = 1\n")
    (project / "nul.py").write_bytes(b"x = 1\x00\n")
    names = ["good.py", "bin.py", "latin.py", "declared.py", "bogus.py", "nul.py", "gone.py"]
    assert mypy.source_files(names, str(project)) == [
        "good.py",
        "declared.py",
        "bogus.py",
        "gone.py",
    ]


def test_black_fix_rewrites_the_file_and_lists_it(project: Path) -> None:
    write(project, "a.py", "x=1\n")
    write(project, "clean.py", CLEAN)
    result = run_tool(black.SPEC, ["a.py", "clean.py"], root=project, fix=True)
    assert result.status is ToolStatus.SUCCESS
    assert result.metadata["modified_files"] == ["a.py"]
    assert result.error_message == "reformatted 1 file"
    assert (project / "a.py").read_text() == "x = 1\n"


def test_black_usage_error_is_an_error(project: Path) -> None:
    write(project, "clean.py", CLEAN)
    result = run_tool(black.SPEC, ["clean.py"], root=project, extra_args=["--no-such-option"])
    assert result.metadata["outcome"] == OUTCOME_ERROR
    assert result.error_message is not None
    assert result.error_message.startswith("exit code 2: ")


# --- isort ------------------------------------------------------------------------------


def test_isort_reports_unsorted_imports_by_relative_path(project: Path) -> None:
    write(project, "a.py", UNUSED_IMPORT)
    write(project, "clean.py", CLEAN)
    result = run_tool(isort.SPEC, ["a.py", "clean.py"], root=project)
    assert result.metadata["outcome"] == OUTCOME_FINDINGS
    assert places(result) == [("a.py", None, None)]
    assert result.error_message == "imports incorrectly sorted in 1 file"


def test_isort_fix_sorts_the_imports(project: Path) -> None:
    write(project, "a.py", UNUSED_IMPORT)
    result = run_tool(isort.SPEC, ["a.py"], root=project, fix=True)
    assert result.status is ToolStatus.SUCCESS
    assert result.metadata["modified_files"] == ["a.py"]
    assert (project / "a.py").read_text().startswith("import os\nimport sys\n")


def test_isort_missing_path_is_an_error(project: Path) -> None:
    result = run_tool(isort.SPEC, ["missing.py"], root=project)
    assert result.metadata["outcome"] == OUTCOME_ERROR
    assert result.error_message == "exit code 1: Broken 1 paths"


# --- autoflake --------------------------------------------------------------------------


def test_autoflake_reports_files_with_unused_imports(project: Path) -> None:
    write(project, "a.py", UNUSED_IMPORT)
    write(project, "clean.py", CLEAN)
    result = run_tool(autoflake.SPEC, ["a.py", "clean.py"], root=project)
    assert result.metadata["outcome"] == OUTCOME_FINDINGS
    assert places(result) == [("a.py", None, None)]
    assert result.error_message == "unused imports in 1 file"


def test_autoflake_flags_unused_third_party_imports(project: Path) -> None:
    write(project, "a.py", "import requests\n")
    result = run_tool(autoflake.SPEC, ["a.py"], root=project)
    assert places(result) == [("a.py", None, None)]


def test_autoflake_leaves_package_reexports_alone(project: Path) -> None:
    (project / "pkg").mkdir()
    write(project, "pkg/__init__.py", "from json import dumps\n")
    result = run_tool(autoflake.SPEC, ["pkg/__init__.py"], root=project)
    assert result.status is ToolStatus.SUCCESS


def test_autoflake_fix_removes_the_unused_import(project: Path) -> None:
    write(project, "a.py", UNUSED_IMPORT)
    result = run_tool(autoflake.SPEC, ["a.py"], root=project, fix=True)
    assert result.status is ToolStatus.SUCCESS
    assert result.metadata["modified_files"] == ["a.py"]
    assert "import sys" not in (project / "a.py").read_text()


def test_autoflake_unreadable_file_is_an_error(project: Path) -> None:
    result = run_tool(autoflake.SPEC, ["missing.py"], root=project)
    assert result.metadata["outcome"] == OUTCOME_ERROR
    assert "No such file or directory" in (result.error_message or "")


# --- ruff -------------------------------------------------------------------------------


def test_ruff_reports_each_violation_with_its_place(project: Path) -> None:
    write(project, "a.py", UNUSED_IMPORT)
    write(project, "clean.py", CLEAN)
    result = run_tool(ruff.SPEC, ["a.py", "clean.py"], root=project)
    assert result.metadata["outcome"] == OUTCOME_FINDINGS
    assert places(result) == [("a.py", 1, "F401"), ("a.py", 6, "F841")]
    assert [d.column for d in result.diagnostics] == [8, 5]
    assert (result.errors, result.error_message) == (2, "2 errors")


def test_ruff_reports_syntax_errors_as_findings(project: Path) -> None:
    write(project, "broken.py", SYNTAX_ERROR)
    result = run_tool(ruff.SPEC, ["broken.py"], root=project)
    assert result.metadata["outcome"] == OUTCOME_FINDINGS
    assert {(d.file, d.line) for d in result.diagnostics} == {("broken.py", 1)}
    assert all(d.severity == "error" for d in result.diagnostics)


def test_ruff_check_never_writes_even_when_configured_to_fix(project: Path) -> None:
    (project / "pyproject.toml").write_text(
        PYPROJECT.replace("[tool.ruff.lint]", "[tool.ruff]\nfix = true\n[tool.ruff.lint]")
    )
    write(project, "a.py", UNUSED_IMPORT)
    result = run_tool(ruff.SPEC, ["a.py"], root=project)
    assert result.errors == 2
    assert (project / "a.py").read_text() == UNUSED_IMPORT


def test_ruff_fix_applies_safe_fixes_and_reports_the_rest(project: Path) -> None:
    write(project, "a.py", UNUSED_IMPORT)
    result = run_tool(ruff.SPEC, ["a.py"], root=project, fix=True)
    assert result.metadata["modified_files"] == ["a.py"]
    assert places(result) == [("a.py", 5, "F841")]  # the unsafe fix is not applied
    assert "import sys" not in (project / "a.py").read_text()


def test_ruff_bad_configuration_is_an_error(project: Path) -> None:
    (project / "pyproject.toml").write_text('[tool.ruff.lint]\nselect = ["NOPE"]\n')
    write(project, "clean.py", CLEAN)
    result = run_tool(ruff.SPEC, ["clean.py"], root=project)
    assert result.metadata["outcome"] == OUTCOME_ERROR
    assert result.metadata["returncodes"] == [2]


# --- mypy -------------------------------------------------------------------------------

TYPE_ERRORS = """\
def f(x: int) -> str:
    return x


y: int = "a"
reveal_type(f)
"""


def test_mypy_reports_type_errors_and_notes_as_info(project: Path) -> None:
    write(project, "typed.py", TYPE_ERRORS)
    result = run_tool(mypy.SPEC, ["typed.py"], root=project)
    assert result.metadata["outcome"] == OUTCOME_FINDINGS
    assert places(result) == [
        ("typed.py", 2, "return-value"),
        ("typed.py", 5, "assignment"),
        ("typed.py", 6, "misc"),
    ]
    assert [d.severity for d in result.diagnostics] == ["error", "error", "info"]
    assert [d.column for d in result.diagnostics] == [12, 10, 13]  # 1-based, as in text
    assert (result.errors, result.warnings) == (2, 0)


def test_mypy_reports_a_syntax_error_as_a_finding(project: Path) -> None:
    write(project, "broken.py", SYNTAX_ERROR)
    result = run_tool(mypy.SPEC, ["broken.py"], root=project)
    assert result.metadata["outcome"] == OUTCOME_FINDINGS
    assert result.metadata["returncodes"] == [2]
    assert {(d.file, d.line, d.code) for d in result.diagnostics} == {("broken.py", 1, "syntax")}


def test_mypy_blocking_error_is_an_error(project: Path) -> None:
    for folder in ("a", "b"):
        (project / folder).mkdir()
        write(project, f"{folder}/m.py", "")
    result = run_tool(mypy.SPEC, ["a/m.py", "b/m.py"], root=project)
    assert result.metadata["outcome"] == OUTCOME_ERROR
    assert "Duplicate module" in (result.error_message or "")


def test_mypy_reads_its_text_format_too() -> None:
    out = ToolOutput(
        argv=("mypy", "x.py"),
        returncode=1,
        stdout="x.py:2:12: error: Incompatible return value type  [return-value]\n"
        "x.py:4: note: See here\n",
        stderr="",
        files=("x.py",),
        cwd="/",
    )
    parsed = mypy.parse(out)
    assert [(d.line, d.column, d.code, d.severity) for d in parsed.diagnostics] == [
        (2, 12, "return-value", "error"),
        (4, None, None, "info"),
    ]


# --- flake8 -----------------------------------------------------------------------------


def test_flake8_reports_errors_and_w_codes_as_warnings(project: Path) -> None:
    write(project, "a.py", "import sys\nx=1 \n")
    result = run_tool(flake8.SPEC, ["a.py"], root=project)
    assert result.metadata["outcome"] == OUTCOME_FINDINGS
    assert places(result) == [("a.py", 1, "F401"), ("a.py", 2, "E225"), ("a.py", 2, "W291")]
    assert [d.severity for d in result.diagnostics] == ["error", "error", "warning"]
    assert (result.errors, result.warnings) == (2, 1)


def test_flake8_reports_a_syntax_error_as_e999(project: Path) -> None:
    write(project, "broken.py", SYNTAX_ERROR)
    result = run_tool(flake8.SPEC, ["broken.py"], root=project)
    assert result.metadata["outcome"] == OUTCOME_FINDINGS
    assert places(result) == [("broken.py", 1, "E999")]


def test_flake8_ignores_a_configured_output_format(project: Path) -> None:
    write(project, ".flake8", "[flake8]\nformat = pylint\nshow-source = true\n")
    write(project, "a.py", "import sys\n")
    result = run_tool(flake8.SPEC, ["a.py"], root=project)
    assert places(result) == [("a.py", 1, "F401")]


def test_flake8_crash_on_a_bad_configuration_is_an_error(project: Path) -> None:
    write(project, ".flake8", "[flake8]\nmax-line-length = abc\n")
    write(project, "clean.py", CLEAN)
    result = run_tool(flake8.SPEC, ["clean.py"], root=project)
    assert result.metadata["outcome"] == OUTCOME_ERROR


# --- bandit -----------------------------------------------------------------------------

INSECURE = """\
import subprocess
import pickle


def run(cmd, data):
    subprocess.call(cmd, shell=True)
    assert cmd
    return pickle.loads(data)
"""


def test_bandit_maps_high_and_medium_to_errors_and_low_to_notes(project: Path) -> None:
    write(project, "sec.py", INSECURE)
    result = run_tool(bandit.SPEC, ["sec.py"], root=project)
    assert result.metadata["outcome"] == OUTCOME_FINDINGS
    found = [(d.line, d.code, d.severity) for d in result.diagnostics]
    assert found == [
        (1, "B404", "info"),  # LOW: import subprocess
        (2, "B403", "info"),  # LOW: import pickle
        (6, "B602", "error"),  # HIGH: shell=True
        (7, "B101", "info"),  # LOW: assert
        (8, "B301", "error"),  # MEDIUM: pickle.loads
    ]
    assert {d.file for d in result.diagnostics} == {"sec.py"}
    assert (result.errors, result.warnings) == (2, 0)


def test_bandit_reports_a_file_it_cannot_parse_as_an_error(project: Path) -> None:
    write(project, "broken.py", SYNTAX_ERROR)
    result = run_tool(bandit.SPEC, ["broken.py"], root=project)
    assert result.metadata["outcome"] == OUTCOME_FINDINGS
    assert result.metadata["returncodes"] == [0]  # bandit itself calls this a success
    [diag] = result.diagnostics
    assert (diag.file, diag.line, diag.severity) == ("broken.py", None, "error")
    assert "syntax error" in diag.message
