"""The ``huskycat`` command: argparse, ``main(argv) -> int``, and the only place that
prints errors and picks exit codes.

Exit codes: 0 everything passed, 1 a tool failed or timed out (or ``--fix`` changed
files), 2 bad usage or configuration, 130 interrupted.

A git hook starts this on every commit, so heavy modules (rich, the tool catalog, the
engine) are imported inside the commands that need them, not at the top.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from huskycat import __version__

if TYPE_CHECKING:
    from huskycat.config import Config
    from huskycat.core.results import ToolEvent, ToolResult
    from huskycat.planning import Plan

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2
EXIT_INTERRUPTED = 130


class UsageError(Exception):
    """Bad command-line input that argparse itself cannot see."""


class Terminated(KeyboardInterrupt):
    """SIGTERM during a run (a CI job cancelled): stopped like Ctrl-C, so that the engine
    kills every tool's processes before we exit."""


class ReportError(UsageError):
    """A report file that could not be written after the run."""

    def __init__(self, option: str, path: str, error: OSError) -> None:
        super().__init__(option, path, error)
        self.option, self.path, self.error = option, path, error

    def __str__(self) -> str:
        return f"cannot write {self.option} {self.path!r}: {self.error.strerror or self.error}"


def _names(value: str) -> list[str]:
    names = [n.strip() for n in value.split(",") if n.strip()]
    if not names:
        raise argparse.ArgumentTypeError(f"expected comma-separated tool names, got {value!r}")
    return names


def _positive_int(value: str) -> int:
    try:
        number = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {value!r}") from None
    if number < 1:
        raise argparse.ArgumentTypeError(f"expected a number >= 1, got {value!r}")
    return number


