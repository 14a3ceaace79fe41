"""RunOptions: jobs, timeout and fail-fast resolved once, the command line winning."""

from __future__ import annotations

from pathlib import Path

from huskycat.config import load_config
from huskycat.core.process import DEFAULT_TIMEOUT
from huskycat.run_options import RunOptions, combined
from huskycat.tools.catalog import CATALOG


def test_the_configuration_gives_what_the_command_line_does_not(tmp_path: Path) -> None:
    config = load_config(
        _write(tmp_path, "jobs = 3\ntimeout = 40\nfail_fast = true\n"), known_tools=CATALOG
    )
    assert RunOptions.of(config) == RunOptions(jobs=3, timeout=40, fail_fast=True)


def test_the_command_line_wins_over_the_configuration(tmp_path: Path) -> None:
    config = load_config(_write(tmp_path, "jobs = 3\ntimeout = 40\n"), known_tools=CATALOG)
    options = RunOptions.of(config, jobs=1, timeout=5, fail_fast=True)
    assert options == RunOptions(jobs=1, timeout=5, fail_fast=True)


def test_a_tools_own_timeout_wins_then_the_runs_then_the_default() -> None:
    assert RunOptions(timeout=40).tool_timeout(7) == 7
    assert RunOptions(timeout=40).tool_timeout(None) == 40
    assert RunOptions().tool_timeout(None) == DEFAULT_TIMEOUT


def test_a_monorepo_takes_the_first_projects_jobs_and_any_projects_fail_fast() -> None:
    projects = [RunOptions(jobs=2), RunOptions(jobs=8, fail_fast=True), RunOptions()]
    assert combined(projects) == RunOptions(jobs=2, fail_fast=True)
    assert combined([]) == RunOptions()


def _write(folder: Path, text: str) -> Path:
    (folder / "huskycat.toml").write_text(text)
    return folder
