"""Content identity of files: git's blob id, taken from git's index where git vouches for it.

::

    snapshot(root): git ls-files --stage -v | git diff --name-status | git ls-files
                    --others | git config --list | git rev-parse   (side by side, once)
        -> Snapshot.ids: path -> blob id of tracked files git found unchanged
           Snapshot.files: the files of the work tree (tracked and untracked)
    Identifier(root)(name) / content_ids(root, names): per file one lstat, then
        vouched by the snapshot and settled       -> the index's blob id, nothing read
        memo hit (same stat signature)            -> the id remembered
        else (modified, untracked, recent, link)  -> read and hashed here

An id is what ``git hash-object`` prints for the file's bytes as they are in the work
tree: ``sha1(b"blob <size>\\0" + bytes)`` (sha256 in a repository that uses it), so an id
taken from the index and one computed here agree whenever the bytes do.

When the index's id may be trusted: the entry is a plain or executable file at stage 0,
neither assume-unchanged nor skip-worktree (git would not look at those), and not
listed by ``git diff`` (porcelain: it checks racily clean entries and stat-only changes by
content). Then, during the diff, the work tree held the blob's bytes. The work tree still
holds them later if the file's modification and change times are older than the moment
the snapshot started by :data:`RACY_NS`: any write since would have set them later (and
setting the modification time back, or renaming another file over it, sets the change
time). A file changed since, or too recently to tell, is read and hashed. The listings
are separate processes, so they must have read the same index: see
:func:`take_snapshot`. A repository where
content filters or end-of-line conversion may apply (``core.autocrlf``, a ``filter``,
``text``, ``eol``, ``ident`` or ``working-tree-encoding`` attribute) makes the index's id
differ from the work tree's bytes: such files are always hashed here.

Ids computed here are remembered for the life of the process by stat signature (device,
inode, size, modification and change times, mode), except for files changed in the last
:data:`RACY_NS`, which could still change within the same timestamp tick. A process that
has no snapshot yet and is asked about fewer than :data:`SNAPSHOT_MIN_FILES` files (a
commit of a few files) hashes them rather than list the whole repository.
"""

from __future__ import annotations

import dataclasses
import hashlib
import os
import stat
import sys
import threading
import time
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass

from huskycat import git

RACY_NS = 2_000_000_000  # two seconds: coarser than any file system's timestamp tick
_PLAIN_MODES = frozenset({"100644", "100755"})
# Attributes under which the work tree's bytes may differ from the blob's.
_CONVERTING = ("text", "eol", "crlf", "filter", "ident", "working-tree-encoding")

_FORMAT, _REGULAR = 0o170000, stat.S_IFREG  # the file type bits of st_mode (S_IFMT)
Kind = str  # "f" a regular file, "x" an executable one, "l" a symlink, "" none


@dataclass(frozen=True, kw_only=True)
class Snapshot:
    """What git said about the work tree of ``root`` at ``started_ns``.

    ``ids``: path (relative to ``root``) -> blob id, for the tracked files whose work
    tree content was the index's then; ``executables``: those of them with mode 100755.
    ``files``: every tracked and untracked (not ignored) file that existed, sorted.
    ``algorithm``: "sha1" or "sha256".
    """

    root: str
    started_ns: int
    algorithm: str
    ids: Mapping[str, str]
    files: tuple[str, ...]
    executables: frozenset[str] = frozenset()
    # The index file's (inode, size, modification and change times) when listed, when
    # git compares files by their change time too (see unchanged_since); else None.
    index_signature: tuple[int, int, int, int] | None = None
    # Where the index file is (``git rev-parse --git-path index`` at the listing).
    index_path: str | None = None


def blob_id(data: bytes, algorithm: str = "sha1") -> str:
    """Git's object id of a blob holding ``data`` (``git hash-object``)."""
    digest = hashlib.new(algorithm, usedforsecurity=False)
    digest.update(b"blob %d\0" % len(data))
    digest.update(data)
    return digest.hexdigest()


