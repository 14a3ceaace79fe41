"""Install and uninstall huskycat's git hooks.

A hook is a POSIX sh script in the hooks folder git uses (``core.hooksPath`` honoured),
marked by a ``# huskycat-hook`` line so that only scripts huskycat wrote are ever replaced
or removed. What each hook runs:

- pre-commit: ``huskycat run --staged``;
- pre-push: ``huskycat run --changed-since @{upstream}`` when the current branch has an
  upstream, else ``huskycat run --all-files``. (It does not read the refs git passes on
  stdin: checking what changed since the upstream is close enough and much simpler.)

The script runs ``"$PY" -m huskycat`` with the interpreter that installed it
(``sys.executable``), so it works when PATH lacks huskycat (a virtual environment that is
not activated); if that interpreter is gone it falls back to ``huskycat`` on PATH, and
fails the hook with a message when there is neither.

With ``force``, a hook that huskycat did not write is kept as ``<hook>.legacy``; ours runs
it first, with the same arguments and stdin, and stops there if it fails.
"""

from __future__ import annotations

import contextlib
import os
import shlex
import sys
import tempfile
from pathlib import Path

from huskycat import git
from huskycat.errors import HuskycatError

HOOKS = ("pre-commit", "pre-push")
MARKER = "# huskycat-hook"
LEGACY_SUFFIX = ".legacy"

_ARGUMENTS = {
    "pre-commit": "set -- run --staged\n",
    "pre-push": (
        "if git rev-parse --verify --quiet '@{upstream}' >/dev/null 2>&1; then\n"
        "    set -- run --changed-since '@{upstream}'\n"
        "else\n"
        "    set -- run --all-files\n"
        "fi\n"
    ),
}

_TEMPLATE = """\
#!/bin/sh
{marker}: written by `huskycat install`; `huskycat uninstall` removes it.
HOOK={hook}
PY={python}

# A hook that was here before huskycat's is kept beside it and runs first.
LEGACY="$(dirname -- "$0")/$HOOK{legacy_suffix}"
if [ -x "$LEGACY" ]; then
    "$LEGACY" "$@" || exit $?
fi

{arguments}
if [ -x "$PY" ]; then
    exec "$PY" -m huskycat "$@"
fi
if command -v huskycat >/dev/null 2>&1; then
    exec huskycat "$@"
fi
echo "huskycat: cannot run the $HOOK hook: $PY is gone and huskycat is not on PATH." >&2
echo "huskycat: reinstall huskycat, or remove the hook with 'huskycat uninstall'." >&2
exit 1
"""


class HookError(HuskycatError):
    """A hook that cannot be installed or removed; the message says which and why."""


def _check_name(hook: str) -> None:
    if hook not in HOOKS:
        raise HookError(f"unknown hook {hook!r}; expected one of: {', '.join(HOOKS)}")


def hooks_dir(root: Path | str) -> Path:
    """The folder git reads ``root``'s hooks from (``core.hooksPath`` or ``.git/hooks``)."""
    top = git.find_root(root)
    if top is None:
        raise HookError(f"not in a git work tree: {str(root)!r}")
    # From the top level: a relative core.hooksPath is relative to it, not to ``root``.
    return git.git_path(top, "hooks")


def render(hook: str, python: str) -> str:
    """The text of huskycat's ``hook`` script, running huskycat with ``python``."""
    _check_name(hook)
    return _TEMPLATE.format(
        marker=MARKER,
        hook=shlex.quote(hook),
        python=shlex.quote(python),
        legacy_suffix=LEGACY_SUFFIX,
        arguments=_ARGUMENTS[hook],
    )


def is_huskycat_hook(path: Path) -> bool:
    """Whether the script at ``path`` was written by huskycat (has the marker line)."""
    try:
        with open(path, "rb") as stream:
            head = stream.read(4096)
    except OSError:
        return False
    return any(line.startswith(MARKER.encode()) for line in head.splitlines())


def install(
    root: Path | str,
    hook: str = "pre-commit",
    *,
    force: bool = False,
    python: str | None = None,
) -> Path:
    """Write huskycat's ``hook`` into ``root``'s hooks folder; return the script's path.

    Replaces a hook huskycat wrote. Refuses (:class:`HookError`) to replace any other
    unless ``force``, which keeps it as ``<hook>.legacy`` to run first. ``python`` is the
    interpreter the script runs huskycat with, ``sys.executable`` by default.
    """
    _check_name(hook)
    folder = hooks_dir(root)
    path = folder / hook
    legacy = folder / (hook + LEGACY_SUFFIX)
    keep_old = os.path.lexists(path) and not is_huskycat_hook(path)
    if keep_old:
        if not force:
            raise HookError(
                f"{hook} hook exists and was not written by huskycat: {path}; use --force "
                f"(the old hook is kept as {legacy.name})"
            )
        if os.path.lexists(legacy):
            raise HookError(
                f"cannot keep the existing {hook} hook {path}: {legacy} exists already; "
                "move one of them away"
            )
    text = render(hook, python or sys.executable)
    try:
        _make_folder(root, folder)
        # Write beside the target and rename, so git never runs a half-written hook. The
        # old hook moves aside only once the new one is complete: a full disk or a
        # read-only folder leaves it where it was.
        handle, temporary = tempfile.mkstemp(dir=folder, prefix=f".{hook}.")
        try:
            with os.fdopen(handle, "w", encoding="utf-8", newline="\n") as stream:
                stream.write(text)
            os.chmod(temporary, 0o755)  # nosec B103 - a git hook must be executable by its user
            if keep_old:
                os.replace(path, legacy)
            os.replace(temporary, path)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(temporary)
            if keep_old and not os.path.lexists(path) and os.path.lexists(legacy):
                os.replace(legacy, path)
            raise
    except OSError as exc:
        raise HookError(f"cannot write the {hook} hook in {str(folder)!r}: {_why(exc)}") from exc
    return path


def _make_folder(root: Path | str, folder: Path) -> None:
    """Make the hooks folder if it is missing and inside the repository (a fresh
    ``core.hooksPath = .githooks``); refuse to create one anywhere else."""
    if folder.is_dir():
        return
    top = git.find_root(root)
    homes = [Path(os.path.realpath(p)) for p in ([top, git.git_dir(top)] if top else [])]
    real = Path(os.path.realpath(folder))
    if not any(real == home or home in real.parents for home in homes):
        raise HookError(
            f"git's hooks folder {str(folder)!r} (core.hooksPath) does not exist and is "
            f"outside the repository; create it, or correct core.hooksPath"
        )
    folder.mkdir(parents=True, exist_ok=True)


def _why(exc: OSError) -> str:
    return exc.strerror or str(exc)


def uninstall(root: Path | str, hook: str | None = None) -> list[Path]:
    """Remove huskycat's hooks (``hook``, or all of :data:`HOOKS`); return those removed.

    Hooks huskycat did not write are left alone. A ``<hook>.legacy`` kept by
    :func:`install` takes its place again.
    """
    names = HOOKS if hook is None else (hook,)
    for name in names:
        _check_name(name)
    folder = hooks_dir(root)
    removed: list[Path] = []
    for name in names:
        path = folder / name
        legacy = folder / (name + LEGACY_SUFFIX)
        try:
            if os.path.lexists(path):
                if not is_huskycat_hook(path):
                    continue
                path.unlink()
                removed.append(path)
            if os.path.lexists(legacy):
                os.replace(legacy, path)
        except OSError as exc:
            raise HookError(f"cannot remove the {name} hook {str(path)!r}: {_why(exc)}") from exc
    return removed
