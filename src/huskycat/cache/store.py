"""Where cache entries live and how they are written, read, evicted and cleared.

One JSON file per entry, ``<folder>/<key[:2]>/<key[2:]>.json``, holding
``{"format": FORMAT_VERSION, "key": KEY, "value": {...}}``. The folder is
``<git dir>/huskycat/cache`` (see :func:`state_dir`).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import tempfile
import threading
import time
from collections.abc import Iterator, Mapping
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any

from huskycat import git
from huskycat.cache import fingerprint
from huskycat.tools import runner
from huskycat.tools.base import ToolSpec

if TYPE_CHECKING:
    from typing_extensions import Self

FORMAT_VERSION = 1
DEFAULT_MAX_BYTES = 64 * 1024 * 1024
PRUNE_TARGET = 0.75  # a prune brings the cache down to this fraction of its bound
TOUCH_INTERVAL = 60.0  # seconds: a hit marks its entry as recently used at most this often
STALE_TEMP_SECONDS = 3600.0  # a temporary file older than this was left by a killed run
VERSION_TTL = 3600.0  # seconds a program's version is trusted without asking it again
_SUFFIX = ".json"
_BLOCK = 4096  # the usual file system block: what a small entry takes on disk
_TEMP_PREFIX = ".tmp-"


def state_dir(root: Path | str) -> Path:
    """Where huskycat keeps what it learns about the repository at ``root``.

    ``<git dir>/huskycat``; outside a repository, the user's cache folder
    (``$XDG_CACHE_HOME/huskycat``, by default ``~/.cache/huskycat``).
    """
    try:
        return git.git_dir(root) / "huskycat"
    except git.GitError:
        return user_cache_dir()


def user_cache_dir() -> Path:
    """``$XDG_CACHE_HOME/huskycat``, or ``~/.cache/huskycat``."""
    base = os.environ.get("XDG_CACHE_HOME", "")
    if not os.path.isabs(base):  # the XDG specification: ignore a relative value
        base = os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "huskycat"


def clear(root: Path | str) -> int:
    """Remove the cache of the repository at ``root``; the number of entries removed."""
    return Cache(state_dir(root) / "cache").clear()


class Cache:
    """Entries in a folder, one JSON file each, shared safely by concurrent runs.

    A write goes to a temporary file beside the entry and is renamed over it
    (``os.replace``), so a reader sees the old entry, the new one or none; a run killed
    midway leaves at worst a temporary file, which :meth:`prune` removes once stale. A
    reader takes an entry that does not parse, or whose format or key is not the one
    expected, as missing. Nothing is fsynced: an entry lost or truncated by a power cut
    is a miss, which costs one run of a tool.

    The size stays within ``max_bytes``: after writing a quarter of it, and on
    :meth:`close` after any write, the least recently used entries (oldest modification
    time; a hit refreshes it) are removed down to :data:`PRUNE_TARGET` of the bound.
    Worker threads share one Cache.
    """

    def __init__(self, folder: Path | str, *, max_bytes: int = DEFAULT_MAX_BYTES) -> None:
        if max_bytes <= 0:
            raise ValueError(f"the cache size bound must be positive, not {max_bytes!r}")
        self.folder = Path(folder)
        self.max_bytes = max_bytes
        self._lock = threading.Lock()
        self._written = 0  # bytes written since the last prune
        self._wrote = False

    @classmethod
    def for_root(cls, root: Path | str, *, max_bytes: int = DEFAULT_MAX_BYTES) -> Cache:
        """The cache of the repository at ``root`` (see :func:`state_dir`)."""
        return cls(state_dir(root) / "cache", max_bytes=max_bytes)

    def path(self, key: str) -> Path:
        """The file of the entry ``key``."""
        return self.folder / key[:2] / (key[2:] + _SUFFIX)

    def get(self, key: str) -> dict[str, Any] | None:
        """The value stored under ``key``, or None for a missing or unreadable entry."""
        path = self.path(key)
        try:
            with open(path, "rb") as f:
                data = f.read()
                age = time.time() - os.fstat(f.fileno()).st_mtime
        except OSError:
            return None
        try:
            entry = json.loads(data)
        except (ValueError, RecursionError):  # truncated, garbage, not UTF-8
            return None
        if not isinstance(entry, dict) or entry.get("format") != FORMAT_VERSION:
            return None
        value = entry.get("value")
        if entry.get("key") != key or not isinstance(value, dict):
            return None
        if age > TOUCH_INTERVAL:
            with contextlib.suppress(OSError):
                os.utime(path)
        return value

    def put(self, key: str, value: Mapping[str, Any]) -> bool:
        """Store ``value`` under ``key``; False when the disk refused (the run goes on)."""
        data = json.dumps({"format": FORMAT_VERSION, "key": key, "value": value}).encode()
        path = self.path(key)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            fd, temp = tempfile.mkstemp(dir=path.parent, prefix=_TEMP_PREFIX)
            try:
                with os.fdopen(fd, "wb") as f:
                    f.write(data)
                os.replace(temp, path)
            except BaseException:
                with contextlib.suppress(OSError):
                    os.unlink(temp)
                raise
        except OSError:
            return False
        with self._lock:
            self._wrote = True
            self._written += -(-len(data) // _BLOCK) * _BLOCK  # as _disk_size counts
            due = self._written >= self.max_bytes // 4
            if due:
                self._written = 0
        if due:
            self.prune()
        return True

    def size(self) -> int:
        """Bytes on disk taken by the entries."""
        return sum(_disk_size(st) for path, st in self._files() if _is_entry(path))

    def prune(self, max_bytes: int | None = None) -> int:
        """Remove the least recently used entries until the cache takes at most
        :data:`PRUNE_TARGET` of ``max_bytes`` (default: the bound); also stale
        temporary files. With a prune after every quarter of the bound written, the
        cache never exceeds the bound (by one process; each concurrent writer may add
        up to a quarter before its own next prune).

        Returns the number of entries removed. Safe while other runs use the cache.
        """
        limit = self.max_bytes if max_bytes is None else max_bytes
        stale = time.time() - STALE_TEMP_SECONDS
        entries: list[tuple[float, Path, int]] = []
        total = 0
        for path, st in self._files():
            if not _is_entry(path):
                if st.st_mtime < stale:
                    with contextlib.suppress(OSError):
                        path.unlink()
                continue
            size = _disk_size(st)
            total += size
            entries.append((st.st_mtime, path, size))
        target = int(limit * PRUNE_TARGET)
        if total <= target:
            return 0
        removed = 0
        for _, path, size in sorted(entries, key=lambda e: e[0]):
            if total <= target:
                break
            with contextlib.suppress(FileNotFoundError):  # another run removed it first
                path.unlink()
                removed += 1
            total -= size
        return removed

    def clear(self) -> int:
        """Remove every entry (and temporary file); the number of entries removed."""
        removed = 0
        for path, _ in self._files():
            with contextlib.suppress(FileNotFoundError):
                path.unlink()
                removed += _is_entry(path)
        with contextlib.suppress(OSError):
            for shard in self.folder.iterdir():
                with contextlib.suppress(OSError):
                    shard.rmdir()
        return removed

    def close(self) -> None:
        """Bring the cache within its bound if this process wrote to it."""
        if self._wrote:
            self._wrote = False
            self.prune()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

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
        if known is not None:
            version, checked = known.get("version"), known.get("checked")
            fresh = isinstance(checked, (int, float)) and 0 <= time.time() - checked < VERSION_TTL
            if isinstance(version, str) and fresh:
                return version
        version = runner.tool_version(spec, exe)
        if version is not None:  # "no version" may be a probe that timed out: ask again
            self.put(key, {"version": version, "checked": time.time()})
        return version

    def _files(self) -> Iterator[tuple[Path, os.stat_result]]:
        try:
            shards = list(os.scandir(self.folder))
        except OSError:
            return
        for shard in shards:
            try:
                if not shard.is_dir(follow_symlinks=False):
                    continue
                names = list(os.scandir(shard.path))
            except OSError:
                continue
            for item in names:
                with contextlib.suppress(OSError):
                    yield Path(item.path), item.stat(follow_symlinks=False)


def _is_entry(path: Path) -> bool:
    return path.name.endswith(_SUFFIX) and not path.name.startswith(_TEMP_PREFIX)


def _disk_size(st: os.stat_result) -> int:
    # Blocks, not bytes: thousands of small entries take a block each.
    return max(-(-st.st_size // _BLOCK) * _BLOCK, getattr(st, "st_blocks", 0) * 512)


def key_of(material: object) -> str:
    """The key of ``material``: SHA-256 of its canonical JSON, in hex."""
    text = json.dumps(material, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode()).hexdigest()
