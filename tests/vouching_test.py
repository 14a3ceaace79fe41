"""A requirement blocks only what it has to: real yamllint, real gitlab-ci
(check-jsonschema), and custom per-file tools; the rule itself with literal results."""

from __future__ import annotations

from pathlib import Path

from huskycat.core.results import Diagnostic, ToolEvent, ToolResult, ToolStatus
from huskycat.tools.catalog import CATALOG
from huskycat.vouching import Board, split_edges, vouched_files
from tests.conftest import GitRepo, huskycat, load_report, results_by_tool

GITLAB_CI = "build:\n  script:\n    - make\n"
TRAILING = "key: value   \n"  # yamllint: trailing-spaces, an error


def board_with(result: ToolResult) -> Board:
    board = Board()
    board.record(ToolEvent(result.tool_name, result.status, 0.0, result))
    return board


def yamllint_failed(*files: str, outcome: str = "findings") -> ToolResult:
    return ToolResult(
        "yamllint",
        False,
        0.1,
        errors=len(files),
        status=ToolStatus.FAILED,
        metadata={"outcome": outcome},
        diagnostics=[Diagnostic(f, 1, 1, "trailing-spaces", "error", "x") for f in files],
    )


def test_only_requires_edges_between_per_file_tools_move_to_after() -> None:
    requires = {"gitlab-ci": ("yamllint",), "ansible-lint": ("yamllint",), "yamllint": ()}
    after = {"gitlab-ci": (), "ansible-lint": ("black",), "yamllint": ()}
    specs = {name: CATALOG[name] for name in requires}
    engine_requires, engine_after, vouchers = split_edges(requires, after, specs)
    assert engine_requires == {"gitlab-ci": (), "ansible-lint": ("yamllint",), "yamllint": ()}
    assert engine_after["gitlab-ci"] == ("yamllint",)
    assert engine_after["ansible-lint"] == ("black",)  # project-wide: stays whole-tool
    assert vouchers == {"gitlab-ci": ("yamllint",)}


def test_files_the_dependency_failed_on_are_held_back_the_rest_run() -> None:
    board = board_with(yamllint_failed("other.yml"))
    vouched = vouched_files("gitlab-ci", [".gitlab-ci.yml", "other.yml"], ["yamllint"], board)
    assert vouched.files == (".gitlab-ci.yml",)
    assert vouched.left_out == {"other.yml": "yamllint"}
    assert vouched.blocked is None


def test_every_file_held_back_or_no_file_named_skips_as_the_engine_would() -> None:
    board = board_with(yamllint_failed(".gitlab-ci.yml"))
    vouched = vouched_files("gitlab-ci", [".gitlab-ci.yml"], ["yamllint"], board)
    assert vouched.blocked is not None
    assert vouched.blocked.status is ToolStatus.SKIPPED
    assert (
        vouched.blocked.error_message == "dependency 'yamllint' failed on every file it would check"
    )
    nameless = board_with(yamllint_failed())
    blocked = vouched_files("gitlab-ci", ["a.yml"], ["yamllint"], nameless).blocked
    assert blocked is not None and "named no file" in (blocked.error_message or "")


def test_a_warning_only_failure_holds_back_the_files_with_warnings() -> None:
    strict = ToolResult(
        "yamllint",
        False,
        0.1,
        warnings=1,
        status=ToolStatus.FAILED,
        metadata={"outcome": "findings"},
        diagnostics=[
            Diagnostic("a.yml", 1, 1, "document-start", "warning", "x"),
            Diagnostic("b.yml", 1, 1, "comments", "info", "x"),
        ],
    )
    vouched = vouched_files("gitlab-ci", ["a.yml", "b.yml"], ["yamllint"], board_with(strict))
    assert vouched.files == ("b.yml",)


def run(repo: GitRepo, *args: str) -> tuple[str, dict[str, dict[str, object]]]:
    out = repo.path.parent / "run.json"
    proc = huskycat(repo.path, "run", "--no-cache", "--json", str(out), *args)
    assert proc.returncode in (0, 1), proc.stderr
    return proc.stdout, results_by_tool(load_report(Path(out)))


def test_a_trailing_space_elsewhere_no_longer_hides_the_gitlab_ci_check(git_repo: GitRepo) -> None:
    git_repo.write(".gitlab-ci.yml", "---\n" + GITLAB_CI)
    git_repo.write("config/other.yml", "---\n" + TRAILING)
    git_repo.add()
    _, results = run(git_repo, "--tools", "yamllint,gitlab-ci")
    assert results["yamllint"]["status"] == "failed"
    gitlab = results["gitlab-ci"]
    assert gitlab["status"] == "success"
    assert gitlab["metadata"]["files"] == 1
    assert "left_out" not in gitlab["metadata"]  # other.yml was never its file


def test_an_invalid_and_broken_file_is_left_out_and_said_so(git_repo: GitRepo) -> None:
    # gitlab-ci checks both files; yamllint fails only on the second, which is held back
    # although gitlab-ci would have failed it too.
    git_repo.write(".gitlab-ci.yml", "---\n" + GITLAB_CI)
    git_repo.write("sub/.gitlab-ci.yml", "---\nbuild:\n  when: sometimes   \n")
    git_repo.add()
    stdout, results = run(git_repo, "--tools", "yamllint,gitlab-ci")
    gitlab = results["gitlab-ci"]
    assert gitlab["status"] == "success"
    assert gitlab["metadata"]["left_out"] == {"sub/.gitlab-ci.yml": "yamllint"}
    assert gitlab["metadata"]["files"] == 1
    assert "left out sub/.gitlab-ci.yml: 'yamllint' failed on it" in str(gitlab["output"])
    assert "passed; left out 1 file 'yamllint' failed on" in stdout

    # Held back from every file it would check: skipped, as the engine would.
    git_repo.write(".gitlab-ci.yml", "---\n" + GITLAB_CI.replace("make", "make   "))
    _, results = run(git_repo, "--tools", "yamllint,gitlab-ci")
    gitlab = results["gitlab-ci"]
    assert gitlab["status"] == "skipped"
    assert gitlab["error_message"] == "dependency 'yamllint' failed on every file it would check"


def test_a_crash_of_the_dependency_still_blocks_the_whole_tool(git_repo: GitRepo) -> None:
    git_repo.write(
        "huskycat.toml",
        '[tools.yamllint]\nargs = ["--config-data", "{not: [valid"]\n',
    )
    git_repo.write(".gitlab-ci.yml", "---\n" + GITLAB_CI)
    git_repo.add()
    _, results = run(git_repo, "--tools", "yamllint,gitlab-ci")
    assert results["yamllint"]["metadata"]["outcome"] == "error"
    gitlab = results["gitlab-ci"]
    assert gitlab["status"] == "skipped"
    assert gitlab["error_message"] == "dependency 'yamllint' failed"
