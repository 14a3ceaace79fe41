"""What a validation tool is: the record every catalog entry fills in.

The engine (``huskycat.core``) knows nothing of this module; the command line turns a
:class:`ToolSpec` plus a file list into a callable that the engine schedules.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Literal

from huskycat.core import summary as summaries
from huskycat.core.results import Diagnostic

Outcome = Literal["ok", "findings", "error"]
Scope = Literal["file", "project"]


@dataclass(frozen=True)
class ToolOutput:
    """What one run of a tool's command produced, handed to its parser."""

    argv: tuple[str, ...]
    returncode: int
    stdout: str
    stderr: str
    files: tuple[str, ...]  # the file arguments passed (relative to cwd), maybe empty
    cwd: str
    fix: bool = False  # whether the tool ran in fix (write) mode


@dataclass(frozen=True)
class ParseResult:
    """A parser's reading of a ToolOutput.

    ``outcome``: "ok" (ran, found nothing), "findings" (ran to completion and reported
    problems: violations, or a formatter that would reformat), "error" (could not do its
    work: crash, usage error, bad configuration, unparseable output).
    """

    outcome: Outcome
    diagnostics: tuple[Diagnostic, ...] = ()
    errors: int = 0
    warnings: int = 0
    message: str | None = None  # one line for the summary ("would reformat 3 files")
    # The same as data (huskycat.core.summary), which parts of a run add up; a parser
    # that gives only ``summary`` gets ``message`` rendered from it, one that gives
    # only ``message`` gets it as a summary of one phrase.
    summary: summaries.Summary = ()

    def __post_init__(self) -> None:
        if self.summary and self.message is None:
            object.__setattr__(self, "message", summaries.render(self.summary))
        elif self.message and not self.summary:
            object.__setattr__(self, "summary", (self.message,))


Parser = Callable[[ToolOutput], ParseResult]
# Turns the selected files (relative to the root, the second argument) into the command's
# arguments, for example Helm chart folders; the default passes the files themselves.
TargetMapper = Callable[[Sequence[str], str], list[str]]


@dataclass(frozen=True, kw_only=True)
class ToolSpec:
    """One validation tool: how to find it, run it, feed it files and read its output."""

    name: str
    description: str
    executable: str  # looked up in the running Python's scripts folder first, then PATH
    install_hint: str  # shown when not installed: "pip install bandit"
    check_args: tuple[str, ...]  # arguments after the executable in check mode
    # The whole check command when it is not the executable itself ("{exe}" stands for
    # the executable's path); used where a tool's own check cannot be relied on.
    check_command: tuple[str, ...] = ()
    fix_args: tuple[str, ...] | None = None  # arguments in --fix mode; None: never writes
    types: frozenset[str] = frozenset()  # identify tags: a file with any of them matches
    exclude_types: frozenset[str] = frozenset()
    files: str = ""  # regex a file's path must match (search), "" for any
    exclude: str = ""  # regex of paths to leave out
    pass_filenames: bool = True
    scope: Scope = "file"  # "file": results are per file (cacheable, shardable)
    config_files: tuple[str, ...] = ()  # files whose content changes the tool's results
    version_args: tuple[str, ...] = ("--version",)
    parse: Parser
    targets: TargetMapper | None = None
    env: tuple[tuple[str, str], ...] = field(default=())  # extra environment variables
    # The result cache (huskycat.cache.keys): whether results may be cached at all; the
    # globs of the files the tool reads (a custom tool is cached only when it says); the
    # environment variables it reads (NAME or PREFIX_*) besides the catalog's.
    cache: bool = True
    inputs: tuple[str, ...] | None = None
    env_inputs: tuple[str, ...] = ()

    @property
    def writes_files(self) -> bool:
        """Whether the tool rewrites files in --fix mode."""
        return self.fix_args is not None
