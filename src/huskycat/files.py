"""Which files each tool gets.

Three steps, each its own function:

1. :func:`collect_files` lists the candidate files of a run (all, staged, changed since a
   ref, or exactly the ones named), as paths relative to the root with "/" separators.
2. :func:`select_for_tool` keeps the ones a tool wants, by identify tags
   (:func:`file_tags`), the tool's regexes and the configuration's globs
   (:func:`matches_glob`).
3. :func:`partition` splits a tool's files into batches that fit on one command line.
"""

from __future__ import annotations

import functools
import os
import re
import stat
import sys
from collections.abc import Callable, Collection, Iterable, Sequence
from collections.abc import Set as AbstractSet
from pathlib import Path
from typing import Literal

from identify.identify import tags_from_filename, tags_from_path

from huskycat import content, git
from huskycat.errors import HuskycatError

Mode = Literal["all", "staged", "changed", "files"]
MODES: tuple[Mode, ...] = ("all", "staged", "changed", "files")

# Folders never walked outside a git repository (inside one, .gitignore decides).
SKIPPED_FOLDERS = frozenset(
    {".git", ".hg", ".svn"}  # version control
    | {".venv", "venv", ".tox", ".nox"}  # virtual environments
    | {"__pycache__", ".mypy_cache", ".ruff_cache", ".pytest_cache", "node_modules", ".cache"}
)
# Any folder holding this file is a virtual environment, whatever its name.
VENV_MARKER = "pyvenv.cfg"


class FilesError(HuskycatError):
    """A file selection that cannot be made; the message says which path and why."""


def _relative(root: Path, path: str, what: str) -> str:
    full = os.path.normpath(os.path.join(root, path))
    rel = os.path.relpath(full, root)
    if rel == os.pardir or rel.startswith(os.pardir + os.sep):
        raise FilesError(f"{what} {path!r} is outside the project root {str(root)!r}")
    # As git refuses a path "beyond a symbolic link": through a symlinked folder the file
    # is not the project's, and a fixer would rewrite it wherever the link leads.
    folder = os.path.dirname(rel)
    while folder and folder != os.curdir:
        if os.path.islink(os.path.join(root, folder)):
            raise FilesError(
                f"{what} {path!r} is outside the project root {str(root)!r}: its folder "
                f"{Path(folder).as_posix()!r} is a symbolic link"
            )
        folder = os.path.dirname(folder)
    if not os.path.lexists(full):
        raise FilesError(f"{what} {path!r} does not exist")
    return Path(rel).as_posix()


def collect_files(
    root: Path,
    *,
    mode: Mode = "all",
    paths: Sequence[str] = (),
    ref: str | None = None,
    files: Sequence[str] = (),
) -> list[str]:
    """The files of a run, relative to ``root``, "/"-separated, sorted, without duplicates.

    ``paths`` (relative to ``root`` or absolute; all of ``root`` when empty) limits every
    mode but "files"; each must exist.

    - "all": tracked files plus untracked ones that are not ignored. Outside a git
      repository, every file under ``paths``, skipping :data:`SKIPPED_FOLDERS` and
      virtual environments (folders holding ``pyvenv.cfg``) found on the way.
    - "staged": files added, copied, modified or renamed in the index.
    - "changed": files changed since the fork point of ``ref`` (see
      :func:`huskycat.git.changed_since`), committed or not, plus untracked ones.
    - "files": exactly ``files``, each of which must be an existing file.

    Raises :class:`FilesError` for a missing path or file and for "staged" or "changed"
    outside a git repository; :class:`huskycat.git.GitError` when git fails (a bad ``ref``).
    """
    root = Path(root)
    if mode == "files":
        chosen = {_relative(root, name, "file") for name in files}
        for name in sorted(chosen):
            full = os.path.join(root, name)
            if os.path.isdir(full) and not os.path.islink(full):
                raise FilesError(f"{name!r} is a folder, not a file")
            if not git.is_file(full):
                raise FilesError(f"{name!r} is not a regular file")
        return sorted(chosen)
    if mode not in MODES:
        raise ValueError(f"unknown file mode {mode!r}; expected one of {MODES!r}")
    specs = [_relative(root, path, "path") for path in paths]
    in_repo = git.find_root(root) is not None
    if mode == "all":
        if not in_repo:
            return _walk(root, specs or ["."])
        # Three git processes for the whole tree, and no stat per file (huskycat.content);
        # the snapshot also gives the files' ids to the cache and the file types.
        taken = content.snapshot(root, fresh=True)
        if taken is None:  # git failed: ask again, for its error message
            found = set(git.tracked_files(root, specs)) | set(git.untracked_files(root, specs))
            return sorted(found)
        return _under(taken.files, specs)
    if not in_repo:
        raise FilesError(f"cannot list {mode} files: {str(root)!r} is not in a git repository")
    if mode == "staged":
        return git.staged_files(root, specs)
    if ref is None:
        raise ValueError("mode 'changed' needs a ref")
    return git.changed_since(root, ref, specs)


