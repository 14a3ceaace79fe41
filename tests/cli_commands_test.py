"""The commands besides ``run``: plan, graph, tools, install and uninstall (with real
``git commit``), ``--version``, and the exit codes of bad usage."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest

from huskycat import __version__
from huskycat.cli import main
from tests.conftest import GitRepo, huskycat, load_report, run_in_terminal

CUSTOM = '[tools.docs]\ncommand = ["true"]\ntypes = ["markdown"]\nafter = ["ruff"]\n'


@pytest.fixture
def repo(git_repo: GitRepo) -> GitRepo:
    git_repo.write("a.py", '"""A."""\n')
    git_repo.write("pkg/b.py", '"""B."""\n')
    git_repo.write("site.yml", "---\n- name: Play\n  hosts: all\n  tasks: []\n")
    git_repo.write("README.md", "# Read me\n")
    git_repo.write("huskycat.toml", CUSTOM)
    git_repo.commit("files")
    return git_repo


def command_output(
    repo: GitRepo,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    *args: str,
) -> str:
    """What ``huskycat ARGS`` prints in ``repo``, run in this process; it must exit 0."""
    monkeypatch.chdir(repo.path)
    assert main(list(args)) == 0
    out, err = capsys.readouterr()
    assert err == ""
    return out


def tool_lines(text: str) -> dict[str, str]:
    """``{tool: rest of its line}`` for lines that start with a tool's name."""
    lines = {}
    for line in text.splitlines():
        if m := re.match(r"^\s*(\S+)\s+(.*)$", line):
            lines[m[1]] = m[2]
    return lines


# --- plan ------------------------------------------------------------------------------


