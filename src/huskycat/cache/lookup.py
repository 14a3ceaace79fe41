"""Looking a tool run up in the cache, running what missed, storing what came out.

::

    lookup(cache, spec, files) --keys--> entries on disk
      every input as before ---------------------------> Lookup.result (metadata cached)
      else: per-file hits + misses --run(misses)--> fresh --finish()--> merged, stored
"""

from __future__ import annotations

import hashlib
import itertools
import operator
import os
import threading
from collections.abc import Iterable, Mapping, Sequence
from collections.abc import Set as AbstractSet
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

from huskycat import __version__, content
from huskycat.cache import fingerprint, keys
from huskycat.cache.merge import CLEAN, FileState, file_states, merge_cached, replay
from huskycat.cache.store import FORMAT_VERSION, Cache, Encoded, encode, key_of
from huskycat.core import summary as summaries
from huskycat.core.results import OUTCOME_ERROR, Diagnostic, ToolResult, ToolStatus
from huskycat.tools import runner
from huskycat.tools.base import ToolSpec
from huskycat.tools.call import ToolCall
from huskycat.tools.facts import facts_of, with_facts, without_facts
from huskycat.tools.merge import summary_of

if TYPE_CHECKING:
    from huskycat.planning import Plan

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
    run ``misses`` with :meth:`run` (all at once, or split into parts whose results are
    handed to :meth:`part_done` as each ends and then merged), then hand the fresh
    result to :meth:`finish`, which merges in the files found in the cache and stores
    what may be stored. With no cache, ``misses`` are all the files and :meth:`finish`
    returns the fresh result unchanged.

    A file-local tool's results are stored one row per folder (see :func:`_folder_row`):
    each file's name, content id and result, so that a file is a hit only when its own
    id is the one stored beside its result, and a file changed re-runs alone; a first
    run over 100,000 files writes about 1,000 rows rather than 100,000.
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
        self._first = False  # the store held nothing of the tool: no folder row to read
        self._hits: dict[str, FileState] = {}
        self._before: dict[str, str | None] = {}
        self._run_key: str | None = None
        self._tool_key = ""
        self._project: object | None = None
        self._metadata: dict[str, Any] = {}
        self._normals: dict[str, str] = {}  # name -> normal name, of the readable files
        self._chains: dict[str, str] = {}  # folder -> digest of its configuration chain
        self._lock = threading.Lock()
        self._parts = 0  # parts whose files were handed over (part_done)
        self._unchanged = 0  # files of those parts found unchanged after the tool ran
        self._whole_ok = True  # every part could be stored: the whole run may be too
        # Files whose ids came from the listing the run trusts: looked at once for all
        # parts, when the tool ends (see _settle).
        self._deferred: list[str] = []
        self._fresh: list[str] = []  # files run, found unchanged after: to be stored
        self._fresh_rows: dict[str, object] = {}  # normal name -> row, of files not clean
        self._groups: dict[str, tuple[list[str], list[str], list[str]]] | None = None
        self._joined: dict[str, tuple[str, str]] = {}  # see _folder_digests
        # A first run's rows for folders whose files all come out clean, made ahead.
        self._clean_rows: dict[str, Encoded] = {}
        self._listed = False  # every file's id came from git's listing (see _contents)
        self._preparing: threading.Thread | None = None  # see _prepare_rows
        self._parts_of: list[tuple[str, str, str]] = []  # each normal name, rpartition("/")
        self._folders: dict[str, str] | None = None  # see _folder_digests
        self._digesting = threading.Lock()  # held while _folder_digests takes them
        self._stored: dict[str, _Entries] = {}  # folder -> its row, as this run read it

    def run(self, files: Sequence[str]) -> ToolResult:
        """:func:`runner.run_call` of this call over ``files``."""
        version_of = self.cache.version_of if self.cache is not None else runner.tool_version
        return runner.run_call(self.call.on(files), version_of=version_of)

    def part_done(self, files: Sequence[str], fresh: ToolResult) -> None:
        """Take the results of ``files``, a part of the misses that ``fresh`` ran over, as
        soon as it ends (called from the part's own thread): kept for the files found
        unchanged since they were looked up (now, or for files whose ids came from the
        run's listing, by :meth:`_settle`), and stored by :meth:`finish`."""
        cache = self.cache
        if cache is None or not self._per_file:
            return
        stored = fresh.status in (ToolStatus.SUCCESS, ToolStatus.FAILED)
        normals = self._normals
        named = files if self._listed else [normals.get(f) or _normal(f) for f in files]
        rows: dict[str, object] | None = None  # None: the result does not split by file
        if stored and fresh.outcome != OUTCOME_ERROR and named:
            one = None if fresh.diagnostics else file_states(fresh, named[:1])
            if one is not None and one[named[0]] is CLEAN:  # no finding, no count by file
                rows = {}  # every file clean
            if rows is None and (states := file_states(fresh, named)) is not None:
                # Most files are clean: only the others have a row of their own.
                rows = {n: state.to_row() for n, state in states.items() if state is not CLEAN}
        confirmed: list[str] = []
        deferred: list[str] = []
        if rows is not None:
            listing = cache.listing(self.root)
            listed = listing.ids if listing is not None else {}
            if self._listed and listed:  # every file's id came from the listing
                now = []
            else:
                now = [name for name in files if name not in listed] if listed else list(files)
            if now:
                after = fingerprint.file_digests(self.root, now)
                before = self._before
                confirmed = [n for n in now if after[n] is not None and after[n] == before[n]]
                if len(now) < len(files):
                    deferred = [name for name in files if name in listed]
            else:
                deferred = list(files)
        with self._lock:
            self._fresh.extend(confirmed)
            self._fresh_rows.update(rows or {})
            self._parts += 1
            self._unchanged += len(confirmed)
            self._whole_ok = self._whole_ok and rows is not None
            self._deferred.extend(deferred)

    def _settle(self, cache: Cache) -> None:
        """Keep the deferred files found unchanged since the listing: by one ``git
        diff-files`` for them all when it can tell (see
        :func:`huskycat.content.changed_since`), else by a look at each."""
        deferred, self._deferred = self._deferred, []
        if not deferred:
            return
        listing = cache.listing(self.root)
        changed = content.changed_since(listing) if listing is not None else None
        if changed is None:
            after = fingerprint.file_digests(self.root, deferred)
            before = self._before
            kept = [n for n in deferred if after[n] is not None and after[n] == before[n]]
        elif changed:
            kept = [name for name in deferred if name not in changed]
        else:
            kept = deferred
        self._unchanged += len(kept)
        self._fresh.extend(kept)

    def finish(self, fresh: ToolResult | None) -> ToolResult:
        """The tool's result: ``fresh`` (None when nothing ran) with the cached files
        merged in. Stores what may be stored: the rows of the folders of the files run
        (and found unchanged), and the whole run."""
        if fresh is not None and fresh.status not in (ToolStatus.SUCCESS, ToolStatus.FAILED):
            return fresh  # skipped: not installed
        if fresh is None or self._hits:
            merged = merge_cached(self.spec.name, fresh, self._hits, self._metadata)
            merged = with_facts(merged, files=self.total)
        else:
            merged = fresh
        if fresh is not None and self._parts == 0:
            self.part_done(self.misses, fresh)
        if self._preparing is not None:
            self._preparing.join()  # what a first run's rows and whole entry are made of
        if self.cache is not None:
            self._settle(self.cache)
            self._store_folders(self.cache)
        keyed = self._per_file or self._run_key is not None
        if self.cache is not None and keyed and (fresh is None or fresh.outcome != OUTCOME_ERROR):
            self._store(self.cache, fresh, merged)
        return merged

    def _store_folders(self, cache: Cache) -> None:
        """Write the row of each folder with a file run and found unchanged: its files
        of this run, by name, id and result (the files run, and those found in its row),
        and the files of its row that this run did not have but that still exist."""
        fresh, self._fresh = self._fresh, []
        if not fresh:
            return
        # Every file was run (a first run)? The files run are distinct readable ones.
        every = len(fresh) == len(self._normals)
        chosen: AbstractSet[str] = self._normals.keys() if every else set(fresh)
        digests = self._folder_digests()  # and each folder's names and ids, joined
        groups = self._group()
        before = self._before
        dirty: dict[str, dict[str, object]] = {}  # folder -> name in it -> row
        for normal, row in self._fresh_rows.items():
            folder, _, base = normal.rpartition("/")
            dirty.setdefault(folder, {})[base] = row
        if every:
            written = list(digests)
        else:
            written = list(dict.fromkeys(self._normals[n].rpartition("/")[0] for n in fresh))
            if not self._first:  # a row of files this run did not have: kept
                self._read_folders(cache, [f for f in written if f not in self._stored])
        for folder in written:
            members, bases, _ = groups[folder]
            old = self._stored.get(folder)
            here = dirty.get(folder, {})
            if old is None and (every or chosen >= set(members)):
                names, ids = self._joined[folder]
                ahead = None if here else self._clean_rows.get(folder)
                value: object = ahead or [names, ids, {b: here[b] for b in here}]
                count = len(members)
            else:
                entries = dict(old) if old is not None else {}
                for name, base in zip(members, bases):
                    if name in chosen:
                        entries[base] = (before[name] or "", here.get(base))
                    elif (entry := entries.get(base)) is not None and entry[0] != before[name]:
                        del entries[base]
                ours = set(bases)
                top = os.path.join(self.root, folder)
                for base in [b for b in entries if b not in ours]:
                    if not os.path.lexists(os.path.join(top, base)):
                        del entries[base]  # gone: its result serves no one
                if not entries:
                    continue
                value = _folder_row(entries)
                count = len(entries)
            cache.put(self._folder_key(folder), value, files=count, compress=False)
        cache.put(_marker_key(self._tool_key), 1)  # the store knows the tool

    def _store(self, cache: Cache, fresh: ToolResult | None, merged: ToolResult) -> None:
        """Store the whole run's entry when every file it ran over was stored."""
        if self._per_file:
            if fresh is not None and not (self._whole_ok and self._unchanged == len(self.misses)):
                return
        else:
            after = fingerprint.file_digests(self.root, self.misses)
            if any(after[f] is None or after[f] != self._before[f] for f in self.misses):
                return
        if self._run_key is None:
            return
        if facts_of(merged).modified_files:
            return
        if self._project is not None and self._project_state() != self._project:
            return  # something changed while the tool ran
        stored = without_facts(merged, "cached", "cached_files").to_dict()
        entry: dict[str, Any] = {"result": stored}
        if self._per_file:
            del stored["diagnostics"]  # stored once: in the folders' rows, read on a replay
            # The files whose rows hold diagnostics: the only rows a replay reads.
            entry["noted"] = sorted({d.file for d in merged.diagnostics})
            # What the next run with a few files changed starts from (_look_up_delta):
            # each folder's files, and whether every other file's row is a clean one.
            entry["folders"] = self._folder_digests()
            entry["plain"] = not any(
                isinstance(p, str) or (p.of == summaries.OF_FILES and p.files is not None)
                for p in summary_of(merged)
            )
            cache.put(_marker_key(self._tool_key), {"last": self._run_key})
        cache.put(self._run_key, entry)

    def _group(self) -> dict[str, tuple[list[str], list[str], list[str]]]:
        """Folder -> the names of the readable files in it, their names in it and their
        normal names (in C rather than a step per file: a listing's files of one folder
        come in runs)."""
        if self._groups is None:
            normals = self._normals
            parts = self._parts_of  # taken by _look_up_files, in the order of _normals
            folders = list(map(operator.itemgetter(0), parts))
            bases = list(map(operator.itemgetter(2), parts))
            names = list(normals)
            full = list(normals.values())
            groups: dict[str, tuple[list[str], list[str], list[str]]] = {}
            start = 0
            for folder, run in itertools.groupby(folders):
                end = start + len(list(run))
                known = groups.get(folder)
                if known is None:
                    groups[folder] = (names[start:end], bases[start:end], full[start:end])
                else:  # the folder's files came in several runs
                    known[0].extend(names[start:end])
                    known[1].extend(bases[start:end])
                    known[2].extend(full[start:end])
                start = end
            self._groups = groups
        return self._groups

    def _folder_digests(self) -> dict[str, str]:
        """Folder -> a digest of its files' names and ids and its configuration chain
        (and, in ``_joined``, the names and the ids joined, as a folder's row has them)."""
        with self._digesting:  # perhaps in the background thread of a first run
            if self._folders is None:
                self._folders = self._take_folder_digests()
        return self._folders

    def _take_folder_digests(self) -> dict[str, str]:
        before, chains, joined = self._before, self._chains, self._joined
        folders: dict[str, str] = {}
        for folder, (members, bases, _) in self._group().items():
            names = "/".join(bases)
            ids = " ".join(map(before.__getitem__, members))  # type: ignore[arg-type]
            joined[folder] = (names, ids)
            folders[folder] = hashlib.blake2b(
                f"{chains[folder]}\0{names}\0{ids}".encode("utf-8", "surrogateescape"),
                digest_size=12,
            ).hexdigest()
        return folders

    def _whole_key(self, normals: Sequence[str], ids: Sequence[str]) -> str:
        """The whole run's key: every file's name, content and configuration chain in
        one digest, so that a run with nothing changed is one row, read with one query,
        and no per-file key or object (see _replay_whole). Joined rather than formatted
        per file: names hold no NUL, ids are hex, and each file's chain is its folder's."""
        whole = hashlib.sha256(f"{self._tool_key}\0run\0".encode())
        whole.update("\0".join(normals).encode("utf-8", "surrogateescape") + b"\1")
        whole.update("\0".join(ids).encode() + b"\1")
        whole.update("".join(f"{f}\0{c}\0" for f, c in self._chains.items()).encode())
        return whole.hexdigest()

    def _prepare_rows(self, whole: tuple[Sequence[str], Sequence[str]] | None) -> None:
        """A first run's whole key (``whole``: the files' normal names and ids, when all
        are readable), folder digests, and the row of each folder as it will be if all
        its files come out clean and unchanged (most folders), encoded: taken while the
        tool runs rather than after."""
        if whole is not None:
            self._run_key = self._whole_key(*whole)
        self._folder_digests()
        self._clean_rows = {
            folder: encode([names, ids, {}], compress=False)
            for folder, (names, ids) in self._joined.items()
        }

    def _folder_key(self, folder: str) -> str:
        return _folder_key(self._tool_key, folder, self._chains[folder])

    def _read_folders(self, cache: Cache, folders: Iterable[str]) -> dict[str, _Entries]:
        """The rows of ``folders`` that the store holds and that read (one query)."""
        keys = {folder: self._folder_key(folder) for folder in folders}
        if not keys:
            return {}
        found = cache.get_many(keys.values())
        read: dict[str, _Entries] = {}
        for folder, key in keys.items():
            entries = _read_folder_row(found.get(key))
            if entries is not None:
                read[folder] = entries
        self._stored.update(read)
        return read

    def _names_of(self, normals: Sequence[str]) -> dict[str, str]:
        """Normal name -> name, of the readable files of ``normals``."""
        if self._listed:  # names from git's listing: their own normal names
            return {normal: normal for normal in normals if normal in self._normals}
        wanted = set(normals)
        return {normal: name for name, normal in self._normals.items() if normal in wanted}

    def _noted_states(
        self, cache: Cache, noted: Sequence[str], by_normal: Mapping[str, str]
    ) -> dict[str, FileState] | None:
        """The states of the files ``noted`` (normal names) as their folders' rows hold
        them, for their ids now; None when one is missing, not for that id, or clean."""
        rows = self._read_folders(cache, {normal.rpartition("/")[0] for normal in noted})
        states: dict[str, FileState] = {}
        for normal in noted:
            name = by_normal.get(normal)
            folder, _, base = normal.rpartition("/")
            entry = rows.get(folder, {}).get(base)
            if name is None or entry is None or entry[0] != self._before[name] or entry[1] is None:
                return None
            state = FileState.from_row(normal, entry[1])
            if state is None:
                return None
            states[normal] = state
        return states

    def _look_up_delta(self, cache: Cache, last: object) -> list[str] | None:
        """The files to look up one by one, given the tool's last whole run ``last`` (the
        value of its marker row): those in folders whose files, ids or configuration
        changed since. The files of the other folders are hits, as that run found them:
        clean, or as the rows of the files it noted say. None when there is no such run
        to start from (then every file is looked up)."""
        previous = last.get("last") if isinstance(last, dict) else None
        if not isinstance(previous, str) or not self._normals or self._run_key is None:
            return None
        entry = cache.get(previous)
        if not isinstance(entry, dict) or entry.get("plain") is not True:
            return None
        folders, noted = entry.get("folders"), entry.get("noted")
        if not isinstance(folders, dict) or not isinstance(noted, list):
            return None
        now = self._folder_digests()
        kept = {folder for folder, digest in now.items() if folders.get(folder) == digest}
        if not kept:
            return None
        groups = self._group()
        rest = [n for f, group in groups.items() if f not in kept for n in group[0]]
        if len(self._normals) < len(self.misses):  # and the files that could not be read
            rest += [n for n in self.misses if n not in self._normals]
        noted_here = [n for n in noted if isinstance(n, str) and n.rpartition("/")[0] in kept]
        by_normal = self._names_of(noted_here)
        states = self._noted_states(cache, noted_here, by_normal)
        if states is None:
            return None  # that run names a file this one does not have there
        hits = dict.fromkeys(
            itertools.chain.from_iterable(groups[f][2] for f in kept if f in groups), CLEAN
        )
        unknown = [n for n, state in states.items() if state.clean is None]
        hits.update(states)
        for normal in unknown:
            del hits[normal]
        if unknown:
            again = {by_normal[n] for n in unknown}
            rest += [n for n in self.misses if n in again]
        self._hits = hits
        if cache.stale(previous):
            cache.mark_used(self._folder_key(folder) for folder in self._chains)
        return rest

    def _look_up_files(self, cache: Cache, tool_key: str) -> None:
        self._per_file = True
        self._tool_key = tool_key
        names = list(self._before)
        if self._listed:  # all ids from git's listing: every file readable, every name normal
            readable, ids = names, cast("list[str]", list(self._before.values()))
            normals = readable
        else:
            readable = [n for n, c in self._before.items() if c is not None]
            ids = [c for c in self._before.values() if c is not None]
            normals = _normals_of(readable)
        self._normals = dict(zip(readable, normals))
        # Files in one folder share its configuration chain: taken once per folder.
        memo: dict[str, list[tuple[str, str, str | None]]] = {}
        chains = self._chains
        self._parts_of = list(map(str.rpartition, normals, itertools.repeat("/")))
        for folder in sorted({folder for folder, _, _ in self._parts_of}):
            nested = fingerprint.nested_config_digests(
                self.root, folder + "/", self.spec.config_files, memo
            )
            chains[folder] = key_of(nested)
        whole = (normals, ids) if len(readable) == len(names) else None
        marker = _marker_key(tool_key)
        stored = cache.get_many([marker])
        if marker not in stored:
            # The store holds nothing of this tool (a first run): every file misses. The
            # whole run's key, and what its folders' rows will be made of, are taken
            # while the tool runs (from what was read before it started).
            self._first = True
            self._preparing = threading.Thread(
                target=self._prepare_rows,
                args=(whole,),
                name="huskycat-cache-folders",
                daemon=True,
            )
            self._preparing.start()
            cache.count(0, len(self.misses))
            return
        if whole is not None:
            self._run_key = self._whole_key(*whole)
            found = cache.get_many([self._run_key])
            if self._run_key in found and self._replay_whole(cache, found[self._run_key]):
                return
        rest = self._look_up_delta(cache, stored[marker])
        if rest is None:
            rest = list(self.misses)
        found = self._read_folders(
            cache, {self._normals[n].rpartition("/")[0] for n in rest if n in self._normals}
        )
        states: dict[str, FileState] = self._hits
        misses = []
        before = self._before
        for name in rest:
            normal = self._normals.get(name)
            if normal is None:
                misses.append(name)
                continue
            folder, _, base = normal.rpartition("/")
            entry = found.get(folder, {}).get(base)
            if entry is None or entry[0] != before[name]:
                misses.append(name)
                continue
            state = CLEAN if entry[1] is None else FileState.from_row(normal, entry[1])
            if state is None:
                misses.append(name)
            else:
                states[normal] = state
        unknown = {n for n, state in states.items() if state.clean is None}
        if unknown:
            misses += [name for name in self.misses if self._normals.get(name) in unknown]
        self._hits = {n: state for n, state in states.items() if n not in unknown}
        missed = set(misses)
        self.misses = tuple(name for name in self.misses if name in missed)
        self.run_needed = bool(misses)
        cache.count(len(self._hits), len(self.misses))

    def _replay_whole(self, cache: Cache, stored: object) -> bool:
        """Replay the whole run's entry ``stored``: its diagnostics are read from the
        rows of the folders of the files it names as having any (``noted``). False
        (nothing replayed) when one of those is missing or does not read."""
        assert self._run_key is not None
        noted = stored.get("noted") if isinstance(stored, dict) else None
        if not isinstance(noted, list) or not all(isinstance(n, str) for n in noted):
            return False
        diagnostics: list[Diagnostic] = []
        if noted:
            states = self._noted_states(cache, noted, self._names_of(noted))
            if states is None:
                return False
            diagnostics = [d for state in states.values() for d in state.diagnostics]
        result = replay(stored, diagnostics)
        if result is None:
            return False
        if cache.stale(self._run_key):
            # Now and then (every few runs), the folders' rows are marked as used too, so
            # that eviction keeps them while their whole run is replayed: they are what
            # a run with one file changed reads.
            cache.mark_used(self._folder_key(folder) for folder in self._chains)
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


