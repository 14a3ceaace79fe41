"""``language: node`` hooks: a hook repository of our own (a package.json with two bin
scripts, no dependencies, so no network) installed with npm into a managed environment,
run by huskycat and by the real pre-commit on the same project: same verdicts, exit
codes and bytes. Without node on PATH, such a hook is an unavailable tool naming the
command that installs node. Needs node and npm (``apt-get install nodejs npm``;
.ci/run installs them)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from huskycat import envs
from tests.precommit_compare_test import _git, _tree, run_pre_commit

CHECK_JS = """\
#!/usr/bin/env node
const fs = require("fs");
let code = 0;
for (const name of process.argv.slice(2)) {
  if (fs.readFileSync(name, "utf8").includes("TODO")) {
    console.log(`${name}: TODO found`);
    code = 1;
  }
}
process.exit(code);
"""
FIX_JS = """\
#!/usr/bin/env node
const fs = require("fs");
for (const name of process.argv.slice(2)) {
  const text = fs.readFileSync(name, "utf8");
  const fixed = text.replace(/!+$/gm, "");
  if (fixed !== text) fs.writeFileSync(name, fixed);
}
"""
PACKAGE = {
    "name": "hk-node-hooks",
    "version": "1.0.0",
    "bin": {"hk-check": "bin/check.js", "hk-fix": "bin/fix.js"},
}
MANIFEST = """\
-   id: no-todo
    name: no TODO
    entry: hk-check
    language: node
    types: [text]
-   id: no-bang
    name: no bang at line ends
    entry: hk-fix
    language: node
    files: \\.txt$
"""
CONFIG = """\
repos:
-   repo: {hooks}
    rev: v1.0.0
    hooks:
    -   id: no-bang
    -   id: no-todo
-   repo: local
    hooks:
    -   id: local-todo
        name: local no TODO
        entry: hk-check
        language: node
        files: \\.md$
        additional_dependencies: [{package}]
