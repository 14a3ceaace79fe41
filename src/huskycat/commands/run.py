"""``huskycat run``: plan, run the tools through the engine, show and report the results.

With ``--staged`` the unstaged changes to tracked files are set aside while the tools
run (:mod:`huskycat.staged`), so that they check what will be committed. Results of
tools whose inputs did not change are replayed from the cache (:mod:`huskycat.cache`),
and each run's durations feed the next run's priorities (:mod:`huskycat.history`).

With ``--fix``, files the fixers changed are listed and the run exits 1, so that the
user reviews and stages them; ``--stage-fixes`` stages them instead (``git add``, only
files git tracks). With ``--staged`` that happens before the unstaged changes are put
back, so that only the fixes are staged; a fix rolled back for conflicting with
unstaged changes is not staged either.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

from huskycat import __version__
from huskycat.commands.common import (
    EXIT_FAILED,
    EXIT_OK,
    UsageError,
    collect,
    load_config,
    planned_run,
    repo_root,
    silence_stdout,
)
from huskycat.replay import SET_ASIDE_PREFIXES
from huskycat.signals import terminate_raises
from huskycat.tools.facts import facts_of

if TYPE_CHECKING:
    from huskycat.commands.cluster import Cluster
    from huskycat.config import Config
    from huskycat.core.results import ToolEvent, ToolResult
    from huskycat.planning import Plan


BACKGROUND_NICE = 19  # CPU niceness of tools that are not on the critical path


class ReportError(UsageError):
    """A report file that could not be written after the run."""

    def __init__(self, option: str, path: str, error: OSError) -> None:
        super().__init__(option, path, error)
        self.option, self.path, self.error = option, path, error

    def __str__(self) -> str:
        return f"cannot write {self.option} {self.path!r}: {self.error.strerror or self.error}"


class _Ran(NamedTuple):
    """What a run came to: whether a tool failed or timed out, which files fixers changed."""

    failed: bool
    modified: tuple[str, ...]


def cmd_run(args: argparse.Namespace) -> int:
    for option, value in (
        ("--junit-xml", args.junit_xml),
        ("--json", args.json),
        *((option, path) for _, option, path in _extra_reports(args)),
    ):
        if value is not None:
            _check_report_path(option, value)
    if args.stage_fixes and not args.fix:
        raise UsageError("--stage-fixes stages the files --fix changes: give --fix as well")
    root, in_repo = repo_root()
    # Always, even when nothing is staged: a bad configuration is an error (exit 2) on
    # the first commit, not on the first one that happens to stage a matching file.
    config = load_config(root)
    if args.stage_fixes and not in_repo:
        raise UsageError(f"--stage-fixes needs a git repository; {str(root)!r} is not in one")
    if not args.staged:
        if in_repo:
            _refuse_while_set_aside(root)
            if config.source is None and not getattr(args, "cluster", None):
                _prefetch_hooks(root, args)
        files, mode = collect(args, root)
        ran = _execute(args, root, config, files, mode)
        staged_fixes = _stage_fixes(root, ran.modified) if args.stage_fixes else ()
        _say_staged(staged_fixes)
        return _exit_code(ran, staged_fixes)
    if not in_repo:
        raise UsageError(f"--staged needs a git repository; {str(root)!r} is not in one")
    return _run_staged(args, root, config)


def _run_staged(args: argparse.Namespace, root: Path, config: Config) -> int:
    """The run on the staged content, unstaged changes set aside (see huskycat.staged)."""
    from huskycat import git, staged

    ran = _Ran(False, ())
    staged_fixes: tuple[str, ...] = ()
    earlier: dict[str, bytes] = {}  # index records of partially staged files fixers changed
    patch = _pre_commit_patch(root, config)
    with staged.checking_staged(root) as stash:
        # Inside: a staged file deleted in the work tree is back, so git lists it.
        files, mode = collect(args, root)
        if not files:
            if not args.quiet:
                print("huskycat: nothing staged to check")
        else:
            ran = _execute(args, root, config, files, mode)
            if patch and ran.modified and not args.stage_fixes:
                _as_pre_commit_would(root, patch)
            if args.stage_fixes:
                # Now, while the work tree holds the staged content and the fixes: once a
                # partially staged file has its unstaged changes back, `git add` would
                # stage those too.
                earlier = git.index_entries(root, set(ran.modified) & set(stash.files))
                staged_fixes = _stage_fixes(root, ran.modified)
    rolled_back = [path for path in stash.rolled_back if path in earlier]
    if rolled_back:
        # Fixes rolled back in the work tree for conflicting with unstaged changes are
        # not left in the index either: the file is staged as it was before the run.
        git.restore_index_entries(root, [earlier[path] for path in rolled_back])
        staged_fixes = tuple(path for path in staged_fixes if path not in rolled_back)
    for line in stash.messages():
        print(f"huskycat: {line}", file=sys.stderr)
    _say_staged(staged_fixes)
    return _exit_code(ran, staged_fixes)


def _pre_commit_patch(root: Path, config: Config) -> bytes | None:
    """In a repository run from .pre-commit-config.yaml, the unstaged changes as
    pre-commit saves them (see huskycat.precommit.rollback); else None."""
    if config.source is not None:  # a huskycat configuration: no import of precommit
        return None
    from huskycat.precommit.plan import config_path

    if config_path(root) is None:
        return None
    from huskycat.precommit.rollback import unstaged_patch

    return unstaged_patch(root)


def _as_pre_commit_would(root: Path, patch: bytes) -> None:
    """Drop every hook's fixes when pre-commit could not put the unstaged changes back
    on top of them."""
    from huskycat.precommit.rollback import drop_fixes, patch_applies

    if not patch_applies(root, patch):
        drop_fixes(root)
        print(
            "huskycat: the hooks' fixes conflict with your unstaged changes; as pre-commit "
            "does, every fix was rolled back",
            file=sys.stderr,
        )


def _prefetch_hooks(root: Path, args: argparse.Namespace) -> None:
    """A repository run from .pre-commit-config.yaml: its hook repositories fetched and
    environments installed while the files are listed (huskycat.precommit.prefetch)."""
    from huskycat.precommit import prefetch

    prefetch.start(root, only=args.tools, skip=args.skip)


def _refuse_while_set_aside(root: Path) -> None:
    """Exit 2, as ``run --staged`` does, while a killed staged run's backup exists: the
    work tree lacks the unstaged changes it holds, so the tools would check (and fixers
    rewrite) files that are not the user's."""
    from huskycat import git

    _, git_dir = git.top_and_git_dir(root)
    try:
        names = os.listdir(git_dir / "huskycat")
    except FileNotFoundError:
        return
    except OSError:
        names = [SET_ASIDE_PREFIXES[0]]  # let huskycat.staged meet and report the error
    if not any(name.startswith(SET_ASIDE_PREFIXES) for name in names):
        return  # nothing set aside: huskycat.staged need not even be imported
    from huskycat import staged

    staged.refuse_while_set_aside(root)


