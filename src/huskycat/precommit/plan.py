"""Hooks -> a huskycat :class:`~huskycat.planning.Plan`: which hooks run, on which files
(:mod:`.classify`), which wait for which, and what runs each one (:mod:`.calls`).

Order: pre-commit runs hooks one after another, each seeing the changes of the ones
before. Here a hook waits ("after" edges) for every earlier hook that could write a file
it reads or read a file it writes: they are not both read-only, and their file lists
overlap (a hook given no file names, or one that always runs, overlaps every hook) or
one of them may write files it was not given (:attr:`~.repos.Hook.writes_anywhere`: any
hook that may write, unless it is known to write only its own files), which therefore
runs alone. Hooks on disjoint files that write only their own, and read-only hooks among
themselves, run at the same time. A hook with
``fail_fast`` (or the top-level ``fail_fast``) makes every later hook require it to pass,
as pre-commit stops there.

Environments of python and node hooks are installed while the run is planned, before any hook
starts, each announced with the time it took (:mod:`huskycat.envs`).
"""

from __future__ import annotations

import functools
import os
import sys
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from huskycat.config import ToolConfig
from huskycat.core.process import DEFAULT_TIMEOUT
from huskycat.envs import EnvError, EnvSpec, bin_dir, ensure, node_env
from huskycat.planning import Plan, PlannedTool, parse_exit_code, tool_env
from huskycat.precommit import CONFIG_FILE
from huskycat.precommit.calls import RepoState, file_index, hook_callable
from huskycat.precommit.classify import hook_files, run_files
from huskycat.precommit.config import (
    PreCommitConfig,
    check_language,
    check_pattern,
    load_config,
)
from huskycat.precommit.execute import HookCall
from huskycat.precommit.meta import meta_verdict
from huskycat.precommit.repos import Hook, resolve_hooks, unique_names
from huskycat.tools.base import ToolSpec

STAGE = "pre-commit"  # the stage `huskycat run` stands for, as `pre-commit run`


def config_path(root: Path) -> Path | None:
    """``.pre-commit-config.yaml`` at ``root`` when it exists."""
    path = root / CONFIG_FILE
    return path if path.is_file() else None


def hooks_project(root: Path, load: Callable[[Path], Any]) -> str | None:
    """The first project of the repository at ``root`` whose tools are the hooks of its
    ``.pre-commit-config.yaml`` (no huskycat configuration; ``load`` reads one), as a
    prefix ("" for the root, "web/" for web); None when none is."""
    from huskycat import projects
    from huskycat.files import collect_files

    for folder in projects.find_projects(root, collect_files(root, mode="all")):
        where = root / folder if folder else root
        if config_path(where) is not None and load(where).source is None:
            return f"{folder}/" if folder else ""
    return None


def _overlap(a: tuple[Hook, set[str] | None], b: tuple[Hook, set[str] | None]) -> bool:
    (hook_a, files_a), (hook_b, files_b) = a, b
    if hook_a.read_only and hook_b.read_only:
        return False
    if hook_a.writes_anywhere or hook_b.writes_anywhere:
        return True  # it could write the other's files: never side by side
    if files_a is None or files_b is None:
        return True
    return not files_a.isdisjoint(files_b)


def order(
    hooks: Sequence[tuple[str, Hook, set[str] | None]], *, fail_fast: bool
) -> tuple[dict[str, tuple[str, ...]], dict[str, tuple[str, ...]]]:
    """``(requires, after)`` edges among the hooks that run (``None`` files: all files)."""
    requires: dict[str, set[str]] = {name: set() for name, _, _ in hooks}
    after: dict[str, set[str]] = {name: set() for name, _, _ in hooks}
    for j, (later, hook_j, files_j) in enumerate(hooks):
        for earlier, hook_i, files_i in hooks[:j]:
            if fail_fast or hook_i.fail_fast:
                requires[later].add(earlier)
            elif _overlap((hook_i, files_i), (hook_j, files_j)):
                after[later].add(earlier)
    return (
        {n: tuple(sorted(e)) for n, e in requires.items()},
        {n: tuple(sorted(e)) for n, e in after.items()},
    )


def _say(line: str) -> None:
    print(f"huskycat: {line}", file=sys.stderr, flush=True)


def hook_env_spec(hook: Hook) -> EnvSpec | None:
    """What a python or node hook's environment holds: its repository (unless local; for
    node, as npm fetches it: ``git+file://`` of the clone, when it has a package.json)
    and its additional dependencies."""
    if hook.language not in ("python", "node"):
        return None
    remote = hook.repo not in ("local", "meta")
    if hook.language == "node":
        own: tuple[str, ...] = (
            (f"git+file://{hook.prefix}",)
            if remote and (hook.prefix / "package.json").is_file()
            else ()
        )
    else:
        own = (str(hook.prefix),) if remote else ()
    where = "local hooks" if hook.repo == "local" else f"{hook.repo} at {hook.rev}"
    extra = (
        f" with {', '.join(hook.additional_dependencies)}" if hook.additional_dependencies else ""
    )
    return EnvSpec(
        (*own, *hook.additional_dependencies),
        hook.language_version,
        f"{where}{extra}",
        language=hook.language,
    )


