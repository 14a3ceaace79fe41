"""Thin wrappers over the git command line.

Every call is an argv list run with stdin from /dev/null, ``-z`` (NUL-separated) output
and ``--`` before pathspecs, so that file names with spaces, newlines, non-UTF-8 bytes or
a leading dash come through intact. Pathspecs are literal (``--literal-pathspecs``): a
file named ``*.py`` means that file, not a glob.

``root`` is the folder the caller works in: the top level of the work tree (as
:func:`find_root` returns it) or a folder inside it, in which case only files under it
are reported. Every function returns paths relative to ``root`` as POSIX strings,
sorted, without duplicates, and only those that exist as files (or symlinks) in the work
tree: deleted files, submodules and nested repositories are left out.
"""

from __future__ import annotations

import os
import shlex
import stat
import subprocess
from collections.abc import Iterable, Sequence
from pathlib import Path

from huskycat.errors import HuskycatError

# Git exports these to hooks; they would point every command at the hook's repository
# whatever our ``cwd``. GIT_INDEX_FILE is kept on purpose: `git commit -a` hands its
# pre-commit hook a temporary index, and that is the one whose staged files we want.
_LOCATING_VARIABLES = frozenset({"GIT_DIR", "GIT_WORK_TREE", "GIT_COMMON_DIR", "GIT_PREFIX"})


def _start_folder() -> str:
    try:
        return os.getcwd()
    except OSError:  # the folder was deleted under us
        return os.sep


# Where the process started: a hook starts in the top level of the work tree.
_START_FOLDER = _start_folder()


class GitError(HuskycatError):
    """A git command failed: renders the command, its exit code and git's stderr."""

    def __init__(
        self,
        argv: Sequence[str],
        returncode: int | None,
        stderr: str,
        *,
        reason: str | None = None,
    ) -> None:
        super().__init__(argv, returncode, stderr, reason)
        self.argv = tuple(argv)
        self.returncode = returncode
        self.stderr = stderr
        self.reason = reason

    def __str__(self) -> str:
        command = shlex.join(self.argv)
        if self.returncode is None:
            text = f"could not run `{command}`: {self.stderr}"
        else:
            text = f"`{command}` failed with exit code {self.returncode}"
            detail = " ".join(self.stderr.split())
            if detail:
                text += f": {detail}"
        return f"{self.reason}: {text}" if self.reason else text


def _environment(extra: dict[str, str] | None = None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in _LOCATING_VARIABLES}
    # A plain `git commit` passes GIT_INDEX_FILE=.git/index, relative to the folder the
    # hook started in; our ``cwd`` may be another, and the process may have moved since.
    if env.get("GIT_INDEX_FILE"):
        env["GIT_INDEX_FILE"] = os.path.join(_START_FOLDER, env["GIT_INDEX_FILE"])
    env.update(extra or {})
    return env


def _run(
    root: Path | str,
    *args: str,
    reason: str | None = None,
    extra_env: dict[str, str] | None = None,
    stdin: bytes | None = None,
) -> subprocess.CompletedProcess[bytes]:
    argv = ["git", "--literal-pathspecs", *args]
    try:
        proc = subprocess.run(
            argv,
            cwd=root,
            stdin=subprocess.DEVNULL if stdin is None else None,
            input=stdin,
            capture_output=True,
            env=_environment(extra_env),
            check=False,
        )
    except OSError as exc:  # git not installed, or root is not a folder
        raise GitError(argv, None, str(exc), reason=reason) from exc
    return proc


def _check(
    root: Path | str, *args: str, reason: str | None = None, stdin: bytes | None = None
) -> bytes:
    proc = _run(root, *args, reason=reason, stdin=stdin)
    if proc.returncode != 0:
        stderr = proc.stderr.decode("utf-8", "replace")
        raise GitError(["git", *args], proc.returncode, stderr, reason=reason)
    return proc.stdout


def check_output(root: Path | str, *args: str, stdin: bytes | None = None) -> bytes:
    """The output of ``git <args>`` run in ``root`` the way every call here is (literal
    pathspecs, no hook variables); :class:`GitError` when git fails."""
    return _check(root, *args, stdin=stdin)


def check_outputs(root: Path | str, *commands: Sequence[str]) -> list[bytes]:
    """The outputs of several git commands run side by side in ``root`` (as
    :func:`check_output`); :class:`GitError` for the first that fails."""
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(max_workers=len(commands) or 1) as pool:
        futures = [pool.submit(_run, root, *args) for args in commands]
        procs = [future.result() for future in futures]
    for args, proc in zip(commands, procs):
        if proc.returncode != 0:
            stderr = proc.stderr.decode("utf-8", "replace")
            raise GitError(["git", *args], proc.returncode, stderr)
    return [proc.stdout for proc in procs]


