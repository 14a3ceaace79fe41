"""Content digests and identify tags of a repository's files for the hooks of one run,
from git's index where it vouches for them (:mod:`huskycat.content`, one ``git ls-files
--stage`` snapshot per run) and the file types remembered by blob id
(:mod:`huskycat.filetypes`).

A digest is the file's blob id and kind ("f", "x" executable, "l" symlink). Until the
first hook runs a process (a hook that could write), a file's digest is looked up once
and then remembered for the run: a warm run whose hooks are all replayed from the cache
stats each file at most once, and files git listed a moment ago not at all (the
snapshot's word stands for :data:`huskycat.content.LISTED_NS`, as in planning). Once a
hook has run, every lookup looks at the file again (one ``lstat`` for a file git vouches
for, a read otherwise). Worker threads share one :class:`FileIndex`.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence
from pathlib import Path

from huskycat import content
from huskycat.filetypes import FileTypes

_HOOK_RAN = threading.Event()


def forget() -> None:
    """Trust first looks again (for tests and long-lived processes, between runs)."""
    _HOOK_RAN.clear()


class FileIndex:
    """Digests and tags of the files under ``root``, by path relative to it."""

    def __init__(self, root: Path, *, expected: int | None = None) -> None:
        self.root = root
        self._types = FileTypes.for_root(root, expected=expected)
        self._identify = content.Identifier(root, expected=expected)
        self._listed, self._executables = self._identify.listed()
        self._until = time.monotonic_ns() + content.LISTED_NS
        self._lock = threading.Lock()
        self._memo: dict[str, str | None] = {}

    @property
    def _still(self) -> bool:
        """No hook has run a process in this process yet (in any project: a hook of one
        project may write another's files)."""
        return not _HOOK_RAN.is_set()

    def hook_runs(self) -> None:
        """A hook is about to run a process that could write: every index of this
        process looks at files from now on."""
        _HOOK_RAN.set()
        with self._lock:
            self._memo.clear()

    def _look(self, name: str) -> str | None:
        found, kind = self._identify(name)
        return None if found is None else f"{found}:{kind}"

    def digest(self, name: str) -> str | None:
        """``"<blob id>:<kind>"`` of ``name``; None when it is not a readable file."""
        if not self._still or time.monotonic_ns() > self._until:
            return self._look(name)
        known = self._memo.get(name, "")
        if known != "":
            return known
        listed = self._listed.get(name)
        if listed is not None:
            found: str | None = f"{listed}:{'x' if name in self._executables else 'f'}"
        else:
            found = self._look(name)
        with self._lock:
            if self._still:
                self._memo[name] = found
        return found

    def digests(self, names: Sequence[str]) -> dict[str, str | None]:
        """:meth:`digest` of each of ``names`` (the run's first looks, as one dict lookup
        each, while they stand)."""
        if self._still and time.monotonic_ns() <= self._until:
            memo, missing = self._memo, ""
            found = {name: memo.get(name, missing) for name in names}
            if missing not in found.values():
                return found
        return {name: self.digest(name) for name in names}

    def tags(self, name: str) -> frozenset[str]:
        return self._types.tags_of(name)

    def save(self) -> None:
        """Remember the file types this run found (atomically; errors are ignored)."""
        self._types.save()
