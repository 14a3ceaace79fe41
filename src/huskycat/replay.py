"""Whole-run replay: a run whose every input is as it was at the end of an earlier run
prints what that run printed and exits as it did, before the rest of huskycat is even
imported.

The result cache (:mod:`huskycat.cache`) already replays each hook whose inputs did not
change; what is left of a run where nothing changed is huskycat's own start-up (imports,
configuration, listing, planning), about 0.15 s. This module skips all of it when it can
show that nothing the run depends on changed:

- the command line (``run`` with only the options in :data:`_FLAGS` and
  :data:`_VALUED`: no report files, no ``--fix``, no cluster), the folder it runs in,
  whether its output is a terminal, huskycat's version and source files (names, sizes,
  times), Python's version and the whole environment (less
  the shell's bookkeeping in :data:`_VOLATILE`);
- the repository: HEAD, every index entry (path, mode, blob id), which tracked files
  differ from the index and their contents, every untracked file that is not ignored
  and its content, and the contents of the ignored files in the root folder (one
  ``git ls-files --stage`` and one ``git status``; both see ``GIT_*`` variables);
- what lies outside the repository that the run's tools used (``checks``): each hook's
  program, its environment's ready-marker and its hook repository's definitions, by
  status (mode, size, modification and change times, inode).

A run is recorded only when it qualifies (:func:`vouch`): the repository's tools are the
hooks of a ``.pre-commit-config.yaml`` (whose results the cache keys on the same inputs,
or fewer), none wrote a file, none ended in an error or a timeout, nothing was written to
standard error, the exit code is 0 or 1, and the repository's fingerprint is the same at
the end of the run as at its start. A run that differs in any of these runs in full.
``--no-cache`` never replays; ``huskycat cache clear`` forgets the records.

Records live in ``<git dir>/huskycat/replay.json`` (at most :data:`_KEEP` command lines).
"""

from __future__ import annotations

import io
import json
import os
import sys
import time
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any, TextIO

from huskycat import worktree

RECORD_FILE = "replay.json"
FORMAT = 1
_KEEP = 8  # command lines remembered per repository
_HOOKS_CONFIG = ".pre-commit-config.yaml"
_FLAGS = frozenset(
    {
        "--all-files",
        "--staged",
        "--no-progress",
        "--fail-fast",
        "--require-tools",
        "-q",
        "--quiet",
        "-v",
        "-vv",
        "-vvv",
        "--verbose",
    }
)
_VALUED = frozenset({"--files", "--tools", "--skip", "--jobs", "-j", "--timeout", "--project"})
# Set by shells and terminals, not read by any tool a run starts.
_VOLATILE = frozenset({"_", "OLDPWD", "PWD", "SHLVL", "WINDOWID", "TERM_SESSION_ID"})
# What a staged run killed half-way leaves in <git dir>/huskycat (huskycat.staged's
# BACKUP_PREFIX and incomplete backups; tests/cli_run_test checks): the run must refuse.
SET_ASIDE_PREFIXES = ("unstaged-", "incomplete-")


class _Tee(io.TextIOBase):
    """A text stream that passes writes to ``stream`` and keeps a copy (``text``)."""

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream
        self.parts: list[str] = []

    def write(self, text: str) -> int:
        self.parts.append(text)
        return self.stream.write(text)

    def flush(self) -> None:
        self.stream.flush()

    def isatty(self) -> bool:
        return self.stream.isatty()

    def fileno(self) -> int:
        return self.stream.fileno()

    @property
    def encoding(self) -> str:  # type: ignore[override]
        return self.stream.encoding

    @property
    def errors(self) -> str | None:  # type: ignore[override]
        return self.stream.errors

    def reconfigure(self, **kwargs: Any) -> None:
        reconfigure = getattr(self.stream, "reconfigure", None)
        if reconfigure is not None:
            reconfigure(**kwargs)

    @property
    def text(self) -> str:
        return "".join(self.parts)


class _Armed:
    """A run that may be recorded: its entry, fingerprint at the start, its streams."""

    def __init__(self, git_dir: Path, entry: str, fingerprint: str) -> None:
        self.git_dir, self.entry, self.fingerprint = git_dir, entry, fingerprint
        self.root = git_dir  # set by attempt: the work tree
        self.checks: list[str] | None = None  # set by vouch: the run qualifies
        self.out: _Tee | None = None
        self.err: _Tee | None = None


