"""``huskycat tools``: every tool, installed or not, its version, files and edges."""

from __future__ import annotations

import argparse
import os

from huskycat.commands.common import EXIT_OK, load_config, repo_root


def cmd_tools(args: argparse.Namespace) -> int:
    from huskycat.planning import configured_edges, custom_spec, fix_writers
    from huskycat.tools.catalog import CATALOG
    from huskycat.tools.programs import find_executable, tool_version

    root, _ = repo_root()
    config = load_config(root)
    from huskycat.commands.planned import describe, planned_view

    plan = planned_view(root, config)  # pre-commit hooks, or a monorepo's projects
    if plan is not None:
        print("\n".join(describe(plan)))
        return EXIT_OK
    specs = dict(CATALOG)
    for name in config.custom_tools:
        specs[name] = custom_spec(name, config.tool(name))
    requires, after = configured_edges(config, specs)
    _, fix_after = configured_edges(config, specs, writers=fix_writers(specs))
    for name, spec in specs.items():
        settings = config.tool(name)
        program = (settings.command or (spec.executable,))[0]
        if os.path.dirname(program) and not os.path.isabs(program):
            program = os.path.join(root, program)  # "./scripts/lint", as the runner does
        exe = find_executable(program)
        if exe is None:
            state = f"not installed ({spec.install_hint})"
        else:
            # Only the catalog's own program answers the catalog's version question.
            own = name in CATALOG and program == spec.executable
            version = tool_version(spec, exe) if own else None
            state = f"installed {version or ''}".rstrip()
        if not config.is_enabled(name):
            state += ", disabled"
        kinds = ", ".join(sorted(settings.types if settings.types is not None else spec.types))
        if spec.files:
            kinds += f"{', ' if kinds else ''}paths matching /{spec.files}/"
        line = f"{name:<14} {state}; files: {kinds or 'any file'}"
        if spec.writes_files:
            line += "; fixes with --fix"
        if requires[name]:
            line += f"; depends on: {', '.join(requires[name])}"
        if after[name]:
            line += f"; after: {', '.join(after[name])}"
        if only_fixing := [d for d in fix_after[name] if d not in after[name]]:
            line += f"; with --fix after: {', '.join(only_fixing)}"
        print(line)
    return EXIT_OK
