"""Run one catalog tool over a file list and read what it said into a ToolResult.

:func:`run_tool` is what the engine's worker thread calls for a :class:`ToolSpec`::

    files --targets--> arguments --partition--> batches
    each batch: process.run(exe + args + batch) --spec.parse--> ParseResult
    all batches --merge--> one ToolResult (diagnostics, counts, outcome, output)

Batches run one after another: the parallelism comes from the engine running tools side
by side. A batch that hits the tool's deadline raises ``TimeoutError`` and a cancelled
one raises :class:`~huskycat.core.process.Cancelled`; the engine turns both into results.
Everything else, including a tool that crashes or cannot be started, is a result.
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from huskycat import files as filesmod
from huskycat.core import process
from huskycat.core import summary as summaries
from huskycat.core.results import (
    OUTCOME_ERROR,
    SKIP_NOT_APPLICABLE,
    Diagnostic,
    ToolResult,
    ToolStatus,
)
from huskycat.tools.base import ParseResult, ToolOutput, ToolSpec
from huskycat.tools.call import ToolCall
from huskycat.tools.facts import ResultFacts, with_facts
from huskycat.tools.merge import merge_results
from huskycat.tools.parsing import first_line
from huskycat.tools.programs import (  # re-exported: where they were before the split
    DISTRIBUTIONS,
    VERSION_TIMEOUT,
    ResolvedCommand,
    build_argv,
    find_executable,
    resolve_call,
    resolve_command,
    tool_version,
)

__all__ = [
    "DISTRIBUTIONS",
    "VERSION_TIMEOUT",
    "ResolvedCommand",
    "build_argv",
    "display_path",
    "file_argument",
    "find_executable",
    "resolve_call",
    "resolve_command",
    "run_call",
    "run_tool",
    "tool_version",
]


def file_argument(name: str) -> str:
    """``name`` as a command-line argument that no tool can take for an option.

    Tools parse their arguments with argparse, click or clap, and each would read
    "-x.py" as options; not all of them accept "--" to end the options, and some treat
    what follows "--" differently. "./-x.py" names the same file everywhere.
    """
    return "./" + name if name.startswith("-") else name


def display_path(path: str, root: Path) -> str:
    """A path as a tool printed it, made relative to ``root`` when inside it, "/"-separated.

    Tools print what they were given ("./-x.py"), normalised ("-x.py") or made absolute
    (isort, ruff); diagnostics name files the one way the file list does.
    """
    if os.path.isabs(path):
        rel = os.path.relpath(path, root)
        if rel != os.pardir and not rel.startswith(os.pardir + os.sep):
            path = rel
    return Path(os.path.normpath(path)).as_posix()


def _hashes(root: Path, names: Sequence[str]) -> dict[str, bytes | None]:
    digests: dict[str, bytes | None] = {}
    for name in names:
        try:
            digests[name] = hashlib.blake2b(Path(root, name).read_bytes()).digest()
        except OSError:  # missing, a folder, unreadable: changed only if that changes
            digests[name] = None
    return digests


@dataclass(frozen=True)
class _Batch:
    proc: process.ProcessResult
    parsed: ParseResult
    odd_name: str | None = None  # the one file of a batch of its own (see _batches)


def _skipped(spec: ToolSpec, message: str, **facts: Any) -> ToolResult:
    skipped = ToolResult(
        spec.name,
        True,
        0.0,
        status=ToolStatus.SKIPPED,
        error_message=message,
        metadata=ResultFacts(skip_reason=SKIP_NOT_APPLICABLE).to_metadata(),
    )
    return with_facts(skipped, **facts)


def _error(spec: ToolSpec, message: str, **facts: Any) -> ToolResult:
    failed = ToolResult(
        spec.name,
        False,
        0.0,
        status=ToolStatus.FAILED,
        error_message=message,
        metadata=ResultFacts(outcome=OUTCOME_ERROR).to_metadata(),
    )
    return with_facts(failed, **facts)


def run_tool(
    spec: ToolSpec,
    files: Sequence[str],
    *,
    root: Path,
    fix: bool = False,
    extra_args: Sequence[str] = (),
    command: Sequence[str] | None = None,
    fix_command: Sequence[str] | None = None,
    env: Mapping[str, str] | None = None,
    version_of: Callable[[ToolSpec, str], str | None] = tool_version,
) -> ToolResult:
    """:func:`run_call` of the :class:`~huskycat.tools.call.ToolCall` these arguments make."""
    call = ToolCall.of(
        spec,
        files,
        root=root,
        fix=fix,
        extra_args=extra_args,
        command=command,
        fix_command=fix_command,
        env=env,
    )
    return run_call(call, version_of=version_of)


def run_call(
    call: ToolCall, *, version_of: Callable[[ToolSpec, str], str | None] = tool_version
) -> ToolResult:
    """Run ``call.spec`` over ``call.files`` (relative to ``call.root``, the working folder).

    SKIPPED (not applicable) when the tool takes files and there are none, or when its
    program is not installed. Otherwise SUCCESS when every batch came out "ok", else
    FAILED with ``metadata["outcome"]`` "findings" or "error". In fix mode for a tool
    that writes files, ``metadata["modified_files"]`` lists the files it changed.

    ``version_of(spec, executable)`` learns the version of the catalog's program (the
    result cache passes one that remembers versions across runs).

    Raises ``TimeoutError`` when the tool's deadline passes and
    :class:`~huskycat.core.process.Cancelled` when its run is cancelled.
    """
    spec, files, root, env = call.spec, call.files, call.root, call.env
    if spec.pass_filenames and not files:
        return _skipped(spec, "no files to check")
    targets = spec.targets(files, str(root)) if spec.targets is not None else list(files)
    if spec.pass_filenames and not targets:
        return _skipped(spec, "no files to check")

    resolved = resolve_call(call)
    if not resolved.found:
        return _skipped(spec, f"not installed: {spec.install_hint}", executable=resolved.argv[0])
    argv = list(resolved.argv)
    exe = argv[0]
    version = (
        version_of(spec, resolved.executable)
        if resolved.default_program and resolved.executable
        else None
    )

    if spec.pass_filenames:
        try:
            batches = _batches(argv, [file_argument(t) for t in targets])
        except ValueError as exc:
            return _error(spec, str(exc), version=version, files=len(files))
    else:
        batches = [[]]

    writes = call.writes
    before = _hashes(root, files) if writes else {}
    # ``env`` (default: ours) plus what the tool itself needs.
    base = os.environ if env is None else env
    run_env: Mapping[str, str] | None = {**base, **dict(spec.env)} if spec.env or env else None
    done: list[_Batch] = []
    for batch in batches:
        batch_argv = [*argv, *batch]
        try:
            proc = process.run(batch_argv, cwd=root, env=run_env)
        except OSError as exc:
            return _error(spec, f"cannot run {exe}: {exc}", argv=batch_argv, version=version)
        if proc.timed_out:
            raise TimeoutError(
                f"{spec.name} timed out after {proc.duration:.1f}s "
                f"(batch {len(done) + 1} of {len(batches)})"
            )
        if proc.cancelled:
            ctx = process.current_context()
            raise process.Cancelled(ctx.cancel_reason if ctx is not None else "cancelled")
        output = ToolOutput(
            argv=tuple(batch_argv),
            returncode=proc.returncode,
            stdout=proc.stdout,
            stderr=proc.stderr,
            files=tuple(batch),
            cwd=str(root),
            fix=call.fix,
        )
        odd = batch[0] if len(batch) == 1 and not _utf8(batch[0]) else None
        done.append(_Batch(proc, spec.parse(output), odd))

    result = with_facts(
        _merge(spec, done, root),
        argv=(*argv, *batches[0]),
        version=version,
        files=len(files),
        batches=len(batches),
    )
    if writes:
        after = _hashes(root, files)
        changed = tuple(sorted(n for n in files if before[n] != after[n]))
        result = with_facts(result, modified_files=changed)
    return result


def _merge(spec: ToolSpec, batches: Sequence[_Batch], root: Path) -> ToolResult:
    """One ToolResult from the batches' parses, in the order they ran: each batch made a
    result of its own, then :func:`merge_results`, the one merge of partial results (with
    thousands of files, counts such as "would reformat N files" add up as data)."""
    # Each file once, not once per diagnostic: thousands of findings name a few files.
    shown = functools.lru_cache(maxsize=None)(functools.partial(display_path, root=root))
    parts = []
    for batch in batches:
        parsed, proc = batch.parsed, batch.proc
        ok = parsed.outcome == "ok"
        if parsed.outcome == "error":
            message: str | None = parsed.message or _exit_message(proc)
            if batch.odd_name is not None:
                message = _on_odd_name(message, batch.odd_name)
            summary: summaries.Summary = (message,) if message else ()
        else:
            message = parsed.message
            summary = _named_by_root(parsed.summary, root)
        text = proc.output
        parts.append(
            ToolResult(
                spec.name,
                ok,
                0.0,
                errors=parsed.errors,
                warnings=parsed.warnings,
                output=text if not text or text.endswith("\n") else text + "\n",
                status=ToolStatus.SUCCESS if ok else ToolStatus.FAILED,
                error_message=message,
                metadata=ResultFacts(
                    outcome=parsed.outcome,  # "ok", OUTCOME_FINDINGS or OUTCOME_ERROR
                    returncodes=(proc.returncode,),
                    summary=summary,
                ).to_metadata(),
                diagnostics=[
                    Diagnostic(shown(d.file), d.line, d.column, d.code, d.severity, d.message)
                    for d in parsed.diagnostics
                ],
            )
        )
    result = merge_results(parts)
    if any(b.proc.truncated for b in batches):
        result = with_facts(result, output_truncated=True)
    return result


def _batches(argv: Sequence[str], arguments: Sequence[str]) -> list[list[str]]:
    """The file arguments in batches that fit on a command line, each file whose name is
    not UTF-8 in a batch of its own, last: tools that cannot take such a name (flake8
    crashes printing it, ruff cannot write its cache) then fail on that file alone, not
    on every file of its batch. Raises ``ValueError`` for a name too long to fit."""
    plain = [a for a in arguments if _utf8(a)]
    batches = filesmod.partition(filesmod.command_length(argv), plain) if plain else []
    odd = [[a] for a in arguments if not _utf8(a)]
    if odd:
        filesmod.partition(filesmod.command_length(argv), [a for [a] in odd])  # fits?
    return batches + odd


def _utf8(name: str) -> bool:
    """Whether ``name`` (as the file system decoded it) is valid UTF-8: no byte that
    could not be decoded, kept as a lone surrogate."""
    if name.isascii():
        return True
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _on_odd_name(message: str | None, name: str) -> str:
    """A tool's error on a file whose name is not UTF-8, naming that file by its bytes."""
    shown = repr(os.fsencode(name))
    why = f"on {shown}, a file name that is not UTF-8"
    return f"{message} ({why})" if message else f"failed {why}"


def _named_by_root(summary: summaries.Summary, root: Path) -> summaries.Summary:
    """``summary`` with the files its counts name made relative to ``root``, as the
    diagnostics' files are (:func:`display_path`)."""
    return tuple(
        (
            dataclasses.replace(p, files=tuple(display_path(f, root) for f in p.files))
            if isinstance(p, summaries.Count) and p.files
            else p
        )
        for p in summary
    )


def _exit_message(proc: process.ProcessResult) -> str:
    line = first_line(proc.stderr) or first_line(proc.stdout)
    return f"exit code {proc.returncode}: {line}" if line else f"exit code {proc.returncode}"
