"""Looking a tool run up in the cache, running what missed, storing what came out.

::

    lookup(cache, spec, files) --keys--> entries on disk
      every input as before ---------------------------> Lookup.result (metadata cached)
      else: per-file hits + misses --run(misses)--> fresh --finish()--> merged, stored
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from huskycat import __version__
from huskycat.cache import fingerprint, keys
from huskycat.cache.merge import FileState, file_states, merge_cached, replay
from huskycat.cache.store import FORMAT_VERSION, Cache, key_of
from huskycat.core.results import OUTCOME_ERROR, Diagnostic, ToolResult, ToolStatus
from huskycat.tools import runner
from huskycat.tools.base import ToolSpec
from huskycat.tools.call import ToolCall

# Name -> normal name, for the life of the process: every tool of a run asks for the
# same files, several times each.
_NORMALS: dict[str, str] = {}


def _normal(name: str) -> str:
    # How the runner names files in diagnostics (runner.display_path), without pathlib:
    # called for every file of every tool, a run with nothing to do spent a fifth of
    # its cache lookups building Path objects here.
    known = _NORMALS.get(name)
    if known is None:
        normal = os.path.normpath(name)
        known = _NORMALS[name] = normal if os.sep == "/" else normal.replace(os.sep, "/")
    return known


def _file_key(tool_key: str, normal: str, content: str, chain: str) -> str:
    """The key of one file's entry: the tool's key, the file's normal name and content
    digest, and the digest of the configuration files in its folders. Hashed directly
    (no JSON): it is taken for every file of every tool of every run."""
    text = f"{tool_key}\0file\0{normal}\0{content}\0{chain}"
    return hashlib.sha256(text.encode("utf-8", "surrogateescape")).hexdigest()


def is_file_local(spec: ToolSpec) -> bool:
    """Whether ``spec``'s results are per file: a catalog tool of scope "file" given its
    files as arguments. A custom tool's reach is unknown, so it never is."""
    from huskycat.tools.catalog import CATALOG  # not on a hook run's start-up

    listed = CATALOG.get(spec.name)
    return (
        listed is not None
        and listed.scope == "file"
        and spec.scope == "file"
        and spec.pass_filenames
        and spec.targets is None
    )


