"""One call of a catalog tool: everything that decides what runs, as one frozen record.

A :class:`ToolCall` is built once (by the plan, from the configuration) and passed whole:
:func:`huskycat.tools.runner.run_call` runs it, :func:`huskycat.cache.lookup.lookup_call`
looks it up, a cluster (:mod:`huskycat.distributed.tools`) sends it to a worker. Parts of
a run (files the cache missed, shards) are the same call :meth:`~ToolCall.on` fewer files.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from huskycat.tools.base import ToolSpec


@dataclass(frozen=True)
class ToolCall:
    """``spec`` over ``files`` (relative to ``root``, the working folder).

    ``fix``: fix mode. ``extra_args`` come last before the files; ``command`` and
    ``fix_command`` replace the catalog's command (program included); ``env`` replaces
    huskycat's environment (None: inherit it). See :func:`huskycat.tools.programs.build_argv`.
    """

    spec: ToolSpec
    files: tuple[str, ...]
    root: Path
    fix: bool = False
    extra_args: tuple[str, ...] = ()
    command: tuple[str, ...] | None = None
    fix_command: tuple[str, ...] | None = None
    env: Mapping[str, str] | None = field(default=None, hash=False)

    @classmethod
    def of(
        cls,
        spec: ToolSpec,
        files: Sequence[str],
        *,
        root: Path | str,
        fix: bool = False,
        extra_args: Sequence[str] = (),
        command: Sequence[str] | None = None,
        fix_command: Sequence[str] | None = None,
        env: Mapping[str, str] | None = None,
    ) -> ToolCall:
        """A call from the keyword arguments :func:`~huskycat.tools.runner.run_tool`
        takes (sequences as tuples, ``env`` as a plain dict that pickles)."""
        return cls(
            spec,
            tuple(files),
            Path(root),
            fix,
            tuple(extra_args),
            None if command is None else tuple(command),
            None if fix_command is None else tuple(fix_command),
            None if env is None else dict(env),
        )

    @property
    def writes(self) -> bool:
        """Whether the call may change its files (fix mode, a tool that writes files)."""
        return self.fix and self.spec.writes_files

    def on(self, files: Sequence[str]) -> ToolCall:
        """The same call over ``files``."""
        return dataclasses.replace(self, files=tuple(files))

    def at(self, root: Path) -> ToolCall:
        """The same call in another working folder (a tree shipped to a worker)."""
        return dataclasses.replace(self, root=Path(root))
