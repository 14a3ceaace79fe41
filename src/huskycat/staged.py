"""Staged mode: the tools check what will be committed, not what is in the work tree.

``with checking_staged(root) as stash:`` sets aside the unstaged changes to tracked
files, so that the work tree holds the staged content while the block runs the tools,
and puts them back byte for byte when the block ends, however it ends: a failed tool, an
exception, Ctrl-C, SIGTERM or SIGHUP. How the data flows::

    git rev-parse         top level and git directory; refuse to start while
                          <git dir>/huskycat/unstaged-* exists (an earlier run's backup)
    git diff --raw        tracked paths whose work tree differs from the index; none: run
                          the block and nothing else (the fast path, two git calls)
    backup                <git dir>/huskycat/unstaged-<UTC time>-<pid>/
                            saved/<path>    the work tree's version: a file with its
                                            permission bits, a symlink as a symlink,
                                            nothing for a deleted file
                            base/<path>     the index's version, as `git checkout-index`
                                            writes it (filters, end of lines, +x)
                            unstaged.patch  the same changes as `git diff --binary`
                            manifest.json   per path: kind, permission bits and sha256 of
                                            both versions; folders the checkout created
                          written as incomplete-<...> and renamed once complete
    work tree             every path <- base/<path>; the block runs
    put back              per path, whatever happened in the block:
                            still the index's version  -> saved/<path>
                            changed, by a fixer        -> git merge-file (fixer, base, saved)
                                                          clean: both kept ("merged")
                                                          else:  saved/<path>, the fixer's
                                                          edit dropped ("rolled back")
                          each path checked against its target, then the backup deleted

Full copies, not only a patch as pre-commit keeps: putting back a copy is exact whatever
git's conversions (core.autocrlf, smudge filters, whitespace rules), needs no git call
and cannot fail to apply; the sha256 of each version tells, after a crash, which files
still hold what huskycat wrote and can be put back without losing anything. The patch is
kept beside the copies for people (`git apply` it by hand, or read it). Fixer edits are
combined with a three-way merge of each file rather than by applying the patch on top:
the same outcome when the patch applies, and hunks near, but not touching, a fix merge
where ``git apply`` would refuse for want of context.

Only tracked files are set aside. Untracked and ignored files stay in the work tree, as
with pre-commit: they are not in the staged file list the tools get, moving them would
surprise editors and build tools, and they may be large. Project-wide tools (mypy) can
still read them. Intent-to-add files (``git add -N``) have no staged content and count
as untracked; unmerged paths are left alone too. Nothing here writes the index.

A hard kill (SIGKILL, power cut) leaves the backup behind. The next
:func:`checking_staged` refuses to start and names it; :func:`recover` puts it back.
Backups survive the death of the process; they are not fsync'ed, like git's own index.

One run at a time: while its block runs, :func:`checking_staged` holds an exclusive
``flock`` on ``<git dir>/huskycat/staged.lock`` (holding its pid), which the kernel
releases when the process dies, however it dies. A second staged run, and
:func:`recover`, refuse while it is held and name that pid: recovering the backup of a
live run would put unstaged changes back under the tools' feet.
"""

from __future__ import annotations

import contextlib
import dataclasses
import errno
import fcntl
import hashlib
import json
import os
import shutil
import stat
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, NamedTuple

from huskycat import git
from huskycat.errors import HuskycatError
from huskycat.signals import Terminated, signals_deferred, terminate_raises

__all__ = [
    "RECOVER_COMMAND",
    "BusyError",
    "RecoveryConflictError",
    "RestoreError",
    "Restored",
    "StagedError",
    "Stash",
    "Terminated",
    "UnrestoredBackupError",
    "checking_staged",
    "leftover_backups",
    "recover",
    "refuse_while_set_aside",
]

STORE = "huskycat"  # folder in the git directory
LOCK_NAME = "staged.lock"
BACKUP_PREFIX = "unstaged-"
_INCOMPLETE_PREFIX = "incomplete-"
_FORMAT = 1
# What people are told to run; cli.py may grow its own verb for it.
RECOVER_COMMAND = "huskycat recover"

Kind = Literal["file", "symlink", "missing"]


class Version(NamedTuple):
    """One path's content: a file (with permission bits), a symlink, or nothing."""

    kind: Kind
    mode: int  # permission bits of a file; 0 otherwise
    sha256: str  # of the bytes, or of the symlink's target; "" when missing


_MISSING = Version("missing", 0, "")


