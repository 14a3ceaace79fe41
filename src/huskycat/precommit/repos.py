"""Hook repositories and the hooks a configuration asks for, fully resolved.

A remote repository (``repo:`` a git URL or a local path, ``rev:`` a tag or commit) is
fetched once per (URL, rev) into ``<user cache>/huskycat/repos/`` and shared by every
repository on the machine, under a file lock so that two runs starting together fetch
it once. Its ``.pre-commit-hooks.yaml`` gives the hook definitions, which the
configuration's keys then override, as in pre-commit.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from huskycat.precommit import MANIFEST_FILE
from huskycat.precommit.config import (
    LANGUAGES_WITH_ENV,
    MANIFEST_DEFAULTS,
    PreCommitConfig,
    PreCommitConfigError,
    RepoConfig,
    load_manifest,
)

# Hooks of pre-commit/pre-commit-hooks (and the meta hooks, pygrep and fail) that never
# write a file: they may run beside any hook. A user marks more with
# ``huskycat_read_only: true`` on the hook.
KNOWN_READ_ONLY = frozenset(
    {
        "check-added-large-files",
        "check-ast",
        "check-builtin-literals",
        "check-case-conflict",
        "check-docstring-first",
        "check-executables-have-shebangs",
        "check-illegal-windows-names",
        "check-json",
        "check-merge-conflict",
        "check-shebang-scripts-are-executable",
        "check-symlinks",
        "check-toml",
        "check-vcs-permalinks",
        "check-xml",
        "check-yaml",
        "debug-statements",
        "destroyed-symlinks",
        "detect-aws-credentials",
        "detect-private-key",
        "forbid-new-submodules",
        "forbid-submodules",
        "name-tests-test",
        "no-commit-to-branch",
        "check-byte-order-marker",
    }
)
READ_ONLY_LANGUAGES = frozenset({"pygrep", "fail", "meta"})
# Hooks of pre-commit/pre-commit-hooks that write only the files they are given: they may
# run beside hooks on other files. Any other hook that may write could write anywhere, so
# it runs alone (see :mod:`.plan`). A user marks more with ``huskycat_own_files_only: true``.
KNOWN_OWN_FILES_ONLY = frozenset(
    {
        "double-quote-string-fixer",
        "end-of-file-fixer",
        "file-contents-sorter",
        "fix-byte-order-marker",
        "fix-encoding-pragma",
        "mixed-line-ending",
        "pretty-format-json",
        "requirements-txt-fixer",
        "sort-simple-yaml",
        "trailing-whitespace",
    }
)
_META: dict[str, dict[str, Any]] = {
    "check-hooks-apply": {
        "name": "Check hooks apply to the repository",
        "files": r"^\.pre-commit-config\.yaml$",
    },
    "check-useless-excludes": {
        "name": "Check for useless excludes",
        "files": r"^\.pre-commit-config\.yaml$",
    },
    "identity": {"name": "identity", "verbose": True},
}


class RepoError(PreCommitConfigError):
    """A hook repository that cannot be fetched or read."""


@dataclass(frozen=True, kw_only=True)
class Hook:
    """One hook of a run: its definition merged with the configuration's keys."""

    id: str
    name: str
    entry: str
    language: str  # pre-commit's current name ("unsupported" for system), or "meta"
    alias: str
    args: tuple[str, ...]
    files: str
    exclude: str
    types: frozenset[str]
    types_or: frozenset[str]
    exclude_types: frozenset[str]
    additional_dependencies: tuple[str, ...]
    always_run: bool
    fail_fast: bool
    pass_filenames: bool
    require_serial: bool
    stages: tuple[str, ...]
    verbose: bool
    log_file: str
    language_version: str
    read_only: bool
    repo: str  # "local", "meta" or the URL as written
    rev: str | None
    prefix: Path  # where a script entry is found: the clone, or the project root
    where: str  # "repos[0].hooks[2]", for messages
    own_files_only: bool = False  # writes no file but those it is given

    @property
    def writes_anywhere(self) -> bool:
        """May write files it was not given: it runs alone and the whole tree is watched."""
        return not self.read_only and (not self.own_files_only or not self.pass_filenames)

    def definition(self) -> dict[str, Any]:
        """Everything that decides what the hook does, for cache and environment keys."""
        return {
            "id": self.id,
            "entry": self.entry,
            "language": self.language,
            "args": list(self.args),
            "additional_dependencies": list(self.additional_dependencies),
            "pass_filenames": self.pass_filenames,
            "require_serial": self.require_serial,
            "language_version": self.language_version,
            "repo": self.repo,
            "rev": self.rev,
        }


