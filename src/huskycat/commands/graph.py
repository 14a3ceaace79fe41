"""``huskycat graph``: the dependency graph of the enabled tools, as text, Mermaid or DOT."""

from __future__ import annotations

import argparse

from huskycat.commands.common import EXIT_OK, load_config, repo_root


def cmd_graph(args: argparse.Namespace) -> int:
    from huskycat.core.parallel_executor import ParallelExecutor
    from huskycat.planning import configured_edges, fix_writers, select_tools

    root, _ = repo_root()
    config = load_config(root)
    from huskycat.commands.planned import planned_view

    plan = planned_view(root, config)  # pre-commit hooks, or a monorepo's projects
    if plan is not None:
        graph = ParallelExecutor(dict(plan.requires), after=dict(plan.after))
        print(graph.visualize_dependencies(args.format))
        return EXIT_OK
    # Every enabled tool and every edge, whatever files this repository has; with --fix
    # the catalog's fixers may write, and what reads their files waits for them.
    names = select_tools(config)
    writers = fix_writers(names) if args.fix else ()
    requires, after = configured_edges(config, names, writers=writers)
    executor = ParallelExecutor(requires, after=after)
    print(executor.visualize_dependencies(args.format))
    return EXIT_OK
