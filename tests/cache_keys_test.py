"""Sound keys: a cached result is never replayed after an input that could change it did.

One test per kind of input: an edited, added, deleted or renamed file a project-wide
tool reads, a gitignored generated module mypy imports, a folder on ``MYPYPATH``, a
package installed into or removed from the environment a tool runs in, an environment
variable and a user-level configuration file, and a custom tool's declared inputs.
Each runs the real tool in a temporary git repository, one :class:`Cache` per run as
separate ``huskycat run`` processes would, and checks that the run after the change is
not a replay and says what a fresh run says.
"""

from __future__ import annotations

import json
import subprocess
import sys
import sysconfig
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from huskycat.cache import Cache, cached_run_tool
from huskycat.config import ToolConfig
from huskycat.core.results import ToolResult, ToolStatus
from huskycat.planning import custom_spec
from huskycat.tools.base import ToolSpec
from huskycat.tools.catalog import CATALOG
from tests.conftest import GitRepo


def run(repo: GitRepo, spec: ToolSpec, files: list[str], **kwargs: Any) -> ToolResult:
    """One run through the cache of ``repo``, opened and closed as a real run does."""
    with Cache.for_root(repo.path) as cache:
        return cached_run_tool(cache, spec, files, root=repo.path, **kwargs)


def fresh(repo: GitRepo, spec: ToolSpec, files: list[str], **kwargs: Any) -> ToolResult:
    return cached_run_tool(None, spec, files, root=repo.path, **kwargs)


def seen(result: ToolResult) -> tuple[object, ...]:
    return (result.status, result.errors, result.error_message, result.diagnostics)


def replayed_then_rerun(
    repo: GitRepo, spec: ToolSpec, files: list[str], change: Callable[[], object], **kw: Any
) -> tuple[ToolResult, ToolResult]:
    """Run, check that a second run is replayed, ``change`` something, run again; the
    first and the last result. The last must not be a replay and must equal a fresh run."""
    first = run(repo, spec, files, **kw)
    assert run(repo, spec, files, **kw).metadata.get("cached") is True
    change()
    after = run(repo, spec, files, **kw)
    assert not after.metadata.get("cached"), "a stale result was replayed"
    assert seen(after) == seen(fresh(repo, spec, files, **kw))
    return first, after


MYPY = CATALOG["mypy"]
# Every changed module below changes size too: mypy's own incremental cache takes a file
# of the same size and the same whole-second modification time as unchanged.
APP = "from lib import value\n\nx: int = value()\n"
LIB_INT = "def value() -> int:\n    return 1\n"
LIB_STR = "def value() -> str:\n    return 'a'\n"


@pytest.fixture
def project(git_repo: GitRepo) -> GitRepo:
    """app.py (mypy's only file argument) imports lib.py, which returns an int."""
    git_repo.write("app.py", APP)
    git_repo.write("lib.py", LIB_INT)
    git_repo.write(".gitignore", ".mypy_cache/\n")
    git_repo.commit("app")
    return git_repo


def test_editing_a_module_the_checked_file_imports_reruns_mypy(project: GitRepo) -> None:
    first, after = replayed_then_rerun(
        project, MYPY, ["app.py"], lambda: project.write("lib.py", LIB_STR)
    )
    assert first.status is ToolStatus.SUCCESS and after.status is ToolStatus.FAILED


def test_adding_an_untracked_module_reruns_mypy(project: GitRepo) -> None:
    project.write("app.py", "from extra import value\n\nx: int = value()\n")
    first, after = replayed_then_rerun(
        project, MYPY, ["app.py"], lambda: project.write("extra.py", LIB_INT)
    )
    assert first.status is ToolStatus.FAILED and after.status is ToolStatus.SUCCESS


def test_deleting_an_imported_module_reruns_mypy(project: GitRepo) -> None:
    first, after = replayed_then_rerun(
        project, MYPY, ["app.py"], lambda: (project.path / "lib.py").unlink()
    )
    assert first.status is ToolStatus.SUCCESS and after.status is ToolStatus.FAILED


def test_renaming_an_imported_module_reruns_mypy(project: GitRepo) -> None:
    first, after = replayed_then_rerun(
        project, MYPY, ["app.py"], lambda: project.git("mv", "lib.py", "lib2.py")
    )
    assert first.status is ToolStatus.SUCCESS and after.status is ToolStatus.FAILED


def test_a_gitignored_generated_module_mypy_imports_is_in_its_key(project: GitRepo) -> None:
    # The case of the issue: a build step writes a module that .gitignore leaves out.
    project.write(".gitignore", ".mypy_cache/\ngenerated/\n")
    project.write("app.py", "from generated.schema import value\n\nx: int = value()\n")
    project.write("generated/__init__.py", "")
    project.write("generated/schema.py", LIB_INT)
    project.commit("ignore generated code")
    assert project.git("status", "--porcelain", "--untracked-files=all") == ""

    first, after = replayed_then_rerun(
        project, MYPY, ["app.py"], lambda: project.write("generated/schema.py", LIB_STR)
    )
    assert first.status is ToolStatus.SUCCESS and after.status is ToolStatus.FAILED


