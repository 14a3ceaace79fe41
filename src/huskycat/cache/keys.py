"""What each tool reads besides its file arguments: the inputs its cache key covers.

A result may be replayed only when every input that could change it is unchanged.
:data:`READS` says, per catalog tool, what that is beyond the common part of every key
(the tool's command, program, version, configuration files, huskycat itself):

- ``kinds``: for a project-wide tool, file names (``fnmatch`` patterns of the base name)
  it may read although they are untracked and gitignored (a generated module mypy
  imports); tracked and untracked files are in every project-wide key already;
- ``path_env``: environment variables that list folders it searches (``MYPYPATH``);
  the files of those ``kinds`` under them are in the key;
- ``env``: environment variables it reads (``NAME`` or ``PREFIX_*``), with their values;
- ``user_config``: configuration files outside the repository (``~`` and
  ``$XDG_CONFIG_HOME`` expanded), present or not;
- ``python``: whether the interpreter it runs in and the installed distributions
  (names and versions, and ``.pth`` files) of that environment are in the key.

Custom tools (``[tool.huskycat.tools.NAME]`` with a ``command``) read what their
configuration declares: ``inputs`` (globs of files, tracked, untracked or ignored) and
``env`` (variable names); without ``inputs`` they are never cached. ``cache = false``
turns the cache off for any tool.
"""

from __future__ import annotations

import dataclasses
import os
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from huskycat.cache import fingerprint
from huskycat.tools.base import ToolSpec

if TYPE_CHECKING:
    from huskycat.config import ToolConfig

_PYTHON_KINDS = ("*.py", "*.pyi")
_ANSIBLE_KINDS = ("*.yml", "*.yaml", "*.j2", "*.cfg", "*.py", "*.json", "*.ini", "*.txt")
_HELM_KINDS = ("*.yaml", "*.yml", "*.tpl", "*.txt", "*.json", "*.tgz", "*.lock", ".helmignore")
_HOME_ENV = ("HOME", "XDG_CONFIG_HOME")  # where user-level configuration is looked for


@dataclass(frozen=True)
class Reads:
    """What one tool reads besides its file arguments and ``spec.config_files``."""

    kinds: tuple[str, ...] = ()
    path_env: tuple[str, ...] = ()
    env: tuple[str, ...] = ()
    user_config: tuple[str, ...] = ()
    python: bool = True


READS: Mapping[str, Reads] = {
    "black": Reads(env=("BLACK_*", *_HOME_ENV), user_config=("$XDG_CONFIG_HOME/black",)),
    "isort": Reads(env=("ISORT_*", *_HOME_ENV), user_config=("~/.isort.cfg", "~/.editorconfig")),
    "autoflake": Reads(env=("AUTOFLAKE_*",)),
    "ruff": Reads(
        env=("RUFF_*", *_HOME_ENV),
        user_config=(
            "$XDG_CONFIG_HOME/ruff/ruff.toml",
            "$XDG_CONFIG_HOME/ruff/.ruff.toml",
            "$XDG_CONFIG_HOME/ruff/pyproject.toml",
        ),
        python=False,  # a compiled program: the Python environment beside it is not read
    ),
    "mypy": Reads(
        kinds=_PYTHON_KINDS,
        path_env=("MYPYPATH",),
        env=("MYPYPATH", "MYPY_*", *_HOME_ENV),
        user_config=("$XDG_CONFIG_HOME/mypy/config", "~/.config/mypy/config", "~/.mypy.ini"),
    ),
    "flake8": Reads(env=("FLAKE8_*",)),
    "bandit": Reads(env=("BANDIT_*",)),
    "yamllint": Reads(
        env=("YAMLLINT_*", *_HOME_ENV),
        user_config=("$XDG_CONFIG_HOME/yamllint/config", "$YAMLLINT_CONFIG_FILE"),
    ),
    "taplo": Reads(env=("TAPLO_*", "RUST_LOG")),
    "shellcheck": Reads(
        env=("SHELLCHECK_OPTS", *_HOME_ENV),
        user_config=("~/.shellcheckrc", "$XDG_CONFIG_HOME/shellcheckrc"),
        python=False,
    ),
    "hadolint": Reads(
        env=("HADOLINT_*", *_HOME_ENV),
        user_config=("$XDG_CONFIG_HOME/hadolint.yaml", "~/.config/hadolint.yaml"),
        python=False,
    ),
    "ansible-lint": Reads(
        kinds=_ANSIBLE_KINDS,
        env=("ANSIBLE_*", *_HOME_ENV),
        user_config=("~/.ansible.cfg", "$ANSIBLE_CONFIG"),
    ),
    "helm-lint": Reads(kinds=_HELM_KINDS, env=("HELM_*", *_HOME_ENV), python=False),
    "gitlab-ci": Reads(env=("CHECK_JSONSCHEMA_*",)),
    "chapel-format": Reads(env=("CHPL_*",), python=False),
}


def with_cache_settings(spec: ToolSpec, settings: ToolConfig) -> ToolSpec:
    """``spec`` with the configuration's ``inputs``, ``env`` and ``cache`` keys applied."""
    if settings.inputs is None and settings.env is None and settings.cache is None:
        return spec
    return dataclasses.replace(
        spec,
        inputs=settings.inputs if settings.inputs is not None else spec.inputs,
        env_inputs=(*spec.env_inputs, *(settings.env or ())),
        cache=spec.cache and settings.cache is not False,
    )


def is_custom(spec: ToolSpec) -> bool:
    """Whether ``spec`` is a tool the configuration declared, not a catalog tool."""
    from huskycat.tools.catalog import CATALOG  # not on a hook run's start-up

    return spec.name not in CATALOG


