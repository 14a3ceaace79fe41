"""``huskycat run`` end to end: real git repositories, the real tools, the real command.

helm and chapel-format cannot be installed here; the ``standin_path`` fixture puts
stand-ins for them first on PATH (see tests/tools_other_test.py) so that all 15 tools of
the catalog run. The whole-catalog runs are shared by the tests of a module (each costs
a few seconds, most of it ansible-lint); the others pick their tools with ``--tools``.
"""

from __future__ import annotations

import functools
import operator
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from junitparser import Failure, JUnitXml, Skipped

from huskycat.cli import main
from huskycat.core.results import Diagnostic
from huskycat.report.describe import diagnostic_line
from huskycat.tools.catalog import CATALOG
from tests.conftest import (
    GitRepo,
    hermetic_git_environment,
    huskycat,
    load_report,
    make_repo,
    results_by_tool,
)

PYPROJECT = '[tool.ruff.lint]\nselect = ["E9", "F"]\n'
CLEAN_PY = '''\
"""A clean module."""

import os


def cwd() -> str:
    """Return the working folder."""
    return os.getcwd()
'''
CHART = "---\napiVersion: v2\nname: web\nversion: 0.1.0\nicon: https://example.com/web.png\n"
CHAPEL_CLEAN = 'proc main() {\n  writeln("hi");\n}\n'

# One file or more per tool, each clean by that tool's defaults.
CLEAN_FILES = {
    "pyproject.toml": PYPROJECT,
    "src/app.py": CLEAN_PY,
    "config.toml": 'name = "app"\n',
    "scripts/build.sh": '#!/bin/sh\nset -eu\necho "built"\n',
    "Dockerfile": 'FROM python:3.11-slim\nCMD ["python"]\n',
    ".gitlab-ci.yml": "---\nstages: [build]\nbuild:\n  stage: build\n  script:\n    - make\n",
    "site.yml": (
        "---\n- name: Play\n  hosts: all\n  tasks:\n    - name: Ping\n      ansible.builtin.ping:\n"
    ),
    "charts/web/Chart.yaml": CHART,
    "charts/web/values.yaml": "---\nreplicas: 1\n",
    "charts/web/templates/cm.yaml": "---\nkind: ConfigMap\n",
    "src/main.chpl": CHAPEL_CLEAN,
}

# Problems seeded for each tool; the counts each tool must report are in SEEDED_COUNTS.
SEEDED_FILES = {
    "pyproject.toml": PYPROJECT,
    # black: "( )"; isort: sys before os; autoflake: unused import; ruff: F401, F841;
    # flake8: F401, E201, F841.
    "messy.py": (
        "import sys\nimport os\n\n\ndef cwd( ) -> str:\n    unused = 1\n    return os.getcwd()\n"
    ),
    # mypy: a str returned as an int.
    "typed.py": '"""Types."""\n\n\ndef number() -> int:\n    """One."""\n    return "one"\n',
    # bandit: B404 (low: a warning) importing subprocess, B602 (high: an error) shell=True.
    "risky.py": (
        '"""Risky."""\n\nimport subprocess\n\n\ndef run(command: str) -> None:\n'
        '    """Run."""\n    subprocess.call(command, shell=True)\n'
    ),
    # yamllint: no document start, a warning, which yamllint lets pass.
    "warn.yaml": "a: 1\n",
    # taplo: spaces around "=".
    "bad.toml": "b  =  1\n",
    # shellcheck: SC2164, a warning.
    "run.sh": "#!/bin/sh\ncd /tmp\n",
    # hadolint: DL3006, a warning.
    "Dockerfile": "FROM python\n",
    # gitlab-ci: "when" outside GitLab's schema.
    ".gitlab-ci.yml": "---\nbuild:\n  script: [make]\n  when: sometimes\n",
    # ansible-lint: fqcn[action-core].
    "site.yml": "---\n- name: Play\n  hosts: all\n  tasks:\n    - name: Ping\n      ping:\n",
    # helm-lint: the stand-in reports a template it cannot parse.
    "charts/web/Chart.yaml": CHART,
    "charts/web/values.yaml": "---\nreplicas: 1\n",
    "charts/web/templates/svc.yaml": "---\nkind: Service\nspec: BADYAML\n",
    # chapel-format: an unindented line with trailing blanks.
    "messy.chpl": 'proc main() {\nwriteln("hi");   \n}\n',
}

