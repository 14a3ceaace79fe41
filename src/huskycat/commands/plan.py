"""``huskycat plan``: which tools would run, on how many files, in which order."""

from __future__ import annotations

import argparse

from huskycat.commands.common import EXIT_OK, collect, load_config, repo_root, workspace_plan


def cmd_plan(args: argparse.Namespace) -> int:
    root, _ = repo_root()
    config = load_config(root)
    files, mode = collect(args, root)
    plan = workspace_plan(args, root, config, files, mode)
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