def test_plan_shows_each_tool_with_its_files_level_and_edges(
    repo: GitRepo, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    out = command_output(repo, monkeypatch, capsys, "plan")
    assert out.splitlines()[0] == f"huskycat plan for {repo.path} (all files, 5 files)"
    levels = re.split(r"^Level \d+:$", out, flags=re.MULTILINE)[1:]
    assert len(levels) == 2
    level0, level1 = tool_lines(levels[0]), tool_lines(levels[1])
    assert level0["black"] == "2 files"
    assert level0["yamllint"] == "1 file"
    assert level0["shellcheck"] == "skipped: no files to check"
    # Check mode: nothing writes, so the catalog's "after" edges are left out and mypy
    # runs beside black; a requirement and a configured "after" stay.
    assert level0["mypy"] == "2 files"
    assert level1["ansible-lint"] == "1 file  (depends on: yamllint)"
    assert level1["docs"] == "1 file  (after: ruff)"


def test_plan_in_fix_mode_puts_writers_of_the_same_files_one_after_another(
    repo: GitRepo, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    tools = "black,isort,autoflake,ruff,flake8,taplo"
    out = command_output(repo, monkeypatch, capsys, "plan", "--fix", "--tools", tools)
    assert out.splitlines()[0].endswith("(all files, 5 files, fix mode)")
    levels = [tool_lines(level) for level in re.split(r"^Level \d+:$", out, flags=re.MULTILINE)[1:]]
    assert [sorted(level) for level in levels] == [
        ["black", "taplo"],
        ["isort"],
        ["autoflake"],
        ["ruff"],
        ["flake8"],
    ]
    assert levels[1]["isort"] == "2 files  (after: black)"
    assert levels[0]["taplo"] == "1 file"  # huskycat.toml: no Python file, so in parallel


def test_plan_takes_the_same_file_selection_as_run(
    repo: GitRepo, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    out = command_output(repo, monkeypatch, capsys, "plan", "pkg")
    assert out.splitlines()[0] == f"huskycat plan for {repo.path} (all files, 1 file)"
    assert tool_lines(out)["ruff"] == "1 file"


DISJOINT = (
    CUSTOM + '[tools.black]\nfiles = ["a.py"]\n'
    '[tools.mypy]\nfiles = ["pkg/**"]\n[tools.flake8]\nfiles = ["pkg/**"]\n'
    '[tools.bandit]\nfiles = ["pkg/**"]\n'
)


def tool_times(repo: GitRepo, *args: str) -> dict[str, dict[str, float]]:
    """When each tool of ``huskycat run ARGS`` started and ended (its JSON report)."""
    path = repo.path.parent / f"times-{time.monotonic_ns()}.json"
    tools = "black,mypy,flake8,bandit"
    proc = huskycat(repo.path, "run", "--tools", tools, "-j", "4", *args, "--json", str(path))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    times: dict[str, dict[str, float]] = load_report(path)["statistics"]["tool_times"]
    return times


def test_check_mode_runs_the_readers_beside_black_and_fix_mode_after_it(repo: GitRepo) -> None:
    # black's file is not theirs: only the catalog's "after" edges could order them.
    repo.write("huskycat.toml", DISJOINT)
    repo.add()
    check = tool_times(repo, "--no-cache")
    for reader in ("mypy", "flake8", "bandit"):
        assert check[reader]["start"] < check["black"]["end"], (reader, check)
    fix = tool_times(repo, "--fix", "--no-cache")
    for reader in ("mypy", "flake8", "bandit"):
        assert fix[reader]["start"] >= fix["black"]["end"], (reader, fix)


def test_plan_of_a_commit_finds_nested_projects_tracked_or_not_and_skips_ignored_ones(
    repo: GitRepo, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # A commit's run lists only the configuration files (git.files_named), not every file.
    repo.write(".gitignore", "gen/\n")
    repo.write("web/huskycat.toml", 'disable = ["mypy"]\n')
    repo.write("web/app.py", '"""App."""\n')
    repo.write("gen/pyproject.toml", "[tool.huskycat]\n")
    repo.write("gen/x.py", '"""Generated."""\n')
    repo.git("add", ".gitignore", "web/app.py")  # web/huskycat.toml stays untracked
    out = command_output(repo, monkeypatch, capsys, "plan", "--staged")
    assert re.search(r"^  web: ruff +1 file$", out, flags=re.MULTILINE), out
    assert re.search(r"^  ruff +skipped: no files to check$", out, flags=re.MULTILINE), out
    assert "web: mypy" not in out  # the project's own configuration disables it
    assert "gen" not in out


def test_the_cluster_variable_is_the_one_the_cluster_module_reads() -> None:
    from huskycat.commands.cluster import CLUSTER_VARIABLE
    from huskycat.distributed.cluster import ENV_VAR

    assert CLUSTER_VARIABLE == ENV_VAR


# --- graph -----------------------------------------------------------------------------


def test_graph_text_shows_levels_and_both_kinds_of_edge(
    repo: GitRepo, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    out = command_output(repo, monkeypatch, capsys, "graph")
    assert out.startswith("Level 0 (12 tools in parallel):\n")
    assert "\nLevel 1 (4 tools in parallel):\n" in out
    lines = out.splitlines()
    for line in (
        "  - ansible-lint (depends on: yamllint)",
        "  - gitlab-ci (depends on: yamllint)",
        "  - helm-lint (depends on: yamllint)",
        "  - docs (after: ruff)",
    ):
        assert line in lines
    level0 = out.split("\n\n")[0]
    for name in ("black", "isort", "mypy", "flake8", "bandit"):  # side by side
        assert re.search(rf"\b{name}\b", level0), name


def test_graph_with_fix_orders_readers_after_the_catalog_fixers(
    repo: GitRepo, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    out = command_output(repo, monkeypatch, capsys, "graph", "--fix")
    assert out.startswith("Level 0 (9 tools in parallel):\n")
    assert "\nLevel 1 (7 tools in parallel):\n" in out
    for line in (
        "  - mypy (after: black, isort)",
        "  - flake8 (after: black, isort)",
        "  - bandit (after: black)",
        "  - docs (after: ruff)",
        "  - ansible-lint (depends on: yamllint)",
    ):
        assert line in out.splitlines()


def test_graph_mermaid_draws_requires_solid_and_after_dashed(
    repo: GitRepo, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    out = command_output(repo, monkeypatch, capsys, "graph", "--format", "mermaid")
    lines = out.splitlines()
    assert lines[0] == "graph TD"
    assert "    yamllint[yamllint] --> ansible-lint[ansible-lint]" in lines
    assert "    black[black] -.-> mypy[mypy]" not in lines  # check mode: side by side
    assert "    ruff[ruff] -.-> docs[docs]" in lines
    assert "    hadolint[hadolint]" in lines  # a tool without edges


def test_graph_dot_is_a_digraph_with_every_tool_and_edge(
    repo: GitRepo, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    out = command_output(repo, monkeypatch, capsys, "graph", "--format", "dot")
    assert out.startswith("digraph dependencies {\n") and out.endswith("}\n")
    assert '    "yamllint" -> "helm-lint";' in out
    assert '"flake8" [style=dashed]' not in out  # check mode: flake8 waits for nothing
    assert '    "ruff" -> "docs" [style=dashed];' in out
    assert len(re.findall(r'^    "[^"]+";$', out, flags=re.MULTILINE)) == 16


def test_graph_leaves_out_disabled_tools(
    repo: GitRepo, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    repo.write("huskycat.toml", 'disable = ["mypy", "helm-lint"]\n' + CUSTOM)
    out = command_output(repo, monkeypatch, capsys, "graph", "--format", "dot", "--fix")
    assert '"mypy"' not in out and '"helm-lint"' not in out
    assert '    "black" -> "bandit" [style=dashed];' in out


# --- tools -----------------------------------------------------------------------------


def test_tools_lists_every_tool_installed_or_not_with_version_files_and_edges(
    repo: GitRepo, standin_path: str
) -> None:
    without_standins = os.pathsep.join(
        p for p in standin_path.split(os.pathsep) if "standin-bin" not in p
    )
    proc = huskycat(repo.path, "tools", env={**os.environ, "PATH": without_standins})
    assert proc.returncode == 0, proc.stderr
    lines = tool_lines(proc.stdout)
    assert len(lines) == 16
    ruff_version = subprocess.run(
        ["ruff", "--version"], capture_output=True, text=True, check=True
    ).stdout.split()[1]
    assert lines["ruff"] == f"installed {ruff_version}; files: python; fixes with --fix"
    assert lines["mypy"].endswith("; files: pyi, python; with --fix after: black, isort")
    assert lines["ansible-lint"].endswith(
        "; files: yaml, paths matching /\\.ya?ml$/; fixes with --fix; depends on: yamllint"
    )
    assert lines["helm-lint"].startswith(
        "not installed (install helm: https://helm.sh/docs/intro/install/); files: "
    )
    assert lines["gitlab-ci"].endswith(
        "; files: yaml, paths matching /(^|/)\\.gitlab-ci\\.ya?ml$/; depends on: yamllint"
    )
    assert lines["docs"] == "installed; files: markdown; after: ruff"
    with_standins = huskycat(repo.path, "tools", env={**os.environ, "PATH": standin_path})
    assert tool_lines(with_standins.stdout)["helm-lint"].startswith(
        "installed 3.15.4+gfa9efb0; files: "
    )


def test_tools_judges_configured_commands_by_their_own_program(
    repo: GitRepo, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    repo.write("scripts/lint.sh", "#!/bin/sh\nexit 0\n", executable=True)
    repo.write(
        "huskycat.toml",
        '[tools.mypy]\ncommand = ["python3", "-m", "mypy"]\ndepends_on = ["ruff"]\n'
        '[tools.lint]\ncommand = ["./scripts/lint.sh"]\n'
        '[tools.typo]\ncommand = ["no-such-program"]\n',
    )
    monkeypatch.chdir(repo.path / "pkg")  # a relative command is relative to the root
    assert main(["tools"]) == 0
    lines = tool_lines(capsys.readouterr().out)
    # No version: "python3 --version" would answer with Python's, not mypy's.
    assert lines["mypy"] == (
        "installed; files: pyi, python; depends on: ruff; with --fix after: black, isort"
    )
    assert lines["lint"] == "installed; files: any file"
    assert lines["typo"] == (
        "not installed (the command 'no-such-program' of tools.typo.command); files: any file"
    )


def test_tools_marks_disabled_tools(
    repo: GitRepo, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    repo.write("huskycat.toml", 'disable = ["bandit"]\n')
    out = command_output(repo, monkeypatch, capsys, "tools")
    assert re.match(r"installed [\d.]+, disabled; files: python", tool_lines(out)["bandit"])


# --- install / uninstall with real commits -----------------------------------------------


def commit(repo: GitRepo, *args: str) -> subprocess.CompletedProcess[str]:
    """``git commit ARGS`` with hooks, as a user runs it."""
    return subprocess.run(
        ["git", "commit", "-m", "change", *args],
        cwd=repo.path,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_installed_hook_blocks_a_bad_commit_and_lets_a_good_one_through(
    git_repo: GitRepo,
) -> None:
    # Only the fast Python tools, to keep the commits quick.
    git_repo.write("huskycat.toml", 'disable = ["mypy", "bandit", "flake8", "black"]\n')
    git_repo.write("a.py", '"""A."""\n')
    git_repo.commit("start")
    proc = huskycat(git_repo.path, "install")
    assert proc.returncode == 0
    hook = git_repo.path / ".git/hooks/pre-commit"
    assert proc.stdout == f"huskycat: installed pre-commit hook at {hook}\n"

    git_repo.write("bad.py", "import os\n")
    git_repo.add("bad.py")
    blocked = commit(git_repo)
    assert blocked.returncode != 0
    assert "bad.py:1:8: F401" in blocked.stderr  # git shows a hook's output on stderr
    assert git_repo.git("log", "--format=%s").split() == ["start"]

    # `git commit -a` stages through a temporary index; the hook sees that one.
    git_repo.git("rm", "-q", "--cached", "bad.py")
    (git_repo.path / "bad.py").unlink()
    git_repo.write("a.py", '"""A."""\nimport sys\n')
    blocked = commit(git_repo, "-a")
    assert blocked.returncode != 0
    assert "a.py:2:8: F401" in blocked.stderr

    git_repo.write("a.py", '"""A."""\n\nX = 1\n')
    passed = commit(git_repo, "-a")
    assert passed.returncode == 0, passed.stdout + passed.stderr
    assert re.search(r"^ruff \.+ passed", passed.stderr, re.MULTILINE)
    assert git_repo.git("log", "--format=%s").split() == ["change", "start"]

    proc = huskycat(git_repo.path, "uninstall")
    assert (proc.returncode, proc.stdout) == (0, f"huskycat: removed {hook}\n")
    assert not hook.exists()
    git_repo.write("a.py", "import os\n")
    assert commit(git_repo, "-a").returncode == 0  # no hook: nothing checks it


def test_install_refuses_to_replace_a_foreign_hook_without_force(git_repo: GitRepo) -> None:
    hook = git_repo.write(".git/hooks/pre-commit", "#!/bin/sh\nexit 0\n", executable=True)
    proc = huskycat(git_repo.path, "install")
    assert proc.returncode == 2
    assert proc.stderr.startswith(
        f"huskycat: error: pre-commit hook exists and was not written by huskycat: {hook}"
    )
    assert hook.read_text() == "#!/bin/sh\nexit 0\n"
    forced = huskycat(git_repo.path, "install", "--force")
    assert forced.returncode == 0
    assert (hook.parent / "pre-commit.legacy").read_text() == "#!/bin/sh\nexit 0\n"


def test_install_outside_a_git_repository_exits_2(tmp_path: Path) -> None:
    proc = huskycat(tmp_path, "install")
    assert proc.returncode == 2
    assert proc.stderr.startswith("huskycat: error: not in a git repository: ")


def test_uninstall_with_no_hook_says_so(git_repo: GitRepo) -> None:
    proc = huskycat(git_repo.path, "uninstall")
    assert (proc.returncode, proc.stdout) == (0, "huskycat: no huskycat hook to remove\n")


# --- version and usage ---------------------------------------------------------------------


def test_version_prints_the_version(git_repo: GitRepo) -> None:
    proc = huskycat(git_repo.path, "--version")
    assert (proc.returncode, proc.stdout) == (0, f"huskycat {__version__}\n")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ([], "usage: huskycat"),
        (["run", "--jobs", "0"], "expected an integer from 1 to 1024, got 0"),
        (["run", "--timeout", "soon"], "expected seconds, got 'soon'"),
        (["run", "--staged", "--all-files"], "not allowed with argument"),
        (["run", "--tools", ","], "expected comma-separated tool names"),
        (["graph", "--format", "png"], "invalid choice: 'png'"),
        (["nope"], "invalid choice: 'nope'"),
        (["run", "--files", "a.py", "--", "b"], "give either PATHS or --files, not both"),
        (["run", "--files", "missing.py"], "does not exist"),
        (["run", "--json", "no/such/folder/r.json"], "the folder 'no/such/folder' does not exist"),
        (["run", "--junit-xml", "."], "--junit-xml '.' is a folder, not a file"),
    ],
)
def test_bad_usage_exits_2_with_a_message(git_repo: GitRepo, args: list[str], message: str) -> None:
    git_repo.write("a.py", '"""A."""\n')
    proc = huskycat(git_repo.path, *args)
    assert proc.returncode == 2
    assert message in proc.stderr
    assert "Traceback" not in proc.stderr


def test_output_cut_short_by_a_closed_pipe_is_not_a_crash_and_reports_are_written(
    git_repo: GitRepo,
) -> None:
    git_repo.write("a.py", "import os\n")
    git_repo.add()
    report = git_repo.path.parent / "report.json"
    proc = subprocess.Popen(
        [sys.executable, "-m", "huskycat", "run", "--tools", "ruff,isort", "--json", str(report)],
        cwd=git_repo.path,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None and proc.stderr is not None
    proc.stdout.close()  # like `huskycat run | head -1` once head has its line
    err = proc.stderr.read()
    assert proc.wait(timeout=60) == 1  # ruff's finding still decides the exit code
    assert err == ""
    assert json.loads(report.read_text())["results"][0]["tool_name"] == "isort"


# --- how much the run says ------------------------------------------------------------------


@pytest.fixture
def two_tools(git_repo: GitRepo) -> GitRepo:
    """ruff fails on bad.py; isort passes."""
    git_repo.write("bad.py", "import os\n")
    git_repo.add()
    return git_repo


def run_output(
    repo: GitRepo, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], *args: str
) -> list[str]:
    monkeypatch.chdir(repo.path)
    assert main(["run", "--tools", "ruff,isort", *args]) == 1
    return capsys.readouterr().out.splitlines()


def test_quiet_shows_only_what_failed(
    two_tools: GitRepo, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    lines = run_output(two_tools, monkeypatch, capsys, "-q")
    assert [line.split()[0] for line in lines[:-1]] == ["ruff", "==>", "bad.py:1:8:"]
    assert lines[-1].startswith("1 passed, 1 failed, 0 timed out, 0 skipped in ")


def test_verbose_also_shows_tools_starting(
    two_tools: GitRepo, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    lines = run_output(two_tools, monkeypatch, capsys, "-v")
    assert lines[0] == "running 2 tools: isort, ruff"
    assert sum(bool(re.match(r"^(ruff|isort) \.+ running$", line)) for line in lines) == 2


def test_no_progress_prints_only_the_failed_outputs_and_the_summary(
    two_tools: GitRepo, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    lines = run_output(two_tools, monkeypatch, capsys, "--no-progress")
    assert lines[0].startswith("==> ruff: failed 1 error ")
    assert not any(re.match(r"^(ruff|isort) \.+ ", line) for line in lines)
    assert lines[-1].startswith("1 passed, 1 failed, 0 timed out, 0 skipped in ")


def test_on_a_terminal_a_live_table_shows_every_tool_then_the_summary(two_tools: GitRepo) -> None:
    code, text = run_in_terminal(["run", "--tools", "ruff,isort"], cwd=two_tools.path)
    assert code == 1
    final = text[text.rindex("isort ") :]  # the last drawing of the table, then the rest
    assert re.search(r"^isort +passed ", final, re.MULTILINE)
    assert re.search(r"^ruff +failed 1 error ", final, re.MULTILINE)
    assert "2/2 done" in final
    assert "==> ruff: failed 1 error" in final
    assert re.search(r"^1 passed, 1 failed, 0 timed out, 0 skipped in ", final, re.MULTILINE)