# tool -> (status, errors, warnings, [(file, line, code)] of its diagnostics)
SEEDED_COUNTS: dict[str, tuple[str, int, int, list[tuple[str, int | None, str | None]]]] = {
    "black": ("failed", 1, 0, [("messy.py", None, None)]),
    "isort": ("failed", 1, 0, [("messy.py", None, None)]),
    "autoflake": ("failed", 1, 0, [("messy.py", None, None)]),
    "ruff": ("failed", 2, 0, [("messy.py", 1, "F401"), ("messy.py", 6, "F841")]),
    "mypy": ("failed", 1, 0, [("typed.py", 6, "return-value")]),
    "flake8": (
        "failed",
        3,
        0,
        [("messy.py", 1, "F401"), ("messy.py", 5, "E201"), ("messy.py", 6, "F841")],
    ),
    "bandit": ("failed", 1, 0, [("risky.py", 3, "B404"), ("risky.py", 8, "B602")]),
    "yamllint": ("success", 0, 1, [("warn.yaml", 1, "document-start")]),
    "taplo": ("failed", 1, 0, [("bad.toml", None, "fmt")]),
    "shellcheck": ("failed", 0, 1, [("run.sh", 2, "SC2164")]),
    "hadolint": ("failed", 0, 1, [("Dockerfile", 1, "DL3006")]),
    "ansible-lint": ("failed", 1, 0, [("site.yml", 6, "fqcn[action-core]")]),
    "helm-lint": ("failed", 1, 0, [("charts/web/templates/svc.yaml", 3, None)]),
    "gitlab-ci": ("failed", 1, 0, [(".gitlab-ci.yml", 4, "schema")]),
    "chapel-format": ("failed", 1, 0, [("messy.chpl", 2, "fmt")]),
}

STATUS_LINE = re.compile(r"^(?P<tool>\S+) \.{3,} (?P<text>.+)$")


@dataclass(frozen=True)
class Run:
    """One finished ``huskycat run``: the process, its JSON report and the repository."""

    proc: subprocess.CompletedProcess[str]
    report: dict[str, Any]
    results: dict[str, dict[str, Any]]
    root: Path

    @property
    def times(self) -> dict[str, dict[str, float]]:
        times: dict[str, dict[str, float]] = self.report["statistics"]["tool_times"]
        return times


def fill(repo: GitRepo, files: Mapping[str, str]) -> None:
    for name, text in files.items():
        repo.write(name, text, executable=text.startswith("#!"))


def run_json(
    root: Path, *args: str, env: Mapping[str, str] | None = None, timeout: float = 120
) -> Run:
    """``huskycat run ARGS --json`` in a new process; its report checked by the schema."""
    report_path = root.parent / f"report-{time.monotonic_ns()}.json"
    proc = huskycat(root, "run", *args, "--json", str(report_path), env=env, timeout=timeout)
    assert "Traceback" not in proc.stderr, proc.stderr
    report = load_report(report_path)
    return Run(proc, report, results_by_tool(report), root)


def run_in_process(
    root: Path, monkeypatch: pytest.MonkeyPatch, *args: str
) -> tuple[int, dict[str, dict[str, Any]]]:
    """``huskycat.cli.main(["run", *args, "--json", ...])`` in this process (faster)."""
    report_path = root.parent / f"report-{time.monotonic_ns()}.json"
    monkeypatch.chdir(root)
    code = main(["run", *args, "--json", str(report_path)])
    return code, results_by_tool(load_report(report_path))


def places(result: Mapping[str, Any]) -> list[tuple[str, int | None, str | None]]:
    return sorted(
        ((d["file"], d["line"], d["code"]) for d in result["diagnostics"]),
        key=lambda p: (p[0], p[1] or 0, p[2] or ""),
    )


def files_seen(result: Mapping[str, Any]) -> set[str]:
    return {d["file"] for d in result["diagnostics"]}


def gone(pid: int) -> bool:
    """Whether process ``pid`` has ended (a zombie waiting for its reaper has ended)."""
    try:
        with open(f"/proc/{pid}/stat", encoding="utf-8") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] == "Z"
    except FileNotFoundError:
        return True


# --- the whole catalog on a clean and on a seeded repository -------------------------


@pytest.fixture(scope="module")
def clean_run(tmp_path_factory: pytest.TempPathFactory, standin_path: str) -> Run:
    base = tmp_path_factory.mktemp("clean")
    with hermetic_git_environment(base):
        repo = make_repo(base / "repo")
        fill(repo, CLEAN_FILES)
        repo.commit("clean")
        return run_json(repo.path, env={**os.environ, "PATH": standin_path})