_armed: _Armed | None = None


def attempt(argv: Sequence[str]) -> int | None:
    """The exit code of a replayed run (its output printed), or None: run in full. Arms
    the run for recording (:func:`finish`) when it could be recorded."""
    global _armed
    _armed = None
    if sys.stdout is None or sys.stderr is None:  # closed: the command line says why
        return None
    if not _eligible_argv(argv) or "GIT_DIR" in os.environ or "GIT_WORK_TREE" in os.environ:
        return None
    found = worktree.find_repository(Path.cwd())
    if found is None:
        return None
    root, git_dir = found
    if not (root / _HOOKS_CONFIG).is_file() or _set_aside(git_dir):
        return None
    entry = _entry_id(argv)
    fingerprint = worktree.fingerprint(root)
    if fingerprint is None:
        return None
    record = _load(git_dir).get(entry)
    if isinstance(record, dict) and record.get("fingerprint") == fingerprint:
        checks = record.get("checks")
        if isinstance(checks, dict) and all(
            _stat(path) == expected for path, expected in checks.items()
        ):
            output, code = record.get("output"), record.get("exit")
            if isinstance(output, str) and code in (0, 1) and _print(output):
                _count(git_dir)
                return int(code)
    armed = _Armed(git_dir, entry, fingerprint)
    armed.root = root
    armed.out, armed.err = _Tee(sys.stdout), _Tee(sys.stderr)
    sys.stdout, sys.stderr = armed.out, armed.err
    _armed = armed
    return None


def _print(output: str) -> bool:
    """Print a recorded run's output; False (nothing printed) when this terminal or pipe
    cannot encode it. A reader that went away (``| head``) is not an error, as in a run."""
    try:
        # As printing it would: the stream's encoding and error policy (surrogateescape
        # in the C locale, where a file name that is not UTF-8 is printed as it is).
        data = output.encode(sys.stdout.encoding or "utf-8", sys.stdout.errors or "strict")
        stream = sys.stdout.buffer
    except (UnicodeEncodeError, LookupError, AttributeError):
        return False
    try:
        stream.write(data)
        stream.flush()
    except BrokenPipeError:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())  # Python's flush at exit would complain
        os.close(devnull)
    return True


def vouch(checks: Iterable[str] | None) -> None:
    """Say that the run now ending qualifies (its tools are hooks whose results the
    cache keys on no more than the fingerprint and ``checks``: paths outside the
    repository they used), or not (None)."""
    if _armed is not None:
        _armed.checks = sorted(set(checks)) if checks is not None else None


def finish(code: int) -> None:
    """Record the run, when armed, vouched for, quiet on standard error, ended 0 or 1,
    and the repository is as it was at the start."""
    global _armed
    armed, _armed = _armed, None
    if armed is None or armed.out is None or armed.err is None:
        return
    replaced = sys.stdout is not armed.out
    if not replaced:
        sys.stdout = armed.out.stream
    if sys.stderr is armed.err:
        sys.stderr = armed.err.stream
    if replaced or armed.checks is None or code not in (0, 1):
        return  # its output went elsewhere (a closed pipe), or it does not qualify
    if armed.err.parts:
        return
    if worktree.fingerprint(armed.root) != armed.fingerprint:
        return  # a file changed while it ran: its results may be of either content
    checks = {path: _stat(path) for path in armed.checks}
    data = _load_file(armed.git_dir)
    records = data["runs"]
    records.pop(armed.entry, None)
    records[armed.entry] = {
        "fingerprint": armed.fingerprint,
        "checks": checks,
        "output": armed.out.text,
        "exit": code,
        "recorded": time.time(),
    }
    data["runs"] = dict(list(records.items())[-_KEEP:])
    _save(armed.git_dir, data)


def forget(git_dir: Path) -> bool:
    """Remove the records of the repository whose git folder is ``git_dir``."""
    try:
        (git_dir / "huskycat" / RECORD_FILE).unlink()
    except FileNotFoundError:
        return False
    return True


def replays(git_dir: Path) -> tuple[int, float | None]:
    """How many runs were replayed whole from the records, and when the last was."""
    data = _load_file(git_dir)
    count, last = data.get("replays"), data.get("last_replay")
    return (
        count if isinstance(count, int) else 0,
        float(last) if isinstance(last, (int, float)) else None,
    )