@dataclass(frozen=True)
class _Entry:
    path: str  # relative to the top level, "/"-separated
    saved: Version
    base: Version


@dataclass(frozen=True)
class _Backup:
    folder: Path
    top: Path
    entries: tuple[_Entry, ...]
    created_dirs: tuple[str, ...]  # made to check out a file the work tree had deleted


@dataclass(frozen=True)
class Restored:
    """What putting one backup back did."""

    backup: Path
    files: tuple[str, ...]  # every path that had been set aside
    merged: tuple[str, ...]  # a fixer's edits kept together with the unstaged changes
    rolled_back: tuple[str, ...]  # a fixer's edits dropped: they conflicted with them
    warning: str | None = None  # the backup's manifest was damaged and was rebuilt


# --- errors ------------------------------------------------------------------------------
class StagedError(HuskycatError):
    """Unstaged changes could not be set aside or put back; the message says where."""


class UnrestoredBackupError(StagedError):
    """An earlier run's backup of unstaged changes was never put back."""

    def __init__(self, backups: Sequence[Path]) -> None:
        super().__init__(list(backups))
        self.backups = list(backups)

    def __str__(self) -> str:
        folder = self.backups[0]
        more = f" (and {len(self.backups) - 1} more)" if len(self.backups) > 1 else ""
        text = (
            f"an earlier huskycat run set aside unstaged changes and did not put them back; "
            f"they are kept in {str(folder)!r}{more} (your versions of the files are in its "
            f"saved/ folder). Put them back with `{RECOVER_COMMAND}`, then run huskycat again"
        )
        pid = _pid_of(folder.name)
        if pid is not None and pid != os.getpid() and _alive(pid):
            text += f"; if huskycat (pid {pid}) is still running, let it finish first"
        return text


class BusyError(StagedError):
    """Another live huskycat process has the unstaged changes of this repository set aside."""

    def __init__(self, lock: Path, pid: int | None, doing: str) -> None:
        super().__init__(lock, pid, doing)
        self.lock, self.pid, self.doing = lock, pid, doing

    def __str__(self) -> str:
        who = f"huskycat (pid {self.pid})" if self.pid else "another huskycat process"
        return (
            f"{who} is running in staged mode in this repository and has its unstaged "
            f"changes set aside (it holds {str(self.lock)!r}); cannot {self.doing} until "
            f"it has finished"
        )


class RestoreError(StagedError):
    """Putting a backup back failed; the backup stays where it is."""

    def __init__(self, backup: Path, reason: str) -> None:
        super().__init__(backup, reason)
        self.backup = backup
        self.reason = reason

    def __str__(self) -> str:
        return (
            f"could not put back the unstaged changes kept in {str(self.backup)!r}: "
            f"{self.reason}; they stay there until `{RECOVER_COMMAND}` succeeds"
        )


class RecoveryConflictError(StagedError):
    """Files changed since the backup was taken, in ways that overlap the backup's."""

    def __init__(self, backup: Path, paths: Sequence[str]) -> None:
        super().__init__(backup, list(paths))
        self.backup = backup
        self.paths = list(paths)

    def __str__(self) -> str:
        names = ", ".join(repr(p) for p in self.paths)
        return (
            f"{names} changed since huskycat set aside their unstaged changes in "
            f"{str(self.backup)!r}, and the changes overlap: nothing was put back. Your "
            f"unstaged versions are in its saved/ folder; copy them back by hand and delete "
            f"the folder, or run `{RECOVER_COMMAND} --overwrite` to replace those files "
            f"with them"
        )


# --- the context manager -------------------------------------------------------------------
class Stash:
    """What :func:`checking_staged` set aside and, after the block, what putting it back did."""

    def __init__(self, top: Path, files: tuple[str, ...]) -> None:
        self.top = top
        self.files = files  # tracked paths whose unstaged changes were set aside
        self.backup: Path | None = None  # their backup while the block runs
        self.restored = False  # True once they are back and the backup is gone
        self.merged: tuple[str, ...] = ()  # fixed, and the unstaged changes kept too
        self.rolled_back: tuple[str, ...] = ()  # fixes dropped: they conflicted

    def messages(self) -> list[str]:
        """Lines for the user about fixes merged with, or dropped for, unstaged changes."""
        lines = []
        if self.rolled_back:
            lines.append(
                f"the fixes to {_listing(self.rolled_back)} conflicted with your unstaged "
                f"changes and were rolled back; your unstaged changes are back as they were"
            )
        if self.merged:
            lines.append(
                f"the fixes to {_listing(self.merged)} were kept together with your "
                f"unstaged changes"
            )
        return lines

    def _done(self, restored: Restored) -> None:
        self.restored = True
        self.merged = restored.merged
        self.rolled_back = restored.rolled_back


