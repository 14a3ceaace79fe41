"""``huskycat install-hooks`` and ``huskycat clean``: the environments huskycat installs
itself (:mod:`huskycat.envs`), prepared ahead of a run or removed."""

from __future__ import annotations

import argparse
import sys

from huskycat.commands.common import EXIT_FAILED, EXIT_OK, load_config, repo_root


def cmd_install_hooks(args: argparse.Namespace) -> int:
    """Fetch every hook repository of ``.pre-commit-config.yaml`` and install every
    environment its hooks (all stages) and the configuration's pinned tools need."""
    from huskycat import envs

    root, _ = repo_root()
    config = load_config(root)
    wanted: list[envs.EnvSpec] = []
    if config.source is None:
        from huskycat.precommit import plan as precommit

        if precommit.config_path(root) is not None:
            _, hooks = precommit.load_hooks(root)
            wanted += [s for s in map(precommit.hook_env_spec, hooks) if s is not None]
    from huskycat.tools.catalog import CATALOG

    for name, settings in config.tools.items():
        if settings.version is not None and name in CATALOG:
            try:
                wanted.append(envs.pinned_spec(CATALOG[name].executable, settings.version))
            except LookupError as exc:
                print(f"huskycat: tools.{name}.version: {exc}", file=sys.stderr)
                return EXIT_FAILED
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
        print("huskycat: nothing to install (no python hooks, no pinned tools)")
    return EXIT_FAILED if failed else EXIT_OK


def cmd_clean(args: argparse.Namespace) -> int:
    """Remove every environment and hook repository huskycat installed."""
    from huskycat import envs

    count = envs.remove_all()
    print(f"huskycat: removed {count} environment{'s' if count != 1 else ''} and repositories")
    return EXIT_OK
