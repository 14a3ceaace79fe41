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

import fnmatch
import functools
import glob
import hashlib
import os
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

from huskycat import content, git
from huskycat.tools.programs import installed_entry

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
    top = os.fspath(root)
    for depth in range(1, len(parts) + 1):
        relative = "/".join(parts[:depth])
        known = memo.get(relative)
        if known is None:
            known = memo[relative] = _present(os.path.join(top, relative), names, label=relative)
        found.extend(known)
    return found


def _present(
    folder: Path | str, names: Sequence[str], *, label: str | None = None
) -> list[tuple[str, str, str | None]]:
    where = str(folder) if label is None else label
    found = []
    for config in names:
        path = os.path.join(folder, config)
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


def _git_names(root: Path, *args: str) -> list[str] | None:
    """File names ``git ls-files -z ARGS`` lists under ``root``; None outside a repository."""
    try:
        # git._check: the same environment and error handling as every other git call.
        out = git._check(root, "ls-files", "-z", *args)
    except git.GitError:
        return None
    return [os.fsdecode(raw) for raw in out.split(b"\0") if raw]


def ignored_signatures(root: Path, kinds: Sequence[str]) -> list[tuple[str, object]] | None:
    """``(name, (size, mtime))`` of the untracked files under ``root`` that git ignores and
    whose base name matches one of ``kinds`` (``fnmatch`` patterns: ``*.py``).

    A project-wide tool reads such files too (mypy imports a gitignored generated module)
    though :func:`project_digest` leaves them out. Taken by ``stat``, not content: an
    ignored folder may hold many files (a virtual environment), and reading them all on
    every run would cost more than the tool. One ``git ls-files`` for the repository.
    None outside a git repository.
    """
    names = _git_names(root, "--others", "--ignored", "--exclude-standard")
    if names is None:
        return None
    matched = [n for n in names if _kind_matches(n.rpartition("/")[2], kinds)]
    return [(n, stat_signature(os.path.join(root, n))) for n in sorted(matched)]


def _kind_matches(base: str, kinds: Sequence[str]) -> bool:
    return any(fnmatch.fnmatchcase(base, kind) for kind in kinds)


def folder_signatures(
    root: Path, folders: Sequence[str], kinds: Sequence[str]
) -> list[tuple[str, list[tuple[str, object]]]]:
    """For each of ``folders`` (relative ones to ``root``), ``(folder, [(name, (size,
    mtime))])`` of the files of ``kinds`` below it: a search path a tool reads modules
    from (``MYPYPATH``). A missing folder has no files."""
    found = []
    for folder in folders:
        top = os.path.join(root, folder)
        files: list[tuple[str, object]] = []
        for where, dirs, names in os.walk(top):
            dirs[:] = sorted(d for d in dirs if d not in (".git", "__pycache__"))
            for name in sorted(names):
                if _kind_matches(name, kinds):
                    path = os.path.join(where, name)
                    files.append((os.path.relpath(path, top), stat_signature(path)))
        found.append((folder, files))
    return found


def glob_digests(root: Path, globs: Sequence[str]) -> list[tuple[str, str | None]] | None:
    """``(name, digest)`` of every file under ``root`` (tracked, untracked or ignored)
    that one of the configuration ``globs`` matches (:func:`huskycat.files.matches_glob`).
    None outside a git repository."""
    from huskycat.files import matches_glob

    names = _git_names(root, "--cached", "--others")
    if names is None:
        return None
    chosen = sorted({n for n in names if any(matches_glob(n, g) for g in globs)})
    return [(n, file_digest(os.path.join(root, n))) for n in chosen]


# (interpreter, its site folders and their modification times) -> the environment's key.
_ENVIRONMENTS: dict[tuple[object, ...], list[object]] = {}


