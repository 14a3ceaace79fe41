"""What huskycat keeps between runs, and how it writes it: the helpers that the cache,
the history, the file-type and pre-commit indexes and the reports share, below all of them.

:func:`state_dir` is where huskycat keeps what it learns about a repository.
:func:`write_atomic` writes a file so that a reader never sees half of it, and never
replaces what the user pointed us at. What the path names decides how it is written:

- nothing yet, or a regular file: a temporary file in the same folder, swapped in with
  ``os.replace``, so that the file is always either the old one or the complete new one;
- a symlink to a regular file (or to nothing yet): the same, at the file the link
  points to; the link stays a link;
- anything else, directly or through symlinks (a FIFO, a terminal, ``/dev/null``,
  ``/dev/stdout`` and other ``/proc/<pid>/fd`` links): written through, as the shell's
  ``>`` would, never replaced by a new regular file. A FIFO nobody reads is an error,
  not a hang. Through ``/dev/stdout`` redirected to a file, the report is appended
  after what was already printed there.
"""

from __future__ import annotations

import errno
import os
import stat
import tempfile
from pathlib import Path

from huskycat import git

# Mode of a new report file: readable by the CI job's other steps, like a plain open().
NEW_FILE_MODE = 0o644
# Links under these resolve to open files, not to paths we could replace.
_MAGIC_FOLDERS = ("/proc/", "/dev/fd/")


def write_atomic(path: str | os.PathLike[str], data: bytes) -> Path:
    """Write ``data`` to ``path`` (see the module's docstring for how); returns the path
    actually written: the link's target for a symlink to a regular file.

    The folder must exist. An existing file keeps its permissions.
    """
    target = Path(path)
    try:
        info: os.stat_result | None = os.stat(target)
    except FileNotFoundError:
        info = None  # nothing there, or a dangling symlink: created where it points
    if info is not None and not stat.S_ISREG(info.st_mode):
        _write_through(target, data, fifo=stat.S_ISFIFO(info.st_mode))
        return target
    if os.path.islink(target):
        real = os.path.realpath(target)
        if real.startswith(_MAGIC_FOLDERS) or _through_magic_link(target):
            # /dev/stdout redirected to a file: its inode is the shell's open file.
            _write_through(target, data, fifo=False, append=True)
            return target
        target = Path(real)
    _replace(target, data, stat.S_IMODE(info.st_mode) if info is not None else NEW_FILE_MODE)
    return target


def _through_magic_link(path: Path) -> bool:
    """Whether following ``path``'s symlinks passes through /proc or /dev/fd (their
    links name open files: ``realpath`` of ``/proc/self/fd/1`` is not a path to replace)."""
    seen = 0
    current = os.path.abspath(path)
    while os.path.islink(current) and seen < 40:
        link = os.readlink(current)
        current = os.path.normpath(os.path.join(os.path.dirname(current), link))
        if current.startswith(_MAGIC_FOLDERS) or current in ("/proc", "/dev/fd"):
            return True
        seen += 1
    return False


def _write_through(path: Path, data: bytes, *, fifo: bool, append: bool = False) -> None:
    flags = os.O_WRONLY | (os.O_APPEND if append else 0) | getattr(os, "O_CLOEXEC", 0)
    if fifo:
        try:
            fd = os.open(path, flags | os.O_NONBLOCK)
        except OSError as exc:
            if exc.errno == errno.ENXIO:
                raise OSError(errno.ENXIO, "it is a FIFO that nothing reads") from exc
            raise
        os.set_blocking(fd, True)
    else:
        fd = os.open(path, flags)
    with os.fdopen(fd, "wb") as out:
        out.write(data)


def _replace(target: Path, data: bytes, mode: int) -> None:
    fd, tmp_name = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as tmp:
            tmp.write(data)
            tmp.flush()
            os.fsync(tmp.fileno())
        os.chmod(tmp_name, mode)
        os.replace(tmp_name, target)
    except BaseException:
        try:
            os.unlink(tmp_name)
        except FileNotFoundError:
            pass
        raise


def state_dir(root: Path | str) -> Path:
    """Where huskycat keeps what it learns about the repository at ``root``.

    ``<git dir>/huskycat``; outside a repository, the user's cache folder
    (``$XDG_CACHE_HOME/huskycat``, by default ``~/.cache/huskycat``).
    """
    # Asked by the cache, the history and the file types of one run: one git process.
    key = (os.path.abspath(root), os.environ.get("GIT_DIR"), os.environ.get("XDG_CACHE_HOME"))
    found = _STATE_DIRS.get(key)
    if found is None or not found.parent.is_dir():
        try:
            found = git.git_dir(root) / "huskycat"
        except git.GitError:
            return user_cache_dir()
        _STATE_DIRS[key] = found
    return found


_STATE_DIRS: dict[tuple[str, str | None, str | None], Path] = {}


def user_cache_dir() -> Path:
    """``$XDG_CACHE_HOME/huskycat``, or ``~/.cache/huskycat``."""
    base = os.environ.get("XDG_CACHE_HOME", "")
    if not os.path.isabs(base):  # the XDG specification: ignore a relative value
        base = os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "huskycat"
