"""What runs one hook in a run: a callable (or a ShardedTool whose shards each take a
slice of its files) that replays the result from the cache when its inputs are as
before, runs it otherwise, and stores what may be stored.

A key covers the hook's definition (entry, args, language, version, additional
dependencies, repository and rev), its environment, its program (path, size, time), the
repository root's files (configuration most hooks read) and the contents of the hook's
files; a hook given no file names is keyed on every tracked file. A result is stored
only when no file changed while the hook ran (its key is the same after) and the hook
changed none.
"""

from __future__ import annotations

import atexit
import functools
import hashlib
import json
import os
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from huskycat import __version__
from huskycat.core.results import ToolResult, ToolStatus
from huskycat.core.sharding import ShardedTool
from huskycat.envs import EnvSpec
from huskycat.precommit.execute import HookCall, digests, run_on
from huskycat.precommit.index import FileIndex
from huskycat.tools.facts import facts_of, replace_result, with_facts
from huskycat.tools.merge import merge_results

if TYPE_CHECKING:
    from huskycat.cache import Cache

MIN_FILES_PER_SHARD = 16  # a hook is split into side-by-side batches above this many
CACHE_FORMAT = 2  # 2: files by blob id and kind


class RepoState:
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


def file_index(root: Path, *, expected: int | None = None) -> FileIndex:
    """The run's :class:`FileIndex`, its file types saved when the process ends."""
    index = FileIndex(root, expected=expected)
    atexit.register(index.save)
    return index


def _digest(material: object) -> str:
    return hashlib.sha256(json.dumps(material, sort_keys=True).encode()).hexdigest()


def hook_callable(
    call: HookCall, files: tuple[str, ...], state: RepoState, env_spec: EnvSpec | None
) -> Callable[[Cache | None], Callable[[], object]]:
    """What runs the hook, given the run's cache: a callable, or a ShardedTool whose
    shards each take a slice of the files (pre-commit's xargs runs slices side by side
    too, unless ``require_serial``). Each slice is cached as a whole. A run splits its
    files further into batches that run at once (:attr:`HookCall.spread` processes, less
    the shards beside it): a hook started while the other cores were busy still uses
    them once they are free, as pre-commit's xargs does."""
    return functools.partial(_make_callable, call, files, state, env_spec)


def _make_callable(
    call: HookCall,
    files: tuple[str, ...],
    state: RepoState,
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

    def run(part: Sequence[str], spread: int) -> ToolResult:
        key = key_for(part) if cache is not None else None
        if cache is not None and key is not None:
            stored = cache.get(key)
            if stored is not None:
                replayed = _replay(stored, call.name)
                if replayed is not None:
                    return replayed
        result = run_on(call, part, spread=spread)
        modified = facts_of(result).modified_files
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
        return functools.partial(run, files, call.spread)

    def split(wanted: int) -> list[Callable[[], ToolResult]]:
        count = max(1, min(wanted, len(files) // MIN_FILES_PER_SHARD))
        # The cores the other shards leave each shard: pre-commit's xargs -P in all.
        spread = max(1, call.spread // count)
        return [functools.partial(run, files[i::count], spread) for i in range(count)]

    def merge(results: list[ToolResult]) -> ToolResult:
        parts = [facts_of(r) for r in results]
        merged = replace_result(merge_results(results), tool_name=call.name)
        return with_facts(
            merged,
            files=len(files),
            modified_files=sorted({m for f in parts for m in f.modified_files or ()}),
            returncodes=[c for f in parts for c in f.returncodes or ()],
            **({"cached": True} if all(f.cached for f in parts) else {}),
        )

    return ShardedTool(split, merge, max_shards=min(8, len(files) // MIN_FILES_PER_SHARD))


def outside_inputs(run: object) -> list[str] | None:
    """The paths outside the repository that the hook planned as ``run`` (what
    :func:`hook_callable` returned) depends on and its key covers: its program, its
    environment's ready-marker, its repository's hook definitions (absolute). None when
    ``run`` is not a hook's, its program was not found, or it appends to a ``log_file``
    (which a replay would not)."""
    if not (isinstance(run, functools.partial) and run.func is _make_callable):
        return None
    call: HookCall = run.args[0]
    if call.hook.log_file:
        return None
    paths = []
    if call.hook.language not in ("pygrep", "fail", "meta"):
        program = _program_signature(call)
        if program is None:
            return None
        paths.append(os.path.join(call.root, str(program[0])))
    if call.env_dir is not None:
        from huskycat.envs import READY

        paths.append(str(call.env_dir / READY))
    if call.hook.repo not in ("local", "meta"):
        paths.append(str(call.hook.prefix / ".pre-commit-hooks.yaml"))
    return paths


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
    return with_facts(result, cached=True)
