"""The dependency graph as text: the seed's plan, Mermaid, and Graphviz DOT. Pure.

"depends on" edges (requires success) are solid; "after" edges (ordering only) are
dotted in Mermaid and dashed in DOT, and listed as "after:" in the text plan.
"""

from __future__ import annotations

import re
from collections.abc import Mapping


def text_plan(
    plan: list[tuple[int, list[str]]],
    requires: Mapping[str, tuple[str, ...]],
    after: Mapping[str, tuple[str, ...]],
) -> str:
    blocks = []
    for level, names in plan:
        lines = [f"Level {level} ({len(names)} tools in parallel):"]
        free = [n for n in names if not requires.get(n) and not after.get(n)]
        bound = [n for n in names if n not in free]
        for line in _wrap_names(free, width=44):
            lines.append(f"  - {line}")
        for name in bound:
            parts = []
            if requires.get(name):
                parts.append("depends on: " + ", ".join(requires[name]))
            if after.get(name):
                parts.append("after: " + ", ".join(after[name]))
            lines.append(f"  - {name} ({'; '.join(parts)})")
        blocks.append("\n".join(lines))
    return "\n\n".join(blocks)


def _wrap_names(names: list[str], *, width: int) -> list[str]:
    """Comma-separated names, as many to a line as fit in ``width``."""
    lines: list[str] = []
    for name in names:
        if lines and len(lines[-1]) + 2 + len(name) <= width:
            lines[-1] += ", " + name
        else:
            lines.append(name)
    return lines


def _mermaid_id(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_-]", "_", name)


def mermaid(requires: Mapping[str, tuple[str, ...]], after: Mapping[str, tuple[str, ...]]) -> str:
    lines = ["graph TD"]
    linked: set[str] = set()
    for name in sorted(requires):
        for dep in requires[name]:
            lines.append(f"    {_mermaid_id(dep)}[{dep}] --> {_mermaid_id(name)}[{name}]")
            linked.update((dep, name))
        for dep in after.get(name, ()):
            if dep not in requires[name]:
                lines.append(f"    {_mermaid_id(dep)}[{dep}] -.-> {_mermaid_id(name)}[{name}]")
                linked.update((dep, name))
    for name in sorted(requires):
        if name not in linked:
            lines.append(f"    {_mermaid_id(name)}[{name}]")
    return "\n".join(lines)


def dot(requires: Mapping[str, tuple[str, ...]], after: Mapping[str, tuple[str, ...]]) -> str:
    def q(name: str) -> str:
        return '"' + name.replace("\\", "\\\\").replace('"', '\\"') + '"'

    lines = ["digraph dependencies {", "    rankdir=LR;"]
    for name in sorted(requires):
        lines.append(f"    {q(name)};")
    for name in sorted(requires):
        for dep in requires[name]:
            lines.append(f"    {q(dep)} -> {q(name)};")
        for dep in after.get(name, ()):
            if dep not in requires[name]:
                lines.append(f"    {q(dep)} -> {q(name)} [style=dashed];")
    lines.append("}")
    return "\n".join(lines)
