"""Hooks -> a huskycat :class:`~huskycat.planning.Plan`: which files each hook gets,
which hooks wait for which, and the callable that runs each one.

Files, as pre-commit picks them: the run's files (``git ls-files`` for all files, the
staged files, the files changed between a ref's merge base and HEAD, or those given)
that exist, filtered by the top-level ``files``/``exclude``, then per hook by its
``files``/``exclude`` regexes (``re.search``) and identify tags: all of ``types``, any
of ``types_or``, none of ``exclude_types``.

Order: pre-commit runs hooks one after another, each seeing the changes of the ones
before. Here a hook waits ("after" edges) for every earlier hook that could write a file
it reads or read a file it writes: their file lists overlap (a hook given no file names,
or one that always runs, overlaps every hook) and they are not both read-only. Hooks on
disjoint files, and read-only hooks among themselves, run at the same time. A hook with
``fail_fast`` (or the top-level ``fail_fast``) makes every later hook require it to pass,
as pre-commit stops there.
"""

from __future__ import annotations

import atexit
import functools
import hashlib
import json
import os
import re
import sys
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING, Any

from huskycat import __version__
from huskycat.config import ToolConfig
from huskycat.core.results import ToolResult, ToolStatus
from huskycat.core.sharding import ShardedTool, merge_results
from huskycat.envs import EnvError, EnvSpec, bin_dir, ensure
from huskycat.planning import DEFAULT_TIMEOUT, Plan, PlannedTool, parse_exit_code, tool_env
from huskycat.precommit import CONFIG_FILE
from huskycat.precommit.config import PreCommitConfig, check_language, load_config
from huskycat.precommit.execute import HookCall, digests, run_on
from huskycat.precommit.index import FileIndex
from huskycat.precommit.repos import Hook, resolve_hooks, unique_names
from huskycat.tools.base import ToolSpec

if TYPE_CHECKING:
    from huskycat.cache import Cache

STAGE = "pre-commit"  # the stage `huskycat run` stands for, as `pre-commit run`
MIN_FILES_PER_SHARD = 16  # a hook is split into side-by-side batches above this many
CACHE_FORMAT = 1


def config_path(root: Path) -> Path | None:
    """``.pre-commit-config.yaml`` at ``root`` when it exists."""
    path = root / CONFIG_FILE
    return path if path.is_file() else None


def hook_files(
    hook: Hook, candidates: Sequence[str], tags: Callable[[str], frozenset[str]]
) -> list[str]:
    """The ``candidates`` ``hook`` gets: its regexes, then its types (all of ``types``,
    any of ``types_or``, none of ``exclude_types``)."""
    include, exclude = re.compile(hook.files), re.compile(hook.exclude)
    verdicts: dict[frozenset[str], bool] = {}  # files share few distinct sets of tags
    kept = []
    for name in candidates:
        if not include.search(name) or exclude.search(name):
            continue
        found = tags(name)
        wanted = verdicts.get(found)
        if wanted is None:
            wanted = verdicts[found] = (
                found >= hook.types
                and (not hook.types_or or bool(found & hook.types_or))
                and not found & hook.exclude_types
            )
        if wanted:
            kept.append(name)
    return kept


def run_files(root: Path, candidates: Sequence[str], config: PreCommitConfig) -> list[str]:
    """The run's files that exist, filtered by the top-level ``files`` and ``exclude``."""
    include, exclude = re.compile(config.files), re.compile(config.exclude)
    return [
        name
        for name in candidates
        if include.search(name)
        and not exclude.search(name)
        and os.path.lexists(os.path.join(root, name))
    ]


def _overlap(a: tuple[Hook, set[str] | None], b: tuple[Hook, set[str] | None]) -> bool:
    (hook_a, files_a), (hook_b, files_b) = a, b
    if hook_a.read_only and hook_b.read_only:
        return False
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
    """What a python hook's environment holds: its repository (unless local) and its
    additional dependencies."""
    if hook.language != "python":
        return None
    own = () if hook.repo in ("local", "meta") else (str(hook.prefix),)
    where = "local hooks" if hook.repo == "local" else f"{hook.repo} at {hook.rev}"
    extra = (
        f" with {', '.join(hook.additional_dependencies)}" if hook.additional_dependencies else ""
    )
    return EnvSpec((*own, *hook.additional_dependencies), hook.language_version, f"{where}{extra}")


def install_envs(hooks: Sequence[Hook], *, jobs: int = 2) -> dict[EnvSpec, Path | EnvError]:
    """Every environment ``hooks`` need, installed (side by side) when missing."""
    specs = list(dict.fromkeys(s for s in map(hook_env_spec, hooks) if s is not None))

    def one(spec: EnvSpec) -> Path | EnvError:
        try:
            return ensure(spec, say=_say)
        except EnvError as exc:
            _say(str(exc))
            return exc

    with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
        return dict(zip(specs, pool.map(one, specs), strict=True))