def _stage_fixes(root: Path, modified: Sequence[str]) -> tuple[str, ...]:
    """``git add`` the files fixers changed that git tracks; returns them. An untracked
    file is left alone: staging it would start tracking it."""
    from huskycat import git

    if not modified:
        return ()
    tracked = set(git.tracked_files(root))
    chosen = tuple(path for path in modified if path in tracked)
    git.stage(root, chosen)
    return chosen


def _say_staged(paths: Sequence[str]) -> None:
    if paths:
        shown = ", ".join(repr(p) for p in paths[:5])
        more = f" and {len(paths) - 5} more" if len(paths) > 5 else ""
        print(f"huskycat: staged the fixes to {shown}{more}", file=sys.stderr)


def _exit_code(ran: _Ran, staged_fixes: Sequence[str]) -> int:
    """1 when a tool failed or timed out, or a fixer changed a file left unstaged for the
    user to review; else 0."""
    unstaged = set(ran.modified) - set(staged_fixes)
    return EXIT_FAILED if ran.failed or unstaged else EXIT_OK


def _check_report_path(option: str, value: str) -> None:
    """Fail before the run, not after it, when a report could not be written."""
    path = Path(value)
    if path.is_dir():
        raise UsageError(f"{option} {value!r} is a folder, not a file")
    folder = path.parent
    if not folder.is_dir():
        raise UsageError(f"{option} {value!r}: the folder {str(folder)!r} does not exist")


