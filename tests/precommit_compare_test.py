"""``huskycat run`` on a ``.pre-commit-config.yaml`` against the real pre-commit on the
same repository: same verdict per hook, same exit code, same bytes in every file
afterwards, in every mode. Hooks come from pre-commit/pre-commit-hooks v6.0.0 (a git
bundle in the shared fixtures), local system, script, pygrep and fail hooks, and meta
hooks."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

# shared/ sits beside the repository (or beside the folder of worktrees).
_HERE = Path(__file__).resolve().parents
BUNDLE = next(
    (
        folder / "shared/fixtures/pre-commit-hooks-v6.0.0.bundle"
        for folder in (_HERE[2], _HERE[3], Path("/work"))
        if (folder / "shared/fixtures/pre-commit-hooks-v6.0.0.bundle").is_file()
    ),
    Path("/work/shared/fixtures/pre-commit-hooks-v6.0.0.bundle"),
)

pytestmark = pytest.mark.skipif(
    shutil.which("pre-commit", path=os.path.dirname(sys.executable)) is None
    or not BUNDLE.is_file(),
    reason="needs pre-commit (test extras) and the pre-commit-hooks bundle",
)

CONFIG = """\
repos:
-   repo: {hooks}
    rev: v6.0.0
    hooks:
    -   id: trailing-whitespace
    -   id: end-of-file-fixer
    -   id: check-yaml
    -   id: check-json
    -   id: mixed-line-ending
        args: [--fix=lf]
    -   id: check-added-large-files
    -   id: debug-statements
    -   id: double-quote-string-fixer
    -   id: check-illegal-windows-names
-   repo: local
    hooks:
    -   id: no-todo
        name: no todo markers
        entry: TODO
        language: pygrep
        types: [text]
        exclude: ^\\.pre-commit-config\\.yaml$
    -   id: upper
        name: upper-case the notes
        entry: tr a-z A-Z
        language: system
        files: ^notes/
        pass_filenames: false
        always_run: false
    -   id: count
        name: count python files
        entry: ./tools/count.sh
        language: script
        types: [python]
    -   id: forbid-tmp
        name: no tmp files
        entry: tmp files are not allowed
        language: fail
        files: \\.tmp$
-   repo: meta
    hooks:
    -   id: check-hooks-apply
    -   id: identity
        name: identity
"""

FILES = {
    "src/a.py": 'x = "double"   \nprint(x)\n',
    "src/b.py": "import pdb\npdb.set_trace()\n",
    "src/c.py": "y = 'single'\n",
    "data/good.yaml": "a: 1\n",
    "data/bad.yaml": "a: [\n",
    "data/x.json": '{"a": 1}',
    "data/crlf.txt": "one\r\ntwo\n",
    "docs/readme.md": "TODO: write this\n",
    "docs/ok.md": "fine\n",
    "notes/n.txt": "hello\n",
    "tools/count.sh": '#!/bin/sh\necho "$# python files"\n',
}


def _git(cwd: Path, *args: str) -> str:
    return subprocess.run(
        ["git", *args], cwd=cwd, check=True, capture_output=True, text=True
    ).stdout


@pytest.fixture(scope="module")
def hooks_repo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("hooks") / "pre-commit-hooks"
    subprocess.run(["git", "clone", "-q", str(BUNDLE), str(path)], check=True, capture_output=True)
    _git(path, "checkout", "-q", "v6.0.0")
    return path


@pytest.fixture(scope="module")
def caches(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """Environments shared by the module's tests, for both programs."""
    base = tmp_path_factory.mktemp("caches")
    return {"XDG_CACHE_HOME": str(base / "xdg"), "PRE_COMMIT_HOME": str(base / "pre-commit")}


@pytest.fixture
def project(tmp_path: Path, hooks_repo: Path) -> Iterator[Path]:
    root = tmp_path / "project"
    root.mkdir()
    _git(root, "init", "-q")
    _git(root, "config", "user.email", "t@example.com")
    _git(root, "config", "user.name", "t")
    (root / ".pre-commit-config.yaml").write_text(CONFIG.format(hooks=hooks_repo))
    for name, text in FILES.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(text.encode())
    (root / "tools/count.sh").chmod(0o755)
    _git(root, "add", "-A")
    _git(root, "commit", "-qm", "base", "--no-verify")
    yield root


def _env(caches: dict[str, str]) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("CI", "VIRTUAL_ENV")}
    env.update(caches)
    env["PATH"] = os.path.dirname(sys.executable) + os.pathsep + env.get("PATH", "")
    return env


def _tree(root: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(root)): p.read_bytes()
        for p in sorted(root.rglob("*"))
        if p.is_file() and ".git" not in p.relative_to(root).parts and p.name != "report.json"
    }


_LINE = re.compile(
    r"^(?P<name>.+?)\.{2,}(\(no files to check\))?(?P<verdict>Passed|Failed|Skipped)$"
)


def run_pre_commit(root: Path, caches: dict[str, str], *args: str) -> tuple[int, dict[str, str]]:
    proc = subprocess.run(
        [
            os.path.join(os.path.dirname(sys.executable), "pre-commit"),
            "run",
            "--color=never",
            *args,
        ],
        cwd=root,
        env=_env(caches),
        capture_output=True,
        text=True,
        check=False,
    )
    verdicts = {}
    for line in proc.stdout.splitlines():
        match = _LINE.match(line)
        if match:
            verdicts[match["name"]] = match["verdict"]
    return proc.returncode, verdicts