class Lookup:
    """What the cache knows of one run of a tool; made by :func:`lookup`.

    ``result`` is the stored result when nothing changed. Otherwise, if ``run_needed``,
    run ``misses`` with :meth:`run` (all at once, or split into shards whose results are
    merged), then hand the fresh result to :meth:`finish`, which merges in the files
    found in the cache and stores what may be stored. With no cache, ``misses`` are all
    the files and :meth:`finish` returns the fresh result unchanged.
    """

    def __init__(self, cache: Cache | None, call: ToolCall) -> None:
        self.cache = cache
        self.call = call
        self.spec = call.spec
        self.root = call.root
        self.result: ToolResult | None = None
        self.misses: tuple[str, ...] = tuple(dict.fromkeys(call.files))
        self.total = len(self.misses)
        self.run_needed = True
        self._per_file = False
        self._hits: dict[str, FileState] = {}
        self._before: dict[str, str | None] = {}
        self._file_keys: dict[str, str] = {}
        self._run_key: str | None = None
        self._project: object | None = None
        self._metadata: dict[str, Any] = {}
        self._normals: dict[str, str] = {}  # name -> normal name, of the readable files

    def run(self, files: Sequence[str]) -> ToolResult:
        """:func:`runner.run_call` of this call over ``files``."""
        version_of = self.cache.version_of if self.cache is not None else runner.tool_version
        return runner.run_call(self.call.on(files), version_of=version_of)

    def finish(self, fresh: ToolResult | None) -> ToolResult:
        """The tool's result: ``fresh`` (None when nothing ran) with the cached files
        merged in. Stores what may be stored."""
        if fresh is not None and fresh.status not in (ToolStatus.SUCCESS, ToolStatus.FAILED):
            return fresh  # skipped: not installed
        if fresh is None or self._hits:
            merged = merge_cached(self.spec.name, fresh, self._hits, self._metadata)
            merged.metadata["files"] = self.total
        else:
            merged = fresh
        keyed = self._per_file or self._run_key is not None
        if self.cache is not None and keyed and (fresh is None or fresh.outcome != OUTCOME_ERROR):
            self._store(self.cache, fresh, merged)
        return merged

    def _store(self, cache: Cache, fresh: ToolResult | None, merged: ToolResult) -> None:
        after = fingerprint.file_digests(self.root, self.misses)
        unchanged = [f for f in self.misses if after[f] is not None and after[f] == self._before[f]]
        if self._per_file and fresh is not None:
            states = file_states(fresh, [self._normals.get(f) or _normal(f) for f in self.misses])
            if states is None:
                return  # not split by file: neither its files nor the run can be replayed
            for name in unchanged:
                # A file whose verdict alone is unknown (clean None) is stored too: its
                # diagnostics serve a replay of the whole run; it is no hit on its own.
                key = self._file_keys.get(name)
                state = states.get(self._normals[name]) if key is not None else None
                if state is not None and key is not None:
                    cache.put(key, state.to_row())
        if self._run_key is None or len(unchanged) < len(self.misses):
            return
        if merged.metadata.get("modified_files"):
            return
        if self._project is not None and self._project_state() != self._project:
            return  # something changed while the tool ran
        stored = merged.to_dict()
        stored["metadata"].pop("cached", None)
        stored["metadata"].pop("cached_files", None)
        entry: dict[str, Any] = {"result": stored}
        if self._per_file:
            del stored["diagnostics"]  # stored once: in the files' rows, read on a replay
            # The files whose rows hold diagnostics: the only rows a replay reads.
            entry["noted"] = sorted({d.file for d in merged.diagnostics})
        cache.put(self._run_key, entry)

    def _look_up_files(self, cache: Cache, tool_key: str) -> None:
        self._per_file = True
        # Files in one folder share its configuration chain: taken once per folder.
        memo: dict[str, list[tuple[str, str, str | None]]] = {}
        chains: dict[str, str] = {}
        normals = self._normals
        whole = hashlib.sha256(f"{tool_key}\0run\0".encode())
        parts: list[str] = []
        complete = True
        for name, content in self._before.items():
            if content is None:
                complete = False
                continue
            normal = normals[name] = _normal(name)
            folder = normal.rpartition("/")[0]
            chain = chains.get(folder)
            if chain is None:
                nested = fingerprint.nested_config_digests(
                    self.root, normal, self.spec.config_files, memo
                )
                chain = chains[folder] = key_of(nested)
            parts.append(f"{normal}\0{content}\0{chain}\n")
        if complete:
            # The whole run's key: every file's name, content and configuration chain in
            # one digest, so that a run with nothing changed is one row, read with one
            # query, and no per-file key or object (see _replay_whole).
            whole.update("".join(parts).encode("utf-8", "surrogateescape"))
            self._run_key = whole.hexdigest()
            if self._replay_whole(cache, tool_key, chains):
                return
        del parts
        for name, normal in normals.items():
            content = self._before[name]
            assert content is not None  # normals holds the readable files only
            chain = chains[normal.rpartition("/")[0]]
            self._file_keys[name] = _file_key(tool_key, normal, content, chain)
        stored = cache.get_many(self._file_keys.values())
        states: dict[str, FileState] = {}
        misses = []
        for name in self.misses:
            key = self._file_keys.get(name)
            state = FileState.from_row(normals[name], stored[key]) if key in stored else None
            if state is None:
                misses.append(name)
            else:
                states[normals[name]] = state
        unknown = {n for n, state in states.items() if state.clean is None}
        if unknown:
            misses += [name for name in self.misses if normals.get(name) in unknown]
        self._hits = {n: state for n, state in states.items() if n not in unknown}
        missed = set(misses)
        self.misses = tuple(name for name in self.misses if name in missed)
        self.run_needed = bool(misses)
        cache.count(len(self._hits), len(self.misses))

    def _replay_whole(self, cache: Cache, tool_key: str, chains: Mapping[str, str]) -> bool:
        """Replay the whole run's entry when it is stored: its diagnostics are read from
        the rows of the files it names as having any (``noted``), the only files whose
        keys are taken. False (nothing replayed) when the entry or one of those rows is
        missing or does not read."""
        assert self._run_key is not None
        stored = cache.get(self._run_key)
        if stored is None:
            return False
        noted = stored.get("noted") if isinstance(stored, dict) else None
        if not isinstance(noted, list) or not all(isinstance(n, str) for n in noted):
            return False
        contents = (
            {self._normals[n]: c for n, c in self._before.items() if c is not None} if noted else {}
        )
        keys: dict[str, str] = {}
        for normal in noted:
            content = contents.get(normal)
            if content is None:
                return False  # the entry names a file this run does not have
            chain = chains[normal.rpartition("/")[0]]
            keys[normal] = _file_key(tool_key, normal, content, chain)
        rows = cache.get_many(keys.values()) if keys else {}
        diagnostics: list[Diagnostic] = []
        for normal, key in keys.items():
            state = FileState.from_row(normal, rows[key]) if key in rows else None
            if state is None:
                return False
            diagnostics.extend(state.diagnostics)
        result = replay(stored, diagnostics)
        if result is None:
            return False
        if cache.stale(self._run_key):
            # Now and then (every few runs), the files' rows are marked as used too, so
            # that eviction keeps them while their whole run is replayed: they are what
            # a run with one file changed reads.
            cache.mark_used(
                _file_key(tool_key, normal, content, chains[normal.rpartition("/")[0]])
                for normal, content in (
                    (self._normals[n], c) for n, c in self._before.items() if c is not None
                )
            )
        self.result, self.misses, self.run_needed = result, (), False
        cache.count(self.total, 0)
        return True

    def _project_state(self) -> object | None:
        """What a project-wide tool may read besides its arguments (see
        :func:`keys.project_key`); None when that cannot be known (no git repository)."""
        extra = keys.project_key(self.spec, self.root)
        if extra is None:
            return None
        if keys.is_custom(self.spec):  # declared: exactly those files
            return extra
        project = fingerprint.project_digest(self.root, self._before)
        return None if project is None else [project, extra]

    def _look_up_project(self, cache: Cache, tool_key: str) -> None:
        state = self._project_state()
        if state is None:
            return
        self._project = state
        self._run_key = key_of([tool_key, "project", list(self._before.items()), state])
        stored = cache.get(self._run_key)
        if stored is not None and (result := replay(stored)) is not None:
            self.result, self.misses, self.run_needed = result, (), False
            cache.count(1, 0)
        else:
            cache.count(0, 1)


