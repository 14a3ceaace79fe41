"""The ``huskycat`` command: argparse, ``main(argv) -> int``, and the only place that
prints errors and picks exit codes. Each verb lives in its own module under
:mod:`huskycat.commands`.

Exit codes: 0 everything passed, 1 a tool failed or timed out (or ``--fix`` changed
files that ``--stage-fixes`` did not stage), 2 bad usage or configuration, 130
interrupted.

A git hook starts this on every commit, so heavy modules (rich, the tool catalog, the
engine) are imported inside the commands that need them, not at the top.
"""

from __future__ import annotations

import argparse
import importlib
import signal
import sys
from collections.abc import Sequence
from typing import Any

from huskycat import __version__
from huskycat.commands.common import (
    EXIT_FAILED,
    EXIT_INTERRUPTED,
    EXIT_USAGE,
    silence_stdout,
)
from huskycat.errors import HuskycatError

# verb -> (module under huskycat.commands, function)
_COMMANDS = {
    "run": ("run", "cmd_run"),
    "merge": ("merge", "cmd_merge"),
    "plan": ("plan", "cmd_plan"),
    "graph": ("graph", "cmd_graph"),
    "tools": ("tools", "cmd_tools"),
    "install": ("hooks", "cmd_install"),
    "uninstall": ("hooks", "cmd_uninstall"),
    "cache": ("cache", "cmd_cache"),
    "recover": ("recover", "cmd_recover"),
    "report": ("report", "cmd_report"),
    "install-hooks": ("envs", "cmd_install_hooks"),
    "clean": ("envs", "cmd_clean"),
    "migrate": ("migrate", "cmd_migrate"),
}


def _names(value: str) -> list[str]:
    names = [n.strip() for n in value.split(",") if n.strip()]
    if not names:
        raise argparse.ArgumentTypeError(f"expected comma-separated tool names, got {value!r}")
    return names


def _positive_int(value: str) -> int:
    from huskycat.config import count_problem

    try:
        number = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {value!r}") from None
    problem = count_problem(number)
    if problem:
        raise argparse.ArgumentTypeError(problem)
    return number


def _share(value: str) -> Any:
    from huskycat.distributed.shard import ShardError, parse_share

    try:
        return parse_share(value)
    except ShardError as exc:
        raise argparse.ArgumentTypeError(str(exc).removeprefix("--shard ")) from None