@contextlib.contextmanager
def checking_staged(root: Path | str) -> Iterator[Stash]:
    """Set aside the unstaged changes to tracked files for the block; put them back after.

    Inside the block the work tree holds the staged content (of the index
    ``GIT_INDEX_FILE`` names, during ``git commit -a``). On the way out, however the block
    ends, every file gets its unstaged version back, byte for byte and with its mode;
    where a fixer changed a file, its edits are kept when they merge cleanly with the
    unstaged changes and dropped otherwise (``stash.merged``, ``stash.rolled_back``).
    SIGTERM and SIGHUP raise :class:`Terminated` in the block, and signals wait while
    files are being swapped.

    Raises :class:`UnrestoredBackupError` before touching anything while an earlier
    run's backup exists, :class:`StagedError` when the changes cannot be set aside
    (nothing is left changed), :class:`RestoreError` when they cannot be put back (the
    backup stays), and ``git.GitError``.
    """
    top, git_dir = git.top_and_git_dir(root)
    store = git_dir / STORE
    _refuse_leftovers(store, "start")
    changes = git.unstaged_changes(top)
    # M modified, D deleted, T type changed; not A (intent-to-add) or U (unmerged: in a
    # merge with conflicts git lists such a path twice, as U and as M).
    unmerged = {path for status, path in changes if status == "U"}
    if unmerged:
        raise StagedError(
            f"{_listing(sorted(unmerged))} {'is' if len(unmerged) == 1 else 'are'} unmerged "
            f"(a merge with conflicts is in progress): resolve and `git add` "
            f"{'it' if len(unmerged) == 1 else 'them'}, then run huskycat again"
        )
    paths = tuple(
        path for status, path in changes if status in ("M", "D", "T") and path not in unmerged
    )
    stash = Stash(top, paths)
    if not paths:
        yield stash
        return
    with _one_run_at_a_time(store, "start"), terminate_raises():
        # Under the lock, again: a run that held it until just now set aside and put back.
        leftovers = _leftovers(store)
        if leftovers:
            raise UnrestoredBackupError(leftovers)
        backup = None
        try:
            with signals_deferred():
                backup = _write_backup(top, store, paths, every=len(paths) == len(changes))
                stash.backup = backup.folder
                _check_out_base(backup)
            yield stash
        finally:
            if backup is not None:
                _put_back_whatever_arrives(stash, backup)


def _put_back_whatever_arrives(stash: Stash, backup: _Backup) -> None:
    """Put the backup back, signals held; a signal that arrives before they are held (the
    first instant of the ``finally``) does not skip it: it is re-raised once it is done."""
    interrupt: KeyboardInterrupt | None = None
    while not stash.restored:
        try:
            with signals_deferred():
                if not stash.restored:
                    stash._done(_put_back(backup, on_conflict="roll back"))
        except KeyboardInterrupt as exc:  # before the hold, or delivered after the put back
            interrupt = interrupt or exc
    if interrupt is not None:
        raise interrupt


def refuse_while_set_aside(root: Path | str) -> None:
    """Raise :class:`BusyError` while a live staged run has unstaged changes set aside,
    :class:`UnrestoredBackupError` while a dead one's backup is left; else nothing."""
    _, git_dir = git.top_and_git_dir(root)
    _refuse_leftovers(git_dir / STORE, "start")


def _refuse_leftovers(store: Path, doing: str) -> None:
    leftovers = _leftovers(store)
    if leftovers:
        with _one_run_at_a_time(store, doing):  # BusyError: the run is alive
            raise UnrestoredBackupError(leftovers)


def leftover_backups(root: Path | str) -> list[Path]:
    """Backups of unstaged changes that earlier runs did not put back, oldest first.

    Half-written ones of dead processes (killed before touching the work tree) are
    deleted on the way.
    """
    _, git_dir = git.top_and_git_dir(root)
    return _leftovers(git_dir / STORE)