"""


def _node() -> None:
    if shutil.which("node") is None or shutil.which("npm") is None:
        pytest.fail("node and npm are not installed: apt-get install nodejs npm (see .ci/run)")


def _package(folder: Path) -> Path:
    folder.mkdir(parents=True)
    (folder / "bin").mkdir()
    (folder / "package.json").write_text(json.dumps(PACKAGE))
    for name, text in (("check.js", CHECK_JS), ("fix.js", FIX_JS)):
        (folder / "bin" / name).write_text(text)
        (folder / "bin" / name).chmod(0o755)
    return folder


@pytest.fixture(scope="module")
def hooks_repo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    _node()
    path = _package(tmp_path_factory.mktemp("node") / "hooks")
    (path / ".pre-commit-hooks.yaml").write_text(MANIFEST)
    _git(path, "init", "-q")
    _git(path, "add", "-A")
    _git(path, "-c", "user.name=t", "-c", "user.email=t@e.invalid", "commit", "-qm", "hooks")
    _git(path, "tag", "v1.0.0")
    return path


@pytest.fixture(scope="module")
def caches(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    base = tmp_path_factory.mktemp("caches")
    return {"XDG_CACHE_HOME": str(base / "xdg"), "PRE_COMMIT_HOME": str(base / "pre-commit")}


def _project(root: Path, hooks: Path) -> Path:
    root.mkdir()
    _git(root, "init", "-q")
    (root / ".pre-commit-config.yaml").write_text(
        CONFIG.format(hooks=hooks, package=_package(root.parent / "package"))
    )
    (root / "a.txt").write_text("fine!\nTODO: later\n")
    (root / "b.txt").write_text("fine\n")
    (root / "c.md").write_text("TODO in markdown\n")
    (root / "d.py").write_text("x = 1  # fine!\n")
    _git(root, "add", "-A")
    return root


def _env(caches: dict[str, str], path: str | None = None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("CI", "VIRTUAL_ENV")}
    env.update(caches)
    env["PATH"] = os.path.dirname(sys.executable) + os.pathsep + (path or env.get("PATH", ""))
    return env


def _huskycat(
    root: Path, env: dict[str, str], *args: str
) -> tuple[subprocess.CompletedProcess[str], dict[str, str]]:
    report = root.parent / "report.json"
    proc = subprocess.run(
        [sys.executable, "-m", "huskycat", "run", "--no-progress", "--json", str(report), *args],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode in (0, 1), proc.stdout + proc.stderr
    results = json.loads(report.read_text())["results"]
    return proc, {r["tool_name"]: r["status"] for r in results}


def test_node_hooks_match_pre_commit(
    tmp_path: Path, hooks_repo: Path, caches: dict[str, str]
) -> None:
    ours = _project(tmp_path / "ours", hooks_repo)
    theirs = tmp_path / "theirs"
    shutil.copytree(ours, theirs, symlinks=True)
    code_pc, by_name = run_pre_commit(theirs, caches, "--all-files")
    proc, verdicts = _huskycat(ours, _env(caches), "--all-files")
    assert "installing" in proc.stderr and "(npm)" in proc.stderr
    assert proc.returncode == code_pc == 1
    names = {"no bang at line ends": "no-bang", "no TODO": "no-todo", "local no TODO": "local-todo"}
    expected = {names[n]: v for n, v in by_name.items()}
    mapping = {"Passed": "success", "Failed": "failed", "Skipped": "skipped"}
    assert verdicts == {k: mapping[v] for k, v in expected.items()}
    assert verdicts == {"no-bang": "failed", "no-todo": "failed", "local-todo": "failed"}
    assert _tree(ours) == _tree(theirs)
    assert (ours / "a.txt").read_text() == "fine\nTODO: later\n"
    assert "a.txt: TODO found" in proc.stdout and "c.md: TODO found" in proc.stdout
    # Again: the fixer has nothing left to do; its environment is not installed again.
    code_pc, by_name = run_pre_commit(theirs, caches, "--all-files")
    proc, verdicts = _huskycat(ours, _env(caches), "--all-files")
    assert "installing" not in proc.stderr
    assert verdicts["no-bang"] == "success" == mapping[by_name["no bang at line ends"]]
    assert _tree(ours) == _tree(theirs)


def test_node_environment_is_keyed_by_what_goes_in(
    tmp_path: Path, hooks_repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    spec = envs.EnvSpec((f"git+file://{hooks_repo}",), language="node")
    path = envs.ensure(spec)
    assert (envs.bin_dir(path) / "hk-check").exists() and (envs.bin_dir(path) / "hk-fix").exists()
    assert envs.ensure(spec) == path  # ready: used as it is
    # Another language, or more dependencies, is another environment.
    assert envs.env_path(envs.EnvSpec(spec.requirements)) != path
    more = envs.EnvSpec((*spec.requirements, str(_package(tmp_path / "extra"))), language="node")
    assert envs.env_path(more) != path
    with pytest.raises(envs.EnvError, match="language_version '18.1.0'"):
        envs.ensure(envs.EnvSpec(spec.requirements, "18.1.0", language="node"))
    with pytest.raises(envs.EnvError, match="needs a package.json or additional_dependencies"):
        envs.ensure(envs.EnvSpec((), language="node"))
    assert envs.remove_all() >= 1 and not path.exists()


def test_without_node_a_node_hook_is_unavailable_with_the_install_command(
    tmp_path: Path, hooks_repo: Path, caches: dict[str, str]
) -> None:
    root = _project(tmp_path / "project", hooks_repo)
    bin_dir = tmp_path / "bin"  # git, but no node or npm
    bin_dir.mkdir()
    os.symlink(shutil.which("git") or "git", bin_dir / "git")
    env = _env({"XDG_CACHE_HOME": str(tmp_path / "xdg")}, str(bin_dir))
    proc, verdicts = _huskycat(root, env, "--all-files")
    assert set(verdicts.values()) == {"skipped"}, proc.stdout + proc.stderr
    assert proc.returncode == 1  # nothing ran at all: not a silent success
    assert "apt-get install nodejs npm" in proc.stdout + proc.stderr
    proc = subprocess.run(
        [sys.executable, "-m", "huskycat", "run", "--all-files", "--no-progress"],
        cwd=root,
        env={**env, "CI": "true"},
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 1 and "apt-get install nodejs npm" in proc.stdout + proc.stderr
    assert (root / "a.txt").read_text() == "fine!\nTODO: later\n"  # nothing ran
