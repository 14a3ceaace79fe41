"""``huskycat install`` and ``huskycat uninstall``: the git hooks that run huskycat."""

from __future__ import annotations

import argparse

from huskycat.commands.common import EXIT_OK, UsageError, repo_root


def cmd_install(args: argparse.Namespace) -> int:
    from huskycat import hook

    root, in_repo = repo_root()
    if not in_repo:
        raise UsageError(f"not in a git repository: {str(root)!r}")
    path = hook.install(root, args.hook, force=args.force)
    print(f"huskycat: installed {args.hook} hook at {path}")
    return EXIT_OK


def cmd_uninstall(args: argparse.Namespace) -> int:
    from huskycat import hook

    root, in_repo = repo_root()
    if not in_repo:
        raise UsageError(f"not in a git repository: {str(root)!r}")
    removed = hook.uninstall(root, args.hook)
    if not removed:
        print("huskycat: no huskycat hook to remove")
    for path in removed:
        print(f"huskycat: removed {path}")
    return EXIT_OK