def recover(root: Path | str, *, overwrite: bool = False) -> list[Restored]:
    """Put back every backup an earlier run left, oldest first; say what each did.

    A file still holding what huskycat checked out gets its unstaged version back; one
    changed since (by a fixer of the killed run, or by hand) is merged with it when the
    changes do not overlap. Overlapping changes raise :class:`RecoveryConflictError` and
    nothing of that backup is written, unless ``overwrite``: then the unstaged version
    replaces the file.
    """
    top, git_dir = git.top_and_git_dir(root)
    done: list[Restored] = []
    store = git_dir / STORE
    if not _leftovers(store):
        return done
    with _one_run_at_a_time(store, "recover"), terminate_raises(), signals_deferred():
        for folder in _leftovers(store):
            backup, warning = _load(folder, top)
            restored = _put_back(backup, on_conflict="roll back" if overwrite else "refuse")
            done.append(dataclasses.replace(restored, warning=warning))
    return done


# --- one run at a time -------------------------------------------------------------------
@contextlib.contextmanager
def _one_run_at_a_time(store: Path, doing: str) -> Iterator[None]:
    """Hold ``store/staged.lock`` for the block; :class:`BusyError` naming the holder's
    pid when a live process holds it. Where it cannot be created (a read-only git
    folder) the block runs without it: writing the backup fails there anyway, clearly."""
    lock = store / LOCK_NAME
    try:
        store.mkdir(parents=True, exist_ok=True)
        fd = os.open(lock, os.O_RDWR | os.O_CREAT | getattr(os, "O_CLOEXEC", 0), 0o644)
    except OSError:
        yield
        return
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as exc:
            if exc.errno not in (errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES):
                raise StagedError(f"cannot lock {str(lock)!r}: {exc}") from exc
            raise BusyError(lock, _pid_in(fd), doing) from None
        with contextlib.suppress(OSError):
            os.ftruncate(fd, 0)
            os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        yield
    finally:
        os.close(fd)  # releases the lock


def _pid_in(fd: int) -> int | None:
    try:
        text = os.pread(fd, 32, 0).decode("ascii", "replace").strip()
    except OSError:
        return None
    return int(text) if text.isdigit() else None


# --- setting aside -------------------------------------------------------------------------
def _write_backup(top: Path, store: Path, paths: Sequence[str], *, every: bool) -> _Backup:
    name = f"{time.strftime('%Y%m%dT%H%M%SZ', time.gmtime())}-{os.getpid()}"
    temp = store / f"{_INCOMPLETE_PREFIX}{name}"
    try:
        temp.mkdir(parents=True)
        entries = []
        for path in paths:
            _refuse_symlinked_folder(top, path)
            saved, data = _read(top / path)
            _put(temp / "saved" / path, saved, data)
            entries.append((path, saved))
        git.checkout_index_to(top, paths, temp / "base")
        full = [_Entry(p, saved, _read(temp / "base" / p)[0]) for p, saved in entries]
        lost = [e.path for e in full if e.base.kind == "missing"]
        if lost:
            raise StagedError(f"git checked out no staged version of {_listing(lost)}")
        # Only the paths set aside, when some changes (intent-to-add) were left out.
        (temp / "unstaged.patch").write_bytes(git.unstaged_patch(top, None if every else paths))
        created = _missing_folders(top, [e.path for e in full if e.saved.kind == "missing"])
        manifest = {
            "format": _FORMAT,
            "pid": os.getpid(),
            "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            "top": str(top),
            "index": os.environ.get("GIT_INDEX_FILE"),
            "created_dirs": created,
            "entries": [
                {"path": e.path, "saved": e.saved._asdict(), "base": e.base._asdict()} for e in full
            ],
        }
        (temp / "manifest.json").write_text(json.dumps(manifest, indent=1) + "\n", "ascii")
        folder = store / f"{BACKUP_PREFIX}{name}"
        os.rename(temp, folder)
    except BaseException as exc:
        shutil.rmtree(temp, ignore_errors=True)
        if isinstance(exc, OSError):
            raise StagedError(f"could not set aside the unstaged changes: {exc}") from exc
        raise
    return _Backup(folder, top, tuple(full), tuple(created))


def _check_out_base(backup: _Backup) -> None:
    try:
        for entry in backup.entries:
            _put(backup.top / entry.path, *_read(backup.folder / "base" / entry.path))
    except OSError as exc:  # the caller's finally puts back what was swapped
        raise StagedError(f"could not check out the staged version: {exc}") from exc