def _git(root: str, *args: str, stdin: bytes | None = None) -> bytes:
    return git.check_output(root, *args, stdin=stdin)


# The index must be older than this when the listings start, so that both read the same
# index: file times come from a clock that may lag the one read here by a tick.
INDEX_MARGIN_NS = 100_000_000
_ATTEMPTS = 3

_LISTINGS = (
    ("ls-files", "--stage", "-v", "-z"),
    (
        "--no-optional-locks",
        "diff",
        "--name-status",
        "-z",
        "--relative",
        "--no-renames",
        "--no-ext-diff",
        "--no-color",
        "--ignore-submodules",
    ),
    ("ls-files", "--others", "--exclude-standard", "-z"),
    # What could make the work tree differ from the index (_conversion), and where the
    # index is (GIT_INDEX_FILE, when a hook runs with a temporary one).
    ("config", "-z", "--list"),
    ("rev-parse", "--git-path", "info/attributes", "--git-path", "index"),
)


def take_snapshot(root: str | os.PathLike[str]) -> Snapshot | None:
    """A fresh :class:`Snapshot` of ``root`` (a work tree or a folder in one), or None
    outside a git repository or when git fails.

    The listings are separate processes: were the index rewritten while they ran (a
    ``git add`` meanwhile), one could list the old index and the other compare the work
    tree with the new one. So the index must be older than the moment they started (by
    :data:`INDEX_MARGIN_NS`); else they are taken again a moment later, and after
    :data:`_ATTEMPTS` tries no id is vouched for.
    """
    folder = os.path.abspath(root)
    for attempt in range(_ATTEMPTS):
        started = time.time_ns()
        try:
            # Side by side: each walks the whole tree; together they are most of the time.
            outputs = git.check_outputs(folder, *_LISTINGS)
        except git.GitError:
            return None
        locations = _decode(outputs[-1]).splitlines()
        index = os.path.join(folder, locations[-1]) if locations else ""
        consistent = _older_than(index, started - INDEX_MARGIN_NS)
        if consistent or attempt == _ATTEMPTS - 1:
            taken = _snapshot(folder, started, outputs, vouch=consistent)
            signature = _index_signature(index) if _stat_trusted(outputs[3]) else None
            return dataclasses.replace(taken, index_signature=signature, index_path=index or None)
        time.sleep(INDEX_MARGIN_NS / 1e9)  # an index just written is then old enough
    raise AssertionError("unreachable")  # the last attempt returns


def _index_signature(path: str) -> tuple[int, int, int, int] | None:
    try:
        st = os.stat(path)
    except OSError:
        return None
    return st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns


def _stat_trusted(config: bytes) -> bool:
    """Whether git compares a file's change time with its index entry's (the defaults:
    ``core.trustctime`` on, ``core.checkstat`` not "minimal")."""
    settings = {}
    for entry in config.split(b"\0"):
        key, _, value = entry.decode("utf-8", "replace").partition("\n")
        settings[key.lower()] = value.lower()
    trust = settings.get("core.trustctime", "true") not in ("false", "no", "off", "0")
    return trust and settings.get("core.checkstat", "default") != "minimal"


def changed_since(taken: Snapshot) -> frozenset[str] | None:
    """The tracked files git finds changed now by their stat against the index (``git
    diff-files``, one process), when that tells which of the files ``taken`` vouches for
    were not written since it was taken; None when it cannot tell.

    It can when the index is the one listed (same inode, size and times), written more
    than :data:`RACY_NS` before the listing started, and git compares change times. Then
    each entry's recorded times are older than the listing by that margin, any write
    since sets the file's change time past them (git compares it to the second), and a
    file git does not list has not been written since: it holds the id listed.
    """
    if taken.index_signature is None or not taken.ids:
        return None
    try:
        index = taken.index_path
        if index is None:  # a snapshot made without it: ask git where the index is
            locations = _git(taken.root, "rev-parse", "--git-path", "index")
            index = os.path.join(taken.root, _decode(locations).strip())
        if _index_signature(index) != taken.index_signature:
            return None
        if max(taken.index_signature[2:]) >= taken.started_ns - RACY_NS:
            return None
        out = _git(
            taken.root, "--no-optional-locks", "diff-files", "--name-only", "-z", "--relative"
        )
    except git.GitError:
        return None
    if _index_signature(index) != taken.index_signature:
        return None  # rewritten meanwhile: its entries may not be the ones listed
    return frozenset(name for name in _decode(out).split("\0") if name)