# --- what a run depends on -------------------------------------------------------------


def _eligible_argv(argv: Sequence[str]) -> bool:
    """``run`` with only options that neither write files nor change what runs where
    (a path or an option's value is any word that does not start with ``-``)."""
    if not argv or argv[0] != "run":
        return False
    # A report, --fix, --no-cache, a cluster, ``-j4``, ``--jobs=4``: run in full.
    return all(a in _FLAGS or a in _VALUED or not a.startswith("-") for a in argv[1:])


def _entry_id(argv: Sequence[str]) -> str:
    from huskycat import __version__

    material = {
        "format": FORMAT,
        "huskycat": __version__,
        "source": _source_signature(),
        "python": sys.version,
        "argv": list(argv),
        "cwd": os.getcwd(),
        "tty": sys.stdout.isatty(),
        "env": sorted((k, v) for k, v in os.environ.items() if k not in _VOLATILE),
    }
    return worktree.digest(json.dumps(material, sort_keys=True).encode())


def _source_signature() -> list[tuple[str, int, int]]:
    """Names, sizes and modification times of huskycat's own source files: an edited
    checkout must not replay what an older one printed."""
    package = os.path.dirname(os.path.abspath(__file__))
    found = []
    for folder, _, names in os.walk(package):
        for name in names:
            if name.endswith(".py"):
                st = os.stat(os.path.join(folder, name))
                found.append((os.path.join(folder, name), st.st_size, st.st_mtime_ns))
    return sorted(found)


def _set_aside(git_dir: Path) -> bool:
    try:
        return any(name.startswith(SET_ASIDE_PREFIXES) for name in os.listdir(git_dir / "huskycat"))
    except FileNotFoundError:
        return False
    except OSError:
        return True


def _stat(path: str) -> list[int] | None:
    try:
        st = os.stat(path)
    except OSError:
        return None
    # The change time too: a file written with its modification time put back.
    return [st.st_mode, st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino]


# --- the records -------------------------------------------------------------------------


def _load_file(git_dir: Path) -> dict[str, Any]:
    """The record file: ``runs`` (entry -> record), ``replays`` and ``last_replay``."""
    try:
        with open(git_dir / "huskycat" / RECORD_FILE, "rb") as f:
            data = json.load(f)
    except (OSError, ValueError):
        data = None  # none yet, or unreadable: every run runs in full and records anew
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        return {"format": FORMAT, "runs": {}, "replays": 0}
    if not isinstance(data.get("runs"), dict):
        data["runs"] = {}
    return data


def _load(git_dir: Path) -> dict[str, Any]:
    return dict(_load_file(git_dir)["runs"])


def _save(git_dir: Path, data: dict[str, Any]) -> None:
    folder = git_dir / "huskycat"
    temporary = folder / f"{RECORD_FILE}.{os.getpid()}.tmp"
    try:
        folder.mkdir(exist_ok=True)
        with open(temporary, "w", encoding="utf-8") as f:
            json.dump(data, f)
        os.replace(temporary, folder / RECORD_FILE)
    except OSError:  # a read-only .git: no record, every run runs in full
        try:
            temporary.unlink()
        except OSError:
            pass


def _count(git_dir: Path) -> None:
    data = _load_file(git_dir)
    replayed = data.get("replays")
    data["replays"] = (replayed if isinstance(replayed, int) else 0) + 1
    data["last_replay"] = time.time()
    _save(git_dir, data)


def main(cli: Callable[[], int] | None = None) -> int:
    """The command line with whole-run replay: ``python -m huskycat`` and ``huskycat``."""
    for name in ("stdout", "stderr"):
        if getattr(sys, name) is None:  # started with it closed (``>&-``): no reader
            setattr(sys, name, open(os.devnull, "w", encoding="utf-8"))  # noqa: SIM115
    try:
        code = attempt(sys.argv[1:])
    except KeyboardInterrupt:  # Ctrl-C (or a second one) while git was asked
        print("huskycat: interrupted", file=sys.stderr)
        return 130  # as huskycat.cli's EXIT_INTERRUPTED
    if code is not None:
        return code
    if cli is None:
        from huskycat.cli import main as command_line

        cli = command_line
    code = cli()
    finish(code)
    return code
