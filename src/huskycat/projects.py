"""Monorepos: every folder with its own configuration is a project, and one run plans
every project's tools into one graph on one pool of workers.

::

    all files --find_projects--> project folders ("" is the repository root)
    run files --owner--> files per project (the deepest project containing each)
    each project: its configuration + its files (relative to it) -> its own Plan
    all Plans --merge--> one Plan: tools named "path/to/project: tool", edges renamed,
                         each tool run by its own project's plan (cwd = that folder)

A project is a folder holding ``huskycat.toml``, ``.huskycat.toml``, a
``pyproject.toml`` with a ``[tool.huskycat]`` table, or ``.pre-commit-config.yaml``.
The repository root is always one (with the defaults when it has no configuration).
A repository without nested projects is planned exactly as before, under the tools'
plain names.
"""

from __future__ import annotations

import functools
import os
import sys
from collections.abc import Callable, Iterable, Sequence
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from huskycat.cache import Cache
    from huskycat.planning import Plan, PlannedTool

MARKERS = ("huskycat.toml", ".huskycat.toml", ".pre-commit-config.yaml")


def _has_huskycat_table(path: Path) -> bool:
    if sys.version_info >= (3, 11):
        import tomllib
    else:  # pragma: no cover - Python 3.10
        import tomli as tomllib  # type: ignore[import-not-found, unused-ignore]
    try:
        with path.open("rb") as stream:
            tool = tomllib.load(stream).get("tool")
    except (OSError, ValueError):
        return False  # an unreadable file is reported when that project is planned
    return isinstance(tool, dict) and "huskycat" in tool


def find_projects(root: Path, names: Iterable[str]) -> list[str]:
    """The project folders among ``names`` (files relative to ``root``), "" first."""
    folders = {""}
    for name in names:
        folder, _, base = name.rpartition("/")
        if base in MARKERS or (base == "pyproject.toml" and _has_huskycat_table(root / name)):
            folders.add(folder)
    return sorted(folders)


def owner(name: str, projects: Sequence[str]) -> str:
    """The deepest project that contains the file ``name``."""
    best = ""
    for project in projects:
        if project and name.startswith(project + "/") and len(project) > len(best):
            best = project
    return best


def within(project: str, ancestor: str) -> bool:
    """Whether ``project`` is ``ancestor`` or below it."""
    return not ancestor or project == ancestor or project.startswith(ancestor + "/")


def display(project: str, tool: str) -> str:
    return f"{project}: {tool}" if project else tool


def project_of(name: str) -> str:
    """The project of a merged plan's tool named ``name`` ("" for the root's)."""
    project, sep, _ = name.partition(": ")
    return project if sep else ""


def merge_plans(root: Path, plans: dict[str, Plan]) -> Plan:
    """One plan of every project's tools: names prefixed with the project's folder, each
    tool still run by its own project's plan (its folder as working directory), its
    files, diagnostics and modified files named from the repository root."""
    from huskycat.planning import Plan

    tools: dict[str, PlannedTool] = {}
    requires: dict[str, tuple[str, ...]] = {}
    after: dict[str, tuple[str, ...]] = {}
    for project, plan in plans.items():
        prefix = f"{project}/" if project else ""
        for name, tool in plan.tools.items():
            new = display(project, name)
            runs = tool.skip_reason is None
            tools[new] = replace(
                tool,
                name=new,
                files=tuple(prefix + f for f in tool.files),
                run=functools.partial(_run_in, plan, tool, prefix) if runs else None,
            )
            requires[new] = tuple(display(project, d) for d in plan.requires.get(name, ()))
            after[new] = tuple(display(project, d) for d in plan.after.get(name, ()))
    first = next(iter(plans.values()))
    return Plan(
        root=root,
        fix=first.fix,
        tools=tools,
        requires=requires,
        after=after,
        env=first.env,
    )


