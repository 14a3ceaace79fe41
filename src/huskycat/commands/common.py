"""What the commands share: exit codes, our error classes, and the steps from the
current folder to a plan (repository root, configuration, files)."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from huskycat.errors import HuskycatError

if TYPE_CHECKING:
    from huskycat.config import Config
    from huskycat.planning import Plan
    from huskycat.run_options import RunOptions

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2
EXIT_INTERRUPTED = 130


class UsageError(HuskycatError):
    """Bad command-line input that argparse itself cannot see."""


def silence_stdout() -> None:
    """Send what is still to be printed to /dev/null: the reader of our output is gone,
    and Python's flush at exit would otherwise complain."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):  # not a real file (a test's captured stream)
        sys.stdout = open(os.devnull, "w")  # noqa: SIM115 - lives as long as the process
    finally:
        os.close(devnull)


def repo_root() -> tuple[Path, bool]:
    from huskycat import git

    here = Path.cwd()
    root = git.find_root(here)
    if root is None and git.inside_git_dir(here):
        # A bare repository or the .git folder: no work tree to check, and walking it
        # as a plain folder would lint git's own files.
        raise UsageError(
            f"{str(here)!r} is inside a git directory (a bare repository or .git), not a "
            f"work tree: run huskycat in a clone or worktree"
        )
    return (root, True) if root is not None else (here, False)


def load_config(root: Path) -> Config:
    # Names and edges come from tools.defaults, not the catalog: a hook validates the
    # configuration on every commit, and importing every tool module costs start-up.
    from huskycat import config
    from huskycat.tools.defaults import DEFAULT_AFTER, DEFAULT_DEPENDS_ON, NAMES

    edges = {
        name: (*DEFAULT_DEPENDS_ON.get(name, ()), *DEFAULT_AFTER.get(name, ())) for name in NAMES
    }
    return config.load_config(root, known_tools=NAMES, default_edges=edges)


def collect(args: argparse.Namespace, root: Path) -> tuple[list[str], str]:
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


def make_plan(
    args: argparse.Namespace,
    root: Path,
    config: Config,
    files: list[str],
    mode: str = "",
    options: RunOptions | None = None,
) -> Plan:
    """The catalog's tools over ``files``; or, in a repository with no huskycat
    configuration but a ``.pre-commit-config.yaml``, its hooks (:mod:`huskycat.precommit`).
    ``options``: the run's, resolved from ``args`` and ``config`` when not given."""
    from huskycat.planning import build_plan

    options = run_options(args, config) if options is None else options
    if uses_hooks(root, config):
        from huskycat.precommit import plan as precommit

        tracked = precommit.tracked_lister(root)  # one `git ls-files`, when needed
        return precommit.build_plan(
            root,
            precommit.candidates_for(root, mode, files, args, tracked),
            only=args.tools,
            skip=args.skip,
            timeout=options.timeout,
            jobs=options.jobs,
            fail_fast=options.fail_fast or None,
            all_tracked=tracked,
        )

    return build_plan(
        root, config, files, fix=args.fix, only=args.tools, skip=args.skip, options=options
    )


def uses_hooks(root: Path, config: Config) -> bool:
    """Whether ``root`` is planned from its ``.pre-commit-config.yaml``: it has one, and
    no huskycat configuration."""
    if config.source is not None:  # a huskycat configuration: no import of precommit
        return False
    from huskycat.precommit import plan as precommit

    return precommit.config_path(root) is not None


def run_options(args: argparse.Namespace, config: Config) -> RunOptions:
    """The options of a run of ``config``'s project, the command line's winning."""
    from huskycat.run_options import RunOptions

    return RunOptions.of(
        config,
        jobs=getattr(args, "jobs", None),
        timeout=getattr(args, "timeout", None),
        fail_fast=bool(getattr(args, "fail_fast", False)),
    )


def workspace_plan(
    args: argparse.Namespace, root: Path, config: Config, files: list[str], mode: str
) -> Plan:
    """One plan for every project the run covers (:mod:`huskycat.projects`), or the
    repository's own when it has no nested project."""
    return planned_run(args, root, config, files, mode)[0]


def planned_run(
    args: argparse.Namespace, root: Path, config: Config, files: list[str], mode: str
) -> tuple[Plan, RunOptions]:
    """:func:`workspace_plan` and the run's options (:mod:`huskycat.run_options`), each
    project's resolved once from its configuration and the command line."""
    from dataclasses import replace

    from huskycat import git, projects
    from huskycat.run_options import combined

    def all_files() -> list[str]:
        """The files that tell where projects are (all of them, when at hand)."""
        if mode == "all files" and not args.paths:
            return files
        if git.find_root(root) is None:
            from huskycat.files import collect_files

            return collect_files(root, mode="all")
        # A commit's run: only the files that can make a folder a project, which one
        # `git ls-files` lists, not every file (a snapshot takes five git processes).
        return git.files_named(root, (*projects.MARKERS, "pyproject.toml"))

    every_tool = argparse.Namespace(**{**vars(args), "tools": [], "skip": []})
    requiring: set[str] = set()  # nested projects whose configuration has require_tools
    chosen: list[RunOptions] = []  # each project's, in planning order

    def plan_one(args: argparse.Namespace, folder: Path, here: Config, names: list[str]) -> Plan:
        options = run_options(args, here)
        # Hooks stop at a failure by their order's edges, as pre-commit does.
        chosen.append(replace(options, fail_fast=False) if uses_hooks(folder, here) else options)
        return make_plan(args, folder, here, names, mode, options)

    def plan_for(folder: Path, names: list[str]) -> Plan:
        here = config if folder == root else load_config(folder)
        if here.require_tools and folder != root:  # the root's: see commands.run
            requiring.add(folder.relative_to(root).as_posix())
        return plan_one(every_tool, folder, here, names)

    merged = projects.workspace_plan(
        root,
        files,
        all_files,
        plan_for,
        here=Path.cwd(),
        chosen=getattr(args, "project", None),
        only=args.tools,
        skip=args.skip,
    )
    if merged is not None and requiring:
        from huskycat import unchecked

        merged = unchecked.unavailable_fail(
            merged, only=lambda name: projects.project_of(name) in requiring
        )
    plan = merged if merged is not None else plan_one(args, root, config, files)
    return plan, combined(chosen)