def _refuse_symlinked_folder(top: Path, path: str) -> None:
    # Writing top/d/f when the work tree's d is a symlink would write outside the repository.
    folder = Path(path).parent
    while folder != Path("."):
        if (top / folder).is_symlink():
            raise StagedError(
                f"cannot set aside the unstaged changes to {path!r}: its folder "
                f"{folder.as_posix()!r} is a symlink in the work tree"
            )
        folder = folder.parent


def _missing_folders(top: Path, paths: Sequence[str]) -> list[str]:
    missing: set[str] = set()
    for path in paths:
        folder = Path(path).parent
        while folder != Path(".") and not (top / folder).is_dir():
            missing.add(folder.as_posix())
            folder = folder.parent
    return sorted(missing)


# --- putting back --------------------------------------------------------------------------
def _put_back(backup: _Backup, *, on_conflict: Literal["roll back", "refuse"]) -> Restored:
    try:
        return _put_back_or_fail(backup, on_conflict)
    except (OSError, git.GitError) as exc:
        raise RestoreError(backup.folder, str(exc)) from exc


def _put_back_or_fail(backup: _Backup, on_conflict: str) -> Restored:
    top = backup.top
    targets: list[tuple[str, Version, bytes]] = []
    merged, rolled_back, conflicting = [], [], []
    for entry in backup.entries:
        _refuse_symlinked_folder(top, entry.path)  # writing there would leave the work tree
        now = _version(top / entry.path)
        if now == entry.saved:
            continue
        if now.kind == entry.base.kind and now.sha256 == entry.base.sha256:
            targets.append((entry.path, entry.saved, _saved_bytes(backup, entry)))
            continue
        combined = _merge(backup, entry) if now.kind == "file" else None
        if combined is not None:
            merged.append(entry.path)
            version = Version("file", entry.saved.mode, _sha(combined))
            targets.append((entry.path, version, combined))
        elif on_conflict == "roll back":
            rolled_back.append(entry.path)
            targets.append((entry.path, entry.saved, _saved_bytes(backup, entry)))
        else:
            conflicting.append(entry.path)
    if conflicting:
        raise RecoveryConflictError(backup.folder, conflicting)
    for path, version, data in targets:
        _put(top / path, version, data)
    wrong = [path for path, version, _ in targets if _version(top / path) != version]
    if wrong:
        raise OSError(f"{_listing(wrong)} did not read back as written")
    for folder in sorted(backup.created_dirs, key=len, reverse=True):
        with contextlib.suppress(OSError):  # not empty: something else lives there now
            os.rmdir(top / folder)
    shutil.rmtree(backup.folder)
    return Restored(
        backup.folder,
        tuple(e.path for e in backup.entries),
        tuple(merged),
        tuple(rolled_back),
    )


def _saved_bytes(backup: _Backup, entry: _Entry) -> bytes:
    if entry.saved.kind == "missing":
        return b""
    version, data = _read(backup.folder / "saved" / entry.path)
    if version.kind != entry.saved.kind or version.sha256 != entry.saved.sha256:
        raise OSError(f"the backup's copy of {entry.path!r} is damaged")
    return data


def _merge(backup: _Backup, entry: _Entry) -> bytes | None:
    if entry.saved.kind != "file" or entry.base.kind != "file":
        return None
    return git.merge_file(
        backup.top,
        backup.top / entry.path,
        backup.folder / "base" / entry.path,
        backup.folder / "saved" / entry.path,
    )


# --- backups on disk -----------------------------------------------------------------------
def _leftovers(store: Path) -> list[Path]:
    try:
        names = sorted(os.listdir(store))
    except (FileNotFoundError, NotADirectoryError):
        return []
    found = []
    for name in names:
        if name.startswith(BACKUP_PREFIX):
            if (store / name).is_dir() and not (store / name).is_symlink():
                found.append(store / name)  # a stray file of that name holds nothing
        elif name.startswith(_INCOMPLETE_PREFIX):
            # Killed while writing its backup, before touching the work tree: garbage.
            pid = _pid_of(name)
            if pid is None or not _alive(pid):
                shutil.rmtree(store / name, ignore_errors=True)
    return found