def _hook_env(base: Mapping[str, str], env_dir: Path | None) -> dict[str, str]:
    env = {**base, "PRE_COMMIT": "1"}
    if env_dir is not None:
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
    all_tracked: Callable[[], Sequence[str]] | None = None,
) -> Plan:
    """The hooks of ``root``'s ``.pre-commit-config.yaml`` over ``candidates``.

    ``only`` and ``skip`` take hook ids or aliases (result names work too);
    ``all_tracked`` lists every tracked file, for meta hooks and whole-repository keys.
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
    skipped_by_env = {s.strip() for s in os.environ.get("SKIP", "").split(",") if s.strip()}
    files = run_files(root, candidates, config)
    index = _file_index(root)
    tags = functools.cache(index.tags)  # no file changes while the run is planned
    per_hook = {name: hook_files(hook, files, tags) for name, hook in selected}
    running = [
        (n, h)
        for n, h in selected
        if (per_hook[n] or h.always_run) and not {h.id, h.alias} & skipped_by_env
    ]
    envs = install_envs([h for _, h in running], jobs=jobs or 2)
    tracked = functools.cache(lambda: list(all_tracked()) if all_tracked else list(files))
    base_env = tool_env()
    repo_state = _RepoState(root, tracked, index)
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
                unavailable=f"huskycat install-hooks ({env_dir.message})",
                **common,
            )
            continue
        meta = (
            _meta_verdict(hook, config, hooks, tracked, tags) if hook.language == "meta" else None
        )
        call = HookCall(
            name=name,
            hook=hook,
            root=root,
            env=_hook_env(base_env, env_dir),
            env_dir=env_dir,
            meta_output=meta,
            index=index,
        )
        tools[name] = PlannedTool(
            files=tuple(per_hook[name]),
            run=_callable(call, tuple(per_hook[name]), repo_state, env_spec),
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
        after=after,
        jobs=jobs,
        fail_fast=False,  # fail_fast is the order's "requires" edges, as pre-commit stops
        env=base_env,
    )


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


class _RepoState:
    """Digests the hooks' cache keys share: the root folder's files (configuration most
    hooks read) and, for hooks given no file names, every tracked file. Taken afresh for
    every key (cheap through the index): an earlier hook may have changed them."""

    def __init__(self, root: Path, tracked: Callable[[], list[str]], index: FileIndex) -> None:
        self.root, self._tracked, self._index = root, tracked, index

    def root_files(self) -> str:
        names = sorted(e.name for e in os.scandir(self.root) if e.is_file(follow_symlinks=False))
        return _digest(digests(self.root, names, self._index))

    def everything(self) -> str:
        return _digest(digests(self.root, self._tracked(), self._index))


def _file_index(root: Path) -> FileIndex:
    """The run's :class:`FileIndex`, saved when the process ends (after the run)."""
    from huskycat import git
    from huskycat.cache import state_dir

    path = state_dir(root) / "precommit-index.json" if git.find_root(root) else None
    index = FileIndex(root, path)
    atexit.register(index.save)
    return index


def _digest(material: object) -> str:
    return hashlib.sha256(json.dumps(material, sort_keys=True).encode()).hexdigest()


def _callable(
    call: HookCall, files: tuple[str, ...], state: _RepoState, env_spec: EnvSpec | None
) -> Callable[[Cache | None], Callable[[], object]]:
    """What runs the hook, given the run's cache: a callable, or a ShardedTool whose
    shards each take a slice of the files (pre-commit's xargs runs slices side by side
    too, unless ``require_serial``). Each slice is cached as a whole."""
    return functools.partial(_make_callable, call, files, state, env_spec)


