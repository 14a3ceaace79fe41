"""From configuration and files to the tools of a run: which tools, on which files, in
what order, and the callables the engine schedules.

Data flows one way: ``Config`` + file list -> :class:`PlannedTool` records (this module)
-> :class:`~huskycat.core.parallel_executor.ParallelExecutor` -> results -> reports.

Ordering in ``--fix`` mode: a tool that writes files and any other tool whose files
overlap with it are ordered one after the other ("after" edges), so that no two
writers touch the same file at once and no reader sees a file half rewritten. Writers
of the same files run in catalog order (then configuration order for custom tools);
readers run after the writers of their files. Tools on disjoint files stay parallel.
An ordering that would close a cycle with the configured dependencies is left out: those
two tools are already ordered the other way. In check mode no catalog tool writes, so
the catalog's "after" edges are left out (:func:`configured_edges`): the tools they would
order run side by side.
"""

from __future__ import annotations

import functools
import os
import shlex
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from huskycat import files as filesmod
from huskycat.cache import Cache
from huskycat.cache.keys import with_cache_settings
from huskycat.cache.lookup import cached_run_call
from huskycat.cache.sharded import cached_sharded_call
from huskycat.config import Config, ToolConfig
from huskycat.core import graph
from huskycat.core.process import DEFAULT_TIMEOUT  # noqa: F401 - re-exported: one default
from huskycat.core.results import SKIP_NOT_APPLICABLE, ToolResult, ToolStatus
from huskycat.core.sharding import ShardedTool
from huskycat.errors import HuskycatError
from huskycat.filetypes import FileTypes
from huskycat.run_options import RunOptions
from huskycat.tools.base import ParseResult, ToolOutput, ToolSpec
from huskycat.tools.call import ToolCall
from huskycat.tools.defaults import DEFAULT_AFTER, DEFAULT_DEPENDS_ON, NAMES
from huskycat.tools.facts import ResultFacts
from huskycat.tools.levels import apply_fail_on
from huskycat.tools.parsing import says_why
from huskycat.tools.runner import find_executable
from huskycat.vouching import Board, Vouched, note_left_out, vouched_files


class PlanError(HuskycatError):
    """A run that cannot be planned (an unknown tool in --tools or --skip)."""


@dataclass(frozen=True, kw_only=True)
class PlannedTool:
    """One tool of a run with everything resolved."""

    name: str
    spec: ToolSpec
    files: tuple[str, ...]
    settings: ToolConfig
    timeout: float | None
    weight: int
    depends_on: tuple[str, ...] = ()
    after: tuple[str, ...] = ()
    skip_reason: str | None = None  # set when known before running: no files, not installed
    # Applicable but cannot run (not installed, its environment failed): how to install it.
    unavailable: str | None = None
    # Runs the tool instead of the spec's command (pre-commit hooks), given the cache.
    run: Callable[[Cache | None], Callable[[], object]] | None = None

    @property
    def writes(self) -> bool:
        return self.spec.writes_files


@dataclass(frozen=True, kw_only=True)
class Plan:
    """The tools of a run and the edges between them."""

    root: Path
    fix: bool
    tools: dict[str, PlannedTool]
    requires: dict[str, tuple[str, ...]]
    after: dict[str, tuple[str, ...]]
    env: Mapping[str, str] = field(default_factory=dict)

    def levels(self) -> list[list[str]]:
        return graph.levels(graph.merge(self.requires, self.after))


def custom_spec(name: str, settings: ToolConfig) -> ToolSpec:
    """A ToolSpec for a tool declared only in the configuration."""
    command = settings.command or ()
    return ToolSpec(
        name=name,
        description=f"custom tool: {shlex.join(command)}",
        executable=command[0] if command else name,
        install_hint=f"the command {command[0]!r} of tools.{name}.command" if command else "",
        check_args=tuple(command[1:]),
        fix_args=tuple(settings.fix[1:]) if settings.fix else None,
        types=settings.types or frozenset(),
        pass_filenames=settings.pass_filenames if settings.pass_filenames is not None else True,
        parse=says_why(parse_exit_code),  # exit 1 in silence: an error, not findings
        version_args=(),
        # Nothing says what a custom command reads: cache and shard it as one whole.
        scope="project",
    )


def parse_exit_code(output: ToolOutput) -> ParseResult:
    """A custom tool's verdict from its exit code: 0 passes; 1 is findings (the usual
    "problems found"); anything else, or a signal, is an error.

    How many problems it found is unknown, so no counts: the result says "exit code 1",
    and for an error the runner adds the first line the tool printed.
    """
    if output.returncode == 0:
        return ParseResult("ok")
    if output.returncode == 1:
        return ParseResult("findings", message="exit code 1")
    return ParseResult("error")


