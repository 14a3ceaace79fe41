"""File types (identify's tags) remembered across runs, so that unchanged files are not
typed again.

A file's tags depend on its name, its content (a shebang, text or binary) and whether it
is executable or a symlink; so they are remembered by (path, content id, kind), the id
and kind from :mod:`huskycat.content` (for most files, one ``lstat`` and the index's
blob id). A file whose id or kind changed is typed again with
:func:`huskycat.files.tags_for`.

On disk, one file per repository, ``<state dir>/file-types``, written whole and
atomically (a temporary file renamed over it) when a run typed anything new::

    huskycat-file-types 1\\n
    ["python","text"]\\t["shell","text","executable"]...\\n    tag sets, tab-separated JSON
    <kind><tag set index>\\t<id>\\t<path>\\0 ...                  one record per file

A file that cannot be read or parsed is ignored (every file is typed again) and replaced
by the next write. Outside a git repository nothing is remembered.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
from pathlib import Path

from huskycat import content, git
from huskycat.files import tags_for

MAGIC = b"huskycat-file-types 1\n"
FILE_NAME = "file-types"
# Entries of files a run did not ask about are kept, up to this many beyond twice those
# it asked about: a run on staged files keeps the rest; deleted files fall out in time.
SPARE_ENTRIES = 10_000

Tags = frozenset[str]


def _decode(data: bytes) -> str:
    return data.decode(sys.getfilesystemencoding(), "surrogateescape")


def _encode(text: str) -> bytes:
    return text.encode(sys.getfilesystemencoding(), "surrogateescape")


def load(path: Path | str) -> dict[str, tuple[str, str, Tags]]:
    """``path -> (id, kind, tags)`` from the file at ``path``; empty when it is missing,
    unreadable, of another format or damaged anywhere."""
    try:
        with open(path, "rb") as f:
            data = f.read()
    except OSError:
        return {}
    if not data.startswith(MAGIC):
        return {}
    try:
        header, _, body = data[len(MAGIC) :].partition(b"\n")
        if body and not body.endswith(b"\0"):
            return {}  # cut short: its last record may name a prefix of the real path
        tagsets = [frozenset(json.loads(part)) for part in header.split(b"\t") if part]
        if not all(all(isinstance(tag, str) for tag in tags) for tags in tagsets):
            return {}
        entries: dict[str, tuple[str, str, Tags]] = {}
        for record in _decode(body).split("\0"):
            if not record:
                continue
            head, found, name = record.split("\t", 2)
            entries[name] = (found, head[0], tagsets[int(head[1:])])
        return entries
    except (ValueError, IndexError, TypeError):  # damaged: start again
        return {}


def dump(path: Path | str, entries: dict[str, tuple[str, str, Tags]]) -> None:
    """Write ``entries`` to ``path`` atomically; a failure leaves the old file (or none)."""
    tagsets: dict[Tags, int] = {}
    records = []
    for name, (found, kind, tags) in entries.items():
        index = tagsets.setdefault(tags, len(tagsets))
        records.append(f"{kind}{index}\t{found}\t{name}\0")
    header = "\t".join(json.dumps(sorted(tags)) for tags in tagsets)
    data = MAGIC + _encode(header) + b"\n" + _encode("".join(records))
    folder = os.path.dirname(os.fspath(path))
    try:
        os.makedirs(folder, exist_ok=True)
        fd, temporary = tempfile.mkstemp(dir=folder, prefix=".tmp-file-types-")
    except OSError:
        return  # nowhere to write: the types are found again next time
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.replace(temporary, path)
    except OSError:
        try:
            os.unlink(temporary)
        except OSError:
            pass


class FileTypes:
    """``types.tags_of(name)``: the tags of the file ``name`` (relative to ``root``),
    remembered or found; :meth:`save` writes what was found to ``store`` (None: keep
    nothing)."""

    def __init__(
        self, root: Path | str, store: Path | str | None, *, expected: int | None = None
    ) -> None:
        self._root = os.path.join(os.path.abspath(root), "")
        self._store = store
        self._known = load(store) if store is not None else {}
        self._identify = content.Identifier(root, expected=expected)
        self._listed, self._executables = self._identify.listed()
        self._seen: dict[str, Tags] = {}
        self._changed = False

    @classmethod
    def for_root(cls, root: Path | str, *, expected: int | None = None) -> FileTypes:
        """The types of ``root``'s files, remembered in its repository's state folder
        (``expected``: about how many will be asked for, see
        :class:`huskycat.content.Identifier`)."""
        if content.snapshot(root, take=False) is None:  # else in a repository, as listed
            try:
                git.git_dir(root)
            except git.GitError:
                return cls(root, None, expected=expected)  # no repository, no place of its own
        from huskycat.state import state_dir

        return cls(root, state_dir(root) / FILE_NAME, expected=expected)

    def tags_of(self, name: str) -> Tags:
        """identify's tags of ``name`` (see :func:`huskycat.files.tags_for`).

        A file the latest snapshot vouches for is taken as git found it when the files
        were listed, without looking at it again; any other is looked at now.
        """
        seen = self._seen.get(name)
        if seen is not None:
            return seen
        found: str | None = self._listed.get(name)
        if found is not None:
            kind = "x" if name in self._executables else "f"
        else:
            found, kind = self._identify(name)
        known = self._known.get(name)
        if known is not None and found is not None and known[0] == found and known[1] == kind:
            tags = known[2]
        else:
            tags = tags_for(self._root + name, kind)
            if found is not None and kind != "l":
                self._known[name] = (found, kind, tags)
                self._changed = True
        self._seen[name] = tags
        return tags

    def save(self) -> None:
        """Write the store when this run typed a file it did not know."""
        if self._store is None or not self._changed:
            return
        entries = self._known
        if len(entries) > 2 * len(self._seen) + SPARE_ENTRIES:
            entries = {name: entries[name] for name in self._seen if name in entries}
        dump(self._store, entries)
        self._changed = False