def test_a_module_on_mypypath_outside_the_repository_is_in_the_key(
    project: GitRepo, tmp_path: Path
) -> None:
    stubs = tmp_path / "stubs"
    stubs.mkdir()
    (stubs / "outside.pyi").write_text("def value() -> int: ...\n")
    project.write("app.py", "from outside import value\n\nx: int = value()\n")
    env = {**_environ(), "MYPYPATH": str(stubs)}
    first, after = replayed_then_rerun(
        project,
        MYPY,
        ["app.py"],
        lambda: (stubs / "outside.pyi").write_text(
            "def value() -> str: ...  # mypy sees a new size\n"
        ),
        env=env,
    )
    assert first.status is ToolStatus.SUCCESS and after.status is ToolStatus.FAILED


# --- the Python environment a tool runs in -------------------------------------------------


def _environ() -> dict[str, str]:
    import os

    return dict(os.environ)


@pytest.fixture
def venv(tmp_path: Path) -> Path:
    """A virtual environment without pip whose import path reaches this one's packages
    (a .pth file), so that ``venv/bin/python -m mypy`` runs mypy there."""
    folder = tmp_path / "venv"
    subprocess.run(
        [sys.executable, "-m", "venv", "--without-pip", str(folder)],
        check=True,
        stdin=subprocess.DEVNULL,
    )
    (_site(folder) / "outer.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    return folder


def _site(venv: Path) -> Path:
    found = sorted(venv.glob("lib/python*/site-packages"))
    assert len(found) == 1, found
    return found[0]


def install_tiny(venv: Path, version: str, source: str) -> None:
    """Install the distribution "tinydist" (a typed package) at ``version``, replacing
    any other version, as pip would: its files and its ``.dist-info`` folder."""
    site = _site(venv)
    uninstall_tiny(venv)
    (site / "tinydist").mkdir()
    (site / "tinydist" / "__init__.py").write_text(source)
    (site / "tinydist" / "py.typed").write_text("")
    info = site / f"tinydist-{version}.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: tinydist\nVersion: {version}\n")
    (info / "RECORD").write_text("")


def uninstall_tiny(venv: Path) -> None:
    import shutil

    site = _site(venv)
    for path in [site / "tinydist", *site.glob("tinydist-*.dist-info")]:
        if path.exists():
            shutil.rmtree(path)


def test_upgrading_a_package_in_the_tools_environment_reruns_it(
    project: GitRepo, venv: Path
) -> None:
    project.write("app.py", "from tinydist import value\n\nx: int = value()\n")
    install_tiny(venv, "1.0", LIB_INT)
    command = [str(venv / "bin" / "python"), "-m", "mypy"]
    first, after = replayed_then_rerun(
        project,
        MYPY,
        ["app.py"],
        lambda: install_tiny(venv, "2.0", LIB_STR),
        command=command,
    )
    assert first.status is ToolStatus.SUCCESS and after.status is ToolStatus.FAILED


def test_uninstalling_a_package_from_the_tools_environment_reruns_it(
    project: GitRepo, venv: Path
) -> None:
    project.write("app.py", "from tinydist import value\n\nx: int = value()\n")
    install_tiny(venv, "1.0", LIB_INT)
    command = [str(venv / "bin" / "python"), "-m", "mypy"]
    first, after = replayed_then_rerun(
        project, MYPY, ["app.py"], lambda: uninstall_tiny(venv), command=command
    )
    assert first.status is ToolStatus.SUCCESS and after.status is ToolStatus.FAILED


# --- environment variables and user configuration ----------------------------------------


def test_a_user_configuration_chosen_by_an_environment_variable_is_in_the_key(
    git_repo: GitRepo, tmp_path: Path
) -> None:
    # No ruff settings in the repository: ruff reads $XDG_CONFIG_HOME/ruff/ruff.toml.
    git_repo.write("long.py", "X = " + " + ".join(["1"] * 40) + "\n")
    git_repo.commit("long line")
    plain, strict = tmp_path / "plain", tmp_path / "strict"
    plain.mkdir()
    (strict / "ruff").mkdir(parents=True)
    (strict / "ruff" / "ruff.toml").write_text('[lint]\nselect = ["E501"]\n')
    env = {**_environ(), "XDG_CONFIG_HOME": str(plain)}
    spec = CATALOG["ruff"]
    first = run(git_repo, spec, ["long.py"], env=env)
    assert run(git_repo, spec, ["long.py"], env=env).metadata.get("cached") is True
    env["XDG_CONFIG_HOME"] = str(strict)
    after = run(git_repo, spec, ["long.py"], env=env)
    assert not after.metadata.get("cached")
    assert first.status is ToolStatus.SUCCESS and after.status is ToolStatus.FAILED
    # The file itself changes nothing; the configuration file's content does.
    (strict / "ruff" / "ruff.toml").write_text('[lint]\nselect = ["F"]\n')
    assert run(git_repo, spec, ["long.py"], env=env).status is ToolStatus.SUCCESS