def _run_in(
    plan: Plan, tool: PlannedTool, prefix: str, cache: Cache | None
) -> Callable[[], object]:
    """What runs ``tool`` of a project's ``plan``, its paths made relative to the root."""
    from huskycat.core.sharding import ShardedTool
    from huskycat.planning import tool_callable

    inner = tool_callable(plan, tool, cache=cache)
    if not prefix:
        return inner
    if isinstance(inner, ShardedTool):
        merge = inner.merge
        return ShardedTool(
            inner.split, lambda results: _rooted(merge(results), prefix), inner.max_shards
        )
    return lambda: _rooted(inner(), prefix)


def _rooted(value: object, prefix: str) -> object:
    from huskycat.core.results import ToolResult
    from huskycat.tools.facts import facts_of, replace_result, with_facts

    if not isinstance(value, ToolResult):
        return value
    rooted = replace_result(
        value, diagnostics=[replace(d, file=prefix + d.file) for d in value.diagnostics]
    )
    modified = facts_of(value).modified_files
    if modified:
        rooted = with_facts(rooted, modified_files=tuple(prefix + m for m in modified))
    return rooted


def selected_projects(
    projects: Sequence[str], root: Path, *, here: Path, chosen: str | None
) -> list[str]:
    """The projects a run covers: ``--project PATH`` and the ones below it, else the
    project the current folder is in and the ones below it."""
    if chosen is not None:
        folder = os.path.relpath(os.path.abspath(chosen), root).replace(os.sep, "/")
        folder = "" if folder == "." else folder
        if folder not in projects:
            from huskycat.commands.common import UsageError

            listed = ", ".join(repr(p or ".") for p in projects)
            raise UsageError(f"--project {chosen!r} is not a project; projects: {listed}")
        top = folder
    else:
        relative = os.path.relpath(here, root).replace(os.sep, "/")
        top = "" if relative == "." else owner(relative + "/x", projects)
    return [p for p in projects if within(p, top)]


def workspace_plan(
    root: Path,
    files: Sequence[str],
    all_files: Callable[[], Sequence[str]],
    plan_for: Callable[[Path, list[str]], Plan],
    *,
    here: Path,
    chosen: str | None = None,
    only: Sequence[str] = (),
    skip: Sequence[str] = (),
) -> Plan | None:
    """The merged plan of the projects the run covers, or None when the repository has
    no nested project (plan it as one). ``plan_for(folder, files)`` plans one project
    over its files, relative to its folder, every tool (``only`` and ``skip`` choose
    among the merged plan's tools afterwards)."""
    projects = find_projects(root, all_files())
    if len(projects) == 1 and chosen is None:
        return None
    covered = selected_projects(projects, root, here=here, chosen=chosen)
    groups: dict[str, list[str]] = {p: [] for p in covered}
    for name in files:
        project = owner(name, projects)
        if project in groups:
            groups[project].append(name[len(project) + 1 :] if project else name)
    plans = {project: plan_for(root / project, groups[project]) for project in covered}
    merged = merge_plans(root, plans)
    return choose(merged, only=only, skip=skip) if only or skip else merged


def choose(plan: Plan, *, only: Sequence[str] = (), skip: Sequence[str] = ()) -> Plan:
    """``plan`` with only the tools ``only`` names and none that ``skip`` names; a name
    is a tool of every project ("ruff") or of one ("web: ruff")."""
    from huskycat.planning import PlanError

    def plain(name: str) -> str:
        return name.rpartition(": ")[2]

    for wanted in (*only, *skip):
        if not any(wanted in (name, plain(name)) for name in plan.tools):
            raise PlanError(f"unknown tool {wanted!r}; tools: {', '.join(plan.tools)}")
    kept = [
        name
        for name in plan.tools
        if (not only or name in only or plain(name) in only)
        and name not in skip
        and plain(name) not in skip
    ]
    return replace(
        plan,
        tools={n: plan.tools[n] for n in kept},
        requires={n: tuple(d for d in plan.requires[n] if d in kept) for n in kept},
        after={n: tuple(d for d in plan.after[n] if d in kept) for n in kept},
    )