def _execute(
    args: argparse.Namespace, root: Path, config: Config, files: list[str], mode: str
) -> _Ran:
    from huskycat.commands.cluster import on_cluster

    with on_cluster(args, config, root, files) as cluster:
        return _execute_on(args, root, config, files, mode, cluster)


def _execute_on(
    args: argparse.Namespace,
    root: Path,
    config: Config,
    files: list[str],
    mode: str,
    cluster: Cluster | None,
) -> _Ran:
    from huskycat import unchecked, vouching
    from huskycat.cache import Cache
    from huskycat.cache.lookup import changes_no_files
    from huskycat.core.parallel_executor import ParallelExecutor, ToolOptions
    from huskycat.core.process import become_subreaper, ignore_terminal_stops
    from huskycat.core.results import ToolStatus
    from huskycat.history import History
    from huskycat.planning import tool_callable

    # Orphans of the tools' processes (a double fork) come to us, not init, to be reaped.
    become_subreaper()
    ignore_terminal_stops()  # a tool reading the terminal fails rather than hangs
    plan, options = planned_run(args, root, config, files, mode)
    if unchecked.tools_required(getattr(args, "require_tools", False), config.require_tools):
        plan = unchecked.unavailable_fail(plan)
    history = History.load(root)
    if history.warning is not None:
        print(f"huskycat: warning: {history.warning}", file=sys.stderr)
    runnable = {n: t for n, t in plan.tools.items() if t.skip_reason is None}
    expected = history.expected_durations(
        # By file count for every tool that takes files: mypy on 1 file is not mypy on 300.
        {n: (len(t.files) if t.spec.pass_filenames else None) for n, t in runnable.items()}
    )
    shard_record = None
    if getattr(args, "shard", None) is not None:  # --shard K/N: this share of the work
        from huskycat.distributed.shard import take_share

        plan, shard_record = take_share(plan, args.shard, expected)
        runnable = {n: t for n, t in plan.tools.items() if t.skip_reason is None}
    # A tool skipped before it starts takes no time; unknown, it would count as 1 unit.
    skipped = {n: 0.0 for n in plan.tools if n not in runnable}
    durations = {**expected, **skipped}
    # A requirement between per-file tools holds back only the files it failed on.
    requires, after, vouchers = vouching.split_edges(
        plan.requires, plan.after, {n: t.spec for n, t in plan.tools.items()}
    )
    board = vouching.Board()
    executor = ParallelExecutor(
        requires,
        max_workers=options.jobs,
        timeout_per_tool=None,
        fail_fast=options.fail_fast,
        after=after,
        tool_options={
            n: ToolOptions(
                timeout=t.timeout,
                weight=t.weight,
                expected_duration=durations.get(n),
            )
            for n, t in plan.tools.items()
        },
        # Tools off the critical path yield the CPUs to it: the run ends with its chain.
        background_nice=BACKGROUND_NICE,
        backend=cluster.backend if cluster else None,  # None: threads (no --cluster)
    )
    cache = None if args.no_cache else Cache.for_root(root)
    if cache is not None and mode == "all files" and changes_no_files(plan):
        cache.trust_listing(root)  # the files as git listed them when the run started
    tools = {
        name: tool_callable(plan, tool, cache=cache, board=board, vouchers=vouchers.get(name, ()))
        for name, tool in plan.tools.items()
    }
    if cluster is not None:
        cluster.check(plan)
        tools = cluster.tools(plan, tools, cache)
    verbosity = -1 if args.quiet else args.verbose
    view = _start_view(args, list(tools), executor.max_workers, verbosity, expected)
    timer = _Timer(view.handle if view is not None else None)

    def on_event(event: ToolEvent) -> None:
        board.record(event)  # first: the tools a final result unblocks read it
        timer.handle(event)

    try:
        with terminate_raises():
            results = executor.execute_tools(tools, event_callback=on_event)
    finally:
        if view is not None:
            view.stop()
        if cache is not None:
            cache.close()
    if shard_record is None:  # a share keeps the history every share split by
        history.record(results, {n: len(t.files) for n, t in runnable.items()})
        history.save()
    stats = {**executor.get_statistics(), "tool_times": timer.times}
    if shard_record is not None:
        stats["shard"] = shard_record  # what `huskycat merge` needs
    _report(args, plan, results, stats, executor.get_execution_plan(), mode, verbosity)
    failed = any(
        r.status in (ToolStatus.FAILED, ToolStatus.TIMEOUT) or not r.success for r in results
    )
    failed = unchecked.say_unchecked(results, quiet=args.quiet) or failed
    modified = sorted({path for r in results for path in facts_of(r).modified_files or ()})
    if not args.no_cache:
        from huskycat import replay

        plain = True  # a live view's frames are not text to print again
        if view is not None:
            from huskycat.report.console import PlainView  # imported for the view already

            plain = isinstance(view, PlainView)
        replay.vouch(_replay_checks(plan, results) if plain and not modified else None)
    return _Ran(failed, tuple(modified))