def tool_env(environ: Mapping[str, str] | None = None) -> dict[str, str]:
    """The environment tools run in: ours without git's hook variables (GIT_DIR,
    GIT_INDEX_FILE, ...), which would point tools that call git at the wrong place, and
    with ``PYTHONUNBUFFERED=1``: a Python tool's worker processes (autoflake's pool)
    can be ended before they flush buffered output, which then never arrives."""
    environ = os.environ if environ is None else environ
    env = {k: v for k, v in environ.items() if not k.startswith("GIT_")}
    env["PYTHONUNBUFFERED"] = "1"
    return env


def select_tools(
    config: Config,
    *,
    only: Sequence[str] = (),
    skip: Sequence[str] = (),
) -> list[str]:
    """The names of the tools to run, catalog order first, then custom tools."""
    known = [*NAMES, *config.custom_tools]
    for name in [*only, *skip]:
        if name not in known:
            raise PlanError(f"unknown tool {name!r}; known tools: {', '.join(known)}")
    chosen = [n for n in known if (not only or n in only) and n not in skip]
    if not only:
        chosen = [n for n in chosen if config.is_enabled(n)]
    return chosen


def build_plan(
    root: Path,
    config: Config,
    candidates: Sequence[str],
    *,
    fix: bool = False,
    only: Sequence[str] = (),
    skip: Sequence[str] = (),
    options: RunOptions | None = None,
) -> Plan:
    """Resolve each chosen tool's files, command, timeout and edges; ``options`` are the
    run's (default: the configuration's alone), for the tools' time limits."""
    # Here, not at the top: a run of pre-commit hooks imports this module, not the tools.
    from huskycat.tools.catalog import CATALOG

    options = RunOptions.of(config) if options is None else options
    names = select_tools(config, only=only, skip=skip)
    if config.exclude:
        candidates = [
            f for f in candidates if not any(filesmod.matches_glob(f, g) for g in config.exclude)
        ]
    # Remembered across runs by content: an unchanged file is not typed again.
    types = FileTypes.for_root(root, expected=len(candidates))

    tools: dict[str, PlannedTool] = {}
    for name in names:
        settings = config.tool(name)
        spec = with_cache_settings(CATALOG.get(name) or custom_spec(name, settings), settings)
        chosen = types.select(
            candidates,
            types=settings.types if settings.types is not None else spec.types,
            exclude_types=spec.exclude_types,
            files_regex=spec.files,
            exclude_regex=spec.exclude,
            include_globs=settings.files or (),
            exclude_globs=settings.exclude or (),
        )
        pass_filenames = (
            settings.pass_filenames if settings.pass_filenames is not None else spec.pass_filenames
        )
        if chosen and spec.targets is not None and not spec.targets(chosen, str(root)):
            chosen = []  # e.g. YAML files, but none of them Ansible content
        skip_reason = unavailable = None
        if not chosen:
            # Also for a tool that takes no file arguments: as in pre-commit, it runs
            # when the run has files of its kind, so its filters mean the same thing.
            skip_reason = "no files to check"
        elif settings.version is not None and settings.command is None:
            spec, skip_reason, unavailable = _pinned(name, spec, settings.version)
        elif (
            name in CATALOG
            and settings.command is None
            and find_executable(spec.executable) is None
        ):
            skip_reason = f"not installed: {spec.install_hint}"
            unavailable = spec.install_hint
        tool_timeout = options.tool_timeout(settings.timeout)
        tools[name] = PlannedTool(
            name=name,
            spec=(
                spec
                if pass_filenames == spec.pass_filenames
                else _with_pass_filenames(spec, pass_filenames)
            ),
            files=tuple(chosen),
            settings=settings,
            timeout=tool_timeout,
            weight=settings.weight or 1,
            skip_reason=skip_reason,
            unavailable=unavailable,
        )

    types.save()
    writers = [n for n, t in tools.items() if fix and t.writes]
    requires, after = configured_edges(config, tools, writers=writers)
    for name, tool in tools.items():
        if tool.skip_reason is not None:
            # Not applicable whatever its dependencies do: no edges, so that it is shown
            # as "no files to check", not as blocked by a failed dependency.
            requires[name] = after[name] = ()
    if fix:
        after = _fix_mode_order(tools, requires, after)
    return Plan(
        root=root,
        fix=fix,
        tools=tools,
        requires=requires,
        after=after,
        env=tool_env(),
    )


