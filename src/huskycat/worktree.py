"""What a run of a ``.pre-commit-config.yaml``'s hooks can see of a git repository, as
one digest (:func:`fingerprint`), taken without importing the rest of huskycat: HEAD,
every index entry (path, mode, blob id), which tracked files differ from the index and
their contents, every untracked file git does not ignore and its content, and the
contents of the ignored files in the root folder (configuration many hooks read). One
``git ls-files --stage`` and one ``git status``, side by side; both honour ``GIT_*``
variables. Used by :mod:`huskycat.replay`.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
from pathlib import Path


def find_repository(here: Path) -> tuple[Path, Path] | None:
    """``(work tree, git folder)`` of the repository ``here`` is in, read from ``.git``
    (a folder, or a file naming one, as in a linked work tree); None outside one."""
    for folder in (here, *here.parents):
        dot_git = folder / ".git"
        if dot_git.is_dir():
            return folder, dot_git
        if dot_git.is_file():
            try:
                text = dot_git.read_text(encoding="utf-8").strip()
            except (OSError, UnicodeDecodeError):
                return None
            if not text.startswith("gitdir:"):
                return None
            target = Path(text[len("gitdir:") :].strip())
            return folder, target if target.is_absolute() else (folder / target).resolve()
    return None


def fingerprint(root: Path) -> str | None:
    """A digest of everything in the repository at ``root`` a hook run can see (see the
    module's docstring); None when git cannot tell (or an index entry hides its work-tree file:
    assume-unchanged, skip-worktree; or is a submodule)."""
    commands = (
        ["git", "ls-files", "--stage", "-v", "-z"],
        [
            "git",
            "--no-optional-locks",
            "status",
            "--porcelain=v2",
            "--branch",
            "-z",
            "--untracked-files=all",
            "--no-renames",
            "--ignore-submodules=none",
        ],
    )
    procs: list[subprocess.Popen[bytes]] = []
    try:
        for argv in commands:
            procs.append(
                subprocess.Popen(
                    argv,
                    cwd=root,
                    stdin=subprocess.DEVNULL,
                    stdout=subprocess.PIPE,
                    stderr=subprocess.DEVNULL,
                )
            )
        outputs = [p.communicate()[0] for p in procs]
    except OSError:
        return None
    finally:  # interrupted (Ctrl-C): no git process of ours is left running
        for proc in procs:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
    if any(p.returncode != 0 for p in procs):
        return None
    staged, status = outputs
    entries = [e for e in staged.split(b"\0") if e]
    if any(not e.startswith(b"H ") or e.startswith(b"H 160000") for e in entries):
        return None  # hidden from status, or a submodule (whose checkout status omits)
    hasher = hashlib.blake2b(digest_size=20)
    hasher.update(staged)
    hasher.update(b"\0\0")
    read: set[bytes] = set()
    records = status.split(b"\0")
    for record in records:
        if record.startswith((b"# branch.ab", b"# branch.upstream")):
            continue  # how far the upstream is: not an input of a hook
        hasher.update(record + b"\0")
        path = _changed_path(record)
        if path is not None:
            read.add(path)
            hasher.update(_content(root, path) + b"\0")
    hasher.update(b"\0\0")
    top = {e.split(b"\t", 1)[1] for e in entries if b"/" not in e.split(b"\t", 1)[1]}
    try:
        with os.scandir(root) as scan:
            ignored = sorted(
                os.fsencode(e.name)
                for e in scan
                if e.is_file(follow_symlinks=False)
                and os.fsencode(e.name) not in top
                and os.fsencode(e.name) not in read
            )
    except OSError:
        return None
    for name in ignored:  # the root's ignored files: read by many hooks as configuration
        hasher.update(name + b"\0" + _content(root, name) + b"\0")
    return hasher.hexdigest()


def _changed_path(record: bytes) -> bytes | None:
    """The path of a ``git status --porcelain=v2`` record whose work-tree file differs
    from the index (ordinary or unmerged change with a work-tree side, untracked)."""
    if record.startswith(b"? "):
        return record[2:]
    if record.startswith(b"1 ") and record[3:4] != b".":
        return record.split(b" ", 8)[8]
    if record.startswith(b"u "):
        return record.split(b" ", 10)[10]
    return None


def _content(root: Path, path: bytes) -> bytes:
    """A digest of the file's content (a symbolic link's target); b"-" when absent."""
    full = os.path.join(os.fsencode(root), path)
    try:
        if os.path.islink(full):
            return b"l" + digest(os.readlink(full)).encode()
        hasher = hashlib.blake2b(digest_size=20)
        with open(full, "rb") as f:
            while chunk := f.read(1 << 20):
                hasher.update(chunk)
        return b"f" + hasher.hexdigest().encode()
    except OSError:
        return b"-"


def digest(data: bytes) -> str:
    """A short hex digest of ``data`` (blake2b, 20 bytes)."""
    return hashlib.blake2b(data, digest_size=20).hexdigest()
