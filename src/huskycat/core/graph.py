"""Dependency maps as validated DAGs: unknown names, cycles, levels, paths. Pure.

A dependency map is ``{tool: [tools it depends on]}``. Every function here takes plain
mappings and returns new values; nothing runs, nothing is shared.
"""

from __future__ import annotations

import graphlib
from collections.abc import Iterable, Mapping, Sequence

Deps = Mapping[str, Sequence[str]]


def normalize(
    deps: Mapping[str, Iterable[str]],
    *,
    what: str = "dependency map",
    check_cycles: bool = True,
) -> dict[str, tuple[str, ...]]:
    """Check a dependency map and return it with sorted, de-duplicated tuples.

    Raises ``TypeError`` for names that are not strings and ``ValueError`` naming both
    tools when a tool depends on a name that is not a key of the map, or listing the
    cycles (``Circular dependencies detected: [['a', 'b', 'a']]``).
    """
    result: dict[str, tuple[str, ...]] = {}
    for name, needs in deps.items():
        if not isinstance(name, str):
            raise TypeError(f"{what}: tool names must be strings, got {name!r}")
        if isinstance(needs, str):
            raise TypeError(
                f"{what}: dependencies of {name!r} must be a list of names, "
                f"got the string {needs!r}"
            )
        names = []
        for dep in needs:
            if not isinstance(dep, str):
                raise TypeError(f"{what}: {name!r} depends on {dep!r}, which is not a string")
            names.append(dep)
        result[name] = tuple(sorted(set(names)))
    for name, needs in result.items():
        for dep in needs:
            if dep not in result:
                raise ValueError(
                    f"{what}: tool {name!r} depends on {dep!r}, which is not a tool in the map"
                )
    if check_cycles:
        raise_on_cycles(result)
    return result


def raise_on_cycles(deps: Deps) -> None:
    """``ValueError`` listing every cycle (``Circular dependencies detected: [...]``)."""
    try:
        graphlib.TopologicalSorter(deps).prepare()  # fast when there is none
    except graphlib.CycleError:
        raise ValueError(f"Circular dependencies detected: {find_cycles(deps)!r}") from None


def find_cycles(deps: Deps) -> list[list[str]]:
    """One cycle per strongly connected component that has one, each closed and rotated
    to start at its smallest name: ``[['tool_a', 'tool_b', 'tool_a']]``. Sorted."""
    cycles = []
    for component in _strongly_connected(deps):
        members = set(component)
        start = min(component)
        if len(component) == 1 and start not in deps.get(start, ()):
            continue
        cycles.append(_cycle_through(deps, start, members))
    return sorted(cycles)


def _strongly_connected(deps: Deps) -> list[list[str]]:
    """Tarjan's algorithm, iterative so that long chains do not hit the recursion limit."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    components: list[list[str]] = []
    counter = 0
    for root in sorted(deps):
        if root in index:
            continue
        work = [(root, iter(sorted(d for d in deps[root] if d in deps)))]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(d for d in deps[child] if d in deps))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                components.append(sorted(component))
    return components


def _cycle_through(deps: Deps, start: str, members: set[str]) -> list[str]:
    """The shortest cycle from ``start`` back to itself inside one component (BFS)."""
    parents: dict[str, str] = {}
    frontier = [start]
    while frontier:
        nxt = []
        for node in frontier:
            for dep in sorted(deps.get(node, ())):
                if dep not in members:
                    continue
                if dep == start:
                    path = [node]
                    while path[-1] != start:
                        path.append(parents[path[-1]])
                    path.reverse()
                    return [*path, start]
                if dep not in parents:
                    parents[dep] = node
                    nxt.append(dep)
        frontier = nxt
    raise AssertionError(f"no cycle through {start!r}")  # pragma: no cover


def restrict(deps: Deps, names: Iterable[str]) -> dict[str, tuple[str, ...]]:
    """The map for just ``names``: dependencies outside them are dropped, and names the
    map does not mention get none."""
    wanted = list(dict.fromkeys(names))
    keep = set(wanted)
    if keep.issuperset(deps):  # the whole map: only tools it does not mention are new
        return {n: tuple(deps.get(n, ())) for n in wanted}
    return {n: tuple(d for d in deps.get(n, ()) if d in keep) for n in wanted}


def merge(*maps: Deps) -> dict[str, tuple[str, ...]]:
    """The union of several dependency maps over the same tools."""
    merged: dict[str, set[str]] = {}
    for m in maps:
        for name, needs in m.items():
            merged.setdefault(name, set()).update(needs)
    return {n: tuple(sorted(d)) for n, d in merged.items()}


def successors(deps: Deps) -> dict[str, list[str]]:
    """``{tool: [tools that depend on it]}``, sorted."""
    succ: dict[str, list[str]] = {n: [] for n in deps}
    for name in sorted(deps):
        for dep in deps[name]:
            succ[dep].append(name)
    return succ


def levels(deps: Deps) -> list[list[str]]:
    """ASAP levels: level k holds the tools whose longest dependency chain has k edges."""
    sorter = graphlib.TopologicalSorter(deps)
    sorter.prepare()
    out = []
    while sorter.is_active():
        ready = sorted(sorter.get_ready())
        out.append(ready)
        sorter.done(*ready)
    return out


def topological_order(deps: Deps) -> list[str]:
    """Every tool after all of its dependencies; ties by level, then name."""
    return [name for level in levels(deps) for name in level]


def bottom_levels(deps: Deps, durations: Mapping[str, float]) -> dict[str, float]:
    """For each tool, the longest path from its start to the end of the graph: its own
    duration plus the longest bottom level among the tools that depend on it."""
    succ = successors(deps)
    bottom: dict[str, float] = {}
    for name in reversed(list(graphlib.TopologicalSorter(deps).static_order())):
        after = max((bottom[s] for s in succ[name]), default=0.0)
        bottom[name] = durations.get(name, 1.0) + after
    return bottom


def critical_path(deps: Deps, durations: Mapping[str, float]) -> tuple[float, list[str]]:
    """The longest chain by total duration, and its tools in order."""
    if not deps:
        return 0.0, []
    finish: dict[str, float] = {}
    via: dict[str, str | None] = {}
    for name in topological_order(deps):
        best = max(deps[name], key=lambda d: (finish[d], d), default=None)
        finish[name] = durations.get(name, 1.0) + (finish[best] if best is not None else 0.0)
        via[name] = best
    end = max(finish, key=lambda n: (finish[n], n))
    path = [end]
    while (prev := via[path[-1]]) is not None:
        path.append(prev)
    path.reverse()
    return finish[end], path