def run_huskycat(root: Path, caches: dict[str, str], *args: str) -> tuple[int, dict[str, str]]:
    report = root.parent / "report.json"
    proc = subprocess.run(
        [sys.executable, "-m", "huskycat", "run", "--no-progress", "--json", str(report), *args],
        cwd=root,
        env=_env(caches),
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode in (0, 1), proc.stdout + proc.stderr
    data = json.loads(report.read_text())
    names = {}
    for line in CONFIG.splitlines():
        found = re.match(r"\s*-?\s*id: (\S+)", line)
        if found:
            names.setdefault(found[1], found[1])
    mapping = {"success": "Passed", "failed": "Failed", "skipped": "Skipped"}
    verdicts = {r["tool_name"]: mapping[r["status"]] for r in data["results"]}
    return proc.returncode, verdicts


def _by_id(root: Path, verdicts: dict[str, str]) -> dict[str, str]:
    """pre-commit names results by hook name; map them to ids via the manifest."""
    from huskycat.precommit.plan import load_hooks

    _, hooks = load_hooks(root)
    return {h.id: verdicts[h.name] for h in hooks if h.name in verdicts}


def _compare(project: Path, caches: dict[str, str], *args: str) -> dict[str, str]:
    twin = project.parent / "twin"
    shutil.rmtree(twin, ignore_errors=True)
    shutil.copytree(project, twin, symlinks=True)
    code_pc, verdicts_pc = run_pre_commit(twin, caches, *args)
    code_hc, verdicts_hc = run_huskycat(project, caches, *args)
    assert code_hc == code_pc
    assert verdicts_hc == _by_id(project, verdicts_pc)
    assert _tree(project) == _tree(twin)
    assert _git(project, "status", "--porcelain") == _git(twin, "status", "--porcelain")
    return verdicts_hc


def test_all_files_same_verdicts_exit_code_and_bytes(project: Path, caches: dict[str, str]) -> None:
    verdicts = _compare(project, caches, "--all-files")
    # The run did exercise every kind of outcome.
    assert verdicts["trailing-whitespace"] == "Failed"  # changed src/a.py
    assert verdicts["check-json"] == "Passed"
    assert verdicts["forbid-tmp"] == "Skipped"
    assert verdicts["no-todo"] == "Failed"


def test_second_run_after_fixes_is_the_same_too(project: Path, caches: dict[str, str]) -> None:
    _compare(project, caches, "--all-files")
    _git(project, "add", "-A")
    _compare(project, caches, "--all-files")


def test_files_mode(project: Path, caches: dict[str, str]) -> None:
    _compare(project, caches, "--files", "src/a.py", "data/x.json", "notes/n.txt")


def test_staged_mode_with_unstaged_changes(project: Path, caches: dict[str, str]) -> None:
    (project / "src/c.py").write_text("y = 'single'   \n")
    _git(project, "add", "src/c.py")
    (project / "docs/ok.md").write_text("fine  \n")
    _git(project, "add", "docs/ok.md")
    # Unstaged changes that the fixes do not conflict with: set aside and put back.
    (project / "src/b.py").write_text("import pdb\n")
    (project / "notes/n.txt").write_text("changed\n")
    twin = project.parent / "twin"
    shutil.copytree(project, twin, symlinks=True)
    code_pc, verdicts_pc = run_pre_commit(twin, caches)
    code_hc, verdicts_hc = run_huskycat(project, caches, "--staged")
    assert code_hc == code_pc == 1
    assert verdicts_hc == _by_id(project, verdicts_pc)
    assert _tree(project) == _tree(twin)


def test_changed_since_mode(project: Path, caches: dict[str, str]) -> None:
    _git(project, "checkout", "-qb", "topic")
    (project / "src/d.py").write_text("w = 'x'    \n")
    (project / "data/y.json").write_text("{bad")
    _git(project, "add", "-A")
    _git(project, "commit", "-qm", "more", "--no-verify")
    twin = project.parent / "twin"
    shutil.copytree(project, twin, symlinks=True)
    code_pc, verdicts_pc = run_pre_commit(twin, caches, "--from-ref", "master", "--to-ref", "HEAD")
    code_hc, verdicts_hc = run_huskycat(project, caches, "--changed-since", "master")
    assert code_hc == code_pc == 1
    assert verdicts_hc == _by_id(project, verdicts_pc)
    assert _tree(project) == _tree(twin)


def test_staged_mode_fixes_that_conflict_with_unstaged_changes_are_all_rolled_back(
    project: Path, caches: dict[str, str]
) -> None:
    (project / "src/c.py").write_text("y = 'single'   \n")
    _git(project, "add", "src/c.py")
    (project / "src/c.py").write_text("y = 'single'   \nz = 1\n")  # unstaged, next to a fix
    (project / "docs/ok.md").write_text("fine  \n")
    _git(project, "add", "docs/ok.md")
    twin = project.parent / "twin"
    shutil.copytree(project, twin, symlinks=True)
    code_pc, verdicts_pc = run_pre_commit(twin, caches)
    code_hc, verdicts_hc = run_huskycat(project, caches, "--staged")
    assert code_hc == code_pc == 1
    assert verdicts_hc == _by_id(project, verdicts_pc)
    assert _tree(project) == _tree(twin)
    assert (project / "docs/ok.md").read_text() == "fine  \n"  # its fix went too
    assert _git(project, "diff", "--cached") == _git(twin, "diff", "--cached")