def _under(names: Sequence[str], specs: Sequence[str]) -> list[str]:
    """The sorted ``names`` inside any of the folders or files ``specs`` (all when empty
    or "."), as git matches literal pathspecs."""
    if not specs or "." in specs:
        return list(names)
    exact = set(specs)
    prefixes = tuple(spec.rstrip("/") + "/" for spec in specs)
    return [name for name in names if name in exact or name.startswith(prefixes)]


def _skipped(folder: str) -> bool:
    name = os.path.basename(folder)
    return name in SKIPPED_FOLDERS or os.path.isfile(os.path.join(folder, VENV_MARKER))


def _walk(root: Path, starts: Iterable[str]) -> list[str]:
    found: set[str] = set()
    for start in starts:
        top = os.path.join(root, start)
        if os.path.islink(top) or not os.path.isdir(top):
            if git.is_file(top):
                found.add(start)
            continue
        # The skip rules apply to folders met on the way, not to those asked for. Paths
        # are built as strings from each folder's relative name: no per-file pathlib or
        # relpath, and the type of each entry comes with the listing (os.scandir).
        base = os.path.normpath(start)
        stack = ["" if base == os.curdir else base.replace(os.sep, "/") + "/"]
        while stack:
            relative = stack.pop()
            try:
                entries = list(os.scandir(os.path.join(root, relative)))
            except OSError:
                continue
            for entry in entries:
                try:
                    if entry.is_symlink() or entry.is_file(follow_symlinks=False):
                        found.add(relative + entry.name)  # a link is a file to git
                    elif entry.is_dir(follow_symlinks=False) and not _skipped(entry.path):
                        stack.append(relative + entry.name + "/")
                except OSError:
                    continue  # gone meanwhile; sockets, FIFOs and devices are neither
    return sorted(found)


def find_tags(path: str | os.PathLike[str]) -> frozenset[str]:
    """The identify tags of ``path`` ("file", "text", "python", "shell", ...).

    Uses ``identify.identify.tags_from_path``, which reads the shebang of an executable
    without a known extension (``#!/usr/bin/env python3`` is "python"). A symlink is
    tagged "symlink" only; a missing or unreadable file, a broken symlink, a folder or a
    FIFO gets no tags.
    """
    try:
        mode = os.lstat(path).st_mode
        if stat.S_ISLNK(mode):
            return frozenset({"symlink"}) if os.path.exists(path) else frozenset()
        if not stat.S_ISREG(mode):
            return frozenset()  # a folder, or a FIFO that reading its shebang would block on
        return frozenset(tags_from_path(os.fspath(path)))
    except (OSError, ValueError):
        return frozenset()


_ENCODING_TAGS = frozenset({"text", "binary"})


@functools.lru_cache(maxsize=2**16)
def _name_tags(name: str) -> frozenset[str]:
    return frozenset(tags_from_filename(name))


