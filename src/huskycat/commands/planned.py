"""What ``huskycat tools`` and ``huskycat graph`` show in a repository whose tools are
``.pre-commit-config.yaml`` hooks, or that has nested projects: the plan over every
file, as ``huskycat plan --all-files`` makes it (every project's tools, named
``path: tool``; each hook by its id)."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING

from huskycat.commands.common import workspace_plan

if TYPE_CHECKING:
    from huskycat.config import Config
    from huskycat.planning import Plan


def planned_view(root: Path, config: Config) -> Plan | None:
    """The plan over every file when the repository's tools are pre-commit hooks or it
    has nested projects; None for a plain huskycat configuration (show the catalog)."""
    from huskycat import projects
    from huskycat.files import collect_files
    from huskycat.precommit import plan as precommit

    files = collect_files(root, mode="all")
    hooks = config.source is None and precommit.config_path(root) is not None
    if not hooks and len(projects.find_projects(root, files)) == 1:
        return None
    args = argparse.Namespace(
        paths=[],
        files=None,
        staged=False,
        changed_since=None,
        tools=[],
        skip=[],
        fix=False,
        project=None,
        timeout=None,
        jobs=None,
        fail_fast=False,
    )
    return workspace_plan(args, root, config, files, "all files")


def describe(plan: Plan) -> list[str]:
    """One line per tool of ``plan``: what it is, its files or why it would not run,
    whether it writes, its edges."""
    lines = []
    for name, tool in plan.tools.items():
        what = tool.spec.description or tool.spec.executable
        count = len(tool.files)
        state = (
            f"skipped: {tool.skip_reason}"
            if tool.skip_reason
            else f"{count} file{'s' if count != 1 else ''}"
        )
        line = f"{name:<14} {what}; {state}"
        line += "; may write files" if tool.spec.writes_files else "; read-only"
        if plan.requires.get(name):
            line += f"; depends on: {', '.join(plan.requires[name])}"
        if plan.after.get(name):
            line += f"; after: {', '.join(plan.after[name])}"
        lines.append(line)
    return lines