def _older_than(path: str, moment_ns: int) -> bool:
    """Whether the file at ``path`` was last written (and changed) before ``moment_ns``;
    True when there is none."""
    try:
        st = os.lstat(path)
    except OSError:
        return True
    return max(st.st_mtime_ns, st.st_ctime_ns) < moment_ns


def _snapshot(folder: str, started: int, outputs: list[bytes], *, vouch: bool) -> Snapshot:
    staged, diff, untracked, config, locations = outputs
    changed, deleted = _changes(diff)
    ids: dict[str, str] = {}
    executables: set[str] = set()
    files: list[str] = []
    repeated = False  # whether a name may be listed twice (an unmerged file's stages)
    # One decode for the whole listing: as os.fsdecode would each name, far cheaper.
    for record in _decode(staged).split("\0"):
        # "<tag> <mode> <id> <stage>\t<path>": fixed widths up to the id's end.
        info, _, name = record.partition("\t")
        if not name:
            continue
        tag, mode, stage = info[0], info[2:8], info[-1]
        object_id = info[9:-2]
        if mode == "160000":
            continue  # a submodule
        if tag == "H" and stage == "0" and mode in _PLAIN_MODES and name not in changed:
            ids[name] = object_id
            files.append(name)
            if mode == "100755":
                executables.add(name)
        elif name not in deleted and (tag == "H" or git.is_file(os.path.join(folder, name))):
            # Changed, a symlink, unmerged (once per stage), or an entry git does not
            # look at in the work tree (assume-unchanged, skip-worktree).
            files.append(name)
            repeated = repeated or stage != "0"
    # The id's width tells the hash: 40 hex digits for SHA-1, 64 for SHA-256.
    width = staged.find(b" ", staged.find(b" ", 2) + 1) - staged.find(b" ", 2) - 1
    algorithm = "sha256" if width == 64 else "sha1" if staged else object_format(folder)
    new = [name for name in _decode(untracked).split("\0") if name and name[-1] != "/"]
    if not vouch:
        ids = {}
    if ids:  # "sub/" above: a nested repository, not a file
        info = os.path.join(folder, _decode(locations).splitlines()[0])
        # A .gitattributes anywhere, tracked ("<info>\t" before it) or not: one search.
        listed = any(
            marker in text
            for text in (staged, b"\0" + untracked)
            for marker in (b"\t.gitattributes\0", b"/.gitattributes\0", b"\0.gitattributes\0")
        )
        converting = _conversion(config, info, listed)
        if converting == "all":
            ids = {}
        elif converting == "some":
            ids = _without_converted(folder, ids)
    return Snapshot(
        root=folder,
        started_ns=started,
        algorithm=algorithm,
        ids=ids,
        # Sorted (git's order already, mostly); no set unless a name may be repeated.
        files=tuple(sorted(dict.fromkeys([*files, *new]) if repeated else [*files, *new])),
        executables=frozenset(executables).intersection(ids),
    )


def _decode(output: bytes) -> str:
    return output.decode(sys.getfilesystemencoding(), "surrogateescape")


def _changes(diff: bytes) -> tuple[set[str], set[str]]:
    """(every path ``git diff --name-status -z`` lists, the deleted ones)."""
    fields = _decode(diff).split("\0")
    changed, deleted = set(), set()
    for status, name in zip(fields[0::2], fields[1::2]):
        changed.add(name)
        if status.startswith("D"):
            deleted.add(name)
    return changed, deleted


