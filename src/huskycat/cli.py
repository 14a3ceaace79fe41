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

from huskycat import __version__
from huskycat.commands.common import (
    EXIT_FAILED,
    EXIT_INTERRUPTED,
    EXIT_USAGE,
    UsageError,
    silence_stdout,
)

# verb -> (module under huskycat.commands, function)
_COMMANDS = {
    "run": ("run", "cmd_run"),
    "plan": ("plan", "cmd_plan"),
    "graph": ("graph", "cmd_graph"),
    "tools": ("tools", "cmd_tools"),
    "install": ("hooks", "cmd_install"),
    "uninstall": ("hooks", "cmd_uninstall"),
    "cache": ("cache", "cmd_cache"),
    "recover": ("recover", "cmd_recover"),
}


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
    run.add_argument(
        "--stage-fixes",
        action="store_true",
        help="with --fix: `git add` the tracked files the fixers changed, instead of exiting 1 "
        "for them to be reviewed and staged by hand; with --staged only the fixes are "
        "staged, not your unstaged changes",
    )
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
    run.add_argument(
        "--no-cache", action="store_true", help="run every tool; neither read nor write the cache"
    )
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

    cache = commands.add_parser("cache", help="manage the result cache")
    cache_verbs = cache.add_subparsers(dest="cache_command", metavar="ACTION", required=True)
    cache_verbs.add_parser("clear", help="forget every cached result of this repository")
    cache_verbs.add_parser("stats", help="entries, size on disk, the last run's hits and misses")

    recover = commands.add_parser(
        "recover", help="put back unstaged changes a killed `run --staged` left set aside"
    )
    recover.add_argument(
        "--overwrite",
        action="store_true",
        help="replace files edited since the crash where they overlap the saved changes",
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help(sys.stderr)
        return EXIT_USAGE
    module, function = _COMMANDS[args.command]
    command = getattr(importlib.import_module(f"huskycat.commands.{module}"), function)
    try:
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
        if _is_user_error(exc):
            print(f"huskycat: error: {exc}", file=sys.stderr)
            return EXIT_USAGE
        raise


def _is_user_error(exc: Exception) -> bool:
    """Our own error classes: bad configuration, files, git refs, hooks, staged mode,
    usage. Anything else is a bug and keeps its traceback."""
    from huskycat.config import ConfigError
    from huskycat.files import FilesError
    from huskycat.git import GitError
    from huskycat.hook import HookError

    errors: tuple[type[Exception], ...] = (ConfigError, FilesError, GitError, HookError, UsageError)
    # Only look at modules already imported: importing them here would cost start-up.
    for name, attr in (("huskycat.planning", "PlanError"), ("huskycat.staged", "StagedError")):
        module = sys.modules.get(name)
        if module is not None:
            errors += (getattr(module, attr),)
    return isinstance(exc, errors)
