"""``huskycat install-hooks`` and ``huskycat clean``: the environments huskycat installs
itself (:mod:`huskycat.envs`), prepared ahead of a run or removed."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from huskycat.commands.common import EXIT_FAILED, EXIT_OK, load_config, repo_root

if TYPE_CHECKING:
    from huskycat.envs import EnvSpec


def cmd_install_hooks(args: argparse.Namespace) -> int:
    """Fetch every hook repository of ``.pre-commit-config.yaml`` and install every
    environment its hooks (all stages) and the configuration's pinned tools need, in
    every project of the repository (:mod:`huskycat.projects`)."""
    from huskycat import envs, projects
    from huskycat.files import collect_files

    root, _ = repo_root()
    folders = projects.find_projects(root, collect_files(root, mode="all"))
    wanted: list[envs.EnvSpec] = []
    for folder in folders:
        found = _wanted(root / folder if folder else root, folder)
        if isinstance(found, int):
            return found
        wanted += found
    failed = 0
    for spec in dict.fromkeys(wanted):
        try:
            path = envs.ensure(spec, say=envs.say)
        except envs.EnvError as exc:
            print(f"huskycat: {exc}", file=sys.stderr)
            failed += 1
        else:
            print(f"{spec.label or ' '.join(spec.requirements)}: {path}")
    if not wanted:
        print("huskycat: nothing to install (no python or node hooks, no pinned tools)")
    return EXIT_FAILED if failed else EXIT_OK


def _wanted(folder: Path, project: str) -> list[EnvSpec] | int:
    """The environments the project in ``folder`` needs; an exit code when it names a
    pinned tool huskycat cannot install."""
    from huskycat import envs
    from huskycat.tools.catalog import CATALOG

    config = load_config(folder)
    wanted: list[envs.EnvSpec] = []
    if config.source is None:
        from huskycat.precommit import plan as precommit

        if precommit.config_path(folder) is not None:
            _, hooks = precommit.load_hooks(folder)
            wanted += [s for s in map(precommit.hook_env_spec, hooks) if s is not None]
    where = f"{project}: " if project else ""
    for name, settings in config.tools.items():
        if settings.version is not None and name in CATALOG:
            try:
                wanted.append(envs.pinned_spec(CATALOG[name].executable, settings.version))
            except LookupError as exc:
                print(f"huskycat: {where}tools.{name}.version: {exc}", file=sys.stderr)
                return EXIT_FAILED
    return wanted


def cmd_clean(args: argparse.Namespace) -> int:
    """Remove every environment and hook repository huskycat installed."""
    from huskycat import envs

    count = envs.remove_all()
    print(f"huskycat: removed {count} environment{'s' if count != 1 else ''} and repositories")
    return EXIT_OK
