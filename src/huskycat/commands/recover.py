"""``huskycat recover``: put back unstaged changes that a killed run left set aside.

``huskycat run --staged`` keeps a backup of the unstaged changes in the repository's git
folder until it has put them back; if huskycat was killed (SIGKILL, a crash of the
machine) the backup stays, the next run refuses to start, and this puts it back.
"""

from __future__ import annotations

import argparse
import sys

from huskycat.commands.common import EXIT_OK, UsageError, repo_root


def cmd_recover(args: argparse.Namespace) -> int:
    from huskycat import staged

    root, in_repo = repo_root()
    if not in_repo:
        raise UsageError(f"not in a git repository: {str(root)!r}")
    done = staged.recover(root, overwrite=args.overwrite)
    for item in done:
        if item.warning:
            print(f"huskycat: warning: {item.warning}", file=sys.stderr)
        print(f"huskycat: put back the unstaged changes to {_listing(item.files)}")
        if item.merged:
            print(f"huskycat: kept the later edits to {_listing(item.merged)} as well")
        if item.rolled_back:
            print(f"huskycat: replaced the later edits to {_listing(item.rolled_back)}")
    if not done:
        print("huskycat: no unstaged changes to put back")
    return EXIT_OK


def _listing(paths: tuple[str, ...]) -> str:
    # repr: a file name that is not valid UTF-8 (git allows it) still prints, escaped.
    shown = ", ".join(repr(p) for p in paths[:5])
    return shown + (f" and {len(paths) - 5} more" if len(paths) > 5 else "")