# A folder's row, read: name in the folder -> (content id, row; None for a clean file).
_Entries = Mapping[str, "tuple[str, object | None]"]


def _folder_key(tool_key: str, folder: str, chain: str) -> str:
    """The key of the row of ``folder`` (its normal name; "" for the top): the tool's
    key, the folder and the digest of the configuration files in it and above it.
    Hashed directly (no JSON)."""
    text = f"{tool_key}\0folder\0{folder}\0{chain}"
    return hashlib.sha256(text.encode("utf-8", "surrogateescape")).hexdigest()


def _folder_row(entries: _Entries) -> list[object]:
    """The value of a folder's row: ``[names, ids, rows]``, the names of its files in
    the folder joined by "/" (which no such name holds), their content ids in the same
    order joined by " " (ids are hex), and ``{name: row}`` (see
    :meth:`FileState.to_row`) for the files that are not clean and silent: most of a
    folder's results take no bytes beyond the file's name and id."""
    return [
        "/".join(entries),
        " ".join(found for found, _ in entries.values()),
        {name: row for name, (_, row) in entries.items() if row is not None},
    ]


def _read_folder_row(value: object) -> dict[str, tuple[str, object | None]] | None:
    """The entries of a folder's row (see :func:`_folder_row`); None for a value that
    is not one (damaged, or written by something else): then every file of it misses."""
    if not isinstance(value, list) or len(value) != 3:
        return None
    names, ids, rows = value
    if not (isinstance(names, str) and isinstance(ids, str) and isinstance(rows, dict)):
        return None
    listed, contents = names.split("/"), ids.split(" ")
    if len(listed) != len(contents) or "" in listed or "" in contents:
        return None
    entries: dict[str, tuple[str, object | None]] = dict.fromkeys(listed, ("", None))
    if len(entries) != len(listed):
        return None  # a name twice
    for name, found in zip(listed, contents):
        entries[name] = (found, None)
    for name, row in rows.items():
        known = entries.get(name)
        if known is None or row is None:
            return None
        entries[name] = (known[0], row)
    return entries