def install_envs(
    hooks: Sequence[Hook], *, jobs: int = 2, root: Path | None = None
) -> dict[EnvSpec, Path | EnvError]:
    """Every environment ``hooks`` need, installed (side by side) when missing; what the
    background work started for ``root`` installed is taken as it is (:mod:`.prefetch`)."""
    from huskycat.precommit import prefetch

    specs = list(dict.fromkeys(s for s in map(hook_env_spec, hooks) if s is not None))
    done = prefetch.outcomes(root) if root is not None else {}

    def one(spec: EnvSpec) -> Path | EnvError:
        earlier = done.get(spec)
        if isinstance(earlier, EnvError):
            _say(str(earlier))
            return earlier
        try:
            return ensure(spec, say=_say)
        except EnvError as exc:
            _say(str(exc))
            return exc

    with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
        return dict(zip(specs, pool.map(one, specs), strict=True))


def _hook_env(
    base: Mapping[str, str], env_dir: Path | None, language: str = "python"
) -> dict[str, str]:
    env = {**base, "PRE_COMMIT": "1"}
    if env_dir is not None and language == "node":
        for name, value in node_env(env_dir).items():
            if value is None:
                env.pop(name, None)
            else:
                env[name] = value
        env["PATH"] = os.pathsep.join([str(bin_dir(env_dir)), base.get("PATH", os.defpath)])
    elif env_dir is not None:
        env.pop("PYTHONHOME", None)
        env["VIRTUAL_ENV"] = str(env_dir)
        env["PATH"] = os.pathsep.join([str(bin_dir(env_dir)), base.get("PATH", os.defpath)])
    return env


def load_hooks(root: Path) -> tuple[PreCommitConfig, list[Hook]]:
    path = config_path(root)
    assert path is not None
    config = load_config(path)
    return config, resolve_hooks(config, root)


def build_plan(
    root: Path,
    candidates: Sequence[str],
    *,
    only: Sequence[str] = (),
    skip: Sequence[str] = (),
    timeout: float | None = None,
    jobs: int | None = None,
    fail_fast: bool | None = None,
    all_tracked: Callable[[], Sequence[str] | None] | None = None,
) -> Plan:
    """The hooks of ``root``'s ``.pre-commit-config.yaml`` over ``candidates``.

    ``only`` and ``skip`` take hook ids or aliases (result names work too);
    ``all_tracked`` lists every tracked file (None: not a repository), for meta hooks,
    whole-repository keys and hooks whose whole tree is watched.
    """
    from huskycat.planning import PlanError

    config, every_hook = load_hooks(root)
    hooks = [h for h in every_hook if STAGE in h.stages]
    names = unique_names(hooks)
    known = {*names, *(h.id for h in hooks), *(h.alias for h in hooks if h.alias)}
    for wanted in (*only, *skip):
        if wanted not in known:
            raise PlanError(f"unknown hook {wanted!r}; hooks: {', '.join(names)}")

    def chosen(name: str, hook: Hook) -> bool:
        keys = {name, hook.id, hook.alias}
        return (not only or bool(keys & set(only))) and not keys & set(skip)

    selected = [(n, h) for n, h in zip(names, hooks, strict=True) if chosen(n, h)]
    for _, hook in selected:
        check_language(config.source, f"{hook.where} ({hook.id})", hook.language)
        check_pattern(config.source, f"{hook.where} ({hook.id})", hook.language, hook.entry)
    skipped_by_env = {s.strip() for s in os.environ.get("SKIP", "").split(",") if s.strip()}
    files = run_files(root, candidates, config)
    index = file_index(root, expected=len(files))
    tags = functools.cache(index.tags)  # no file changes while the run is planned
    per_hook = {name: hook_files(hook, files, tags) for name, hook in selected}
    running = [
        (n, h)
        for n, h in selected
        if (per_hook[n] or h.always_run) and not {h.id, h.alias} & skipped_by_env
    ]
    envs = install_envs([h for _, h in running], jobs=jobs or 2, root=root)

    @functools.cache
    def tracked() -> list[str]:
        listed = all_tracked() if all_tracked is not None else None
        return list(listed) if listed is not None else list(files)

    base_env = tool_env()
    spread = jobs or _cpus()
    repo_state = RepoState(root, tracked, index)
    tools: dict[str, PlannedTool] = {}
    for name, hook in selected:
        spec = _spec(name, hook)
        settings = ToolConfig()
        hook_timeout = timeout or DEFAULT_TIMEOUT
        common: dict[str, Any] = {
            "name": name,
            "spec": spec,
            "settings": settings,
            "timeout": hook_timeout,
            "weight": 1,
        }
        if hook.id in skipped_by_env or (hook.alias and hook.alias in skipped_by_env):
            tools[name] = PlannedTool(files=(), skip_reason="SKIP names it", **common)
            continue
        if not per_hook[name] and not hook.always_run:
            tools[name] = PlannedTool(files=(), skip_reason="no files to check", **common)
            continue
        env_spec = hook_env_spec(hook)
        env_dir = envs.get(env_spec) if env_spec is not None else None
        if isinstance(env_dir, EnvError):
            tools[name] = PlannedTool(
                files=tuple(per_hook[name]),
                skip_reason=f"environment failed: {env_dir}",
                unavailable=(
                    f"{env_dir.hint}, then huskycat install-hooks"
                    if env_dir.hint
                    else f"huskycat install-hooks ({env_dir.message})"
                ),
                **common,
            )
            continue
        meta = meta_verdict(hook, config, hooks, tracked, tags) if hook.language == "meta" else None
        call = HookCall(
            name=name,
            hook=hook,
            root=root,
            env=_hook_env(base_env, env_dir, hook.language),
            env_dir=env_dir,
            meta_output=meta,
            index=index,
            tracked=tracked,
            files=frozenset(per_hook[name]),
            spread=spread,
        )
        tools[name] = PlannedTool(
            files=tuple(per_hook[name]),
            run=hook_callable(call, tuple(per_hook[name]), repo_state, env_spec),
            **common,
        )
    active = [
        (n, h, None if (not h.pass_filenames or h.always_run) else set(per_hook[n]))
        for n, h in selected
        if tools[n].skip_reason is None
    ]
    requires, after = order(active, fail_fast=bool(config.fail_fast or fail_fast))
    for name in tools:
        requires.setdefault(name, ())
        after.setdefault(name, ())
    return Plan(
        root=root,
        fix=False,
        tools=tools,
        requires=requires,
        after=after,  # fail_fast is the order's "requires" edges, as pre-commit stops
        env=base_env,
    )