def _load(folder: Path, top: Path) -> tuple[_Backup, str | None]:
    """The backup in ``folder``, and a warning when its manifest was damaged (truncated,
    garbage, absurd values such as a path leading out of the work tree) and was rebuilt
    from the copies the folder keeps, which are what matters."""
    where = folder / "manifest.json"
    try:
        manifest: dict[str, Any] = json.loads(where.read_text("ascii"))
        if manifest.get("format") != _FORMAT:
            raise ValueError(f"format {manifest.get('format')!r}, expected {_FORMAT}")
        entries = tuple(
            _Entry(_checked_path(e["path"]), _checked(e["saved"]), _checked(e["base"]))
            for e in manifest["entries"]
        )
        created = tuple(_checked_path(d) for d in manifest["created_dirs"])
        # The work tree as found now, not as recorded: the repository may have moved.
        return _Backup(folder, top, entries, created), None
    except (OSError, ValueError, KeyError, TypeError, AttributeError, RecursionError) as exc:
        problem = f"{exc.strerror or exc}" if isinstance(exc, OSError) else f"{exc}"
        warning = (
            f"the manifest {str(where)!r} was damaged ({problem}); rebuilt from the "
            f"copies in that folder"
        )
        return _Backup(folder, top, _rebuilt_entries(folder), ()), warning


def _checked_path(value: object) -> str:
    if not isinstance(value, str) or not value or "\0" in value:
        raise ValueError(f"bad path {value!r}")
    parts = value.split("/")
    if value.startswith("/") or any(p in ("", ".", "..") for p in parts):
        raise ValueError(f"path {value!r} leaves the work tree")
    return value


def _checked(value: object) -> Version:
    if not isinstance(value, dict):
        raise TypeError(f"bad version {value!r}")
    version = Version(**value)
    kind, mode, sha = version
    sound = (
        kind in ("file", "symlink", "missing")
        and isinstance(mode, int)
        and 0 <= mode <= 0o7777
        and isinstance(sha, str)
        and (sha == "" if kind == "missing" else len(sha) == 64)
    )
    if not sound:
        raise ValueError(f"bad version {value!r}")
    return version


def _rebuilt_entries(folder: Path) -> tuple[_Entry, ...]:
    """Entries for every path under saved/ or base/: each version read from its copy (a
    path only in base/ had been deleted in the work tree)."""
    paths: set[str] = set()
    for side in ("saved", "base"):
        start = folder / side
        for current, subfolders, names in os.walk(start):
            # os.walk does not follow symlinked folders: they are entries, like files.
            links = [d for d in subfolders if os.path.islink(os.path.join(current, d))]
            for name in (*names, *links):
                rel = os.path.relpath(os.path.join(current, name), start)
                paths.add(Path(rel).as_posix())
    return tuple(
        _Entry(p, _version(folder / "saved" / p), _version(folder / "base" / p))
        for p in sorted(paths)
    )


def _pid_of(name: str) -> int | None:
    tail = name.rsplit("-", 1)[-1]
    return int(tail) if tail.isdigit() else None


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # exists, but is someone else's
        return True
    return True


# --- files -------------------------------------------------------------------------------
def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _read(path: Path) -> tuple[Version, bytes]:
    """The version at ``path`` and its bytes (a symlink's target for a symlink)."""
    try:
        info = os.lstat(path)
    except (FileNotFoundError, NotADirectoryError):
        return _MISSING, b""
    if stat.S_ISLNK(info.st_mode):
        data = os.fsencode(os.readlink(path))
        return Version("symlink", 0, _sha(data)), data
    if stat.S_ISREG(info.st_mode):
        data = path.read_bytes()
        return Version("file", stat.S_IMODE(info.st_mode), _sha(data)), data
    raise OSError(f"{str(path)!r} is neither a file nor a symlink")


def _version(path: Path) -> Version:
    return _read(path)[0]


def _put(path: Path, version: Version, data: bytes) -> None:
    """Make ``path`` hold ``version`` (``data`` its bytes), replacing it in one step."""
    if version.kind == "missing":
        with contextlib.suppress(FileNotFoundError, NotADirectoryError):
            os.unlink(path)
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    temp = _new_temp(path, version, data)
    try:
        if version.kind == "file":
            os.chmod(temp, version.mode)
        os.replace(temp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temp)
        raise


def _new_temp(path: Path, version: Version, data: bytes) -> Path:
    """A new file or symlink beside ``path``, under a name nothing else uses."""
    while True:
        temp = path.with_name(f".huskycat-{os.urandom(4).hex()}.tmp")
        try:
            if version.kind == "symlink":
                os.symlink(os.fsdecode(data), temp)
                return temp
            fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            continue
        try:
            with open(fd, "wb") as out:
                out.write(data)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(temp)
            raise
        return temp


def _listing(paths: Sequence[str]) -> str:
    return ", ".join(repr(p) for p in paths)


# --- python -m huskycat.staged recover ---------------------------------------------------