@pytest.fixture(scope="module")
def seeded_run(tmp_path_factory: pytest.TempPathFactory, standin_path: str) -> Run:
    base = tmp_path_factory.mktemp("seeded")
    with hermetic_git_environment(base):
        repo = make_repo(base / "repo")
        fill(repo, SEEDED_FILES)
        repo.commit("seeded")
        junit = base / "junit.xml"
        env = {**os.environ, "PATH": standin_path, "GITHUB_ACTIONS": "true"}
        return run_json(repo.path, "--junit-xml", str(junit), env=env)


def test_clean_repository_passes_every_tool_of_the_catalog(clean_run: Run) -> None:
    assert clean_run.proc.returncode == 0, clean_run.proc.stdout
    assert {name: r["status"] for name, r in clean_run.results.items()} == {
        name: "success" for name in CATALOG
    }
    assert clean_run.report["success"] is True
    assert clean_run.proc.stdout.splitlines()[-1].startswith(
        "15 passed, 0 failed, 0 timed out, 0 skipped in "
    )


def test_each_tool_gets_only_its_own_kind_of_file(clean_run: Run) -> None:
    argv = {name: r["metadata"]["argv"] for name, r in clean_run.results.items()}
    assert argv["black"][-1:] == ["src/app.py"]
    assert argv["taplo"][-2:] == ["config.toml", "pyproject.toml"]
    assert argv["shellcheck"][-1:] == ["scripts/build.sh"]
    assert argv["hadolint"][-1:] == ["Dockerfile"]
    assert argv["gitlab-ci"][-1:] == [".gitlab-ci.yml"]
    assert argv["ansible-lint"][-1:] == ["site.yml"]
    assert argv["helm-lint"][-1:] == ["charts/web"]
    assert argv["chapel-format"][-1:] == ["src/main.chpl"]


def test_seeded_problems_are_found_and_counted_for_every_tool(seeded_run: Run) -> None:
    assert seeded_run.proc.returncode == 1
    found = {
        name: (r["status"], r["errors"], r["warnings"], places(r))
        for name, r in seeded_run.results.items()
    }
    assert found == SEEDED_COUNTS
    assert seeded_run.report["success"] is False


def test_would_reformat_does_not_hide_the_findings_of_the_python_checkers(
    seeded_run: Run,
) -> None:
    black = seeded_run.results["black"]
    assert (black["status"], black["metadata"]["outcome"]) == ("failed", "findings")
    # A check run: nothing writes, so they do not wait for black (the order of a --fix
    # run: tests/cli_commands_test.py).
    for name in ("mypy", "flake8", "bandit"):
        assert seeded_run.results[name]["errors"] > 0, name


def test_plain_output_has_one_line_per_tool_then_unbroken_blocks_then_a_summary(
    seeded_run: Run,
) -> None:
    lines = seeded_run.proc.stdout.splitlines()
    # One line per finished tool, first.
    status = [STATUS_LINE.match(line) for line in lines[:15]]
    assert sorted(m["tool"] for m in status if m) == sorted(CATALOG)
    assert next(m["text"] for m in status if m and m["tool"] == "yamllint").startswith("passed")
    # Then each failed tool's output as one block under its header: every line of a block
    # is that tool's own (its output, or its diagnostics), never another tool's.
    summary = next(i for i, line in enumerate(lines) if line.startswith("1 passed, 14 failed"))
    assert lines[summary].startswith("1 passed, 14 failed, 0 timed out, 0 skipped in ")
    header = "^==> (?=(?:" + "|".join(map(re.escape, CATALOG)) + "): )"
    blocks = re.split(header, "\n".join(lines[15:summary]), flags=re.MULTILINE)
    assert blocks[0] == ""
    failed = [n for n, r in seeded_run.results.items() if r["status"] == "failed"]
    assert sorted(b.split(":", 1)[0] for b in blocks[1:]) == sorted(failed)
    for block in blocks[1:]:
        name, _, header_rest = block.partition(":")
        result = seeded_run.results[name]
        assert header_rest.splitlines()[0].startswith(" failed ")
        own = {line.strip() for line in result["output"].splitlines()}
        own |= {diagnostic_line(Diagnostic(**d)) for d in result["diagnostics"]}
        for line in block.splitlines()[1:]:
            assert line.strip() in own, (name, line)
    # After the summary, only the GitHub annotations (GITHUB_ACTIONS=true).
    assert all(line.startswith("::") for line in lines[summary + 1 :])