def tags_for(path: str, kind: str) -> frozenset[str]:
    """:func:`find_tags` of the file at ``path``, whose kind is known to be ``kind`` ("f"
    a regular file without execute bits, "x" one with; anything else: look).

    The same tags without opening the file when its name alone says text or binary
    (``.py``, ``.png``): identify reads a file only when its name does not (a shebang, or
    text against binary). The name's tags are remembered (many files share a name).
    """
    if kind == "f":
        # A plain file's tags follow from its name alone, when they do: remembered by
        # name, as most files share theirs with others (mod.py, __init__.py).
        base = path.rpartition(os.sep)[2]
        plain = _PLAIN.get(base)
        if plain is not None:
            return plain
        tags = _name_tags(base)
        if _ENCODING_TAGS.isdisjoint(tags):
            return find_tags(path)
        plain = _PLAIN[base] = tags | _NON_EXECUTABLE
        return plain
    if kind != "x":
        return find_tags(path)
    tags = _name_tags(os.path.basename(path))
    if _ENCODING_TAGS.isdisjoint(tags):
        return find_tags(path)
    # No execute bit: not executable for anyone. With one, whether it is for us.
    executable = kind == "x" and os.access(path, os.X_OK)
    return tags | (_EXECUTABLE if executable else _NON_EXECUTABLE)


_PLAIN: dict[str, frozenset[str]] = {}  # base name -> tags of a plain file of that name
_EXECUTABLE = frozenset({"file", "executable"})
_NON_EXECUTABLE = frozenset({"file", "non-executable"})


@functools.cache
def file_tags(path: str | os.PathLike[str]) -> frozenset[str]:
    """:func:`find_tags`, cached for the life of the process (``file_tags.cache_clear()``
    forgets). :class:`huskycat.filetypes.FileTypes` remembers them across runs instead,
    by content."""
    return find_tags(path)


def _translate_segment(segment: str) -> str:
    out: list[str] = []
    i = 0
    while i < len(segment):
        char = segment[i]
        i += 1
        if char == "*":
            while i < len(segment) and segment[i] == "*":
                i += 1
            out.append("[^/]*")
        elif char == "?":
            out.append("[^/]")
        elif char == "[" and (end := segment.find("]", i + 1)) != -1:
            body = segment[i:end]
            i = end + 1
            negate = body.startswith("!")
            body = body[1:] if negate else body
            body = body.replace("\\", "\\\\").replace("^", "\\^")
            out.append(f"[{'^/' if negate else ''}{body}]")
        else:
            out.append(re.escape(char))
    return "".join(out)


@functools.lru_cache(maxsize=1024)
def _compile_glob(pattern: str) -> tuple[re.Pattern[str], bool, bool]:
    """(regex, anchored, folders only) for one glob."""
    folders_only = pattern.endswith("/")
    body = pattern.removeprefix("./").strip("/")
    anchored = "/" in body
    segments = [s for s in body.split("/") if s]
    parts: list[str] = []
    for index, segment in enumerate(segments):
        last = index == len(segments) - 1
        if segment == "**":
            parts.append(".*" if last else "(?:[^/]+/)*")
        else:
            parts.append(_translate_segment(segment) + ("" if last else "/"))
    return re.compile("".join(parts)), anchored, folders_only


def matches_glob(path: str, pattern: str) -> bool:
    """Whether the root-relative POSIX ``path`` matches the configuration glob ``pattern``.

    The rule, close to .gitignore's:

    - ``*`` matches any characters but "/", ``?`` one character but "/", ``[abc]`` and
      ``[!abc]`` one character of (or not of) a class;
    - ``**`` as a whole segment matches any number of folders, none included
      (``src/**/*.py``, ``**/conftest.py``); at the end, everything inside (``build/**``);
    - a pattern with a "/" inside is anchored at the root (a leading "/" or "./" is
      dropped); one without (``*.py``, ``vendor``, ``vendor/``) matches a file or folder
      name at any depth;
    - a pattern that matches a folder matches every file under it (``docs`` matches
      ``docs/a.md``);
    - a trailing "/" matches folders only.

    Matching is case-sensitive.
    """
    regex, anchored, folders_only = _compile_glob(pattern)
    parts = path.split("/")
    if folders_only:
        parts = parts[:-1]
    if anchored:
        candidates = ("/".join(parts[: i + 1]) for i in range(len(parts)))
        return any(regex.fullmatch(c) for c in candidates)
    return any(regex.fullmatch(part) for part in parts)


