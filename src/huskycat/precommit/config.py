"""``.pre-commit-config.yaml`` and ``.pre-commit-hooks.yaml`` -> validated records.

The schema is pre-commit's (``pre_commit/clientlib.py``), with one difference: a key
pre-commit would only warn about is an error here (exit 2), named with the file, the
hook and the key, so that a typo never silently turns a check off. One key of our own
are accepted on a hook: ``huskycat_read_only: true`` says the hook never writes files, so
that it may run beside hooks whose files it shares, and ``huskycat_own_files_only: true``
that it writes only the files it is given, so that it may run beside hooks on other
files (pre-commit warns about them and runs).
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NoReturn

from identify.identify import ALL_TAGS

from huskycat.config import ConfigError

# The pre-commit whose behaviour this package reproduces (minimum_pre_commit_version).
PRE_COMMIT_VERSION = "4.7.0"

HOOK_TYPES = (
    "commit-msg",
    "post-checkout",
    "post-commit",
    "post-merge",
    "post-rewrite",
    "pre-commit",
    "pre-merge-commit",
    "pre-push",
    "pre-rebase",
    "prepare-commit-msg",
)
STAGES = (*HOOK_TYPES, "manual")
LEGACY_STAGES = {"commit": "pre-commit", "merge-commit": "pre-merge-commit", "push": "pre-push"}

# Languages huskycat runs, by pre-commit's current name (system and script are the old
# names of unsupported and unsupported_script, still the common spelling).
LANGUAGE_ALIASES = {"system": "unsupported", "script": "unsupported_script"}
SUPPORTED_LANGUAGES = ("python", "node", "unsupported", "unsupported_script", "pygrep", "fail")
# pre-commit's other languages: valid there, refused here by name.
OTHER_LANGUAGES = (
    "conda",
    "coursier",
    "dart",
    "docker",
    "docker_image",
    "dotnet",
    "golang",
    "haskell",
    "julia",
    "lua",
    "perl",
    "r",
    "ruby",
    "rust",
    "swift",
)
LANGUAGES_WITH_ENV = ("python", "node")

META_HOOKS = ("check-hooks-apply", "check-useless-excludes", "identity")

_TOP_KEYS = (
    "repos",
    "default_install_hook_types",
    "default_language_version",
    "default_stages",
    "files",
    "exclude",
    "fail_fast",
    "minimum_pre_commit_version",
    "ci",
)
_REPO_KEYS = ("repo", "rev", "hooks")
# Every key a hook definition may have, with pre-commit's defaults.
MANIFEST_DEFAULTS: dict[str, Any] = {
    "alias": "",
    "files": "",
    "exclude": "^$",
    "types": ["file"],
    "types_or": [],
    "exclude_types": [],
    "additional_dependencies": [],
    "args": [],
    "always_run": False,
    "fail_fast": False,
    "pass_filenames": True,  # nosec B105 - a flag named "pass...", not a password
    "description": "",
    "language_version": "default",
    "log_file": "",
    "require_serial": False,
    "stages": [],
    "verbose": False,
    "minimum_pre_commit_version": "0",
}
_REQUIRED = ("id", "name", "entry", "language")
HOOK_KEYS = (*_REQUIRED, *MANIFEST_DEFAULTS, "huskycat_read_only", "huskycat_own_files_only")
_BOOLS = ("always_run", "fail_fast", "pass_filenames", "require_serial", "verbose")
_BOOLS_OURS = ("huskycat_read_only", "huskycat_own_files_only")
_STRINGS = ("id", "name", "entry", "language", "alias", "description", "language_version")
_STRING_LISTS = ("additional_dependencies", "args")
_TAG_LISTS = ("types", "types_or", "exclude_types")


class PreCommitConfigError(ConfigError):
    """A pre-commit configuration or manifest that cannot be used (exit 2)."""


@dataclass(frozen=True, kw_only=True)
class RepoConfig:
    """One entry of ``repos``: ``hooks`` are the validated hook tables as written."""

    repo: str
    rev: str | None
    hooks: tuple[Mapping[str, Any], ...]
    index: int


@dataclass(frozen=True, kw_only=True)
class PreCommitConfig:
    """A validated ``.pre-commit-config.yaml``."""

    source: Path
    repos: tuple[RepoConfig, ...]
    files: str = ""
    exclude: str = "^$"
    fail_fast: bool = False
    default_stages: tuple[str, ...] = STAGES
    default_language_version: Mapping[str, str] = field(default_factory=dict)
    minimum_pre_commit_version: str = "0"


def read_yaml(path: Path) -> Any:
    """The YAML document in ``path``; :class:`PreCommitConfigError` when unreadable.

    A document whose value JSON holds exactly is remembered by its text's digest in the
    user's cache (``yaml/``), so a run whose configuration did not change neither parses
    it nor imports the YAML parser."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise PreCommitConfigError(path, None, f"cannot read: {exc}") from exc
    remembered = _remembered(text)
    found = remembered.read()
    if found is not None:
        return found.value
    import yaml  # type: ignore[import-untyped, unused-ignore]

    try:
        loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
        value = yaml.load(text, Loader=loader)  # nosec B506 - CSafeLoader or SafeLoader
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else None
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise PreCommitConfigError(path, None, f"invalid YAML: {problem}", line=line) from exc
    remembered.write(value)
    return value