def _one_line(output: bytes) -> str:
    # Not strip(): a path may end in whitespace. Git adds exactly one newline.
    return os.fsdecode(output[:-1] if output.endswith(b"\n") else output)


def _existing(root: Path | str, output: bytes) -> list[str]:
    names = {os.fsdecode(raw) for raw in output.split(b"\0") if raw}
    return sorted(name for name in names if is_file(os.path.join(root, name)))


def is_file(path: str) -> bool:
    """Whether ``path`` is a regular file or a symlink (even a broken one), as git counts
    files."""
    # Symlinks are tracked as blobs, so they count even when broken; a submodule or a
    # nested repository shows up as a folder and does not. One lstat.
    try:
        mode = os.lstat(path).st_mode
    except OSError:
        return False
    return stat.S_ISREG(mode) or stat.S_ISLNK(mode)


# Where a folder's repository is does not change during a command, and a commit's run
# asks from several modules (files, state, cache, history): each answer found is kept
# for the process; cli.main starts every command with forget_locations().
_TOPS: dict[Path, Path] = {}
_GIT_DIRS: dict[Path, Path] = {}


def forget_locations() -> None:
    """Forget the work trees and git directories found so far (a repository may have
    been created, moved or removed since)."""
    _TOPS.clear()
    _GIT_DIRS.clear()


def find_root(path: Path | str) -> Path | None:
    """The top level of the work tree containing ``path``, or None outside a work tree.

    ``path`` may be a file or a folder. Also None inside a ``.git`` folder, in a bare
    repository and when git is not installed. Raises :class:`GitError` when git refuses
    the repository for another reason (for example "dubious ownership").
    """
    folder = Path(path).absolute()
    while not folder.is_dir() and folder != folder.parent:
        folder = folder.parent
    if (known := _TOPS.get(folder)) is not None:
        return known
    try:
        # English messages, so that "not a repository" is told apart from a real failure.
        # The git directory too, in the same process: state, history and cache need it.
        proc = _run(
            folder,
            "rev-parse",
            "--show-toplevel",
            "--absolute-git-dir",
            extra_env={"LC_ALL": "C"},
        )
    except GitError:
        return None
    if proc.returncode == 0:
        lines = proc.stdout.split(b"\n")
        if len(lines) != 3:  # a newline in a path: the two cannot be told apart
            return Path(_one_line(_check(folder, "rev-parse", "--show-toplevel")))
        top = _TOPS[folder] = Path(os.fsdecode(lines[0]))
        _GIT_DIRS.setdefault(top, Path(os.fsdecode(lines[1])))
        return top
    stderr = proc.stderr.decode("utf-8", "replace")
    if "not a git repository" in stderr or "must be run in a work tree" in stderr:
        return None
    raise GitError(["git", "rev-parse", "--show-toplevel"], proc.returncode, stderr)


def inside_git_dir(path: Path | str) -> bool:
    """Whether ``path`` is in a bare repository or in a ``.git`` folder (where
    :func:`find_root` finds no work tree); False when git is missing or says no."""
    try:
        proc = _run(Path(path), "rev-parse", "--is-inside-git-dir", extra_env={"LC_ALL": "C"})
    except GitError:
        return False
    return proc.returncode == 0 and proc.stdout.strip() == b"true"


def git_dir(root: Path | str) -> Path:
    """The absolute git directory of ``root``'s repository (a worktree's own, if one)."""
    folder = Path(root).absolute()
    if (known := _GIT_DIRS.get(folder)) is None:
        known = _GIT_DIRS[folder] = Path(_one_line(_check(root, "rev-parse", "--absolute-git-dir")))
    return known


def git_path(root: Path | str, name: str) -> Path:
    """Where git keeps ``name`` (``git rev-parse --git-path``), absolute.

    Honours ``core.hooksPath`` for ``hooks`` and the common directory for worktrees.
    """
    found = Path(_one_line(_check(root, "rev-parse", "--git-path", name)))
    return found if found.is_absolute() else Path(root).absolute() / found


def tracked_files(root: Path | str, paths: Iterable[str] = ()) -> list[str]:
    """Files in the index under ``paths`` (all when empty) that exist in the work tree."""
    return _existing(root, _check(root, "ls-files", "-z", "--cached", "--", *paths))