def _flag_tool(**changes: Any) -> ToolSpec:
    """A custom tool that fails when the environment variable HC_FLAG is set, or when
    notes.txt says "bad"."""
    code = (
        "import os, sys\n"
        "bad = os.environ.get('HC_FLAG') or 'bad' in open('notes.txt').read()\n"
        "sys.exit(1 if bad else 0)\n"
    )
    spec = custom_spec("flag", ToolConfig(command=(sys.executable, "-c", code)))
    return replace(spec, pass_filenames=False, **changes)


def test_an_environment_variable_a_custom_tool_declares_is_in_its_key(
    git_repo: GitRepo,
) -> None:
    git_repo.write("notes.txt", "fine\n")
    git_repo.commit("notes")
    spec = _flag_tool(inputs=("notes.txt",), env_inputs=("HC_FLAG",))
    env = {k: v for k, v in _environ().items() if k != "HC_FLAG"}
    first, after = replayed_then_rerun(git_repo, spec, [], lambda: env.update(HC_FLAG="1"), env=env)
    assert first.status is ToolStatus.SUCCESS and after.status is ToolStatus.FAILED


def test_a_gitignored_input_a_custom_tool_declares_is_in_its_key(git_repo: GitRepo) -> None:
    git_repo.write(".gitignore", "notes.txt\n")
    git_repo.commit("ignore notes")
    git_repo.write("notes.txt", "fine\n")
    spec = _flag_tool(inputs=("*.txt",))
    first, after = replayed_then_rerun(
        git_repo, spec, [], lambda: git_repo.write("notes.txt", "bad\n")
    )
    assert first.status is ToolStatus.SUCCESS and after.status is ToolStatus.FAILED


def test_a_custom_tool_that_declares_no_inputs_is_never_replayed(git_repo: GitRepo) -> None:
    git_repo.write("notes.txt", "fine\n")
    git_repo.commit("notes")
    spec = _flag_tool()
    for _ in range(2):
        assert not run(git_repo, spec, []).metadata.get("cached")


def test_inputs_declared_for_a_catalog_tool_add_to_its_key(git_repo: GitRepo) -> None:
    git_repo.write("a.py", "import os\n")
    git_repo.write("extra.cfg", "one\n")
    git_repo.commit("files")
    spec = replace(CATALOG["ruff"], inputs=("*.cfg",))
    run(git_repo, spec, ["a.py"])
    assert run(git_repo, spec, ["a.py"]).metadata.get("cached") is True
    git_repo.write("extra.cfg", "two\n")
    assert not run(git_repo, spec, ["a.py"]).metadata.get("cached")


def test_configured_inputs_env_and_cache_keys_reach_the_cache(git_repo: GitRepo) -> None:
    from tests.cli_run_test import run_json

    code = "import os, sys; sys.exit(1 if os.environ.get('HC_FLAG') else 0)"
    config = (
        f"[tools.flag]\ncommand = {json.dumps([sys.executable, '-c', code])}\n"
        'pass_filenames = false\ninputs = ["notes.txt"]\nenv = ["HC_*"]\n'
        "[tools.ruff]\ncache = false\n"
    )
    git_repo.write("huskycat.toml", config)
    git_repo.write("notes.txt", "fine\n")
    git_repo.write("a.py", "import os\n")
    git_repo.commit("files")
    env = {k: v for k, v in _environ().items() if not k.startswith("HC_")}

    def cached(**extra: str) -> dict[str, bool]:
        done = run_json(git_repo.path, "--tools", "flag,ruff", env={**env, **extra})
        return {n: bool(r["metadata"].get("cached")) for n, r in done.results.items()}

    assert cached() == {"flag": False, "ruff": False}
    assert cached() == {"flag": True, "ruff": False}
    assert cached(HC_FLAG="1") == {"flag": False, "ruff": False}
    git_repo.write("notes.txt", "changed\n")
    assert cached() == {"flag": False, "ruff": False}


def test_a_mypy_path_folder_outside_the_repository_is_in_the_key(
    project: GitRepo, tmp_path: Path
) -> None:
    stubs = tmp_path / "configured"
    stubs.mkdir()
    (stubs / "elsewhere.pyi").write_text("def value() -> int: ...\n")
    project.write("mypy.ini", f"[mypy]\nmypy_path = {stubs}\n")
    project.write("app.py", "from elsewhere import value\n\nx: int = value()\n")
    first, after = replayed_then_rerun(
        project,
        MYPY,
        ["app.py"],
        lambda: (stubs / "elsewhere.pyi").write_text(
            "def value() -> str: ...  # mypy sees a new size\n"
        ),
    )
    assert first.status is ToolStatus.SUCCESS and after.status is ToolStatus.FAILED