def test_github_actions_get_an_annotation_per_diagnostic(seeded_run: Run) -> None:
    annotations = [line for line in seeded_run.proc.stdout.splitlines() if line.startswith("::")]
    assert (
        "::error file=typed.py,line=6,col=12,title=mypy return-value::"
        'Incompatible return value type (got "str", expected "int")'
    ) in annotations
    assert any(
        a.startswith("::warning file=run.sh,line=2,col=1,title=shellcheck SC2164::")
        for a in annotations
    )
    diagnostics = sum(len(r["diagnostics"]) for r in seeded_run.results.values())
    assert len(annotations) == diagnostics


def test_junit_report_has_a_testcase_per_tool_with_failures_and_output(
    seeded_run: Run,
) -> None:
    xml = JUnitXml.fromfile(str(seeded_run.root.parent / "junit.xml"))
    cases = {case.name: case for suite in xml for case in suite}
    assert sorted(cases) == sorted(CATALOG)
    assert cases["yamllint"].is_passed
    mypy = cases["mypy"].result
    assert len(mypy) == 1 and isinstance(mypy[0], Failure)
    assert mypy[0].message == "1 error"
    assert "typed.py:6:12: return-value" in (mypy[0].text or "")
    assert sum(not case.is_passed for case in cases.values()) == 14


def test_json_report_holds_plan_statistics_and_every_result(seeded_run: Run) -> None:
    report = seeded_run.report
    assert report["root"] == str(seeded_run.root)
    assert report["mode"] == "all files"
    assert [level["level"] for level in report["plan"]] == [0, 1]
    assert sorted(
        functools.reduce(operator.iadd, (level["tools"] for level in report["plan"]), [])
    ) == sorted(CATALOG)
    statistics = report["statistics"]
    assert statistics["wall_time"] > 0
    assert set(statistics["tool_times"]) == set(CATALOG)


# --- dependency semantics ------------------------------------------------------------


def test_yamllint_failure_skips_the_yaml_linters_that_need_it(
    git_repo: GitRepo, standin_path: str
) -> None:
    fill(git_repo, {k: v for k, v in CLEAN_FILES.items() if k.endswith((".yml", ".yaml"))})
    git_repo.write("broken.yaml", "---\nkey: [1, 2\nother: 3\n")
    git_repo.write("clean.py", CLEAN_PY)
    git_repo.add()
    junit = git_repo.path.parent / "junit.xml"
    run = run_json(
        git_repo.path,
        "--tools",
        "yamllint,ansible-lint,gitlab-ci,helm-lint,ruff",
        "--junit-xml",
        str(junit),
        env={**os.environ, "PATH": standin_path},
    )
    assert run.proc.returncode == 1
    assert places(run.results["yamllint"]) == [("broken.yaml", 3, "syntax")]
    for name in ("ansible-lint", "helm-lint"):  # project-wide: the whole tool waits
        result = run.results[name]
        assert result["status"] == "skipped", name
        assert result["error_message"] == "dependency 'yamllint' failed"
        assert name not in run.times or "start" not in run.times[name]
    # gitlab-ci checks file by file: yamllint passed its .gitlab-ci.yml (huskycat.vouching).
    gitlab = run.results["gitlab-ci"]
    assert gitlab["status"] == "success" and "left_out" not in gitlab["metadata"]
    assert run.results["ruff"]["status"] == "success"
    cases = {case.name: case for suite in JUnitXml.fromfile(str(junit)) for case in suite}
    skipped = cases["ansible-lint"].result
    assert len(skipped) == 1 and isinstance(skipped[0], Skipped)
    assert skipped[0].message == "dependency 'yamllint' failed"
    assert isinstance(cases["yamllint"].result[0], Failure)
    assert "broken.yaml:3:6: [error] syntax error" in (cases["yamllint"].result[0].text or "")