def cacheable(spec: ToolSpec) -> bool:
    """Whether results of ``spec`` may be cached: not turned off with ``cache = false``,
    and for a custom tool, only when it declares its ``inputs``."""
    return spec.cache and (spec.inputs is not None or not is_custom(spec))


def reads_of(spec: ToolSpec) -> Reads:
    """What ``spec`` reads (:data:`READS`; a custom tool: its declared ``env``)."""
    known = READS.get(spec.name, Reads()) if not is_custom(spec) else Reads(python=True)
    if spec.env_inputs:
        return Reads(
            kinds=known.kinds,
            path_env=known.path_env,
            env=(*known.env, *spec.env_inputs),
            user_config=known.user_config,
            python=known.python,
        )
    return known


def environment_values(names: Sequence[str], env: Mapping[str, str]) -> list[tuple[str, str]]:
    """``(name, value)`` of the variables in ``env`` that ``names`` cover (``NAME``, or a
    prefix ``PREFIX_*``), sorted; an unset variable is left out, so setting it changes
    the list."""
    exact = {n for n in names if not n.endswith("*")}
    prefixes = tuple(n[:-1] for n in names if n.endswith("*"))
    return sorted(
        (k, v) for k, v in env.items() if k in exact or (prefixes and k.startswith(prefixes))
    )


def user_config_digests(
    paths: Sequence[str], env: Mapping[str, str]
) -> list[tuple[str, str | None]]:
    """``(path, digest)`` of each user-level configuration file (None: absent)."""
    home = env.get("HOME") or os.path.expanduser("~")
    config_home = env.get("XDG_CONFIG_HOME", "")
    if not os.path.isabs(config_home):
        config_home = os.path.join(home, ".config")
    found = []
    for pattern in paths:
        if pattern.startswith("$") and not pattern.startswith("$XDG_CONFIG_HOME"):
            name = env.get(pattern[1:], "")  # a variable naming the file itself
            if not name:
                continue
            path = name
        else:
            path = pattern.replace("$XDG_CONFIG_HOME", config_home)
            if path.startswith("~"):
                path = home + path[1:]
        found.append((path, fingerprint.file_digest(path)))
    return found


def inputs_key(
    spec: ToolSpec,
    root: Path,
    programs: Sequence[str],
    env: Mapping[str, str] | None,
) -> dict[str, object]:
    """The part of ``spec``'s key that :data:`READS` (or its configuration) adds."""
    environ = os.environ if env is None else env
    reads = reads_of(spec)
    key: dict[str, object] = {
        "env": environment_values(reads.env, environ),
        "user_config": user_config_digests(reads.user_config, environ),
    }
    if reads.python:
        key["python"] = [fingerprint.python_environment(p) for p in sorted(programs)]
    if spec.inputs is not None and not is_custom(spec):
        # A catalog tool's declared inputs add to what it is known to read.
        key["declared"] = fingerprint.glob_digests(root, spec.inputs)
    folders = [
        folder
        for name in reads.path_env
        for folder in environ.get(name, "").split(os.pathsep)
        if folder
    ]
    if spec.name == "mypy" and not is_custom(spec):
        configured, interpreter = mypy_settings(root)
        folders += configured
        if interpreter:
            key["python_executable"] = fingerprint.python_environment(interpreter)
    if folders:
        key["search_path"] = fingerprint.folder_signatures(root, folders, reads.kinds)
    return key


def _toml() -> Any:
    """The TOML parser: tomllib, or tomli (the same, published for Python 3.10)."""
    if sys.version_info >= (3, 11):
        import tomllib
    else:  # as in huskycat.config
        import tomli as tomllib  # type: ignore[import-not-found, unused-ignore]
    return tomllib


def mypy_settings(root: Path) -> tuple[list[str], str | None]:
    """The ``mypy_path`` folders and the ``python_executable`` of the mypy configuration
    mypy would read in ``root`` (``mypy.ini``, ``.mypy.ini``, ``pyproject.toml``'s
    ``[tool.mypy]``, ``setup.cfg``'s ``[mypy]``: the first that has a section). Folders
    are made absolute from the configuration file's folder. Unreadable: none."""
    import configparser

    for name in ("mypy.ini", ".mypy.ini", "pyproject.toml", "setup.cfg"):
        path = root / name
        if not path.is_file():
            continue
        section: Mapping[str, object] | None = None
        try:
            if name == "pyproject.toml":
                with path.open("rb") as f:
                    tool = _toml().load(f).get("tool", {})
                found = tool.get("mypy") if isinstance(tool, dict) else None
                section = found if isinstance(found, dict) else None
            else:
                parser = configparser.ConfigParser(interpolation=None)
                parser.read(path, encoding="utf-8")
                section = dict(parser["mypy"]) if parser.has_section("mypy") else None
        except (OSError, ValueError, UnicodeDecodeError, configparser.Error):
            return [], None
        if section is None:
            continue
        raw = section.get("mypy_path", [])
        parts = raw if isinstance(raw, list) else str(raw).replace(":", ",").split(",")
        folders = []
        for part in parts:
            text = str(part).strip().replace("$MYPY_CONFIG_FILE_DIR", str(root))
            if text:
                folders.append(os.path.join(root, os.path.expanduser(text)))
        executable = section.get("python_executable")
        return folders, str(executable) if executable else None
    return [], None


def project_key(spec: ToolSpec, root: Path) -> object | None:
    """What a project-wide tool may read among files that are not in the project's
    digest: the untracked, gitignored files of its kinds (by name, size and modification
    time); a custom tool with ``inputs``: every file they match, by content, and nothing
    else. None outside a git repository."""
    if is_custom(spec):
        return None if spec.inputs is None else fingerprint.glob_digests(root, spec.inputs)
    kinds = reads_of(spec).kinds
    if not kinds:
        return []
    return fingerprint.ignored_signatures(root, kinds)