def select_for_tool(
    files: Iterable[str],
    tags_of: Callable[[str], AbstractSet[str]],
    *,
    types: Collection[str] = (),
    exclude_types: Collection[str] = (),
    files_regex: str = "",
    exclude_regex: str = "",
    include_globs: Sequence[str] = (),
    exclude_globs: Sequence[str] = (),
) -> list[str]:
    """The ``files`` a tool gets, in their order.

    A file is kept when it has any of ``types`` (any file when empty) and none of
    ``exclude_types`` (tags from ``tags_of``), ``re.search`` finds ``files_regex`` (any
    when empty) and not ``exclude_regex`` in its path, and it matches one of
    ``include_globs`` (any when empty) and none of ``exclude_globs`` (see
    :func:`matches_glob`). Tags are asked for last, and only when types are given.
    """
    include = re.compile(files_regex) if files_regex else None
    exclude = re.compile(exclude_regex) if exclude_regex else None
    wanted, unwanted = frozenset(types), frozenset(exclude_types)
    kept: list[str] = []
    for name in files:
        if include is not None and not include.search(name):
            continue
        if exclude is not None and exclude.search(name):
            continue
        if include_globs and not any(matches_glob(name, g) for g in include_globs):
            continue
        if exclude_globs and any(matches_glob(name, g) for g in exclude_globs):
            continue
        if wanted or unwanted:
            tags = tags_of(name)
            if wanted and wanted.isdisjoint(tags) or not unwanted.isdisjoint(tags):
                continue
        kept.append(name)
    return kept


def _environment_size() -> int:
    environ = os.environb if sys.platform != "win32" else os.environ
    # Each entry is "KEY=VALUE\0" plus a pointer to it.
    return sum(len(k) + len(v) + 2 + 8 for k, v in environ.items())


def max_command_length() -> int:
    """A conservative bound, in bytes, on the argument list of one command on this OS.

    At most half of ``SC_ARG_MAX`` and 128 KiB, less the environment's size, never below
    4 KiB (the POSIX minimum); 30 KiB on Windows (its limit is 32,767 characters).
    """
    if sys.platform == "win32":
        return 2**15 - 2048
    try:
        arg_max = os.sysconf("SC_ARG_MAX")
    except (ValueError, OSError):
        arg_max = 2**12
    if arg_max <= 0:
        arg_max = 2**12
    return max(min(arg_max // 2, 2**17) - _environment_size(), 2**12)


def command_length(argv: Iterable[str]) -> int:
    """The bytes ``argv`` takes on a command line, as :func:`partition` counts them."""
    return sum(_argument_length(arg) for arg in argv)


def _argument_length(arg: str) -> int:
    return len(os.fsencode(arg)) + 1 + 8  # the bytes, the NUL, the pointer to them


def partition(
    argv_prefix_len: int, files: Sequence[str], max_chars: int | None = None
) -> list[list[str]]:
    """Split ``files`` into batches, in order, each fitting after a command prefix.

    ``argv_prefix_len`` is the :func:`command_length` of the executable and fixed
    arguments; ``max_chars`` defaults to :func:`max_command_length`. Every file lands
    in exactly one batch; no files, no batches. Raises ``ValueError`` when a single file
    does not fit.
    """
    limit = max_command_length() if max_chars is None else max_chars
    budget = limit - argv_prefix_len
    batches: list[list[str]] = []
    batch: list[str] = []
    used = 0
    for name in files:
        # As _argument_length, inline: this runs for every file of every tool.
        size = (len(name) if name.isascii() else len(os.fsencode(name))) + 9
        if size > budget:
            raise ValueError(
                f"{name!r} does not fit on a command line: {argv_prefix_len} bytes of "
                f"command plus {size} of file name exceed the limit of {limit}"
            )
        if used + size > budget:
            batches.append(batch)
            batch, used = [], 0
        batch.append(name)
        used += size
    if batch:
        batches.append(batch)
    return batches