@dataclass(frozen=True)
class _Parsed:
    value: Any


@dataclass(frozen=True)
class _Remembered:
    """A parsed YAML document, stored as JSON under its text's digest."""

    path: Path

    def read(self) -> _Parsed | None:
        try:
            return _Parsed(json.loads(self.path.read_bytes()))
        except (OSError, ValueError):
            return None

    def write(self, value: Any) -> None:
        try:
            data = json.dumps(value, separators=(",", ":"))
        except (TypeError, ValueError):
            return  # dates, sets, ...: parsed each time
        if json.loads(data) != value or _json_types(json.loads(data)) != _json_types(value):
            return  # keys that are not strings, ...
        temp = self.path.with_name(f"{self.path.name}.{os.getpid()}.tmp")
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            temp.write_text(data, encoding="utf-8")
            os.replace(temp, self.path)
        except OSError:
            return


def _json_types(value: Any) -> Any:
    """The shape of ``value`` with each leaf's type (1 == 1.0 == True in Python)."""
    if isinstance(value, dict):
        return {key: _json_types(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_json_types(item) for item in value]
    return type(value).__name__


def _remembered(text: str) -> _Remembered:
    from huskycat.state import user_cache_dir

    folder = user_cache_dir() / "yaml"
    digest = hashlib.sha256(f"yaml-json 1\0{text}".encode()).hexdigest()
    return _Remembered(folder / f"{digest}.json")


def parse_version(text: str) -> tuple[int, ...] | None:
    try:
        return tuple(int(part) for part in text.split("."))
    except ValueError:
        return None


class _Check:
    def __init__(self, source: Path) -> None:
        self.source = source

    def fail(self, where: str, message: str) -> NoReturn:
        raise PreCommitConfigError(self.source, where or None, message)

    def mapping(self, value: object, where: str) -> dict[str, Any]:
        if not isinstance(value, dict):
            self.fail(where, f"expected a mapping, got {value!r}")
        return value

    def keys(self, table: Mapping[str, Any], where: str, known: tuple[str, ...]) -> None:
        for key in table:
            if key not in known:
                import difflib

                close = difflib.get_close_matches(str(key), known, n=1)
                hint = f"; did you mean {close[0]!r}?" if close else ""
                self.fail(_join(where, str(key)), f"unknown key {key!r}{hint}")

    def string(self, value: object, where: str) -> str:
        if not isinstance(value, str):
            self.fail(where, f"expected a string, got {value!r}")
        return value

    def boolean(self, value: object, where: str) -> bool:
        if not isinstance(value, bool):
            self.fail(where, f"expected true or false, got {value!r}")
        return value

    def strings(self, value: object, where: str) -> list[str]:
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            self.fail(where, f"expected a list of strings, got {value!r}")
        return value

    def regex(self, value: object, where: str) -> str:
        text = self.string(value, where)
        try:
            re.compile(text)
        except re.error as exc:
            self.fail(where, f"invalid regular expression {text!r}: {exc}")
        return text

    def tags(self, value: object, where: str) -> list[str]:
        tags = self.strings(value, where)
        for tag in tags:
            if tag not in ALL_TAGS:
                self.fail(where, f"unknown file type {tag!r} (types are identify tags)")
        return tags

    def stages(self, value: object, where: str) -> list[str]:
        stages = [LEGACY_STAGES.get(s, s) for s in self.strings(value, where)]
        for stage in stages:
            if stage not in STAGES:
                self.fail(where, f"unknown stage {stage!r}; expected one of {', '.join(STAGES)}")
        return stages

    def min_version(self, value: object, where: str) -> str:
        text = self.string(value, where)
        wanted = parse_version(text)
        if wanted is None:
            self.fail(where, f"expected a version such as '3.2.0', got {text!r}")
        if wanted > (parse_version(PRE_COMMIT_VERSION) or ()):
            self.fail(
                where,
                f"pre-commit {text} is required; huskycat runs hooks as pre-commit "
                f"{PRE_COMMIT_VERSION} does",
            )
        return text

    def hook(self, raw: object, where: str, *, required: tuple[str, ...]) -> dict[str, Any]:
        """A hook table, every key checked; only the keys given (no defaults added)."""
        table = self.mapping(raw, where)
        hook_id = table.get("id")
        if isinstance(hook_id, str):
            where = f"{where} ({hook_id})"
        self.keys(table, where, HOOK_KEYS)
        for key in required:
            if key not in table:
                self.fail(_join(where, key), f"missing required key {key!r}")
        checked: dict[str, Any] = {}
        for key, value in table.items():
            at = _join(where, key)
            if key in _BOOLS or key in _BOOLS_OURS:
                checked[key] = self.boolean(value, at)
            elif key in _STRINGS or key == "log_file":
                checked[key] = self.string(value, at)
            elif key in ("files", "exclude"):
                checked[key] = self.regex(value, at)
            elif key in _STRING_LISTS:
                checked[key] = self.strings(value, at)
            elif key in _TAG_LISTS:
                checked[key] = self.tags(value, at)
            elif key == "stages":
                checked[key] = self.stages(value, at)
            elif key == "minimum_pre_commit_version":
                checked[key] = self.min_version(value, at)
        if "language" in checked:
            checked["language"] = self.language(checked["language"], _join(where, "language"))
        return checked

    def language(self, name: str, where: str) -> str:
        """pre-commit's current name of a language it knows. Whether huskycat runs it is
        asked of the hooks that would run (:func:`check_language`): a manifest may
        define hooks in any language, and a hook of another stage never runs."""
        name = LANGUAGE_ALIASES.get(name, name)
        if name not in SUPPORTED_LANGUAGES and name not in OTHER_LANGUAGES:
            self.fail(where, f"unknown language {name!r}")
        return name


def check_language(source: Path, where: str, language: str) -> None:
    """Exit 2 (:class:`PreCommitConfigError`) for a hook that would run in a language
    huskycat does not run, naming the hook and the language."""
    if language not in SUPPORTED_LANGUAGES and language != "meta":
        raise PreCommitConfigError(
            source,
            f"{where}.language",
            f"language {language!r} is not supported by huskycat (it runs python, node, "
            "system, script, pygrep and fail hooks); run this hook with pre-commit",
        )


def check_pattern(source: Path, where: str, language: str, entry: str) -> None:
    """Exit 2 (:class:`PreCommitConfigError`) for a pygrep hook whose ``entry`` is not a
    regular expression, naming the hook and the pattern (pre-commit would print a
    traceback as the hook's output)."""
    if language != "pygrep":
        return
    import re

    try:
        re.compile(entry.encode())
    except re.error as exc:
        raise PreCommitConfigError(
            source, f"{where}.entry", f"{entry!r} is not a regular expression: {exc}"
        ) from None


def _join(where: str, key: str) -> str:
    return f"{where}.{key}" if where else key


def load_config(path: Path) -> PreCommitConfig:
    """Read and validate ``.pre-commit-config.yaml`` at ``path``."""
    check = _Check(path)
    data = read_yaml(path)
    if data is None:
        data = {}
    top = check.mapping(data, "")
    check.keys(top, "", _TOP_KEYS)
    if "repos" not in top:
        check.fail("repos", "missing required key 'repos'")
    settings: dict[str, Any] = {}
    if "minimum_pre_commit_version" in top:
        settings["minimum_pre_commit_version"] = check.min_version(
            top["minimum_pre_commit_version"], "minimum_pre_commit_version"
        )
    for key in ("files", "exclude"):
        if key in top:
            settings[key] = check.regex(top[key], key)
    if "fail_fast" in top:
        settings["fail_fast"] = check.boolean(top["fail_fast"], "fail_fast")
    if "default_stages" in top:
        settings["default_stages"] = tuple(check.stages(top["default_stages"], "default_stages"))
    if "default_install_hook_types" in top:
        for name in check.strings(top["default_install_hook_types"], "default_install_hook_types"):
            if name not in HOOK_TYPES:
                check.fail("default_install_hook_types", f"unknown hook type {name!r}")
    if "ci" in top:
        check.mapping(top["ci"], "ci")  # pre-commit.ci's settings: not ours to read
    if "default_language_version" in top:
        versions = check.mapping(top["default_language_version"], "default_language_version")
        known = (*SUPPORTED_LANGUAGES, *OTHER_LANGUAGES, *LANGUAGE_ALIASES)
        check.keys(versions, "default_language_version", known)
        settings["default_language_version"] = {
            LANGUAGE_ALIASES.get(k, k): check.string(v, f"default_language_version.{k}")
            for k, v in versions.items()
        }
    raw_repos = top["repos"]
    if not isinstance(raw_repos, list):
        check.fail("repos", f"expected a list of repositories, got {raw_repos!r}")
    repos = []
    for index, raw in enumerate(raw_repos):
        where = f"repos[{index}]"
        table = check.mapping(raw, where)
        check.keys(table, where, _REPO_KEYS)
        if "repo" not in table:
            check.fail(_join(where, "repo"), "missing required key 'repo'")
        repo = check.string(table["repo"], _join(where, "repo"))
        if repo.startswith("-"):  # git would read it as an option
            check.fail(_join(where, "repo"), f"a repository cannot start with '-': {repo!r}")
        where = f"{where} ({repo})"
        rev = None
        if repo in ("local", "meta"):
            if "rev" in table:
                check.fail(_join(where, "rev"), f"a {repo!r} repository has no rev")
        else:
            if "rev" not in table:
                check.fail(_join(where, "rev"), "missing required key 'rev'")
            rev = check.string(table["rev"], _join(where, "rev"))
            if not rev or rev.startswith("-"):  # git would read it as an option
                check.fail(_join(where, "rev"), f"expected a tag or commit, got {rev!r}")
        if "hooks" not in table:
            check.fail(_join(where, "hooks"), "missing required key 'hooks'")
        hooks_raw = table["hooks"]
        if not isinstance(hooks_raw, list):
            check.fail(_join(where, "hooks"), f"expected a list of hooks, got {hooks_raw!r}")
        required = _REQUIRED if repo == "local" else ("id",)
        hooks = []
        for number, hook_raw in enumerate(hooks_raw):
            at = f"{where}.hooks[{number}]"
            hook = check.hook(hook_raw, at, required=required)
            if repo == "meta":
                _check_meta(check, hook, at)
            hooks.append(hook)
        repos.append(RepoConfig(repo=repo, rev=rev, hooks=tuple(hooks), index=index))
    return PreCommitConfig(source=path, repos=tuple(repos), **settings)


def _check_meta(check: _Check, hook: Mapping[str, Any], where: str) -> None:
    hook_id = hook["id"]
    where = f"{where} ({hook_id})"
    if hook_id not in META_HOOKS:
        check.fail(
            _join(where, "id"), f"unknown meta hook {hook_id!r}; expected one of {META_HOOKS}"
        )
    for key in ("entry", "language"):
        if key in hook:
            check.fail(_join(where, key), f"a meta hook's {key!r} cannot be set")


def load_manifest(path: Path, *, label: str) -> dict[str, dict[str, Any]]:
    """The hook definitions of a repository's ``.pre-commit-hooks.yaml``, by id.

    ``label`` names the repository in errors (its URL and rev).
    """
    check = _Check(path)
    data = read_yaml(path)
    if not isinstance(data, list):
        check.fail(label, f"expected a list of hook definitions, got {data!r}")
    hooks: dict[str, dict[str, Any]] = {}
    for number, raw in enumerate(data):
        hook = check.hook(raw, f"{label}[{number}]", required=_REQUIRED)
        hooks[hook["id"]] = hook
    return hooks