def _seconds(value: str) -> float:
    from huskycat.config import seconds_problem

    try:
        number = float(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected seconds, got {value!r}") from None
    problem = seconds_problem(number)
    if problem:
        raise argparse.ArgumentTypeError(problem)
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
    run.add_argument(
        "--stage-fixes",
        action="store_true",
        help="with --fix: `git add` the tracked files the fixers changed, instead of exiting 1 "
        "for them to be reviewed and staged by hand; with --staged only the fixes are "
        "staged, not your unstaged changes",
    )
    run.add_argument(
        "--project",
        metavar="PATH",
        help="in a monorepo, run the project in PATH (and the ones below it)",
    )
    run.add_argument("--fail-fast", action="store_true", help="stop at the first failure")
    run.add_argument(
        "--require-tools",
        action="store_true",
        help="a tool with files to check that cannot run (not installed) fails the run; "
        "the default when CI is set",
    )
    run.add_argument("--jobs", "-j", type=_positive_int, help="worker slots (default: CPUs)")
    run.add_argument(
        "--timeout",
        type=_seconds,
        help="seconds per tool (default: the configuration's, else 300); a tool's own "
        "timeout setting still wins",
    )
    run.add_argument(
        "--cluster",
        metavar="local[:N]|tcp://HOST:PORT",
        help="run the tools on a Dask cluster: N local worker processes, or an existing "
        "scheduler (default: $HUSKYCAT_CLUSTER, else the configuration's 'cluster'); "
        "needs pip install 'huskycat[dask]'",
    )
    run.add_argument(
        "--cluster-files",
        choices=["shared", "ship"],
        help="with --cluster: 'shared' (default): the workers see the repository at the "
        "same path (checked); 'ship': send the run's files to the workers that lack them",
    )
    run.add_argument(
        "--shard",
        metavar="K/N",
        type=_share,
        help="run share K of N of the tools and files (deterministic, balanced by "
        "history); combine the shares' --json reports with `huskycat merge`",
    )
    run.add_argument("--junit-xml", metavar="PATH", help="write a JUnit XML report")
    run.add_argument("--json", metavar="PATH", help="write a JSON report")
    run.add_argument("--sarif", metavar="PATH", help="write a SARIF 2.1.0 report")
    run.add_argument(
        "--trace",
        metavar="PATH",
        help="write a Chrome Trace Event file (Perfetto, chrome://tracing)",
    )
    run.add_argument(
        "--timeline", metavar="PATH", help="write the run as a self-contained HTML Gantt chart"
    )
    run.add_argument(
        "--gitlab-codequality", metavar="PATH", help="write a GitLab code quality report"
    )
    run.add_argument("--no-progress", action="store_true", help="no live view or progress lines")
    run.add_argument(
        "--no-cache", action="store_true", help="run every tool; neither read nor write the cache"
    )
    loud = run.add_mutually_exclusive_group()
    loud.add_argument("-v", "--verbose", action="count", default=0, help="say more")
    loud.add_argument("-q", "--quiet", action="store_true", help="say only what failed")

    merge = commands.add_parser(
        "merge", help="combine the --json reports of `run --shard K/N` into one run's result"
    )
    merge.add_argument("reports", nargs="+", metavar="REPORT.json", help="one per share")
    merge.add_argument("--junit-xml", metavar="PATH", help="write a JUnit XML report")
    merge.add_argument("--json", metavar="PATH", help="write the merged JSON report")
    quiet = merge.add_mutually_exclusive_group()
    quiet.add_argument("-v", "--verbose", action="count", default=0, help="say more")
    quiet.add_argument("-q", "--quiet", action="store_true", help="say only what failed")

    plan = commands.add_parser("plan", help="show which tools would run, on what, in what order")
    _add_selection(plan)
    plan.add_argument("--project", metavar="PATH", help="in a monorepo, plan this project")

    graph = commands.add_parser("graph", help="print the dependency graph")
    graph.add_argument("--format", choices=("text", "mermaid", "dot"), default="text")
    graph.add_argument("--fix", action="store_true", help="the graph of a --fix run")

    commands.add_parser("tools", help="list every tool: installed, version, files, dependencies")

    install = commands.add_parser("install", help="install a git hook that runs huskycat")
    install.add_argument("--hook", choices=("pre-commit", "pre-push"), default="pre-commit")
    install.add_argument(
        "--force", action="store_true", help="replace a hook huskycat did not write (kept)"
    )
    uninstall = commands.add_parser("uninstall", help="remove huskycat's git hooks")
    uninstall.add_argument("--hook", choices=("pre-commit", "pre-push"), default=None)

    cache = commands.add_parser("cache", help="manage the result cache")
    cache_verbs = cache.add_subparsers(dest="cache_command", metavar="ACTION", required=True)
    cache_verbs.add_parser("clear", help="forget every cached result of this repository")
    cache_verbs.add_parser("stats", help="entries, size on disk, the last run's hits and misses")

    report = commands.add_parser(
        "report", help="write a report of a run saved with --json: sarif, trace, timeline, ..."
    )
    report.add_argument("format", choices=("sarif", "trace", "timeline", "codequality", "markdown"))
    report.add_argument(
        "--from",
        dest="source",
        metavar="RUN.JSON",
        default="-",
        help="the JSON report of `huskycat run --json` (default: standard input)",
    )
    report.add_argument(
        "--output", "-o", metavar="PATH", help="write here instead of to standard output"
    )

    recover = commands.add_parser(
        "recover", help="put back unstaged changes a killed `run --staged` left set aside"
    )
    recover.add_argument(
        "--overwrite",
        action="store_true",
        help="replace files edited since the crash where they overlap the saved changes",
    )
    commands.add_parser(
        "install-hooks",
        help="fetch hook repositories and install the environments of python hooks and "
        "pinned tools, ahead of a run",
    )
    commands.add_parser("clean", help="remove every environment and repository huskycat installed")
    migrate = commands.add_parser(
        "migrate", help="write the [tool.huskycat] equivalent of .pre-commit-config.yaml"
    )
    migrate.add_argument(
        "--write", action="store_true", help="add it to pyproject.toml instead of printing it"
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit code."""
    _never_fail_to_print()
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help(sys.stderr)
        return EXIT_USAGE
    module, function = _COMMANDS[args.command]
    from huskycat.git import forget_locations

    forget_locations()  # a command in this process earlier may have seen another tree
    command = getattr(importlib.import_module(f"huskycat.commands.{module}"), function)
    from huskycat.signals import interrupted_once

    try:
        # Set-up included: a signal at any point ends the command as Ctrl-C does (130).
        with interrupted_once():
            return int(command(args))
    except BrokenPipeError:  # `huskycat tools | head -1`
        silence_stdout()
        return EXIT_FAILED
    except KeyboardInterrupt as exc:
        signum = getattr(exc, "signum", None)  # SIGTERM or SIGHUP; Ctrl-C has none
        how = f" by {signal.Signals(signum).name}" if isinstance(signum, int) else ""
        print(f"huskycat: interrupted{how}", file=sys.stderr)
        return EXIT_INTERRUPTED
    except Exception as exc:
        if isinstance(exc, HuskycatError):
            print(f"huskycat: error: {exc}", file=sys.stderr)
            return EXIT_USAGE
        if isinstance(exc, OSError):  # the environment: read-only, full, not allowed
            print(f"huskycat: error: {_describe_os_error(exc)}", file=sys.stderr)
            return EXIT_USAGE
        raise


def _never_fail_to_print() -> None:
    """On a terminal or pipe whose encoding is not UTF-8 (LANG=C, PYTHONIOENCODING=ascii),
    print what cannot be encoded as escapes rather than fail on a tool's output or a
    file's name."""
    for stream in (sys.stdout, sys.stderr):
        reconfigure = getattr(stream, "reconfigure", None)
        encoding = (getattr(stream, "encoding", None) or "").lower().replace("-", "")
        if reconfigure is not None and encoding != "utf8":
            try:
                reconfigure(errors="backslashreplace")
            except (ValueError, OSError):  # a stream that cannot be reconfigured
                pass


def _describe_os_error(exc: OSError) -> str:
    """One line: what could not be done to which file, and why."""
    import errno

    why = exc.strerror or str(exc)
    name = errno.errorcode.get(exc.errno or 0)
    where = f" {str(exc.filename)!r}" if exc.filename is not None else ""
    code = f" ({name})" if name else ""
    return f"cannot use{where}: {why}{code}"