def repos_dir() -> Path:
    """Where hook repositories are fetched: ``<user cache>/huskycat/repos``."""
    from huskycat.state import user_cache_dir

    return user_cache_dir() / "repos"


def _location(url: str, root: Path) -> str:
    """A local path is taken relative to the project root, as pre-commit takes it
    relative to where it runs (the root)."""
    if "://" in url or url.startswith("git@") or os.path.isabs(url):
        return url
    candidate = root / url
    return str(candidate.resolve()) if candidate.exists() else url


def clone_dir(url: str, rev: str) -> Path:
    digest = hashlib.sha256(f"{url}\0{rev}".encode()).hexdigest()[:20]
    return repos_dir() / digest


def fetch_repo(url: str, rev: str, *, label: str, source: Path) -> Path:
    """The clone of ``url`` at ``rev``, fetched on first use (under a lock)."""
    from huskycat.envs import locked

    target = clone_dir(url, rev)
    if (target / ".git").is_dir():
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    with locked(target.with_suffix(".lock")):
        if (target / ".git").is_dir():
            return target  # another run fetched it while we waited
        temp = target.with_name(f"{target.name}.tmp-{os.getpid()}")
        shutil.rmtree(temp, ignore_errors=True)
        try:
            _clone(url, rev, temp)
        except RepoError:
            shutil.rmtree(temp, ignore_errors=True)
            raise
        except subprocess.CalledProcessError as exc:
            shutil.rmtree(temp, ignore_errors=True)
            detail = (exc.stderr or b"").decode("utf-8", "replace").strip().splitlines()
            raise RepoError(
                source,
                label,
                f"cannot fetch {url!r} at {rev!r}: {detail[-1] if detail else exc}",
            ) from exc
        os.replace(temp, target)
    return target