def _marker_key(tool_key: str) -> str:
    """The key of the row that says the store holds files of the tool ``tool_key``."""
    return hashlib.sha256(f"{tool_key}\0stored\0".encode()).hexdigest()


# What a name that is not normal holds, with NUL before and after each name: "." or
# ".." as a part, an empty part (a doubled, leading or trailing "/").
_NOT_NORMAL = (
    "/./",
    "/../",
    "\0./",
    "\0../",
    "/.\0",
    "/..\0",
    "\0.\0",
    "\0..\0",
    "//",
    "\0/",
    "/\0",
)


def _normals_of(names: Sequence[str]) -> list[str]:
    """:func:`_normal` of each of ``names``: the names themselves when none needs
    normalizing (git's listings), found by a few searches over all of them at once."""
    joined = "\0" + "\0".join(names) + "\0"
    if os.sep == "/" and not any(part in joined for part in _NOT_NORMAL):
        return list(names)
    return [_normal(name) for name in names]


def changes_no_files(plan: Plan) -> bool:
    """Whether no tool of ``plan`` may change a file while the run goes on: catalog
    tools run with their own commands, none of them fixing. A hook, a custom command or
    a fixer may (then every lookup looks at the files again)."""
    live = [tool for tool in plan.tools.values() if tool.skip_reason is None]
    if any(tool.run is not None or tool.settings.command is not None for tool in live):
        return False  # before importing the catalog: a hook run does not need it
    from huskycat.tools.catalog import CATALOG

    for tool in live:
        if tool.name not in CATALOG:
            return False
        if plan.fix and tool.spec.writes_files:
            return False
    return True


def _contents(cache: Cache, root: Path, names: Sequence[str]) -> tuple[dict[str, str | None], bool]:
    """``name -> content id`` of ``names``: from the listing the run trusts (see
    :meth:`Cache.trust_listing`) without a look at the files, the rest as
    :func:`fingerprint.file_digests` takes them; and whether every one came from the
    listing (then every name is one git keeps in its index: a normal one)."""
    listed = cache.listed(root)
    if listed is None:
        return fingerprint.file_digests(root, names), False
    found: dict[str, str | None] = dict(zip(names, map(listed.get, names)))
    if None not in found.values():
        return found, True
    rest = [name for name, content in found.items() if content is None]
    found.update(fingerprint.file_digests(root, rest))
    return found, False


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
    if is_file_local(spec):
        found._before, found._listed = _contents(cache, root, found.misses)
        found._look_up_files(cache, tool_key)
    else:
        found._before = fingerprint.file_digests(root, found.misses)
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