def configured_edges(
    config: Config, names: Collection[str], *, writers: Collection[str] = ()
) -> tuple[dict[str, tuple[str, ...]], dict[str, tuple[str, ...]]]:
    """``(requires, after)`` among ``names``: the catalog's edges plus the configuration's
    ``depends_on`` and ``after``. Edges to tools not in ``names`` are left out; a tool
    both required and ordered after is only required.

    The catalog's ``after`` edges (mypy after black, ...) keep a reader from seeing a
    file a formatter is rewriting, so they apply only from a tool in ``writers`` (those
    that may write in this run: the fixers of a ``--fix`` run). In check mode nothing
    writes and they would only make the tools wait for each other. The catalog's
    ``depends_on`` and the configuration's own edges always apply."""
    requires: dict[str, tuple[str, ...]] = {}
    after: dict[str, tuple[str, ...]] = {}
    for name in names:
        settings = config.tool(name)
        req = {*DEFAULT_DEPENDS_ON.get(name, ()), *(settings.depends_on or ())}
        ordering = (d for d in DEFAULT_AFTER.get(name, ()) if d in writers)
        aft = {*ordering, *(settings.after or ())}
        requires[name] = tuple(sorted(d for d in req if d in names))
        after[name] = tuple(sorted(d for d in aft if d in names and d not in req))
    return requires, after


def fix_writers(names: Collection[str]) -> list[str]:
    """The catalog tools among ``names`` that rewrite files in ``--fix`` mode."""
    from huskycat.tools.catalog import CATALOG

    return [n for n in names if n in CATALOG and CATALOG[n].writes_files]


def _pinned(name: str, spec: ToolSpec, version: str) -> tuple[ToolSpec, str | None, str | None]:
    """``spec`` run from the managed environment holding exactly ``version`` (installed
    now when missing); or why it cannot run and what installs it."""
    from dataclasses import replace

    from huskycat import envs

    try:
        exe = envs.pinned_tool(spec.executable, version)
    except envs.EnvError as exc:
        return spec, f"environment failed: {exc}", "huskycat install-hooks"
    except LookupError as exc:
        raise PlanError(f"tools.{name}.version: {exc}") from exc
    return replace(spec, executable=exe), None, None


def _with_pass_filenames(spec: ToolSpec, value: bool) -> ToolSpec:
    from dataclasses import replace

    return replace(spec, pass_filenames=value)


def _fix_mode_order(
    tools: Mapping[str, PlannedTool],
    requires: Mapping[str, tuple[str, ...]],
    after: dict[str, tuple[str, ...]],
) -> dict[str, tuple[str, ...]]:
    """Add "after" edges between every writer and each tool sharing files with it."""
    edges = {n: set(after[n]) for n in tools}
    active = [t for t in tools.values() if t.skip_reason is None]
    file_sets = {t.name: set(t.files) if t.spec.pass_filenames else None for t in active}

    def overlap(a: str, b: str) -> bool:
        fa, fb = file_sets[a], file_sets[b]
        if fa is None or fb is None:  # a project-wide tool without file arguments
            return True
        return not fa.isdisjoint(fb)

    def reaches(src: str, dst: str) -> bool:
        """Whether dst already depends, directly or not, on src."""
        seen, stack = set(), [dst]
        while stack:
            node = stack.pop()
            if node == src:
                return True
            if node in seen:
                continue
            seen.add(node)
            stack.extend(requires.get(node, ()))
            stack.extend(edges.get(node, ()))
        return False

    def ordered(a: str, b: str) -> bool:
        return reaches(a, b) or reaches(b, a)

    # Nearest earlier writer first, so that a chain w1 <- w2 <- w3 needs no w1 <- w3.
    writers = [t.name for t in active if t.writes]
    for j, later in enumerate(writers):
        for first in reversed(writers[:j]):
            if overlap(first, later) and not ordered(first, later):
                edges[later].add(first)
    for reader in (t.name for t in active if not t.writes):
        for writer in reversed(writers):
            if overlap(writer, reader) and not ordered(writer, reader):
                edges[reader].add(writer)
    return {n: tuple(sorted(e - set(requires[n]))) for n, e in edges.items()}


# A file-local tool with at least twice this many files may be split into shards that
# run side by side; fewer files per shard would spend more on starting the tool again
# than the split saves.
MIN_FILES_PER_SHARD = 8
MAX_SHARDS = 8