def _clone(url: str, rev: str, folder: Path) -> None:
    def git(*args: str, cwd: Path = folder) -> None:
        subprocess.run(
            ["git", *args],
            cwd=cwd,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            check=True,
            env={k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
            | {"GIT_TERMINAL_PROMPT": "0"},
        )

    folder.mkdir(parents=True)
    git("init", "-q")
    git("remote", "add", "origin", url)
    try:  # what pre-commit tries first: just that rev, shallow
        git("fetch", "-q", "origin", rev, "--depth=1")
        git("checkout", "-q", "FETCH_HEAD")
    except subprocess.CalledProcessError:
        git("fetch", "-q", "--tags", "origin")
        git("checkout", "-q", rev)


def resolve_hooks(config: PreCommitConfig, root: Path, *, stage: str | None = None) -> list[Hook]:
    """Every hook of ``config`` that runs in ``stage`` (any stage: None), in order."""
    hooks: list[Hook] = []
    for repo in config.repos:
        for number, merged in enumerate(_merged_hooks(repo, config, root)):
            where = f"repos[{repo.index}].hooks[{number}]"
            hook = _hook(merged, repo, config, root, where)
            if stage is None or stage in hook.stages:
                hooks.append(hook)
    return hooks


def _merged_hooks(repo: RepoConfig, config: PreCommitConfig, root: Path) -> list[dict[str, Any]]:
    label = f"repos[{repo.index}] ({repo.repo})"
    if repo.repo == "local":
        return [{**MANIFEST_DEFAULTS, **hook} for hook in repo.hooks]
    if repo.repo == "meta":
        return [
            {
                **MANIFEST_DEFAULTS,
                "entry": "",
                "language": "meta",
                **_META[hook["id"]],
                **hook,
            }
            for hook in repo.hooks
        ]
    assert repo.rev is not None
    clone = fetch_repo(
        _location(repo.repo, root), repo.rev, label=f"{label}.rev", source=config.source
    )
    manifest_path = clone / MANIFEST_FILE
    if not manifest_path.is_file():
        raise RepoError(
            config.source, label, f"{repo.repo!r} at {repo.rev!r} has no {MANIFEST_FILE}"
        )
    manifest = load_manifest(manifest_path, label=f"{repo.repo}@{repo.rev}:{MANIFEST_FILE}")
    merged = []
    for number, hook in enumerate(repo.hooks):
        if hook["id"] not in manifest:
            raise PreCommitConfigError(
                config.source,
                f"{label}.hooks[{number}] ({hook['id']}).id",
                f"no hook {hook['id']!r} in {repo.repo!r} at {repo.rev!r}",
            )
        merged.append({**MANIFEST_DEFAULTS, **manifest[hook["id"]], **hook, "_clone": clone})
    return merged


def _hook(
    merged: Mapping[str, Any], repo: RepoConfig, config: PreCommitConfig, root: Path, where: str
) -> Hook:
    language = merged["language"]
    version = merged["language_version"]
    if version == "default":
        version = config.default_language_version.get(language, "default")
    label = f"{where} ({merged['id']})"
    if language not in LANGUAGES_WITH_ENV:
        if version != "default":
            raise PreCommitConfigError(
                config.source,
                f"{label}.language_version",
                f"language {language!r} installs no environment, so it has no version",
            )
        if merged["additional_dependencies"]:
            raise PreCommitConfigError(
                config.source,
                f"{label}.additional_dependencies",
                f"language {language!r} installs no environment to put them in",
            )
    prefix = merged.get("_clone") or root
    read_only = bool(
        merged.get("huskycat_read_only")
        or language in READ_ONLY_LANGUAGES
        or (repo.repo not in ("local", "meta") and merged["id"] in KNOWN_READ_ONLY)
    )
    own_files_only = bool(
        merged.get("huskycat_own_files_only")
        or (repo.repo not in ("local", "meta") and merged["id"] in KNOWN_OWN_FILES_ONLY)
    )
    return Hook(
        id=merged["id"],
        name=merged["name"],
        entry=merged["entry"],
        language=language,
        alias=merged["alias"],
        args=tuple(merged["args"]),
        files=merged["files"],
        exclude=merged["exclude"],
        types=frozenset(merged["types"]),
        types_or=frozenset(merged["types_or"]),
        exclude_types=frozenset(merged["exclude_types"]),
        additional_dependencies=tuple(merged["additional_dependencies"]),
        always_run=merged["always_run"],
        fail_fast=merged["fail_fast"],
        pass_filenames=merged["pass_filenames"],
        require_serial=merged["require_serial"],
        stages=tuple(merged["stages"] or config.default_stages),
        verbose=merged["verbose"],
        log_file=merged["log_file"],
        language_version=version,
        read_only=read_only,
        repo=repo.repo,
        rev=repo.rev,
        prefix=Path(prefix),
        where=where,
        own_files_only=own_files_only,
    )


def unique_names(hooks: Sequence[Hook]) -> list[str]:
    """Each hook's result name: its id, and for a repeated id ``id#2``, ``id#3``, ..."""
    seen: dict[str, int] = {}
    names = []
    for hook in hooks:
        seen[hook.id] = seen.get(hook.id, 0) + 1
        names.append(hook.id if seen[hook.id] == 1 else f"{hook.id}#{seen[hook.id]}")
    return names
