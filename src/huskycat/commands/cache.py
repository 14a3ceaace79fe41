"""``huskycat cache clear``: forget every cached result of this repository."""

from __future__ import annotations

import argparse

from huskycat.commands.common import EXIT_OK, repo_root


def cmd_cache(args: argparse.Namespace) -> int:
    from huskycat import cache

    root, _ = repo_root()
    removed = cache.clear(root)
    print(f"huskycat: removed {removed} cached {'entry' if removed == 1 else 'entries'}")
    return EXIT_OK