def untracked_files(root: Path | str, paths: Iterable[str] = ()) -> list[str]:
    """Files not in the index and not ignored (.gitignore, info/exclude, core.excludesFile)."""
    out = _check(root, "ls-files", "-z", "--others", "--exclude-standard", "--", *paths)
    return _existing(root, out)


def files_named(root: Path | str, names: Iterable[str]) -> list[str]:
    """Tracked and untracked (not ignored) files anywhere under ``root`` whose base name
    is one of ``names``, that exist: one ``git ls-files``, where a listing that gives
    every file's id takes several processes (:mod:`huskycat.content`)."""
    # Filtered here: every call is --literal-pathspecs, which turns off glob magic.
    wanted = {os.fsencode(name) for name in names}
    out = _check(root, "ls-files", "-z", "--cached", "--others", "--exclude-standard")
    found = b"\0".join(n for n in out.split(b"\0") if n.rpartition(b"/")[2] in wanted)
    return _existing(root, found)


def staged_files(root: Path | str, paths: Iterable[str] = ()) -> list[str]:
    """Files added, copied, modified or renamed in the index compared with HEAD.

    Before the first commit every file in the index counts as added.
    """
    args = ["--cached", "--name-only", "-z", "--relative", "--diff-filter=ACMR"]
    out = _check(root, "diff", *args, "--", *paths)
    return _existing(root, out)


def resolve_commit(root: Path | str, ref: str) -> str:
    """The commit id ``ref`` names; :class:`GitError` naming ``ref`` when it names none."""
    reason = f"cannot find the revision {ref!r}"
    if not ref or ref.startswith("-"):
        argv = ["git", "rev-parse", "--verify", ref]
        raise GitError(argv, None, "not a revision name", reason=reason)
    spec = f"{ref}^{{commit}}"
    out = _check(root, "rev-parse", "--verify", "--end-of-options", spec, reason=reason)
    return _one_line(out)


def changed_since(root: Path | str, ref: str, paths: Iterable[str] = ()) -> list[str]:
    """Files changed since the fork point of ``ref`` and HEAD, plus untracked files.

    Compares the merge base of ``ref`` and HEAD (``ref`` itself when they share no
    history, or before the first commit) with the work tree, so that commits made on
    ``ref`` after the fork do not count and uncommitted changes do. Added, copied,
    modified and renamed files only. Raises :class:`GitError` naming ``ref`` when it is
    not a commit.
    """
    paths = tuple(paths)
    base = resolve_commit(root, ref)
    proc = _run(root, "merge-base", base, "HEAD")
    if proc.returncode == 0:
        base = _one_line(proc.stdout)
    args = ["--name-only", "-z", "--relative", "--diff-filter=ACMR", base]
    out = _check(root, "diff", *args, "--", *paths)
    return sorted(set(_existing(root, out)) | set(untracked_files(root, paths)))


def stage(root: Path | str, files: Iterable[str]) -> None:
    """``git add`` exactly ``files`` (paths relative to ``root``), however many there are."""
    names = [os.fsencode(name) for name in files]
    if not names:
        return
    # The list goes through stdin, NUL-separated, so no command-line limit applies.
    argv = ["git", "--literal-pathspecs", "add", "--pathspec-from-file=-", "--pathspec-file-nul"]
    try:
        proc = subprocess.run(
            argv,
            cwd=root,
            input=b"\0".join(names) + b"\0",
            capture_output=True,
            env=_environment(),
            check=False,
        )
    except OSError as exc:
        raise GitError(argv, None, str(exc)) from exc
    if proc.returncode != 0:
        raise GitError(argv, proc.returncode, proc.stderr.decode("utf-8", "replace"))


def index_entries(top: Path | str, files: Iterable[str]) -> dict[str, bytes]:
    """The index's record of each of ``files`` (relative to ``top``, the top level of the
    work tree) as ``git ls-files --stage -z`` prints it, for :func:`restore_index_entries`.
    Files the index lacks, or holds unmerged, have none."""
    wanted = set(files)
    if not wanted:
        return {}
    # The whole index, filtered here: ls-files has no --pathspec-from-file.
    out = _check(top, "ls-files", "--stage", "-z", "--full-name")
    found: dict[str, bytes] = {}
    unmerged: set[str] = set()
    for record in out.split(b"\0"):
        info, _, raw = record.partition(b"\t")
        name = os.fsdecode(raw)
        if name in wanted:
            if info.endswith(b" 0"):
                found[name] = record
            else:
                unmerged.add(name)
    return {name: record for name, record in found.items() if name not in unmerged}