def _cpus() -> int:
    from huskycat.core.parallel_executor import available_cpus

    return available_cpus()


def _spec(name: str, hook: Hook) -> ToolSpec:
    return ToolSpec(
        name=name,
        description=hook.name,
        executable=hook.entry.split()[0] if hook.entry.split() else hook.id,
        install_hint=f"huskycat install-hooks ({hook.language} hook {hook.id!r})",
        check_args=(),
        fix_args=None if hook.read_only else (),
        types=hook.types | hook.types_or,
        pass_filenames=hook.pass_filenames,
        parse=parse_exit_code,
        version_args=(),
        scope="project",
    )


def tracked_lister(root: Path) -> Callable[[], list[str] | None]:
    """Every tracked file of the repository at ``root`` that exists, listed by one ``git
    ls-files`` when first asked for; None outside a repository."""

    @functools.cache
    def listed() -> list[str] | None:
        from huskycat import git

        try:
            return git.tracked_files(root)
        except git.GitError:
            return None

    return listed


def candidates_for(
    root: Path,
    mode: str,
    collected: Sequence[str],
    args: Any,
    tracked: Callable[[], list[str] | None] | None = None,
) -> list[str]:
    """The run's files as pre-commit lists them for ``mode``, among those huskycat
    ``collected`` (relative to ``root``, a project's folder): with ``--all-files`` the
    files git tracks (not untracked ones), with ``--changed-since REF`` the files
    changed between REF's merge base and HEAD (``--from-ref REF --to-ref HEAD``); the
    staged files and ``--files`` as collected. ``tracked``: a :func:`tracked_lister`."""
    from huskycat.core import process

    if mode == "all files":
        from huskycat import content

        taken = content.snapshot(root, take=False)  # the one collecting the files took
        if taken is not None and all(name in taken.ids for name in collected):
            return list(collected)  # every one is in git's index as it is: tracked
        listed = (tracked or tracked_lister(root))()
        if listed is not None:
            known = set(listed)
            return [name for name in collected if name in known]
    if mode.startswith("changed since"):
        proc = process.run(
            [
                "git",
                "diff",
                "--relative",
                "--name-only",
                "--no-ext-diff",
                "-z",
                "--diff-filter=ACMRTUXB",
                f"{args.changed_since}...HEAD",
            ],
            cwd=root,
            env=_git_env(),
        )
        if proc.returncode == 0:  # within the folders and files huskycat collected
            owned = set(collected)
            return sorted(n for n in proc.stdout.split("\0") if n in owned)
    return list(collected)


def _git_env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
