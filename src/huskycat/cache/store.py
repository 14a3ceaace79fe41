"""Where cache entries live: one SQLite database per repository.

::

    Cache.get_many(keys) --one SELECT--> rows (pending writes of this run first)
    Cache.put(key, value) ---------------> pending, in memory
    Cache.close() --one transaction-------> INSERT pending; mark what this run used;
                                       stats; evict least recently used rows over the
                                       bound; COMMIT

The database is ``<folder>/results.db`` (``<git dir>/huskycat/cache/results.db``, see
:func:`state_dir`), in WAL mode with a busy timeout, so that concurrent runs read while
one writes and wait for each other's single write transaction. Its tables:

- ``entries(key BLOB PRIMARY KEY, value BLOB, used INTEGER, files INTEGER) WITHOUT
  ROWID``: ``key`` is the last 16 bytes of a :func:`key_of` digest, ``value`` compact
  JSON (zlib-compressed past :data:`_COMPRESS_FROM` bytes, marked by a leading
  ``\\x00``), ``used`` the number of the last run that read or wrote the row, ``files``
  how many files' results the row holds (a folder's row holds each of its files', see
  :mod:`.lookup`; 1 for the others), which ``huskycat cache stats`` adds up;
- ``meta(name TEXT PRIMARY KEY, value TEXT)``: ``format`` (:data:`FORMAT_VERSION`),
  ``run`` (the last run's number) and ``last_run`` (its hits and misses, as JSON).

A database that cannot be read, or that another format version wrote, is moved aside
(``results.db.broken-<time>``) with one warning and a new one is made: a damaged cache
costs a cold run, never a crash or a replayed result that was not stored for this key.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import sqlite3
import sys
import threading
import time
import zlib
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any

from huskycat import content
from huskycat.cache import fingerprint
from huskycat.state import state_dir
from huskycat.tools import runner
from huskycat.tools.base import ToolSpec

if TYPE_CHECKING:
    from typing_extensions import Self

FORMAT_VERSION = 3  # 3: a ``files`` column; a file-local tool's rows are per folder
DEFAULT_MAX_BYTES = 64 * 1024 * 1024
PRUNE_TARGET = 0.75  # eviction brings the database down to this fraction of its bound
VERSION_TTL = 3600.0  # seconds a program's version is trusted without asking it again
BUSY_TIMEOUT = 30.0  # seconds a run waits for another run's write transaction
TOUCH_AFTER_RUNS = 8  # a row read by a run is marked as used only if older than this
DATABASE = "results.db"
_KEY_BYTES = 16
_COMPRESS_FROM = 512  # bytes of JSON past which a value is stored compressed
_ROW_OVERHEAD = 24  # bytes SQLite spends on a row beside its key and value, roughly
_CHUNK = 30000  # host parameters per query (SQLite allows 32766)

Warn = Callable[[str], object]

# Formatted with "?" placeholders only; the keys themselves are bound parameters.
_SELECT_KEYS = "SELECT key, value, used FROM entries WHERE key IN ({})"


def clear(root: Path | str) -> int:
    """Remove the cache of the repository at ``root``; the number of entries removed."""
    with Cache(state_dir(root) / "cache") as cache:
        return cache.clear()


def _stderr(message: str) -> None:
    print(f"huskycat: warning: {message}", file=sys.stderr, flush=True)


@dataclass(frozen=True)
class Stats:
    """What ``huskycat cache stats`` shows."""

    entries: int
    bytes_on_disk: int
    files: int  # files' results the entries hold (a folder's row holds many)
    last_hits: int | None  # None: no run recorded yet
    last_misses: int | None
    last_time: float | None


class Cache:
    """Entries in one SQLite database, shared safely by concurrent runs.

    Reads go to the database as they come (batched by :meth:`get_many`); writes wait in
    memory until :meth:`close`, which stores them in one transaction, marks the rows
    this run used, and evicts the least recently used rows of other runs while the
    database exceeds ``max_bytes``. Many rows (a shard's files) may be written by
    :meth:`write` as they come instead, into that transaction, opened early: so that the
    run's end has only the last of them to insert. A row written held is one that may
    not be kept (its file may change before the tool's end): it is deleted before the
    commit unless :meth:`release` kept it (and no other group held it and dropped it or
    was never released), and no read of this run sees it before. Nothing is fsynced
    beyond SQLite's WAL defaults: an entry lost to a power cut is a miss. Worker threads
    share one Cache.
    """

    def __init__(
        self,
        folder: Path | str,
        *,
        max_bytes: int = DEFAULT_MAX_BYTES,
        warn: Warn = _stderr,
    ) -> None:
        if max_bytes <= 0:
            raise ValueError(f"the cache size bound must be positive, not {max_bytes!r}")
        self.folder = Path(folder)
        self.path = self.folder / DATABASE
        self.max_bytes = max_bytes
        self._warn = warn
        self._warned = False
        self._lock = threading.RLock()
        self._db: sqlite3.Connection | None = None
        self._unusable = False  # the folder cannot hold a database: run uncached
        self._run = 0
        self._pending: dict[bytes, bytes] = {}
        self._files: dict[bytes, int] = {}  # pending rows holding other than 1 file's result
        self._used: set[bytes] = set()  # read by this run: never evicted by it
        self._touch: set[bytes] = set()  # read by this run and last used long ago
        self._hits = 0
        self._misses = 0
        self._listings: dict[str, content.Snapshot] = {}

    @classmethod
    def for_root(cls, root: Path | str, *, max_bytes: int = DEFAULT_MAX_BYTES) -> Cache:
        """The cache of the repository at ``root`` (see :func:`state_dir`)."""
        return cls(state_dir(root) / "cache", max_bytes=max_bytes)

    # --- reading and writing ---------------------------------------------------------

    def get(self, key: str) -> Any | None:
        """The value stored under ``key``, or None for a missing or unreadable entry."""
        return self.get_many([key]).get(key)

    def get_many(self, keys: Iterable[str]) -> dict[str, Any]:
        """``key -> value`` for those of ``keys`` that are stored (one query per
        :data:`_CHUNK` keys). Values that do not decode are left out."""
        wanted = {_short(k): k for k in keys}
        found: dict[str, Any] = {}
        with self._lock:
            rows: dict[bytes, bytes] = {}
            for short in wanted:
                if short in self._pending:
                    rows[short] = self._pending[short]
            rest = [k for k in wanted if k not in rows]
            db = self._open() if rest else None
            if db is not None:
                try:
                    for start in range(0, len(rest), _CHUNK):
                        chunk = rest[start : start + _CHUNK]
                        marks = ",".join("?" * len(chunk))
                        query = _SELECT_KEYS.format(marks)  # nosec B608 - "?" marks only
                        for short, value, used in db.execute(query, chunk):
                            if short not in wanted:
                                continue  # a damaged index; the key is no answer
                            rows[short] = value
                            if not isinstance(used, int) or used < self._run - TOUCH_AFTER_RUNS:
                                self._touch.add(short)
                except sqlite3.DatabaseError as exc:
                    self._set_aside(exc)
                    rows = {k: v for k, v in rows.items() if k in self._pending}
            self._used.update(rows)
        for short, value in rows.items():
            decoded = _decode(value)
            if decoded is not None:
                found[wanted[short]] = decoded
        return found

    def stale(self, key: str) -> bool:
        """Whether this run read ``key``'s row and found it last used more than
        :data:`TOUCH_AFTER_RUNS` runs ago (the run marks it as used when it closes)."""
        with self._lock:
            return _short(key) in self._touch

    def mark_used(self, keys: Iterable[str]) -> None:
        """Mark the rows of ``keys`` as used by this run without reading them (rows a
        replay depends on but did not read: a whole run's files); missing keys are
        ignored."""
        shorts = {_short(k) for k in keys}
        with self._lock:
            self._used.update(shorts)
            self._touch.update(shorts)

    def put(self, key: str, value: object, *, files: int = 1, compress: bool = True) -> bool:
        """Store ``value`` (JSON-ready, or made by :func:`encode` ahead) under ``key``
        when the run ends; False when no database can be kept (the run goes on
        uncached). ``files``: how many files' results the value holds (counted by
        :meth:`stats`); ``compress``: False to keep a long value as it is (one that would
        not shrink by much: zlib would cost more CPU than the bytes it saves)."""
        data = value.data if isinstance(value, Encoded) else _encode(value, compress=compress)
        short = _short(key)
        with self._lock:
            if self._open() is None:
                return False
            self._pending[short] = data
            if files != 1:
                self._files[short] = files
            else:
                self._files.pop(short, None)
        return True

    def put_many(self, items: Iterable[tuple[str, object]]) -> bool:
        """:meth:`put` of each ``(key, value)``, under one lock."""
        encoded = [(_short(key), _encode(value)) for key, value in items]
        with self._lock:
            if self._open() is None:
                return False
            self._pending.update(encoded)
        return True

    def trust_listing(self, root: Path | str) -> None:
        """Let this run take the content ids of ``root``'s files from git's listing at
        the run's start (the latest :func:`huskycat.content.snapshot`), without a look at
        each file: for a run that changes no file itself, and whose listing was taken
        when it started. A result computed from them is still stored only for files
        found unchanged after the tool ran."""
        taken = content.snapshot(root, take=False)
        if taken is not None:
            self._listings[taken.root] = taken

    def listing(self, root: Path | str) -> content.Snapshot | None:
        """The listing :meth:`trust_listing` allowed for ``root``; None when none was."""
        return self._listings.get(os.path.abspath(root))

    def listed(self, root: Path | str) -> Mapping[str, str] | None:
        """The ids :meth:`trust_listing` allowed for ``root``; None when not allowed."""
        taken = self.listing(root)
        return None if taken is None else taken.ids

    def count(self, hits: int, misses: int) -> None:
        """Add to this run's hits and misses (shown by ``huskycat cache stats``)."""
        with self._lock:
            self._hits += hits
            self._misses += misses

    def close(self) -> None:
        """Write this run's entries in one transaction, then keep within the bound."""
        with self._lock:
            db = self._db
            if db is None:
                return
            try:
                self._flush(db)
            except sqlite3.OperationalError:
                pass  # locked past the busy timeout, disk full: this run's entries are lost
            except sqlite3.DatabaseError as exc:
                self._set_aside(exc)
            finally:
                self._pending.clear()
                self._files.clear()
                self._used.clear()
                self._touch.clear()
                self._hits = self._misses = 0
                if self._db is not None:
                    if self._db.in_transaction:
                        with contextlib.suppress(sqlite3.Error):
                            self._db.rollback()  # not committed by _flush: nothing kept
                    self._db.close()
                    self._db = None

    def _flush(self, db: sqlite3.Connection) -> None:
        touched = self._touch - self._pending.keys()
        files = self._files
        if not (self._pending or touched or self._hits or self._misses):
            return
        with db:  # one transaction: BEGIN ... COMMIT, or ROLLBACK on an exception
            db.execute("BEGIN IMMEDIATE")
            db.executemany(
                "INSERT OR REPLACE INTO entries (key, value, used, files) VALUES (?, ?, ?, ?)",
                # In key order: each insert lands beside the last, not anywhere in the tree.
                [(k, v, self._run, files.get(k, 1)) for k, v in sorted(self._pending.items())],
            )
            db.executemany(
                "UPDATE entries SET used = ? WHERE key = ?", ((self._run, k) for k in touched)
            )
            last = {"hits": self._hits, "misses": self._misses, "time": time.time()}
            db.executemany(
                "INSERT OR REPLACE INTO meta (name, value) VALUES (?, ?)",
                [("run", str(self._run)), ("last_run", json.dumps(last))],
            )
            if self._pending:
                self._evict(db)
        if self._pending:
            with contextlib.suppress(sqlite3.DatabaseError):
                db.execute("PRAGMA incremental_vacuum")

    def _evict(self, db: sqlite3.Connection, max_bytes: int | None = None) -> int:
        limit = self.max_bytes if max_bytes is None else max_bytes
        size = _database_bytes(db)
        if size <= limit:
            return 0
        # Rows take pages (and overflow pages) rather than their bytes: each row's length
        # scaled by what the database takes per byte of rows.
        total = db.execute(
            "SELECT sum(length(key) + length(value) + ?) FROM entries", (_ROW_OVERHEAD,)
        ).fetchone()[0]
        scale = size / total if total else 1.0
        excess = size - int(limit * PRUNE_TARGET)
        keep = self._used | self._pending.keys()
        doomed: list[bytes] = []
        rows = db.execute(
            "SELECT key, length(key) + length(value), used FROM entries WHERE used < ?"
            " ORDER BY used",
            (self._run,),
        )
        for key, length, _ in rows:
            if excess <= 0:
                break
            if key in keep:
                continue
            doomed.append(key)
            excess -= (length + _ROW_OVERHEAD) * scale
        db.executemany("DELETE FROM entries WHERE key = ?", ((k,) for k in doomed))
        return len(doomed)

    def prune(self, max_bytes: int | None = None) -> int:
        """Evict least recently used rows of earlier runs until the database takes at
        most :data:`PRUNE_TARGET` of ``max_bytes`` (default: the bound); the number
        removed. Rows this run read or wrote stay."""
        with self._lock:
            db = self._open()
            if db is None:
                return 0
            try:
                if db.in_transaction:  # this run's, begun early: committed by close
                    return self._evict(db, max_bytes)
                with db:
                    db.execute("BEGIN IMMEDIATE")
                    removed = self._evict(db, max_bytes)
                db.execute("PRAGMA incremental_vacuum")
            except sqlite3.DatabaseError as exc:
                self._set_aside(exc)
                return 0
            return removed

    def clear(self) -> int:
        """Remove every entry; the number removed. Also removes the one-file-per-entry
        folders an older huskycat left here."""
        removed = 0
        with self._lock:
            for kept in (self._pending, self._used, self._touch):
                kept.clear()
            self._files.clear()
            db = self._open()
            if db is not None:
                try:
                    with db:
                        if not db.in_transaction:
                            db.execute("BEGIN IMMEDIATE")
                        removed = db.execute("DELETE FROM entries").rowcount
                    db.execute("PRAGMA incremental_vacuum")
                except sqlite3.DatabaseError as exc:
                    self._set_aside(exc)
        with contextlib.suppress(OSError):
            for shard in os.scandir(self.folder):
                if len(shard.name) == 2 and shard.is_dir(follow_symlinks=False):
                    for item in os.scandir(shard.path):
                        with contextlib.suppress(OSError):
                            os.unlink(item.path)
                            removed += item.name.endswith(".json")
                    with contextlib.suppress(OSError):
                        os.rmdir(shard.path)
        return removed

    def stats(self) -> Stats:
        """Entries, bytes on disk (database and its WAL) and the last run's counts."""
        with self._lock:
            db = self._open()
            if db is None:
                return Stats(0, 0, 0, None, None, None)
            try:
                entries, files = db.execute(
                    "SELECT count(*), coalesce(sum(files), 0) FROM entries"
                ).fetchone()
                row = db.execute("SELECT value FROM meta WHERE name = 'last_run'").fetchone()
            except sqlite3.DatabaseError as exc:
                self._set_aside(exc)
                return Stats(0, 0, 0, None, None, None)
        size = 0
        for suffix in ("", "-wal", "-shm"):
            with contextlib.suppress(OSError):
                size += os.stat(str(self.path) + suffix).st_size
        last: dict[str, Any] = {}
        if row is not None:
            with contextlib.suppress(ValueError):
                loaded = json.loads(row[0])
                last = loaded if isinstance(loaded, dict) else {}
        hits, misses, when = last.get("hits"), last.get("misses"), last.get("time")
        return Stats(
            int(entries),
            size,
            int(files),
            hits if isinstance(hits, int) else None,
            misses if isinstance(misses, int) else None,
            float(when) if isinstance(when, (int, float)) else None,
        )

    def size(self) -> int:
        """Bytes the entries take in the database (pages in use)."""
        with self._lock:
            db = self._open()
            if db is None:
                return 0
            try:
                return _database_bytes(db)
            except sqlite3.DatabaseError as exc:
                self._set_aside(exc)
                return 0

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    # --- the database itself ---------------------------------------------------------

    def _open(self) -> sqlite3.Connection | None:
        """The connection, opened (and made or checked) on first use; None when the
        folder cannot hold a database (the run goes on uncached)."""
        if self._db is not None or self._unusable:
            return self._db
        try:
            self._db = self._connect()
        except OSError:
            self._unusable = True  # no folder for it: a read-only checkout
        except (sqlite3.DatabaseError, _Foreign) as exc:
            if isinstance(exc, sqlite3.OperationalError) and _is_locked(exc):
                self._unusable = True  # another run holds it past the busy timeout
                return None
            self._set_aside(exc)
            try:
                self._db = self._connect()
            except (OSError, sqlite3.Error, _Foreign):
                self._unusable = True
        return self._db

    def _connect(self) -> sqlite3.Connection:
        self.folder.mkdir(parents=True, exist_ok=True)
        db = sqlite3.connect(
            self.path, timeout=BUSY_TIMEOUT, isolation_level=None, check_same_thread=False
        )
        try:
            if _empty(self.path):  # only takes on a new database; elsewhere, it would wait
                db.execute("PRAGMA auto_vacuum = INCREMENTAL")  # for another run's writes
            db.execute("PRAGMA journal_mode = WAL")
            db.execute("PRAGMA synchronous = NORMAL")
            fresh = not db.execute("SELECT 1 FROM sqlite_master LIMIT 1").fetchone()
            if fresh:
                with db:
                    db.execute("BEGIN IMMEDIATE")
                    if not db.execute("SELECT 1 FROM sqlite_master LIMIT 1").fetchone():
                        db.execute(
                            "CREATE TABLE entries (key BLOB PRIMARY KEY, value BLOB NOT NULL,"
                            " used INTEGER NOT NULL, files INTEGER NOT NULL DEFAULT 1)"
                            " WITHOUT ROWID"
                        )
                        db.execute("CREATE TABLE meta (name TEXT PRIMARY KEY, value TEXT)")
                        db.execute(
                            "INSERT INTO meta (name, value) VALUES ('format', ?)",
                            (str(FORMAT_VERSION),),
                        )
            meta = dict(db.execute("SELECT name, value FROM meta").fetchall())
            if meta.get("format") != str(FORMAT_VERSION):
                raise _Foreign(f"format {meta.get('format')!r}, not {FORMAT_VERSION}")
            run = meta.get("run", "0")
            self._run = (int(run) if run.isdigit() else 0) + 1
        except BaseException:
            db.close()
            raise
        return db

    def _set_aside(self, why: Exception) -> None:
        """Move a database that cannot be used out of the way, saying so once. An error
        that says nothing about the database itself (locked past the busy timeout, disk
        full, no permission) moves nothing: this run goes on without what it wanted."""
        if not _is_damage(why):
            return
        if self._db is not None:
            with contextlib.suppress(sqlite3.Error):
                self._db.close()
            self._db = None
        aside = f"{self.path}.broken-{int(time.time())}"
        for older in self.folder.glob(f"{DATABASE}.broken-*"):  # keep only the latest
            with contextlib.suppress(OSError):
                older.unlink()
        moved = False
        for suffix in ("", "-wal", "-shm"):
            with contextlib.suppress(OSError):
                os.replace(str(self.path) + suffix, aside + suffix)
                moved = moved or not suffix
        if not self._warned:
            self._warned = True
            where = f"moved it to {aside}" if moved else "could not move it"
            self._warn(f"the result cache {str(self.path)!r} is unusable ({why}); {where}")

    # --- remembered versions ---------------------------------------------------------

    def version_of(self, spec: ToolSpec, exe: str) -> str | None:
        """:func:`runner.tool_version`, remembered across runs, so that a run with
        nothing to do starts no process at all.

        Remembered for the program file as it is (its real path, size and modification
        time, which an upgrade changes) and for at most :data:`VERSION_TTL` seconds, for
        programs that stay the same file across versions (a pyenv or asdf shim).
        """
        identity = [os.path.realpath(exe), fingerprint.stat_signature(exe)]
        key = key_of(["version", exe, *identity, list(spec.version_args)])
        known = self.get(key)
        if isinstance(known, dict):
            version, checked = known.get("version"), known.get("checked")
            fresh = isinstance(checked, (int, float)) and 0 <= time.time() - checked < VERSION_TTL
            if isinstance(version, str) and fresh:
                return version
        version = runner.tool_version(spec, exe)
        if version is not None:  # "no version" may be a probe that timed out: ask again
            self.put(key, {"version": version, "checked": time.time()})
        return version


class _Foreign(Exception):
    """A database another format version of huskycat wrote."""


def _is_damage(exc: Exception) -> bool:
    """Whether ``exc`` says the database is not one this huskycat can use: not a
    database, malformed, another format, tables missing."""
    if isinstance(exc, sqlite3.OperationalError):
        return "no such" in str(exc) or "malformed" in str(exc)
    return isinstance(exc, (sqlite3.DatabaseError, _Foreign))


def _empty(path: Path) -> bool:
    try:
        return os.stat(path).st_size == 0
    except OSError:
        return True


def _is_locked(exc: sqlite3.OperationalError) -> bool:
    return "locked" in str(exc) or "busy" in str(exc)


def _database_bytes(db: sqlite3.Connection) -> int:
    pages = db.execute("PRAGMA page_count").fetchone()[0]
    free = db.execute("PRAGMA freelist_count").fetchone()[0]
    size = db.execute("PRAGMA page_size").fetchone()[0]
    return int((pages - free) * size)


def _short(key: str) -> bytes:
    return bytes.fromhex(key[-2 * _KEY_BYTES :])


_CLEAN_ROW: list[object] = [1, []]  # a clean file's row (cache.merge.FileState.to_row)
_CLEAN_DATA = b"[1,[]]"


@dataclass(frozen=True)
class Encoded:
    """A value as the store keeps it, made ahead by :func:`encode` (in a thread with
    time to spare) and handed to :meth:`Cache.put` later."""

    data: bytes


def encode(value: object, *, compress: bool = True) -> Encoded:
    """``value`` (JSON-ready) as :meth:`Cache.put` would store it."""
    return Encoded(_encode(value, compress=compress))


def _encode(value: object, *, compress: bool = True) -> bytes:
    if value == _CLEAN_ROW:
        return _CLEAN_DATA  # most rows of a cold run: no JSON encoder per file
    text = json.dumps(value, separators=(",", ":"), ensure_ascii=False)
    try:
        data = text.encode()
    except UnicodeEncodeError:  # a file name that is not UTF-8 (surrogates): escaped
        data = json.dumps(value, separators=(",", ":")).encode()
    if compress and len(data) >= _COMPRESS_FROM:
        return b"\0" + zlib.compress(data, 6)
    return data


# Small values seen in this process, decoded: most rows are a clean file's "[1,[]]".
# Decoded values are only read, never changed, so one copy is shared.
_SMALL: dict[bytes, Any] = {}
_SMALL_SIZE = 32
_SMALL_COUNT = 4096


def _decode(data: object) -> Any | None:
    if not isinstance(data, bytes):
        return None
    if len(data) <= _SMALL_SIZE:
        known = _SMALL.get(data, _SMALL)
        if known is not _SMALL:
            return known
        value = _decode_bytes(data)
        if value is not None and len(_SMALL) < _SMALL_COUNT:
            _SMALL[data] = value
        return value
    return _decode_bytes(data)


def _decode_bytes(data: bytes) -> Any | None:
    try:
        if data[:1] == b"\0":
            data = zlib.decompress(data[1:])
        return json.loads(data)
    except (ValueError, RecursionError, zlib.error):
        return None


def key_of(material: object) -> str:
    """The key of ``material``: SHA-256 of its canonical JSON, in hex."""
    text = json.dumps(material, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode()).hexdigest()