def _replay_checks(plan: Plan, results: list[ToolResult]) -> list[str] | None:
    """What a run whose every tool is a hook depends on outside the repository, for a
    whole-run replay (:mod:`huskycat.replay`); None when it may not be replayed: a tool
    that is not a hook, one that writes a log, or one that timed out."""
    if any(t.skip_reason is None and t.run is None for t in plan.tools.values()):
        return None  # a catalog or custom tool ran: not a run of hooks only
    from huskycat.core.results import ToolStatus
    from huskycat.precommit.calls import outside_inputs

    checks: list[str] = []
    for tool in plan.tools.values():
        if tool.skip_reason is not None:
            if tool.skip_reason not in ("no files to check", "SKIP names it"):
                return None
            continue
        paths = outside_inputs(tool.run)
        if paths is None:
            return None
        checks += paths
    if any(r.status is ToolStatus.TIMEOUT for r in results):
        return None
    return checks


class _Timer:
    """When each tool started and ended, in seconds from the start of the run, taken
    from the engine's events (``time.monotonic()``); passes each event on to ``then``.

    ``times[name]`` is ``{"start": s, "end": e}`` for a tool that ran and ``{"end": e}``
    for one skipped without running. The engine calls ``handle`` from its one loop.
    """

    def __init__(self, then: Callable[[ToolEvent], object] | None) -> None:
        from huskycat.core.results import FINAL_STATUSES, ToolStatus

        self._then = then
        self._running, self._final = ToolStatus.RUNNING, FINAL_STATUSES
        self._origin = time.monotonic()
        self.times: dict[str, dict[str, float]] = {}

    def handle(self, event: ToolEvent) -> None:
        moment = round(max(0.0, event.time - self._origin), 6)
        if event.status is self._running:
            self.times[event.tool_name] = {"start": moment}
        elif event.status in self._final:
            self.times.setdefault(event.tool_name, {})["end"] = moment
        if self._then is not None:
            try:
                self._then(event)
            except BrokenPipeError:  # the reader of our output is gone; the run goes on
                self._then = None
                silence_stdout()