def _conversion(config: bytes, info_attributes: str, listed: bool) -> str:
    """Whether git may convert files between the index and the work tree: "all" with
    ``core.autocrlf`` on, "some" when any attributes file exists (each file is then
    asked about), else "none". ``config``: ``git config -z --list``; ``listed``: whether
    the work tree has a ``.gitattributes`` file."""
    settings = {}
    for entry in config.split(b"\0"):
        key, _, value = entry.decode("utf-8", "replace").partition("\n")
        settings[key.lower()] = value
    if settings.get("core.autocrlf", "false").lower() not in ("false", "no", "off", "0", ""):
        return "all"
    if listed:
        return "some"
    xdg = os.environ.get("XDG_CONFIG_HOME") or os.path.join(os.path.expanduser("~"), ".config")
    sources = [
        info_attributes,
        os.path.expanduser(settings.get("core.attributesfile", "")),
        os.path.join(xdg, "git", "attributes"),
        "/etc/gitattributes",
    ]
    if any(path and os.path.isfile(path) and os.path.getsize(path) for path in sources):
        return "some"
    return "none"


def _without_converted(root: str, ids: dict[str, str]) -> dict[str, str]:
    """``ids`` less the files with an attribute that may convert them (one process)."""
    names = b"".join(os.fsencode(name) + b"\0" for name in ids)
    out = _git(root, "check-attr", "-z", "--stdin", *_CONVERTING, stdin=names)
    fields = out.split(b"\0")
    converted = {
        os.fsdecode(raw)
        for raw, value in zip(fields[0::3], fields[2::3])
        if value and value != b"unspecified"
    }
    return {name: object_id for name, object_id in ids.items() if name not in converted}


_SNAPSHOTS: dict[str, Snapshot | None] = {}
_SNAPSHOT_LOCK = threading.Lock()


def snapshot(
    root: str | os.PathLike[str], *, fresh: bool = False, take: bool = True
) -> Snapshot | None:
    """The latest snapshot of ``root`` this process took; a new one when ``fresh``, or
    when there is none and ``take``. Reusing an old one is sound (see the module's
    docstring); a newer one vouches for more files."""
    folder = os.path.abspath(root)
    with _SNAPSHOT_LOCK:
        if fresh or take and folder not in _SNAPSHOTS:
            _SNAPSHOTS[folder] = take_snapshot(folder)
        return _SNAPSHOTS.get(folder)


_FORMATS: dict[str, str] = {}


def object_format(root: str) -> str:
    """The hash git uses in the repository at ``root``: "sha1" or "sha256" (also "sha1"
    outside a repository). Asked once per folder and process."""
    found = _FORMATS.get(root)
    if found is None:
        try:
            found = _decode(_git(root, "rev-parse", "--show-object-format")).strip()
        except git.GitError:
            found = "sha1"
        found = _FORMATS[root] = found if found in ("sha1", "sha256") else "sha1"
    return found


def forget() -> None:
    """Drop every snapshot and remembered id (for tests and long-lived processes)."""
    with _SNAPSHOT_LOCK:
        _SNAPSHOTS.clear()
    _MEMO.clear()
    _FORMATS.clear()


# Absolute path -> (stat signature, id). Worker threads share it; a race costs one extra
# read of the file, nothing worse.
_MEMO: dict[str, tuple[tuple[object, ...], str]] = {}


def identity(full: str, *, algorithm: str = "sha1") -> tuple[str | None, Kind]:
    """(id, kind) of the file at the absolute path ``full``, read and hashed unless
    remembered: id None when it is not a regular file (or a symlink to one) or cannot be
    read."""
    try:
        st = os.lstat(full)
        kind = "l" if stat.S_ISLNK(st.st_mode) else "x" if st.st_mode & 0o111 else "f"
        if kind == "l":
            st = os.stat(full)
    except OSError:
        return None, ""
    if not stat.S_ISREG(st.st_mode):
        return None, ""
    signature = (st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns, kind, algorithm)
    known = _MEMO.get(full)
    if known is not None and known[0] == signature:
        return known[1], kind
    try:
        with open(full, "rb") as f:
            found = blob_id(f.read(), algorithm)
    except OSError:
        return None, ""
    if max(st.st_mtime_ns, st.st_ctime_ns) < time.time_ns() - RACY_NS:
        _MEMO[full] = (signature, found)  # else it may change again within the same tick
    return found, kind