def lookup(
    cache: Cache | None,
    spec: ToolSpec,
    files: Sequence[str],
    *,
    root: Path,
    fix: bool = False,
    extra_args: Sequence[str] = (),
    command: Sequence[str] | None = None,
    fix_command: Sequence[str] | None = None,
    env: Mapping[str, str] | None = None,
) -> Lookup:
    """:func:`lookup_call` of the :class:`~huskycat.tools.call.ToolCall` these arguments
    make (as :func:`runner.run_tool` takes them)."""
    call = ToolCall.of(
        spec,
        files,
        root=root,
        fix=fix,
        extra_args=extra_args,
        command=command,
        fix_command=fix_command,
        env=env,
    )
    return lookup_call(cache, call)


def lookup_call(cache: Cache | None, call: ToolCall) -> Lookup:
    """Find what ``cache`` holds for ``call``. Reads files and the cache; runs no tool."""
    spec, files, root, env = call.spec, call.files, call.root, call.env
    found = Lookup(cache, call)
    if cache is None or (spec.pass_filenames and not files) or not keys.cacheable(spec):
        return found
    resolved = runner.resolve_call(call)
    if not resolved.found:
        return found  # run_tool says "not installed"
    # The catalog's program, when a check command wraps it (taplo), else the program run.
    exe = resolved.executable if resolved.default_program and resolved.executable else None
    version = cache.version_of(spec, exe) if exe is not None else None
    programs = {resolved.argv[0], *([exe] if exe else [])}
    writes = call.writes
    tool_key = key_of(
        {
            "format": FORMAT_VERSION,
            "huskycat": __version__,
            "code": fingerprint.package_signature(),
            "parser": [spec.parse.__module__, getattr(spec.parse, "__qualname__", "")],
            "tool": spec.name,
            "mode": "fix" if writes else "check",
            "argv": list(resolved.argv),
            "version": version,
            "program": [fingerprint.program_signature(p) for p in sorted(programs)],
            "config": fingerprint.config_digests(root, spec.config_files),
            "env": [*fingerprint.tool_environment(env, spec.executable), *spec.env],
            "reads": keys.inputs_key(spec, root, sorted(programs), env),
            "root": os.path.abspath(root),
        }
    )
    found._metadata = {"argv": list(resolved.argv), "version": version, "batches": 0}
    found._before = fingerprint.file_digests(root, found.misses)
    if is_file_local(spec):
        found._look_up_files(cache, tool_key)
    else:
        found._look_up_project(cache, tool_key)
    return found


def cached_run_tool(
    cache: Cache | None,
    spec: ToolSpec,
    files: Sequence[str],
    *,
    root: Path,
    fix: bool = False,
    extra_args: Sequence[str] = (),
    command: Sequence[str] | None = None,
    fix_command: Sequence[str] | None = None,
    env: Mapping[str, str] | None = None,
) -> ToolResult:
    """:func:`runner.run_tool` through ``cache`` (None: no cache): replayed when nothing
    changed, run over the changed files only for a file-local tool, stored afterwards.

    Raises what ``run_tool`` raises (``TimeoutError``, ``Cancelled``); nothing is stored
    then.
    """
    call = ToolCall.of(
        spec,
        files,
        root=root,
        fix=fix,
        extra_args=extra_args,
        command=command,
        fix_command=fix_command,
        env=env,
    )
    return cached_run_call(cache, call)


def cached_run_call(cache: Cache | None, call: ToolCall) -> ToolResult:
    """:func:`cached_run_tool` of ``call``."""
    found = lookup_call(cache, call)
    if found.result is not None:
        return found.result
    return found.finish(found.run(found.misses) if found.run_needed else None)