def _seconds(value: str) -> float:
    try:
        number = float(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected seconds, got {value!r}") from None
    if not number > 0 or number == float("inf"):
        raise argparse.ArgumentTypeError(f"expected a positive number of seconds, got {value!r}")
    return number


def _add_selection(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("paths", nargs="*", metavar="PATH", help="limit the run to these paths")
    which = parser.add_mutually_exclusive_group()
    which.add_argument(
        "--all-files",
        action="store_true",
        help="every file git tracks plus untracked ones it does not ignore (the default)",
    )
    which.add_argument("--staged", action="store_true", help="the files staged for commit")
    which.add_argument(
        "--changed-since", metavar="REF", help="files changed since REF's fork point"
    )
    which.add_argument("--files", nargs="+", metavar="F", help="exactly these files")
    parser.add_argument("--tools", type=_names, default=[], metavar="A,B", help="only these tools")
    parser.add_argument("--skip", type=_names, default=[], metavar="A,B", help="not these tools")
    parser.add_argument(
        "--fix", action="store_true", help="let formatters and fixers rewrite files"
    )


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="huskycat",
        description="Run code-validation tools with the most parallelism their dependencies allow.",
    )
    parser.add_argument("--version", action="version", version=f"huskycat {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")

    run = commands.add_parser("run", help="run the tools on the repository")
    _add_selection(run)
    run.add_argument("--fail-fast", action="store_true", help="stop at the first failure")
    run.add_argument("--jobs", "-j", type=_positive_int, help="worker slots (default: CPUs)")
    run.add_argument(
        "--timeout",
        type=_seconds,
        help="seconds per tool (default: the configuration's, else 300); a tool's own "
        "timeout setting still wins",
    )
    run.add_argument("--junit-xml", metavar="PATH", help="write a JUnit XML report")
    run.add_argument("--json", metavar="PATH", help="write a JSON report")
    run.add_argument("--no-progress", action="store_true", help="no live view or progress lines")
    loud = run.add_mutually_exclusive_group()
    loud.add_argument("-v", "--verbose", action="count", default=0, help="say more")
    loud.add_argument("-q", "--quiet", action="store_true", help="say only what failed")

    plan = commands.add_parser("plan", help="show which tools would run, on what, in what order")
    _add_selection(plan)

    graph = commands.add_parser("graph", help="print the dependency graph")
    graph.add_argument("--format", choices=("text", "mermaid", "dot"), default="text")

    commands.add_parser("tools", help="list every tool: installed, version, files, dependencies")

    install = commands.add_parser("install", help="install a git hook that runs huskycat")
    install.add_argument("--hook", choices=("pre-commit", "pre-push"), default="pre-commit")
    install.add_argument(
        "--force", action="store_true", help="replace a hook huskycat did not write (kept)"
    )
    uninstall = commands.add_parser("uninstall", help="remove huskycat's git hooks")
    uninstall.add_argument("--hook", choices=("pre-commit", "pre-push"), default=None)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help(sys.stderr)
        return EXIT_USAGE
    try:
        return int(_COMMANDS[args.command](args))
    except BrokenPipeError:  # `huskycat tools | head -1`
        _silence_stdout()
        return EXIT_FAILED
    except KeyboardInterrupt as exc:
        how = " by SIGTERM" if isinstance(exc, Terminated) else ""
        print(f"huskycat: interrupted{how}", file=sys.stderr)
        return EXIT_INTERRUPTED
    except Exception as exc:
        if _is_user_error(exc):
            print(f"huskycat: error: {exc}", file=sys.stderr)
            return EXIT_USAGE
        raise


def _silence_stdout() -> None:
    """Send what is still to be printed to /dev/null: the reader of our output is gone,
    and Python's flush at exit would otherwise complain."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):  # not a real file (a test's captured stream)
        sys.stdout = open(os.devnull, "w")  # noqa: SIM115 - lives as long as the process
    finally:
        os.close(devnull)


def _is_user_error(exc: Exception) -> bool:
    """Our own error classes: bad configuration, files, git refs, hooks, usage."""
    from huskycat.config import ConfigError
    from huskycat.files import FilesError
    from huskycat.git import GitError
    from huskycat.hook import HookError
    from huskycat.planning import PlanError

    return isinstance(exc, (ConfigError, FilesError, GitError, HookError, PlanError, UsageError))


# --- shared steps ----------------------------------------------------------------------
def _root() -> tuple[Path, bool]:
    from huskycat import git

    here = Path.cwd()
    root = git.find_root(here)
    return (root, True) if root is not None else (here, False)


def _load_config(root: Path) -> Config:
    from huskycat.config import load_config
    from huskycat.core import graph
    from huskycat.tools.catalog import CATALOG, DEFAULT_AFTER, DEFAULT_DEPENDS_ON

    edges = graph.merge(
        {n: tuple(v) for n, v in DEFAULT_DEPENDS_ON.items()},
        {n: tuple(v) for n, v in DEFAULT_AFTER.items()},
    )
    return load_config(root, known_tools=list(CATALOG), default_edges=edges)


def _files(args: argparse.Namespace, root: Path) -> tuple[list[str], str]:
    from huskycat.files import collect_files

    here = Path.cwd()
    # Joined, not resolved: a path through a symlink names the link, as git would.
    paths = [os.path.join(here, p) for p in args.paths]
    if args.files:
        if args.paths:
            raise UsageError("give either PATHS or --files, not both")
        names = [os.path.join(here, f) for f in args.files]
        return collect_files(root, mode="files", files=names), "files"
    if args.staged:
        return collect_files(root, mode="staged", paths=paths), "staged"
    if args.changed_since:
        return (
            collect_files(root, mode="changed", paths=paths, ref=args.changed_since),
            f"changed since {args.changed_since}",
        )
    return collect_files(root, mode="all", paths=paths), "all files"


def _plan(args: argparse.Namespace, root: Path, config: Config, files: list[str]) -> Plan:
    from huskycat.planning import build_plan

    return build_plan(
        root,
        config,
        files,
        fix=args.fix,
        only=args.tools,
        skip=args.skip,
        timeout=getattr(args, "timeout", None),
        jobs=getattr(args, "jobs", None),
        fail_fast=True if getattr(args, "fail_fast", False) else None,
    )


# --- commands ----------------------------------------------------------------------------
def cmd_run(args: argparse.Namespace) -> int:
    for option, value in (("--junit-xml", args.junit_xml), ("--json", args.json)):
        if value is not None:
            _check_report_path(option, value)
    root, _ = _root()
    # Files before configuration: a commit with nothing staged (a hook on every commit)
    # then returns without importing the tool catalog.
    files, mode = _files(args, root)
    if args.staged and not files:
        if not args.quiet:
            print("huskycat: nothing staged to check")
        return EXIT_OK
    config = _load_config(root)
    plan = _plan(args, root, config, files)
    return _execute(args, plan, mode)


def _check_report_path(option: str, value: str) -> None:
    """Fail before the run, not after it, when a report could not be written."""
    path = Path(value)
    if path.is_dir():
        raise UsageError(f"{option} {value!r} is a folder, not a file")
    folder = path.parent
    if not folder.is_dir():
        raise UsageError(f"{option} {value!r}: the folder {str(folder)!r} does not exist")


def _execute(args: argparse.Namespace, plan: Plan, mode: str) -> int:
    from huskycat.core.parallel_executor import ParallelExecutor
    from huskycat.core.results import ToolStatus
    from huskycat.planning import tool_callable

    executor = ParallelExecutor(
        plan.requires,
        max_workers=plan.jobs,
        timeout_per_tool=None,
        fail_fast=plan.fail_fast,
        after=plan.after,
        tool_timeouts={n: t.timeout for n, t in plan.tools.items()},
        tool_resources={n: t.weight for n, t in plan.tools.items()},
    )
    tools = {name: tool_callable(plan, tool) for name, tool in plan.tools.items()}
    verbosity = -1 if args.quiet else args.verbose
    view = _start_view(args, list(tools), executor.max_workers, verbosity)
    timer = _Timer(view.handle if view is not None else None)
    try:
        with _sigterm_interrupts():
            results = executor.execute_tools(tools, event_callback=timer.handle)
    finally:
        if view is not None:
            view.stop()
    stats = {**executor.get_statistics(), "tool_times": timer.times}
    _report(args, plan, results, stats, executor.get_execution_plan(), mode, verbosity)
    failed = any(
        r.status in (ToolStatus.FAILED, ToolStatus.TIMEOUT) or not r.success for r in results
    )
    modified = any(r.metadata.get("modified_files") for r in results)
    return EXIT_FAILED if failed or modified else EXIT_OK


@contextmanager
def _sigterm_interrupts() -> Iterator[None]:
    """Turn SIGTERM into :class:`Terminated` while the tools run (main thread only)."""
    import signal
    import threading

    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def terminate(signum: int, frame: object) -> None:
        raise Terminated

    previous = signal.signal(signal.SIGTERM, terminate)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


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
                _silence_stdout()


def _start_view(args: argparse.Namespace, names: list[str], workers: int, verbosity: int) -> Any:
    """The progress view, started: live on a terminal, else one plain line per tool."""
    if args.no_progress:
        return None
    from huskycat.report.console import LiveView, PlainView

    # -q wants only the failures, which the plain view can leave out and a table cannot.
    if verbosity >= 0 and sys.stdout.isatty() and os.environ.get("TERM") != "dumb":
        from rich.console import Console

        live = LiveView(Console(), tool_names=names, workers=workers)
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
        _silence_stdout()
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


def cmd_plan(args: argparse.Namespace) -> int:
    root, _ = _root()
    config = _load_config(root)
    files, mode = _files(args, root)
    plan = _plan(args, root, config, files)
    print(
        f"huskycat plan for {plan.root} ({mode}, {_count(len(files))}"
        f"{', fix mode' if plan.fix else ''})"
    )
    for index, level in enumerate(plan.levels()):
        print(f"\nLevel {index}:")
        for name in level:
            tool = plan.tools[name]
            edges = []
            if plan.requires[name]:
                edges.append("depends on: " + ", ".join(plan.requires[name]))
            if plan.after[name]:
                edges.append("after: " + ", ".join(plan.after[name]))
            what = f"skipped: {tool.skip_reason}" if tool.skip_reason else _count(len(tool.files))
            extra = f"  ({'; '.join(edges)})" if edges else ""
            print(f"  {name:<14} {what}{extra}")
    return EXIT_OK


def _count(n: int) -> str:
    return f"{n} file" if n == 1 else f"{n} files"


def cmd_graph(args: argparse.Namespace) -> int:
    from huskycat.core.parallel_executor import ParallelExecutor
    from huskycat.planning import configured_edges, select_tools

    root, _ = _root()
    config = _load_config(root)
    # Every enabled tool and every edge, whatever files this repository has.
    requires, after = configured_edges(config, select_tools(config))
    executor = ParallelExecutor(requires, after=after)
    print(executor.visualize_dependencies(args.format))
    return EXIT_OK


def cmd_tools(args: argparse.Namespace) -> int:
    from huskycat.planning import configured_edges, custom_spec
    from huskycat.tools.catalog import CATALOG
    from huskycat.tools.runner import find_executable, tool_version

    root, _ = _root()
    config = _load_config(root)
    specs = dict(CATALOG)
    for name in config.custom_tools:
        specs[name] = custom_spec(name, config.tool(name))
    requires, after = configured_edges(config, specs)
    for name, spec in specs.items():
        settings = config.tool(name)
        program = (settings.command or (spec.executable,))[0]
        if os.path.dirname(program) and not os.path.isabs(program):
            program = os.path.join(root, program)  # "./scripts/lint", as the runner does
        exe = find_executable(program)
        if exe is None:
            state = f"not installed ({spec.install_hint})"
        else:
            # Only the catalog's own program answers the catalog's version question.
            own = name in CATALOG and program == spec.executable
            version = tool_version(spec, exe) if own else None
            state = f"installed {version or ''}".rstrip()
        if not config.is_enabled(name):
            state += ", disabled"
        kinds = ", ".join(sorted(settings.types if settings.types is not None else spec.types))
        if spec.files:
            kinds += f"{', ' if kinds else ''}paths matching /{spec.files}/"
        line = f"{name:<14} {state}; files: {kinds or 'any file'}"
        if spec.writes_files:
            line += "; fixes with --fix"
        if requires[name]:
            line += f"; depends on: {', '.join(requires[name])}"
        if after[name]:
            line += f"; after: {', '.join(after[name])}"
        print(line)
    return EXIT_OK


def cmd_install(args: argparse.Namespace) -> int:
    from huskycat import hook

    root, in_repo = _root()
    if not in_repo:
        raise UsageError(f"not in a git repository: {str(root)!r}")
    path = hook.install(root, args.hook, force=args.force)
    print(f"huskycat: installed {args.hook} hook at {path}")
    return EXIT_OK


def cmd_uninstall(args: argparse.Namespace) -> int:
    from huskycat import hook

    root, in_repo = _root()
    if not in_repo:
        raise UsageError(f"not in a git repository: {str(root)!r}")
    removed = hook.uninstall(root, args.hook)
    if not removed:
        print("huskycat: no huskycat hook to remove")
    for path in removed:
        print(f"huskycat: removed {path}")
    return EXIT_OK


_COMMANDS = {
    "run": cmd_run,
    "plan": cmd_plan,
    "graph": cmd_graph,
    "tools": cmd_tools,
    "install": cmd_install,
    "uninstall": cmd_uninstall,
}
