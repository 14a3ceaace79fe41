"""Running one hook on its files, as pre-commit runs it, into a ToolResult.

A hook fails when it exits non-zero or changes a file, as pre-commit's (which compares
``git diff`` before and after each hook): any tracked file, not only those it is given.
huskycat compares the content ids of the files a hook is given before and after it runs
and, for a hook that may write files it was not given (:attr:`.repos.Hook.writes_anywhere`,
such as any hook given no file names), of every tracked file: git's view
of the work tree (:mod:`.index`). Such a hook runs alone and hooks that could touch the
same files never run at the same time (see :mod:`.plan`), so a change is always the
hook's own.

Languages: ``python`` and ``node`` run in their managed environments
(:mod:`huskycat.envs`), ``system`` (``unsupported``) from PATH, ``script``
(``unsupported_script``) from the hook's repository, ``pygrep`` in-process, ``fail``
fails with its entry, ``meta`` hooks check the configuration.
"""

from __future__ import annotations

import contextvars
import hashlib
import io
import os
import re
import shlex
import shutil
import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from huskycat.core import process
from huskycat.core.results import OUTCOME_FINDINGS, ToolResult, ToolStatus
from huskycat.envs import bin_dir
from huskycat.files import command_length, partition
from huskycat.precommit.index import FileIndex
from huskycat.precommit.repos import Hook
from huskycat.tools.runner import file_argument


@dataclass(frozen=True)
class HookCall:
    """Everything one run of a hook needs, resolved before the run starts."""

    name: str  # the result's name: the id, with "#2" for a repeated one
    hook: Hook
    root: Path
    env: Mapping[str, str]  # the environment the hook's processes get
    env_dir: Path | None = None  # the managed environment, for python and node hooks
    meta_output: tuple[int, str] | None = None  # a meta hook's verdict, computed in planning
    index: FileIndex | None = None  # the run's file digests, shared by its hooks
    tracked: Callable[[], Sequence[str]] | None = None  # every tracked file, when watched
    files: frozenset[str] = frozenset()  # all the files the hook is given (every shard's)
    spread: int = 1  # processes a run of the hook may start at once (pre-commit's xargs -P)


def digests(
    root: Path, names: Sequence[str], index: FileIndex | None = None
) -> dict[str, str | None]:
    """Content digests of ``names`` (a symlink by its target); None when unreadable.
    Through ``index`` when given: a file whose stat signature did not change is not read."""
    if index is not None:
        return index.digests(names)
    found: dict[str, str | None] = {}
    for name in names:
        path = os.path.join(root, name)
        try:
            if os.path.islink(path):
                data = os.readlink(path).encode()
            else:
                with open(path, "rb") as stream:
                    data = stream.read()
            found[name] = hashlib.blake2b(data, digest_size=16).hexdigest()
        except OSError:
            found[name] = None
    return found


def hook_argv(call: HookCall) -> list[str]:
    """The command before the file names: entry split like a shell, then args."""
    hook = call.hook
    argv = [*shlex.split(hook.entry), *hook.args]
    if hook.language == "unsupported_script":
        argv[0] = str(hook.prefix / argv[0])
    elif call.env_dir is not None:
        inside = bin_dir(call.env_dir) / argv[0]
        if inside.is_file():
            argv[0] = str(inside)
    if argv and not os.path.dirname(argv[0]):
        # On the hook's PATH, as pre-commit looks it up (the environment's folder first);
        # not huskycat's own scripts folder first, as catalog tools are found.
        argv[0] = shutil.which(argv[0], path=call.env.get("PATH", os.defpath)) or argv[0]
    return argv


def run_on(call: HookCall, files: Sequence[str], *, spread: int | None = None) -> ToolResult:
    """Run ``call``'s hook once over ``files`` (batched when the command line is too
    long, and split into up to ``spread`` batches run at once, as pre-commit's xargs
    does, unless ``require_serial``) and judge it: exit code and modified files."""
    hook = call.hook
    started = time.monotonic()
    runs_process = hook.language not in IN_PROCESS
    if runs_process and call.index is not None:
        call.index.hook_runs()
    watched = list(files)
    if runs_process and call.tracked is not None and hook_watches_all(hook):
        given = call.files | set(files)
        watched += [name for name in call.tracked() if name not in given]
    before = digests(call.root, watched, call.index)
    arguments = list(files) if hook.pass_filenames else []
    code, output = _run_language(call, arguments, call.spread if spread is None else spread)
    after = digests(call.root, watched, call.index)
    modified = sorted(name for name in watched if after[name] != before[name])
    return _result(call, files, code, output, modified, time.monotonic() - started)


IN_PROCESS = frozenset({"pygrep", "fail", "meta"})  # languages that run no process


def hook_watches_all(hook: Hook) -> bool:
    """Whether every tracked file is compared before and after ``hook`` runs: one that
    may write files it was not given (it runs alone, see :mod:`.plan`); not a read-only
    one, which may run beside others and so would see their changes."""
    return hook.writes_anywhere or (hook.always_run and not hook.read_only)