# Fewer files than this are hashed rather than worth a snapshot of the whole repository,
# when the process has none yet (a commit of a few files in a big repository).
SNAPSHOT_MIN_FILES = 1000
# How long after a snapshot its word may stand for a file without a look at the file
# (Identifier.vouched): long enough for a run to plan from the files it just listed.
LISTED_NS = 10_000_000_000


class Identifier:
    """``identifier(name) -> (id, kind)`` for files named relative to ``root``, with the
    ids the latest snapshot of ``root`` vouches for (none outside a git repository).

    ``expected``: how many files will be asked about; below :data:`SNAPSHOT_MIN_FILES`
    no snapshot is taken when the process has none.
    """

    __slots__ = ("_algorithm", "_executables", "_fresh_until", "_ids", "_prefix", "_settled")

    def __init__(self, root: str | os.PathLike[str], *, expected: int | None = None) -> None:
        folder = os.path.abspath(root)
        take = expected is None or expected >= SNAPSHOT_MIN_FILES
        taken = snapshot(folder, take=take)
        self._prefix = os.path.join(folder, "")
        self._ids: Mapping[str, str] = taken.ids if taken is not None else {}
        self._executables = taken.executables if taken is not None else frozenset()
        self._algorithm = taken.algorithm if taken is not None else object_format(folder)
        self._settled = taken.started_ns - RACY_NS if taken is not None else 0
        age = time.time_ns() - taken.started_ns if taken is not None else LISTED_NS
        self._fresh_until = time.monotonic_ns() + LISTED_NS - age

    def listed(self) -> tuple[Mapping[str, str], frozenset[str]]:
        """(ids, executables) of the files as the snapshot found them, to be taken
        without looking at the files now; empty when the snapshot is older than
        :data:`LISTED_NS` (then ask ``identifier(name)``, which looks)."""
        if time.monotonic_ns() > self._fresh_until:
            return {}, frozenset()
        return self._ids, self._executables

    def __call__(self, name: str) -> tuple[str | None, Kind]:
        full = self._prefix + name
        vouched = self._ids.get(name)
        if vouched is not None:
            # The common case: one lstat, nothing read, nothing remembered.
            try:
                st = os.lstat(full)
            except OSError:
                return None, ""
            if (
                st.st_mode & _FORMAT == _REGULAR
                and st.st_mtime_ns < self._settled
                and st.st_ctime_ns < self._settled
            ):
                return vouched, "x" if st.st_mode & 0o111 else "f"
        return identity(full, algorithm=self._algorithm)


def identities(
    root: str | os.PathLike[str], names: Iterable[str]
) -> dict[str, tuple[str | None, Kind]]:
    """``name -> (id, kind)`` for files named relative to ``root`` (see
    :class:`Identifier`)."""
    names = names if isinstance(names, Collection) else list(names)
    identify = Identifier(root, expected=len(names))
    return {name: identify(name) for name in names}


def content_ids(root: str | os.PathLike[str], names: Iterable[str]) -> dict[str, str | None]:
    """``name -> id`` (None: not a readable file) for files named relative to ``root``."""
    names = names if isinstance(names, Collection) else list(names)
    identify = Identifier(root, expected=len(names))
    return {name: identify(name)[0] for name in names}


def file_id(path: str | os.PathLike[str]) -> str | None:
    """The id of the file at ``path``, hashed (or remembered), without asking git."""
    return identity(os.path.abspath(path))[0]