def _make_callable(
    call: HookCall,
    files: tuple[str, ...],
    state: _RepoState,
    env_spec: EnvSpec | None,
    cache: Cache | None,
) -> Callable[[], object]:
    hook = call.hook
    program = _program_signature(call)

    def key_for(part: Sequence[str]) -> str:
        return _digest(
            {
                "format": CACHE_FORMAT,
                "huskycat": __version__,
                "hook": hook.definition(),
                "env": env_spec.key() if env_spec is not None else None,
                "program": program,
                "files": digests(call.root, part, call.index),
                "root": state.root_files(),
                "all": state.everything() if (not hook.pass_filenames or hook.always_run) else None,
            }
        )

    def run(part: Sequence[str]) -> ToolResult:
        key = key_for(part) if cache is not None else None
        if cache is not None and key is not None:
            stored = cache.get(key)
            if stored is not None:
                replayed = _replay(stored, call.name)
                if replayed is not None:
                    return replayed
        result = run_on(call, part)
        modified = result.metadata.get("modified_files")
        # Stored only when nothing changed while it ran (its key is the same after).
        if cache is not None and key is not None and not modified and key_for(part) == key:
            cache.put(key, {"result": result.to_dict()})
        return result

    shardable = (
        hook.pass_filenames
        and not hook.require_serial
        and not hook.always_run
        and len(files) >= 2 * MIN_FILES_PER_SHARD
    )
    if not shardable:
        return functools.partial(run, files)

    def split(wanted: int) -> list[Callable[[], ToolResult]]:
        count = max(1, min(wanted, len(files) // MIN_FILES_PER_SHARD))
        return [functools.partial(run, files[i::count]) for i in range(count)]

    def merge(results: list[ToolResult]) -> ToolResult:
        merged = merge_results(results)
        merged.tool_name = call.name
        merged.metadata["files"] = len(files)
        merged.metadata["modified_files"] = sorted(
            {m for r in results for m in r.metadata.get("modified_files") or ()}
        )
        merged.metadata["returncodes"] = [
            c for r in results for c in r.metadata.get("returncodes") or ()
        ]
        if all(r.metadata.get("cached") for r in results):
            merged.metadata["cached"] = True
        return merged

    return ShardedTool(split, merge, max_shards=min(8, len(files) // MIN_FILES_PER_SHARD))


def _program_signature(call: HookCall) -> list[Any] | None:
    """What identifies the program a system or script hook runs (path, size, mtime)."""
    from huskycat.precommit.execute import hook_argv

    if call.hook.language in ("pygrep", "fail", "meta"):
        return None
    try:
        program = hook_argv(call)[0]
        st = os.stat(program)
    except (OSError, IndexError, ValueError):
        return None
    return [program, st.st_size, st.st_mtime_ns]


def _replay(stored: Mapping[str, Any], name: str) -> ToolResult | None:
    try:
        data = dict(stored["result"])
        result = ToolResult(
            name,
            bool(data["success"]),
            0.0,
            output=str(data.get("output", "")),
            status=ToolStatus(data["status"]),
            error_message=data.get("error_message"),
            metadata=dict(data.get("metadata") or {}),
        )
    except (KeyError, TypeError, ValueError):
        return None
    result.metadata["cached"] = True
    return result


def _meta_verdict(
    hook: Hook,
    config: PreCommitConfig,
    hooks: Sequence[Hook],
    tracked: Callable[[], list[str]],
    tags: Callable[[str], frozenset[str]],
) -> tuple[int, str]:
    """pre-commit's meta hooks, on every tracked file as pre-commit runs them (every
    stage's hooks; check-useless-excludes reads the hooks as configured, without the
    definitions' types)."""
    every = list(tracked())
    kept = [n for n in every if re.search(config.files, n) and not re.search(config.exclude, n)]
    lines: list[str] = []
    if hook.id == "check-hooks-apply":
        for other in hooks:
            if other.always_run or other.language == "fail":
                continue
            if not hook_files(other, kept, tags):
                lines.append(f"{other.id} does not apply to this repository")
    elif hook.id == "check-useless-excludes":
        if config.exclude != "^$" and not any(re.search(config.exclude, n) for n in every):
            lines.append(f"The global exclude pattern {config.exclude!r} does not match any files")
        for repo in config.repos:
            for table in repo.hooks:
                exclude = table.get("exclude", "^$")
                if exclude == "^$":
                    continue
                types = frozenset(table.get("types", ()))
                types_or = frozenset(table.get("types_or", ()))
                exclude_types = frozenset(table.get("exclude_types", ()))
                include = re.compile(table.get("files", ""))
                if not any(
                    include.search(n)
                    and re.search(exclude, n)
                    and tags(n) >= types
                    and (not types_or or tags(n) & types_or)
                    and not tags(n) & exclude_types
                    for n in kept
                ):
                    lines.append(
                        f"The exclude pattern {exclude!r} for {table['id']} does not match any files"
                    )
    return (1 if lines else 0), "".join(f"{line}\n" for line in lines)


def candidates_for(root: Path, mode: str, collected: Sequence[str], args: Any) -> list[str]:
    """The run's files as pre-commit lists them for ``mode``, among those huskycat
    ``collected`` (relative to ``root``, a project's folder): with ``--all-files`` the
    files git tracks (not untracked ones), with ``--changed-since REF`` the files
    changed between REF's merge base and HEAD (``--from-ref REF --to-ref HEAD``); the
    staged files and ``--files`` as collected."""
    from huskycat import git
    from huskycat.core import process

    if mode == "all files" and git.find_root(root) is not None:
        tracked = set(git.tracked_files(root))
        return [name for name in collected if name in tracked]
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
            env={k: v for k, v in os.environ.items() if not k.startswith("GIT_")},
        )
        if proc.returncode == 0:  # within the folders and files huskycat collected
            owned = set(collected)
            return sorted(n for n in proc.stdout.split("\0") if n in owned)
    return list(collected)