def _start_view(
    args: argparse.Namespace,
    names: list[str],
    workers: int,
    verbosity: int,
    expected: dict[str, float],
) -> Any:
    """The progress view, started: live on a terminal, else one plain line per tool."""
    if args.no_progress:
        return None
    from huskycat.report.console import LiveView, PlainView

    # -q wants only the failures, which the plain view can leave out and a table cannot.
    if verbosity >= 0 and sys.stdout.isatty() and os.environ.get("TERM") != "dumb":
        from rich.console import Console

        live = LiveView(Console(), tool_names=names, workers=workers, expected=expected or None)
        live.start()
        return live
    plain = PlainView(sys.stdout, verbosity=verbosity)
    plain.start(names)  # its lines line up on the longest name
    return plain


def _report(
    args: argparse.Namespace,
    plan: Plan,
    results: list[ToolResult],
    stats: dict[str, Any],
    levels: Any,
    mode: str,
    verbosity: int,
) -> None:
    from huskycat.report import github
    from huskycat.report.console import render_summary

    try:
        render_summary(results, stats, sys.stdout, verbosity=verbosity)
        if github.should_annotate():
            for line in github.annotations(results):
                print(line)
        sys.stdout.flush()
    except BrokenPipeError:  # `huskycat run | head`: the reports are still written
        silence_stdout()
    if args.junit_xml:
        from huskycat.report.junit import write_junit_xml

        try:
            write_junit_xml(results, Path(args.junit_xml), wall_time=stats.get("wall_time"))
        except OSError as exc:
            raise ReportError("--junit-xml", args.junit_xml, exc) from exc
    if args.json:
        from huskycat.report.json_report import build_report, write_json

        report = build_report(
            results,
            plan=levels,
            statistics=stats,
            version=__version__,
            root=str(plan.root),
            mode=mode + (" (fix)" if plan.fix else ""),
        )
        try:
            write_json(report, Path(args.json))
        except OSError as exc:
            raise ReportError("--json", args.json, exc) from exc
    _write_extra_reports(args, plan, results, stats, mode)


# The reports ``huskycat report`` also makes, by format: the options that ask for them.
# Kept in step with huskycat.report.outputs.RUN_OPTIONS (a test checks), and not read
# from it: importing the report modules would cost a git hook's start-up ~20 ms.
EXTRA_REPORTS = {
    "sarif": "--sarif",
    "trace": "--trace",
    "timeline": "--timeline",
    "codequality": "--gitlab-codequality",
}
STEP_SUMMARY_ENV = "GITHUB_STEP_SUMMARY"


def _extra_reports(args: argparse.Namespace) -> list[tuple[str, str, str]]:
    """(format, option, path) of the reports asked for that ``huskycat report`` also
    makes (:mod:`huskycat.report.outputs`)."""
    wanted = [
        (f, o, getattr(args, o[2:].replace("-", "_"), None)) for f, o in EXTRA_REPORTS.items()
    ]
    return [(f, o, path) for f, o, path in wanted if path]


def _write_extra_reports(
    args: argparse.Namespace,
    plan: Plan,
    results: list[ToolResult],
    stats: dict[str, Any],
    mode: str,
) -> None:
    """SARIF, trace, timeline, code quality; the Markdown summary on GitHub Actions."""
    asked = _extra_reports(args)
    summary = os.environ.get(STEP_SUMMARY_ENV)
    if not asked and not summary:
        return
    from huskycat.report.outputs import write_report
    from huskycat.report.run_data import RunData
    from huskycat.report.step_summary import append_step_summary

    run = RunData(tuple(results), stats, str(plan.root), __version__, mode)
    for format, option, path in asked:
        try:
            write_report(format, run, Path(path))
        except OSError as exc:
            raise ReportError(option, path, exc) from exc
    try:
        append_step_summary(run)
    except OSError as exc:
        raise ReportError(f"${STEP_SUMMARY_ENV}", summary or "", exc) from exc