def _result(
    call: HookCall,
    files: Sequence[str],
    code: int,
    output: str,
    modified: Sequence[str],
    duration: float,
) -> ToolResult:
    hook = call.hook
    failed = code != 0 or bool(modified)
    lines = [f"- hook id: {hook.id}"]
    if code:
        lines.append(f"- exit code: {code}")
    if modified:
        lines.append("- files were modified by this hook")
    message = None
    if failed:
        message = "files were modified by this hook" if modified else f"exit code {code}"
    if hook.log_file and output.strip() and (failed or hook.verbose):
        with open(call.root / hook.log_file, "a", encoding="utf-8") as log:
            log.write(output.strip() + "\n")
    shown = "\n".join(lines) + ("\n\n" + output.strip() if output.strip() else "")
    return ToolResult(
        call.name,
        not failed,
        duration,
        output=shown if (failed or hook.verbose) else output,
        status=ToolStatus.FAILED if failed else ToolStatus.SUCCESS,
        error_message=message,
        metadata={
            "files": len(files),
            "returncodes": [code],
            "hook_id": hook.id,
            "modified_files": list(modified),
            "verbose": hook.verbose,
            **({"outcome": OUTCOME_FINDINGS} if failed else {}),
        },
    )


def _run_language(call: HookCall, files: list[str], spread: int = 1) -> tuple[int, str]:
    hook = call.hook
    if hook.language == "meta":
        if hook.id == "identity":
            return 0, "".join(f"{name}\n" for name in files)
        assert call.meta_output is not None
        return call.meta_output
    if hook.language == "fail":
        return 1, f"{hook.entry}\n\n" + "".join(f"{name}\n" for name in files)
    if hook.language == "pygrep":
        return pygrep(call.root, hook.entry, hook.args, files)
    return _run_command(call, hook_argv(call), files, spread)


MIN_FILES_PER_BATCH = 16  # files of one batch run beside others; fewer: one process


def spread_batches(files: Sequence[str], spread: int) -> list[list[str]]:
    """``files`` in up to ``spread`` consecutive slices of at least
    :data:`MIN_FILES_PER_BATCH` files (one slice when there are too few)."""
    count = max(1, min(spread, len(files) // MIN_FILES_PER_BATCH))
    if count == 1:
        return [list(files)]
    size = -(-len(files) // count)
    return [list(files[i : i + size]) for i in range(0, len(files), size)]


def _run_command(
    call: HookCall, argv: list[str], files: list[str], spread: int = 1
) -> tuple[int, str]:
    prefix = command_length(argv)
    slices = [files] if call.hook.require_serial else spread_batches(files, spread)
    batches = [
        batch
        for part in slices
        for batch in (partition(prefix, [file_argument(f) for f in part]) or [[]])
    ]

    def one(batch: list[str]) -> tuple[int, str]:
        try:
            proc = process.run([*argv, *batch], cwd=call.root, env=call.env)
        except FileNotFoundError as exc:
            raise _NotRun(f"Executable `{argv[0]}` not found") from exc
        except OSError as exc:
            raise _NotRun(str(exc)) from exc
        if proc.timed_out:
            raise TimeoutError(f"{call.name} timed out")
        if proc.cancelled:
            raise process.Cancelled()
        return proc.returncode, proc.stdout + proc.stderr

    try:
        if len(slices) > 1:
            # Side by side, each in a copy of this thread's context: the tool's deadline
            # and cancellation (huskycat.core.process) reach every batch's process.
            with ThreadPoolExecutor(max_workers=len(slices)) as pool:
                futures = [pool.submit(contextvars.copy_context().run, one, b) for b in batches]
                done = [future.result() for future in futures]
        else:
            done = [one(batch) for batch in batches]
    except _NotRun as exc:
        return 1, str(exc)
    code = 0
    for returncode, _ in done:
        code = max(code, returncode) if returncode >= 0 else returncode
    return code, "".join(out for _, out in done)


class _NotRun(Exception):
    """A batch whose program could not be started (the hook's verdict: exit 1)."""


def pygrep(root: Path, pattern: str, args: Sequence[str], files: Sequence[str]) -> tuple[int, str]:
    """pre-commit's pygrep language, in-process: exit 1 when the pattern is found (or,
    with ``--negate``, missing), with pre-commit's output lines."""
    flags = 0
    multiline = negate = False
    for arg in args:
        if arg in ("-i", "--ignore-case"):
            flags |= re.IGNORECASE
        elif arg == "--multiline":
            multiline = True
        elif arg == "--negate":
            negate = True
        else:
            return 2, f"pygrep: unrecognized argument {arg!r}\n"
    if multiline:
        flags |= re.MULTILINE | re.DOTALL
    compiled = re.compile(pattern.encode(), flags)
    code, out = 0, []
    for name in files:
        with open(root / name, "rb") as stream:
            contents = stream.read()
        if negate:
            lines = [contents] if multiline else list(io.BytesIO(contents))
            if not any(compiled.search(line) for line in lines):
                out.append(f"{name}\n")
                code = 1
            continue
        if multiline:
            match = compiled.search(contents)
            if match:
                code = 1
                line_no = contents[: match.start()].count(b"\n")
                matched = match[0].split(b"\n")
                matched[0] = contents.split(b"\n")[line_no]
                text = b"\n".join(matched).decode("utf-8", "replace")
                out.append(f"{name}:{line_no + 1}:{text}\n")
            continue
        # Lines as a binary file iterates them (split after b"\n" only), as pre-commit reads.
        for line_no, line in enumerate(io.BytesIO(contents), start=1):
            if compiled.search(line):
                code = 1
                text = line.rstrip(b"\r\n").decode("utf-8", "replace")
                out.append(f"{name}:{line_no}:{text}\n")
    return code, "".join(out)


Runner = Callable[[Sequence[str]], ToolResult]
