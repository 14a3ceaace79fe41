"""Fingerprints of what a tool's result depends on besides its arguments: file contents,
configuration files, its program and the Python environment it runs in.

The result cache (:mod:`huskycat.cache`) puts these in its keys. Each is cheap to take
again: a file's digest is remembered for the life of the process, keyed by its
``stat`` (device, inode, size, modification time), except for a file modified in the
last :data:`RACY_SECONDS`, which could still change within the same timestamp tick (git
calls this the "racy" case) and is read again every time.

Digests are hex strings (BLAKE2b, 20 bytes); a file that does not exist or cannot be
read has the digest None, which is part of a key like any other value.
"""

from __future__ import annotations

import functools
import glob
import hashlib
import os
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

from huskycat import content

RACY_SECONDS = 2.0
_DIGEST_SIZE = 20

# Absolute path -> (stat signature, digest). Worker threads share it; a race costs one
# extra read of the file, nothing worse.
_DIGESTS: dict[str, tuple[tuple[int, int, int, int], str]] = {}


def file_digest(path: str | os.PathLike[str]) -> str | None:
    """The content digest of the regular file at ``path``, or None when there is none."""
    # Git's blob id of the bytes, remembered by stat signature (huskycat.content).
    return content.file_id(path)


def _blake2b(data: bytes = b"") -> hashlib.blake2b:
    return hashlib.blake2b(data, digest_size=_DIGEST_SIZE)


def file_digests(root: Path, names: Iterable[str]) -> dict[str, str | None]:
    """``name -> digest`` for files named relative to ``root``."""
    # Taken from git's index for tracked files git vouches for; the rest are hashed.
    return content.content_ids(root, names)


def config_digests(root: Path, names: Sequence[str]) -> list[tuple[str, str, str | None]]:
    """(folder, name, digest) of each of ``names`` present in ``root`` or any folder above.

    Tools look for their configuration upwards from where they run, and a checkout may
    sit inside a folder with its own (ruff and black read a parent's pyproject.toml). A
    file that is absent is left out, so that creating it changes the list.
    """
    found: list[tuple[str, str, str | None]] = []
    if not names:
        return found
    folder = Path(os.path.abspath(root))
    while True:
        found.extend(_present(folder, names))
        if folder.parent == folder:
            return found
        folder = folder.parent


def nested_config_digests(
    root: Path, name: str, names: Sequence[str], memo: dict[str, list[tuple[str, str, str | None]]]
) -> list[tuple[str, str, str | None]]:
    """Configuration files in the folders between ``root`` (excluded) and file ``name``.

    Several tools (ruff, flake8, yamllint, shellcheck, editorconfig for isort) take the
    configuration nearest to each file. ``memo`` keeps each folder's answer for one run.
    """
    found: list[tuple[str, str, str | None]] = []
    if not names:
        return found
    # As Path(name).parts would split a relative name, without building a Path.
    parts = [part for part in name.split("/")[:-1] if part and part != "."]
    for depth in range(1, len(parts) + 1):
        relative = "/".join(parts[:depth])
        if relative not in memo:
            memo[relative] = _present(root / relative, names, label=relative)
        found.extend(memo[relative])
    return found


def _present(
    folder: Path, names: Sequence[str], *, label: str | None = None
) -> list[tuple[str, str, str | None]]:
    where = str(folder) if label is None else label
    found = []
    for config in names:
        path = folder / config
        if os.path.lexists(path):
            found.append((where, config, file_digest(path)))
    return found


def project_digest(root: Path, extra: Iterable[str] = ()) -> str | None:
    """One digest of every file a project-wide tool may read: the tracked and untracked
    (not ignored) files under ``root``, their names and contents, and ``extra`` files.

    None outside a git repository, where there is no telling which files belong.
    """
    # A fresh listing: a file added since the last snapshot must change the digest.
    taken = content.snapshot(root, fresh=True)
    if taken is None:
        return None
    names = {*taken.files, *extra}
    ids = content.content_ids(root, names)
    digest = _blake2b()
    for name in sorted(names):
        digest.update(name.encode("utf-8", "surrogateescape") + b"\0")
        digest.update((ids[name] or "-").encode() + b"\0")
    return digest.hexdigest()


def stat_signature(path: str | os.PathLike[str]) -> tuple[int, int] | None:
    """(size, modification time in ns) of ``path``, or None when it does not exist."""
    try:
        st = os.stat(path)
    except OSError:
        return None
    return st.st_size, st.st_mtime_ns


def program_signature(exe: str) -> list[object]:
    """What changes when a program or the Python environment beside it changes.

    The program file itself (replaced on upgrade), and the ``site-packages`` folders of
    the environment it is installed in, whose modification time changes whenever a
    package is installed, upgraded or removed there: a flake8 plugin, a mypy stub
    package, a new pycodestyle under the same flake8.
    """
    prefix = os.path.dirname(os.path.dirname(os.path.realpath(exe)))
    folders = sorted(
        glob.glob(os.path.join(glob.escape(prefix), "lib", "python*", "site-packages"))
    )
    return [stat_signature(exe), *([f, stat_signature(f)] for f in folders)]


@functools.cache
def package_signature() -> str:
    """A digest of the names, sizes and modification times of huskycat's own source
    files: the parsers, the runner and the cache read results, and an edited checkout
    must not replay what an older one stored. Taken once per process."""
    package = Path(__file__).resolve().parent.parent  # huskycat/, not huskycat/cache/
    digest = _blake2b()
    for path in sorted(package.rglob("*.py")):
        digest.update(f"{path.relative_to(package)}:{stat_signature(path)}\n".encode())
    return digest.hexdigest()


def tool_environment(env: Mapping[str, str] | None, executable: str) -> list[tuple[str, str]]:
    """The environment variables named after a tool (``RUFF_*``, ``MYPYPATH``, ...).

    The rest of the environment is left out of the key on purpose: it differs from one
    shell to the next and would make every run a miss.
    """
    env = os.environ if env is None else env
    prefix = os.path.basename(executable).upper().replace("-", "_")
    if not prefix:
        return []
    return sorted((k, v) for k, v in env.items() if k.upper().startswith(prefix))