@dataclass(frozen=True)
class FileCall:
    """One call of a tool on files: ``vouch()`` says, when it starts, which files it may
    check (a failed requirement may hold some back: :mod:`huskycat.vouching`), and
    ``run_on`` runs it on them here (through the cache). A cluster
    (:mod:`huskycat.distributed.tools`) asks ``vouch()`` the same, runs the tool on a
    worker instead, and ends with the same :meth:`finish`."""

    tool: PlannedTool
    vouch: Callable[[], Vouched]
    run_on: Callable[[Sequence[str]], ToolResult] = field(repr=False)

    def __call__(self) -> ToolResult:
        allowed = self.vouch()
        if allowed.blocked is not None:
            return allowed.blocked
        return self.finish(self.run_on(allowed.files), allowed)

    def finish(self, result: ToolResult, allowed: Vouched) -> ToolResult:
        """The result as the run reports it: the configured ``fail_on`` applied (after
        the cache: it is configuration, not input), and the files held back named."""
        return note_left_out(apply_fail_on(result, self.tool.settings.fail_on), allowed.left_out)


@dataclass(frozen=True)
class Finishing:
    """A lone part of a split, and what makes its result the tool's (see FileCall.finish)."""

    part: Callable[[], object]
    finish: Callable[[ToolResult], ToolResult] = field(repr=False)

    def __call__(self) -> ToolResult:
        result = self.part()
        assert isinstance(result, ToolResult), result
        return self.finish(result)


def tool_call(plan: Plan, tool: PlannedTool) -> ToolCall:
    """The one record of ``tool``'s call in ``plan`` (over all its files), built from the
    plan and the tool's settings; its parts are the same call on fewer files."""
    settings = tool.settings
    return ToolCall.of(
        tool.spec,
        tool.files,
        root=plan.root,
        fix=plan.fix,
        extra_args=settings.args or (),
        command=settings.command,
        fix_command=settings.fix,
        env=plan.env,
    )


def tool_callable(
    plan: Plan,
    tool: PlannedTool,
    *,
    cache: Cache | None = None,
    board: Board | None = None,
    vouchers: Sequence[str] = (),
) -> Callable[[], object]:
    """What the engine calls for ``tool``: a callable, or a :class:`ShardedTool` for a
    file-local tool with enough files, whose shards each run (or replay from ``cache``)
    the tool on a slice of its files.

    With ``vouchers`` (dependencies whose ``requires`` edge the engine got as ``after``,
    see :mod:`huskycat.vouching`) and the ``board`` of results, the tool checks only the
    files those dependencies did not fail on."""
    if tool.skip_reason is not None:
        reason = tool.skip_reason
        facts = ResultFacts(skip_reason=SKIP_NOT_APPLICABLE, unavailable=tool.unavailable or None)

        def skipped() -> ToolResult:
            return ToolResult(
                tool.name,
                True,
                0.0,
                status=ToolStatus.SKIPPED,
                error_message=reason,
                metadata=facts.to_metadata(),
            )

        return skipped
    if tool.run is not None:
        return tool.run(cache)
    call = tool_call(plan, tool)

    def run_on(files: Sequence[str]) -> ToolResult:
        return cached_run_call(cache, call.on(files))

    files = tool.files

    def vouched() -> Vouched:
        if board is None or not vouchers:
            return Vouched(files, {})
        return vouched_files(tool.name, files, vouchers, board)

    whole = FileCall(tool, vouched, run_on)
    shardable = (
        tool.spec.scope == "file"
        and tool.spec.pass_filenames
        and tool.spec.targets is None
        and len(files) >= 2 * MIN_FILES_PER_SHARD
    )
    if not shardable:
        return whole
    # Looked up in the cache as a whole when it starts; the files it misses run in shards.
    # The files it may check are asked first (a failed requirement may hold some back).
    current: list[tuple[Vouched, ShardedTool]] = []  # this split's, for merge

    def split(wanted: int) -> list[Callable[[], object]]:
        current.clear()
        allowed = vouched()
        if allowed.blocked is not None:
            blocked = allowed.blocked
            return [lambda: blocked]
        inner = cached_sharded_call(
            cache,
            call.on(allowed.files),
            min_files_per_shard=MIN_FILES_PER_SHARD,
            max_shards=min(MAX_SHARDS, len(files) // MIN_FILES_PER_SHARD),
        )
        current.append((allowed, inner))
        parts = list(inner.split(wanted))
        if len(parts) == 1:  # the engine runs a lone part as the tool, without merge
            return [Finishing(parts[0], functools.partial(whole.finish, allowed=allowed))]
        return parts

    def merge(results: list[ToolResult]) -> ToolResult:
        allowed, inner = current[0]
        merged = inner.merge(results)
        assert isinstance(merged, ToolResult), merged
        return whole.finish(merged, allowed)

    return ShardedTool(split, merge, max_shards=min(MAX_SHARDS, len(files) // MIN_FILES_PER_SHARD))