def test_tool_without_files_is_skipped_as_not_applicable_and_the_run_passes(
    git_repo: GitRepo, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    git_repo.write("clean.py", CLEAN_PY)
    git_repo.add()
    code, results = run_in_process(git_repo.path, monkeypatch, "--tools", "ruff,shellcheck")
    assert code == 0
    shellcheck = results["shellcheck"]
    assert (shellcheck["status"], shellcheck["error_message"]) == ("skipped", "no files to check")
    assert shellcheck["metadata"]["skip_reason"] == "not_applicable"
    out = capsys.readouterr().out
    assert re.search(r"^shellcheck \.+ skipped: no files to check$", out, re.MULTILINE)
    assert re.search(r"^1 passed, 0 failed, 0 timed out, 1 skipped in ", out, re.MULTILINE)


# --- processes: hung tools, syntax errors, odd file names ----------------------------

HANG = """\
[tools.hang]
command = ["sh", "-c", "echo $$ > sh.pid; sleep 60 & echo $! > sleep.pid; wait"]
timeout = 1
pass_filenames = false
"""


def test_hung_custom_tool_times_out_and_its_processes_are_killed(git_repo: GitRepo) -> None:
    git_repo.write("huskycat.toml", HANG)
    git_repo.add()
    run = run_json(git_repo.path, "--tools", "hang", timeout=30)
    assert run.proc.returncode == 1
    hang = run.results["hang"]
    assert (hang["status"], hang["error_message"]) == ("timeout", "timed out after 1s")
    assert "hang ........ timed out after 1.0s" in run.proc.stdout
    pids = [int((git_repo.path / f).read_text()) for f in ("sh.pid", "sleep.pid")]
    deadline = time.monotonic() + 5
    while not all(map(gone, pids)) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert all(map(gone, pids)), pids


def test_syntax_error_in_a_python_file_is_reported_at_its_line_not_crashed_on(
    git_repo: GitRepo, monkeypatch: pytest.MonkeyPatch
) -> None:
    git_repo.write("broken.py", "def f(:\n    pass\n")
    git_repo.write("ok.py", '"""Fine."""\n')
    git_repo.add()
    code, results = run_in_process(
        git_repo.path, monkeypatch, "--tools", "black,ruff,flake8,mypy,bandit"
    )
    assert code == 1
    for name in ("black", "ruff", "flake8", "mypy"):
        result = results[name]
        assert (result["status"], result["metadata"]["outcome"]) == ("failed", "findings")
        assert {(d["file"], d["line"]) for d in result["diagnostics"]} == {("broken.py", 1)}
    bandit = results["bandit"]
    assert files_seen(bandit) == {"broken.py"}
    assert bandit["metadata"]["outcome"] == "findings"


ODD_NAMES = ["my file.py", "héllo wörld.py", "-dash.py"]


def test_file_names_with_spaces_unicode_and_a_leading_dash_reach_the_tools(
    git_repo: GitRepo, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ODD_NAMES:
        git_repo.write(name, "import os\n")
    git_repo.write("-x y.sh", "#!/bin/sh\ncd /tmp\n", executable=True)
    git_repo.write("ünï code.yaml", "---\na:   1\n")
    git_repo.add()
    code, results = run_in_process(
        git_repo.path, monkeypatch, "--tools", "ruff,flake8,autoflake,shellcheck,yamllint,black"
    )
    assert code == 1
    for name in ("ruff", "flake8", "autoflake"):
        assert files_seen(results[name]) == set(ODD_NAMES), name
    assert places(results["ruff"]) == sorted((n, 1, "F401") for n in ODD_NAMES)
    assert places(results["shellcheck"]) == [("-x y.sh", 2, "SC2164")]
    assert places(results["yamllint"]) == [("ünï code.yaml", 2, "colons")]
    assert results["black"]["status"] == "success"
    assert "./-dash.py" in results["black"]["metadata"]["argv"]


def test_repository_without_matching_files_passes_with_every_tool_skipped(
    git_repo: GitRepo, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    git_repo.write("README.txt", "nothing to lint here\n")
    git_repo.add()
    code, results = run_in_process(git_repo.path, monkeypatch)
    assert code == 0
    assert {n: (r["status"], r["error_message"]) for n, r in results.items()} == {
        name: ("skipped", "no files to check") for name in CATALOG
    }
    assert (
        capsys.readouterr()
        .out.splitlines()[-1]
        .startswith("0 passed, 0 failed, 0 timed out, 15 skipped in ")
    )


def test_outside_git_run_walks_the_folder_skipping_vcs_venvs_and_caches(
    tmp_path: Path,
) -> None:
    folder = tmp_path / "plain"
    bad = "import os\n"
    for name in (
        "project/pkg/mod.py",
        "project/top.py",
        "project/.git/hook.py",
        "project/.venv/lib/site.py",
        "project/env/lib/x.py",
        "project/pkg/__pycache__/mod.py",
        "project/.mypy_cache/x.py",
        "project/node_modules/y.py",
    ):
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_text(bad)
    (folder / "project/env/pyvenv.cfg").write_text("home = /usr\n")
    (folder / "elsewhere.py").write_text(bad)
    run = run_json(folder, "--tools", "ruff", "project")
    assert run.proc.returncode == 1
    assert files_seen(run.results["ruff"]) == {"project/pkg/mod.py", "project/top.py"}
    assert run.report["root"] == str(folder)


# --- file and tool selection ----------------------------------------------------------


@pytest.fixture
def selection_repo(git_repo: GitRepo) -> GitRepo:
    """Committed a.py, b.py, sub/c.py; then a.py changed in a second commit, untracked
    d.py, ignored e.py. Each has an unused import: ruff names the files it saw."""
    bad = "import os\n"
    git_repo.write(".gitignore", "e.py\n")
    for name in ("a.py", "b.py", "sub/c.py"):
        git_repo.write(name, bad)
    git_repo.commit("first")
    git_repo.write("a.py", "import sys\n")
    git_repo.commit("second")
    git_repo.write("d.py", bad)
    git_repo.write("e.py", bad)
    return git_repo


def ruff_files(repo: GitRepo, monkeypatch: pytest.MonkeyPatch, *args: str) -> set[str]:
    code, results = run_in_process(repo.path, monkeypatch, "--tools", "ruff", *args)
    assert code == 1
    return files_seen(results["ruff"])


def test_all_files_is_the_default_tracked_plus_untracked_not_ignored(
    selection_repo: GitRepo, monkeypatch: pytest.MonkeyPatch
) -> None:
    every = {"a.py", "b.py", "sub/c.py", "d.py"}
    assert ruff_files(selection_repo, monkeypatch) == every
    assert ruff_files(selection_repo, monkeypatch, "--all-files") == every


def test_paths_limit_the_run(selection_repo: GitRepo, monkeypatch: pytest.MonkeyPatch) -> None:
    assert ruff_files(selection_repo, monkeypatch, "sub", "d.py") == {"sub/c.py", "d.py"}
    monkeypatch.chdir(selection_repo.path / "sub")  # PATHS are relative to where we are
    report = selection_repo.path.parent / "sub-report.json"
    assert main(["run", "--tools", "ruff", ".", "--json", str(report)]) == 1
    assert files_seen(results_by_tool(load_report(report))["ruff"]) == {"sub/c.py"}


def test_staged_runs_on_the_staged_files_only(
    selection_repo: GitRepo, monkeypatch: pytest.MonkeyPatch
) -> None:
    selection_repo.write("b.py", "import json\n")
    selection_repo.add("b.py")
    assert ruff_files(selection_repo, monkeypatch, "--staged") == {"b.py"}


def test_staged_with_nothing_staged_exits_0_without_running_a_tool(
    selection_repo: GitRepo,
) -> None:
    proc = huskycat(selection_repo.path, "run", "--staged")
    assert (proc.returncode, proc.stdout, proc.stderr) == (
        0,
        "huskycat: nothing staged to check\n",
        "",
    )


def test_changed_since_takes_files_changed_since_the_ref_and_untracked_ones(
    selection_repo: GitRepo, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert ruff_files(selection_repo, monkeypatch, "--changed-since", "HEAD~1") == {
        "a.py",
        "d.py",
    }


def test_changed_since_a_bad_ref_exits_2_naming_the_ref(selection_repo: GitRepo) -> None:
    proc = huskycat(selection_repo.path, "run", "--changed-since", "no-such-branch")
    assert proc.returncode == 2
    assert "'no-such-branch'" in proc.stderr
    assert "Traceback" not in proc.stderr and proc.stdout == ""


def test_files_runs_on_exactly_the_files_named(
    selection_repo: GitRepo, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert ruff_files(selection_repo, monkeypatch, "--files", "b.py", "e.py") == {"b.py", "e.py"}


def test_tools_and_skip_choose_the_tools(
    selection_repo: GitRepo, monkeypatch: pytest.MonkeyPatch
) -> None:
    _, results = run_in_process(selection_repo.path, monkeypatch, "--tools", "ruff,taplo")
    assert sorted(results) == ["ruff", "taplo"]
    _, results = run_in_process(
        selection_repo.path, monkeypatch, "--skip", ",".join(set(CATALOG) - {"ruff", "flake8"})
    )
    assert sorted(results) == ["flake8", "ruff"]


@pytest.mark.parametrize("option", ["--tools", "--skip"])
def test_unknown_tool_exits_2_naming_it(selection_repo: GitRepo, option: str) -> None:
    proc = huskycat(selection_repo.path, "run", option, "ruff,nosuchtool")
    assert proc.returncode == 2
    assert proc.stderr.startswith("huskycat: error: unknown tool 'nosuchtool'")
    assert "Traceback" not in proc.stderr


# --- --fix ---------------------------------------------------------------------------

MESSY = (
    "import sys\nimport os\nfrom json import dumps\n\n\n"
    "def cwd( ) -> str:\n    return os.getcwd()\n"
)
FIXED = "import os\n\n\ndef cwd() -> str:\n    return os.getcwd()\n"
FIX_TOOLS = "black,isort,autoflake,ruff,taplo,flake8,mypy,bandit"


@pytest.fixture
def fix_repo(git_repo: GitRepo) -> GitRepo:
    git_repo.write("pyproject.toml", PYPROJECT)
    for name in ("one.py", "two.py", "pkg/three.py"):
        git_repo.write(name, MESSY)
    git_repo.write("bad.toml", "b  =  1\n")
    git_repo.commit("messy")
    return git_repo


def test_fix_rewrites_the_files_exits_1_and_lists_them(fix_repo: GitRepo) -> None:
    run = run_json(fix_repo.path, "--fix", "--tools", FIX_TOOLS)
    assert run.proc.returncode == 1
    for name in ("one.py", "two.py", "pkg/three.py"):
        assert (fix_repo.path / name).read_text() == FIXED
    assert (fix_repo.path / "bad.toml").read_text() == "b = 1\n"
    assert sorted(run.results["black"]["metadata"]["modified_files"]) == [
        "one.py",
        "pkg/three.py",
        "two.py",
    ]
    assert run.results["taplo"]["metadata"]["modified_files"] == ["bad.toml"]
    out = run.proc.stdout
    listed = out[out.index("files modified by fixers:") :].splitlines()[1:5]
    assert sorted(line.split(" (")[0].strip() for line in listed) == sorted(
        ["bad.toml", "one.py", "pkg/three.py", "two.py"]
    )
    assert run.report["mode"] == "all files (fix)"
    again = run_json(fix_repo.path, "--tools", FIX_TOOLS)
    assert again.proc.returncode == 0, again.proc.stdout


def overlaps(a: Mapping[str, float], b: Mapping[str, float]) -> bool:
    return a["start"] < b["end"] and b["start"] < a["end"]


def test_fix_never_runs_two_writers_of_a_file_at_once_nor_a_reader_during_a_writer(
    fix_repo: GitRepo,
) -> None:
    run = run_json(fix_repo.path, "--fix", "--tools", FIX_TOOLS, "--jobs", "4")
    times = run.times
    python_writers = ["black", "isort", "autoflake", "ruff"]
    for i, first in enumerate(python_writers):
        for later in python_writers[i + 1 :]:
            assert not overlaps(times[first], times[later]), (first, later, times)
    for reader in ("flake8", "mypy", "bandit"):
        for writer in python_writers:
            assert times[reader]["start"] >= times[writer]["end"], (reader, writer, times)
    # taplo writes other files: nothing orders it, and it ran beside the Python writers.
    assert run.results["taplo"]["metadata"]["modified_files"] == ["bad.toml"]
    assert times["taplo"]["start"] < times["black"]["end"]


# --- running: fail-fast, jobs, timeout ---------------------------------------------------

SLEEPERS = """\
[tools.fail]
command = ["sh", "-c", "echo boom; exit 1"]
pass_filenames = false
[tools.slow]
command = ["sh", "-c", "sleep 30"]
pass_filenames = false
[tools.later]
command = ["true"]
pass_filenames = false
depends_on = ["slow"]
[tools.nap1]
command = ["sleep", "0.4"]
pass_filenames = false
[tools.nap2]
command = ["sleep", "0.4"]
pass_filenames = false
[tools.nap3]
command = ["sleep", "0.4"]
pass_filenames = false
"""


@pytest.fixture
def sleepers(git_repo: GitRepo) -> GitRepo:
    git_repo.write("huskycat.toml", SLEEPERS)
    git_repo.add()
    return git_repo


def test_fail_fast_stops_at_the_first_failure_and_skips_the_rest_naming_it(
    sleepers: GitRepo,
) -> None:
    run = run_json(
        sleepers.path, "--fail-fast", "--tools", "fail,slow,later", "-j", "2", timeout=20
    )
    assert run.proc.returncode == 1
    assert run.results["fail"]["status"] == "failed"
    assert run.results["slow"]["status"] == "skipped"
    assert run.results["slow"]["error_message"] == "cancelled: fail-fast after 'fail' failed"
    assert run.results["later"]["error_message"] == "not started: fail-fast after 'fail' failed"
    assert run.report["statistics"]["wall_time"] < 10


def concurrency(times: Mapping[str, Mapping[str, float]]) -> int:
    """The most tools that were running at one moment."""
    edges = sorted(
        [(t["start"], 1) for t in times.values()] + [(t["end"], -1) for t in times.values()]
    )
    most = running = 0
    for _, step in edges:
        running += step
        most = max(most, running)
    return most


@pytest.mark.parametrize(("jobs", "most"), [("1", 1), ("3", 3)])
def test_jobs_is_how_many_tools_run_at_once(sleepers: GitRepo, jobs: str, most: int) -> None:
    run = run_json(sleepers.path, "--tools", "nap1,nap2,nap3", "--jobs", jobs)
    assert run.proc.returncode == 0
    assert concurrency(run.times) == most
    assert run.report["statistics"]["max_workers"] == int(jobs)


def test_timeout_option_limits_every_tool(sleepers: GitRepo) -> None:
    run = run_json(sleepers.path, "--tools", "slow,nap1", "--timeout", "1", timeout=20)
    assert run.proc.returncode == 1
    assert run.results["slow"]["status"] == "timeout"
    assert run.results["slow"]["error_message"] == "timed out after 1s"
    assert run.results["nap1"]["status"] == "success"


@pytest.mark.parametrize(
    ("signum", "message"),
    [
        (signal.SIGINT, "huskycat: interrupted\n"),
        (signal.SIGTERM, "huskycat: interrupted by SIGTERM\n"),
        (signal.SIGHUP, "huskycat: interrupted by SIGHUP\n"),
    ],
    ids=["SIGINT", "SIGTERM", "SIGHUP"],
)
def test_interrupted_run_exits_130_and_leaves_no_process_behind(
    git_repo: GitRepo, signum: signal.Signals, message: str
) -> None:
    git_repo.write("huskycat.toml", HANG.replace("timeout = 1", "timeout = 100"))
    git_repo.add()
    proc = subprocess.Popen(
        [sys.executable, "-m", "huskycat", "run", "--tools", "hang"],
        cwd=git_repo.path,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    pid_file = git_repo.path / "sleep.pid"
    deadline = time.monotonic() + 20
    while not (pid_file.exists() and pid_file.read_text().strip()):
        assert time.monotonic() < deadline and proc.poll() is None, "the tool never started"
        time.sleep(0.05)
    proc.send_signal(signum)
    out, err = proc.communicate(timeout=20)
    assert proc.returncode == 130, (out, err)
    assert err == message
    pids = [int((git_repo.path / f).read_text()) for f in ("sh.pid", "sleep.pid")]
    deadline = time.monotonic() + 5
    while not all(map(gone, pids)) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert all(map(gone, pids)), pids


def test_the_runs_quick_look_for_set_aside_changes_knows_the_names_staged_gives_them() -> None:
    """A run imports huskycat.staged only when .git/huskycat holds a name of these."""
    from huskycat import staged
    from huskycat.commands import run as run_command

    prefixes = (staged.BACKUP_PREFIX, staged._INCOMPLETE_PREFIX)
    assert run_command.SET_ASIDE_PREFIXES == prefixes  # replay's, which run uses too


NICENESS_TOOLS = """\
[tool.huskycat.tools.slow]
command = ["{python}", "-c", "import time; time.sleep(1.5)"]
pass_filenames = false

[tool.huskycat.tools.quick]
command = ["{python}", "-c", "import os; print('niceness', os.nice(0))"]
pass_filenames = false
"""


def test_a_tool_off_the_critical_path_runs_at_niceness_19(git_repo: GitRepo) -> None:
    git_repo.write("pyproject.toml", NICENESS_TOOLS.format(python=sys.executable))
    git_repo.commit("two tools")
    args = ("--tools", "slow,quick", "--jobs", "2", "--no-progress", "-v")
    first = run_json(git_repo.path, *args)  # no history yet: neither is known to be longer
    assert first.proc.returncode == 0, first.proc.stderr
    assert "nice" not in first.results["quick"]["metadata"]
    second = run_json(git_repo.path, *args)  # the history says 'slow' is the critical path
    assert second.proc.returncode == 0, second.proc.stderr
    assert second.results["quick"]["metadata"]["nice"] == 19
    assert "nice" not in second.results["slow"]["metadata"]
    assert f"niceness {min(19, os.nice(0) + 19)}" in second.proc.stdout