def restore_index_entries(top: Path | str, records: Iterable[bytes]) -> None:
    """Put back records :func:`index_entries` returned (``git update-index --index-info``):
    those files are staged as they were then, whatever was staged since."""
    stdin = b"".join(record + b"\0" for record in records)
    if stdin:
        _check(top, "update-index", "-z", "--index-info", stdin=stdin)


# --- the work tree against the index (staged mode) ----------------------------------------
# Options that pin down what a user's configuration could otherwise change: colours
# (color.ui=always), prefixes (diff.noprefix, diff.mnemonicPrefix), paths relative to the
# current folder (diff.relative), external diff drivers, rename pairing and submodules.
# ``--no-optional-locks`` keeps ``git diff`` from writing refreshed stat data to the index:
# nothing here writes the index, whichever one GIT_INDEX_FILE names.
_DIFF_OPTIONS = (
    "--no-color",
    "--no-ext-diff",
    "--no-relative",
    "--no-renames",
    "--ignore-submodules",
    "--ita-invisible-in-index",
)


def top_and_git_dir(root: Path | str) -> tuple[Path, Path]:
    """The top level of ``root``'s work tree and its absolute git directory.

    One git call when ``root`` is the top level (as :func:`find_root` returns it).
    """
    here = Path(root).absolute()
    if _TOPS.get(here) == here and here in _GIT_DIRS:  # both known (find_root)
        return here, _GIT_DIRS[here]
    out = _check(root, "rev-parse", "--show-prefix", "--absolute-git-dir")
    if out.startswith(b"\n"):  # an empty prefix: root is the top level
        _TOPS.setdefault(here, here)
        return here, _GIT_DIRS.setdefault(here, Path(_one_line(out[1:])))
    top = find_root(root)
    if top is None:  # the repository went away between the two calls
        argv = ["git", "rev-parse", "--show-toplevel"]
        raise GitError(argv, None, f"{str(root)!r} is not in a work tree")
    return top, git_dir(top)


def unstaged_changes(top: Path | str) -> list[tuple[str, str]]:
    """``(status, path)`` for every tracked path whose work tree differs from the index.

    ``top`` is the top level of the work tree; paths are relative to it and include
    deleted ones. Status is git's letter: M modified (content or mode), D deleted,
    T type changed (file, symlink), A intent-to-add (``git add -N``), U unmerged.
    Submodules are left out. Empty when the work tree matches the index.
    """
    out = _check(top, "--no-optional-locks", "diff", "--raw", "-z", *_DIFF_OPTIONS)
    fields = out.split(b"\0")
    changes = []
    # Each record is ":<modes> <ids> <status>" NUL "<path>" NUL (no renames, so one path).
    for header, raw in zip(fields[0::2], fields[1::2]):
        if header.startswith(b":"):
            status = header.rsplit(b" ", 1)[-1].decode("ascii", "replace")[:1]
            changes.append((status, os.fsdecode(raw)))
    return changes


def unstaged_patch(top: Path | str, paths: Sequence[str] | None = None) -> bytes:
    """A binary patch of the work tree against the index, ``git apply``-able at ``top``.

    Like pre-commit's: ``git diff --binary`` with colours, external drivers, renames and
    submodules off, and the ``a/`` ``b/`` prefixes whatever diff.noprefix says. Only
    ``paths`` when given.
    """
    args = ["--binary", "--src-prefix=a/", "--dst-prefix=b/", *_DIFF_OPTIONS]
    selected = ["--", *paths] if paths is not None else []
    return _check(top, "--no-optional-locks", "diff", *args, *selected)


def checkout_index_to(top: Path | str, paths: Iterable[str], prefix: Path | str) -> None:
    """Write the index's version of ``paths`` under the folder ``prefix``, not the work tree.

    ``git checkout-index --prefix``: the bytes the work tree would get (smudge filters,
    end-of-line conversion, symlinks, the executable bit), with no hook run and the
    index untouched.
    """
    names = b"".join(os.fsencode(name) + b"\0" for name in paths)
    where = os.path.join(os.fspath(prefix), "")  # git prepends it as is: end it with "/"
    _check(top, "checkout-index", "-z", "--stdin", f"--prefix={where}", stdin=names)


def merge_file(
    top: Path | str, current: Path | str, base: Path | str, other: Path | str
) -> bytes | None:
    """Three-way merge of files: ``current`` and ``other`` both changed ``base``.

    The merged bytes, or None when the changes overlap or touch (a conflict) or git
    cannot merge them (binary files). No file is written.
    """
    argv = ["merge-file", "-p", "--quiet", "--", *(os.fspath(f) for f in (current, base, other))]
    proc = _run(top, *argv)
    return proc.stdout if proc.returncode == 0 else None
