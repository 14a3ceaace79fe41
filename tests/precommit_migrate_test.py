"""``huskycat migrate``: the [tool.huskycat] equivalent of a .pre-commit-config.yaml."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from huskycat.config import load_config
from huskycat.tools.defaults import NAMES

CONFIG = """\
fail_fast: true
repos:
-   repo: https://github.com/psf/black
    rev: 24.4.2
    hooks:
    -   id: black
        args: [--skip-string-normalization]
-   repo: https://github.com/astral-sh/ruff-pre-commit
    rev: v0.5.0
    hooks:
    -   id: ruff
        exclude: ^migrations/
-   repo: https://github.com/pre-commit/pre-commit-hooks
    rev: v6.0.0
    hooks:
    -   id: trailing-whitespace
-   repo: local
    hooks:
    -   id: pytest-collect
        name: collect tests
        entry: pytest --collect-only -q
        language: system
        types: [python]
        pass_filenames: false
    -   id: no-todo
        name: no todo
        entry: TODO
        language: pygrep
    -   id: prettier
        name: prettier
        entry: prettier --check
        language: node
        additional_dependencies: [prettier@3.3.3]
"""


def _migrate(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "huskycat", "migrate", *args],
        cwd=root,
        capture_output=True,
        text=True,
        check=False,
    )


def test_migrate_writes_a_configuration_huskycat_accepts(tmp_path: Path) -> None:
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    (tmp_path / ".pre-commit-config.yaml").write_text(CONFIG)
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "x"\n')
    printed = _migrate(tmp_path)
    assert printed.returncode == 0, printed.stderr
    assert (
        '[tool.huskycat.tools.black]\nversion = "24.4.2"\nargs = ["--skip-string-normalization"]'
        in printed.stdout
    )
    assert '[tool.huskycat.tools.ruff]\nversion = "0.5.0"' in printed.stdout
    assert (
        "trailing-whitespace (https://github.com/pre-commit/pre-commit-hooks): no huskycat"
        in printed.stdout
    )
    assert "no-todo (local): no huskycat equivalent" in printed.stdout
    assert "ruff: exclude regex '^migrations/'" in printed.stdout

    written = _migrate(tmp_path, "--write")
    assert written.returncode == 0, written.stderr
    config = load_config(tmp_path, known_tools=NAMES)
    assert config.fail_fast is True
    assert config.tool("black").version == "24.4.2"
    assert config.tool("pytest-collect").command == ("pytest", "--collect-only", "-q")
    assert config.tool("pytest-collect").pass_filenames is False
    assert config.tool("pytest-collect").types == frozenset({"python"})
    assert config.tool("prettier").command == ("prettier", "--check")
    assert "prettier: install prettier@3.3.3 yourself" in printed.stdout
    assert "mypy" in config.disable and "black" not in config.disable
    # Once configured, huskycat refuses to overwrite the configuration.
    again = _migrate(tmp_path, "--write")
    assert again.returncode == 2 and "already configures huskycat" in again.stderr


def test_migrate_without_a_pre_commit_config_is_a_usage_error(tmp_path: Path) -> None:
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    proc = _migrate(tmp_path)
    assert proc.returncode == 2 and "no .pre-commit-config.yaml" in proc.stderr
