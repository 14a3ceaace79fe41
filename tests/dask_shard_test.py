"""``huskycat run --shard K/N`` and ``huskycat merge``: shares that are deterministic,
disjoint, balanced and complete, and merged reports that say what one run says."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from junitparser import JUnitXml

from huskycat.distributed.shard import ShardError, Unit, assign, parse_share
from tests.conftest import GitRepo, huskycat, load_report

TOOLS = "black,isort,ruff,flake8,yamllint,needs-yaml"
CONFIG = """\
[tool.ruff.lint]
select = ["E9", "F"]

[tool.huskycat.tools.needs-yaml]   # runs only if yamllint passes
command = ["python", "-c", "pass"]
pass_filenames = false
types = ["yaml"]
depends_on = ["yamllint"]
"""


def test_a_share_is_k_of_n() -> None:
    assert (parse_share("2/3").index, parse_share("2/3").count) == (2, 3)
    for bad in ("0/3", "4/3", "3", "a/b", "1/0", "-1/2"):
        with pytest.raises(ShardError, match=r"expected K/N with 1 <= K <= N"):
            parse_share(bad)


def test_units_go_longest_first_to_the_least_loaded_share_the_same_every_time() -> None:
    work = [Unit(f"t{i}", 0, (f"f{i}",), cost) for i, cost in enumerate([5, 4, 3, 3, 2, 2, 1])]
    shares = assign(work, 3)
    assert shares == assign(list(reversed(work)), 3)
    names = sorted(u.tool for share in shares for u in share)
    assert names == sorted(u.tool for u in work)  # each unit in exactly one share
    loads = [sum(u.cost for u in share) for share in shares]
    assert max(loads) - min(loads) <= 1  # 20 units of work: 7, 7, 6


def fill(repo: GitRepo) -> None:
    repo.write("pyproject.toml", CONFIG)
    for index in range(20):  # enough files for the file-local tools to be cut in slices
        body = "import os\n" if index % 3 == 0 else f"VALUE_{index} = {index}\n"
        repo.write(f"pkg/m{index:02}.py", body + ("x=1\n" if index % 4 == 0 else ""))
    repo.write("conf/a.yaml", "a: 1\nb:   [1,2]\n")
    repo.write("conf/b.yaml", "c: 3\n")
    repo.commit("start")


def essentials(report: dict[str, Any]) -> list[tuple[Any, ...]]:
    return [
        (
            r["tool_name"],
            r["status"],
            r["errors"],
            r["warnings"],
            r["error_message"],
            r["diagnostics"],
            r["metadata"].get("files"),
        )
        for r in report["results"]
    ]


def junit_cases(path: Path) -> list[tuple[str, str]]:
    suite = next(iter(JUnitXml.fromfile(str(path))))
    cases = []
    for case in suite:
        kind = type(case.result[0]).__name__ if case.result else "passed"
        cases.append((case.name, kind))
    return sorted(cases)


def test_merged_shares_report_what_a_single_run_reports(git_repo: GitRepo, tmp_path: Path) -> None:
    fill(git_repo)
    run = ["run", "--all-files", "--tools", TOOLS, "--no-progress", "--no-cache"]
    reports = []
    ran: dict[str, int] = {}
    for k in (1, 2, 3):
        report = tmp_path / f"share{k}.json"
        share = huskycat(git_repo.path, *run, "--shard", f"{k}/3", "--json", str(report))
        assert share.returncode in (0, 1), share.stderr
        for name, count in load_report(report)["statistics"]["shard"]["ran_files"].items():
            ran[name] = ran.get(name, 0) + count
        reports.append(str(report))
    assert ran["ruff"] == ran["black"] == 20  # every file once, over the shares
    statuses = {
        r["status"]
        for p in reports
        for r in load_report(Path(p))["results"]
        if r["tool_name"] == "needs-yaml"
    }
    assert "success" in statuses  # it ran in a share without yamllint: merge must skip it
    # After the shares: the single run records a history, which would change the split.
    single = huskycat(
        git_repo.path,
        *run,
        "--json",
        str(tmp_path / "single.json"),
        "--junit-xml",
        str(tmp_path / "single.xml"),
    )
    merged = huskycat(
        tmp_path,
        "merge",
        *reversed(reports),
        "--json",
        str(tmp_path / "merged.json"),
        "--junit-xml",
        str(tmp_path / "merged.xml"),
    )
    assert merged.returncode == single.returncode == 1, merged.stderr
    single_report, merged_report = load_report(tmp_path / "single.json"), load_report(
        tmp_path / "merged.json"
    )
    assert essentials(merged_report) == essentials(single_report)
    by_name = {r["tool_name"]: r for r in merged_report["results"]}
    assert by_name["needs-yaml"]["error_message"] == "dependency 'yamllint' failed"
    assert junit_cases(tmp_path / "merged.xml") == junit_cases(tmp_path / "single.xml")
    counts = single.stdout.strip().splitlines()[-1].split(" in ")[0]
    assert merged.stdout.strip().splitlines()[-1].startswith(counts)


def share_report(index: int, count: int, ran: dict[str, int], files: int = 4) -> dict[str, Any]:
    return {
        "format_version": 1,
        "root": "/r",
        "mode": "all files",
        "results": [
            {"tool_name": "ruff", "success": True, "duration": 1.0, "metadata": {"files": 2}}
        ],
        "statistics": {
            "wall_time": 1.0,
            "shard": {
                "index": index,
                "count": count,
                "tools": ["ruff"],
                "requires": {"ruff": []},
                "after": {"ruff": []},
                "files": {"ruff": files},
                "ran_files": ran,
            },
        },
    }


@pytest.mark.parametrize(
    ("reports", "message"),
    [
        ([share_report(1, 2, {"ruff": 2})], "share 2 of 2 is missing"),
        (
            [share_report(1, 2, {"ruff": 2}), share_report(1, 2, {"ruff": 2})],
            "'r1.json' and 'r0.json' are both share 1",
        ),
        (
            [share_report(1, 2, {"ruff": 2}), share_report(2, 2, {"ruff": 2}, files=5)],
            "'r1.json' is a share of another run than 'r0.json'",
        ),
        (
            [share_report(1, 2, {"ruff": 2}), share_report(2, 2, {"ruff": 1})],
            "the shares ran 'ruff' on 3 files, the run has 4",
        ),
        ([{"format_version": 1, "results": [], "statistics": {}}], "is not the report of a share"),
        ([["not", "a", "report"]], "'r0.json' is not a huskycat JSON report"),
    ],
)
def test_reports_that_do_not_make_one_run_exit_2_naming_the_report(
    tmp_path: Path, reports: list[Any], message: str
) -> None:
    names = []
    for index, report in enumerate(reports):
        (tmp_path / f"r{index}.json").write_text(json.dumps(report))
        names.append(f"r{index}.json")
    proc = huskycat(tmp_path, "merge", *names)
    assert proc.returncode == 2
    assert message in proc.stderr, proc.stderr
    assert "Traceback" not in proc.stderr


def test_a_report_that_is_not_json_exits_2(tmp_path: Path) -> None:
    (tmp_path / "bad.json").write_text("{")
    proc = huskycat(tmp_path, "merge", "bad.json", "missing.json")
    assert proc.returncode == 2
    assert "report 'bad.json' is not JSON" in proc.stderr


def test_a_bad_share_exits_2_naming_it(git_repo: GitRepo) -> None:
    fill(git_repo)
    proc = huskycat(git_repo.path, "run", "--shard", "4/3")
    assert proc.returncode == 2
    assert "--shard: '4/3': expected K/N with 1 <= K <= N" in proc.stderr
