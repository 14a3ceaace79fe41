"""Content digests and identify tags of a repository's files, remembered between runs by
each file's stat signature, as git's index remembers blob ids.

A run with nothing changed then stats its files instead of reading them: the hooks'
cache keys (:mod:`.plan`) need every file's digest, and a few thousand files read and
hashed for each of a dozen hooks is most of a warm run. A signature is the file's
mode, size, inode, modification and change times in nanoseconds. An entry written in
the same second as the file's last change is not trusted the next time (git's "racy"
rule): the file might change again within its timestamp's granularity.

Kept in ``<git dir>/huskycat/precommit-index.json`` (written atomically; unreadable is
empty), read once per run; worker threads share one :class:`FileIndex`.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import threading
import time
from pathlib import Path

from identify.identify import tags_from_path

FORMAT = 1
RACY_NS = 1_000_000_000  # entries this close to the time they were saved are re-read


Signature = tuple[int, int, int, int, int]
Entry = tuple[Signature, str, frozenset[str]]  # signature, digest, identify tags


def _signature(st: os.stat_result) -> Signature:
    return (st.st_mode, st.st_size, st.st_ino, st.st_mtime_ns, st.st_ctime_ns)


class FileIndex:
    """Digests and tags of the files under ``root``, by path relative to it."""

    def __init__(self, root: Path, path: Path | None) -> None:
        self.root = root
        self._prefix = os.path.join(str(root), "")  # joined by hand: called per file
        self.path = path
        self._lock = threading.Lock()
        self._entries: dict[str, Entry] = {}
        self._dirty = False
        self._saved_ns = 0
        self._fresh: set[str] = set()  # learned by this run: trusted while unchanged
        if path is not None:
            with contextlib.suppress(OSError, ValueError, TypeError, KeyError):
                data = json.loads(path.read_text(encoding="utf-8"))
                if data["format"] == FORMAT and data["root"] == str(root):
                    self._entries = {
                        name: (tuple(sig), digest, frozenset(tags))
                        for name, (sig, digest, tags) in data["files"].items()
                    }
                    self._saved_ns = int(data["saved_ns"])

    def _entry(self, name: str) -> Entry | None:
        """``[signature, digest, tags]`` for ``name`` as it is now; None when missing."""
        full = self._prefix + name
        try:
            st = os.lstat(full)
        except OSError:
            return None
        signature = _signature(st)
        with self._lock:
            known = self._entries.get(name)
            fresh = name in self._fresh
        if (
            known is not None
            and known[0] == signature
            and (
                fresh
                or st.st_mtime_ns < self._saved_ns - RACY_NS
                and st.st_ctime_ns < self._saved_ns - RACY_NS
            )
        ):
            return known
        try:
            if os.path.islink(full):
                data = os.readlink(full).encode()
            elif os.path.isfile(full):
                with open(full, "rb") as stream:
                    data = stream.read()
            else:
                return None
            tags = frozenset(tags_from_path(full))
        except (OSError, ValueError):
            return None
        entry: Entry = (signature, hashlib.blake2b(data, digest_size=16).hexdigest(), tags)
        with self._lock:
            self._entries[name] = entry
            self._fresh.add(name)
            self._dirty = True
        return entry

    def digest(self, name: str) -> str | None:
        entry = self._entry(name)
        return entry[1] if entry is not None else None

    def tags(self, name: str) -> frozenset[str]:
        entry = self._entry(name)
        return entry[2] if entry is not None else frozenset()

    def save(self) -> None:
        """Write the index if anything was learned (atomically; errors are ignored)."""
        if self.path is None or not self._dirty:
            return
        with self._lock:
            data = {
                "format": FORMAT,
                "root": str(self.root),
                "saved_ns": time.time_ns(),
                "files": {
                    name: [list(sig), digest, sorted(tags)]
                    for name, (sig, digest, tags) in self._entries.items()
                },
            }
            self._dirty = False
        temp = self.path.with_name(f"{self.path.name}.{os.getpid()}.tmp")
        with contextlib.suppress(OSError):
            self.path.parent.mkdir(parents=True, exist_ok=True)
            temp.write_text(json.dumps(data, separators=(",", ":")), encoding="utf-8")
            os.replace(temp, self.path)
