"""``huskycat cache clear`` and ``huskycat cache stats``: the result cache of this repository."""

from __future__ import annotations

import argparse
import time
from typing import TYPE_CHECKING

from huskycat.commands.common import EXIT_OK, repo_root

if TYPE_CHECKING:
    from huskycat.cache import Stats


def cmd_cache(args: argparse.Namespace) -> int:
    from huskycat import cache, replay
    from huskycat.state import state_dir

    root, _ = repo_root()
    if getattr(args, "cache_command", "clear") == "stats":
        with cache.Cache.for_root(root) as store:
            print(render_stats(store.stats(), str(store.path)))
        count, last = replay.replays(state_dir(root).parent)
        last_one = f", the last{_when(last)}" if last is not None else ""
        print(f"replays:    {count} whole run{'' if count == 1 else 's'}{last_one}")
        return EXIT_OK
    replay.forget(state_dir(root).parent)
    removed = cache.clear(root)
    print(f"huskycat: removed {removed} cached {'entry' if removed == 1 else 'entries'}")
    return EXIT_OK


def render_stats(stats: Stats, where: str) -> str:
    """The lines ``huskycat cache stats`` prints."""
    size = stats.bytes_on_disk
    per_entry = f" ({size / stats.entries:.0f} bytes per entry" if stats.entries else ""
    if stats.files:
        per_entry += f", {size / stats.files:.0f} per file result)"
    elif per_entry:
        per_entry += ")"
    lines = [
        f"cache:      {where}",
        f"entries:    {stats.entries}",
        # A folder's entry holds the results of each of its files for a tool.
        f"results:    {stats.files} (files' results the entries hold)",
        f"size:       {_size(size)} on disk{per_entry}",
    ]
    if stats.last_hits is None or stats.last_misses is None:
        lines.append("last run:   none recorded")
    else:
        total = stats.last_hits + stats.last_misses
        rate = f" ({100 * stats.last_hits / total:.0f}% hits)" if total else ""
        when = _when(stats.last_time)
        lines.append(f"last run:   {stats.last_hits} hits, {stats.last_misses} misses{rate}{when}")
    return "\n".join(lines)


def _when(moment: float | None) -> str:
    if moment is None:
        return ""
    return time.strftime(" at %Y-%m-%d %H:%M:%S", time.localtime(moment))


def _size(size: int) -> str:
    if size < 1024:
        return f"{size} bytes"
    if size < 1024 * 1024:
        return f"{size / 1024:.1f} KiB"
    return f"{size / (1024 * 1024):.1f} MiB"