def python_environment(program: str) -> list[object] | None:
    """The Python environment ``program`` runs in, as a key: the interpreter (its real
    path, size and modification time, and the ``pythonX.Y`` of its library folder), and
    for each of its ``site-packages`` folders the installed distributions (names and
    versions of the entries :mod:`importlib.metadata` reads) and its ``.pth`` files (which put
    folders on the import path: editable installs).

    The interpreter is ``program`` itself (``python3``), or the one its ``#!`` line names
    (a console script such as ``mypy``). A virtual environment is found by its
    ``pyvenv.cfg`` beside the interpreter's folder, before symbolic links are followed
    (a venv's ``python`` links to the base interpreter); with
    ``include-system-site-packages`` the base's folders count too. None for a program
    that is not run by Python (ruff, shellcheck). Taken once per process and
    environment state.
    """
    interpreter = _interpreter_of(program)
    if interpreter is None:
        return None
    folders = _site_folders(interpreter)
    state = (interpreter, stat_signature(interpreter), *((f, stat_signature(f)) for f in folders))
    known = _ENVIRONMENTS.get(state)
    if known is None:
        real = os.path.realpath(interpreter)
        known = [[real, stat_signature(real)]]
        known += [[f, *_distributions(f)] for f in folders]
        _ENVIRONMENTS[state] = known
    return known


def _interpreter_of(program: str) -> str | None:
    path = os.path.abspath(program)
    if os.path.basename(path).startswith("python"):
        return path
    try:
        with open(path, "rb") as f:
            first = f.readline(512)
    except OSError:
        return None
    if not first.startswith(b"#!"):
        return None
    words = os.fsdecode(first[2:]).split()
    if not words:
        return None
    if os.path.basename(words[0]) == "env" and len(words) > 1:
        import shutil

        return shutil.which(words[-1])
    return words[0] if "python" in os.path.basename(words[0]) else None


def _site_folders(interpreter: str) -> list[str]:
    prefix = os.path.dirname(os.path.dirname(interpreter))
    config = os.path.join(prefix, "pyvenv.cfg")
    prefixes = []
    if os.path.isfile(config):
        prefixes.append(prefix)
        settings = _read_pyvenv_cfg(config)
        if settings.get("include-system-site-packages", "").lower() == "true":
            home = settings.get("home", "")
            if home:
                prefixes.append(os.path.dirname(home))
    else:
        prefixes.append(os.path.dirname(os.path.dirname(os.path.realpath(interpreter))))
    folders: list[str] = []
    for top in prefixes:
        for pattern in ("lib/python*/site-packages", "lib/python3*/dist-packages"):
            folders.extend(sorted(glob.glob(os.path.join(glob.escape(top), pattern))))
    return folders


def _read_pyvenv_cfg(path: str) -> dict[str, str]:
    settings = {}
    try:
        with open(path, encoding="utf-8", errors="replace") as f:
            for line in f:
                name, sep, value = line.partition("=")
                if sep:
                    settings[name.strip().lower()] = value.strip()
    except OSError:
        pass
    return settings


def _distributions(folder: str) -> list[object]:
    """(name, version) of each distribution installed in ``folder``, as
    :mod:`importlib.metadata` finds them (``.dist-info`` and ``.egg-info`` entries), and
    the ``.pth`` files with their digests.

    Read from the entries' names (``name-version.dist-info``, as wheels install them):
    one ``listdir``, where parsing every ``METADATA`` took 0.2 s for 130 distributions.
    An entry whose name carries no version is asked through :mod:`importlib.metadata`.
    """
    try:
        entries = sorted(os.listdir(folder))
    except OSError:
        return [[], []]
    dists = []
    for entry in entries:
        installed = installed_entry(entry)
        if installed is None:
            continue
        name, version = installed
        dists.append((name, version or _metadata_version(os.path.join(folder, entry))))
    pth = [n for n in entries if n.endswith(".pth")]
    return [sorted(dists), [(n, file_digest(os.path.join(folder, n))) for n in pth]]


def _metadata_version(path: str) -> str:
    from importlib import metadata

    try:
        return metadata.PathDistribution(Path(path)).version or ""
    except Exception:  # noqa: BLE001 - broken metadata: the entry's name still counts
        return ""
