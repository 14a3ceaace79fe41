"""Priorities for the scheduler's greedy policy, chosen by simulating that policy. Pure.

The scheduler starts, among the ready tools that fit in the free slots, the one with the
highest priority (ties by name), and never leaves a slot idle while a ready tool fits.
Longest remaining path first (bottom levels) is a good rule but not the best on every
graph: it can fill the slots with long independent tools while a short tool that would
open up a chain of work waits, so the end of the run is a chain that cannot be spread
over the workers. The scheduler cannot hold a slot back, so the only lever is the order.
:func:`plan_priorities` tries orders on :func:`huskycat.core.stats.simulate` and keeps
the one that finishes first:

1. bottom levels; returned unchanged unless another order is strictly faster;
2. other list-scheduling rules: ties broken by descendant count or work, remaining path
   plus a share of the work still to come, the path after the tool, the critical path
   first;
3. forward-backward passes: schedule the reversed graph in the order the best schedule
   finishes its tools, then the graph in the order that reversed schedule finishes them;
4. a local search with a fixed seed: move a tool that waited for a slot ahead of a tool
   that took one, or behind it, or anywhere; keep moves that do not make things worse.

Every step stops as soon as the simulated makespan reaches the lower bound
``max(critical path, total work / slots)``. The effort scales with the graph: everything
up to :data:`SEARCH_LIMIT` tools, only the rules of step 2 that take linear time up to
:data:`CHEAP_LIMIT`, plain bottom levels beyond.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterable, Mapping, Sequence

from huskycat.core import graph, stats

SEARCH_LIMIT = 300  # tools: every step, local search included
CHEAP_LIMIT = 5_000  # tools: bottom levels and the linear-time rules only
DEFAULT_BUDGET = 32  # simulations per plan, at most
FORWARD_BACKWARD_ROUNDS = 3
_SEED = 20240917  # fixed: the same graph always gets the same plan
_GUIDED = 0.8  # share of local-search moves aimed at a tool that waited for a slot
_REL_TOL = 1e-9  # makespans this close count as equal (sums of floats)


def plan_priorities(
    deps: Mapping[str, Sequence[str]],
    durations: Mapping[str, float],
    *,
    slots: int,
    weights: Mapping[str, int] | None = None,
    budget: int = DEFAULT_BUDGET,
) -> dict[str, float]:
    """Priorities (higher starts first) for every tool of ``deps``, chosen by simulating
    the scheduler with ``slots`` workers, at most ``budget`` times.

    ``deps`` is a validated, acyclic dependency map; tools missing from ``durations``
    take 1.0 and from ``weights`` 1 slot, as in :func:`~huskycat.core.stats.simulate`.
    Returns the bottom levels themselves unless another order gives a strictly shorter
    simulated makespan, and the same result for the same input.
    """
    bottom = graph.bottom_levels(deps, durations)
    if budget < 1 or len(deps) > CHEAP_LIMIT or not _order_matters(deps, slots, weights):
        return bottom
    search = _Search(deps, durations, slots, weights, budget, bottom)
    if search.finished():  # bottom levels already reach the lower bound
        return bottom
    names = sorted(deps)
    if len(names) <= SEARCH_LIMIT:
        rules = _all_rules(deps, durations, bottom, slots, weights)
    else:
        rules = _linear_rules(deps, durations, bottom)
    for rule in rules:
        if search.finished():
            break
        search.try_order(sorted(names, key=rule))
    if len(names) <= SEARCH_LIMIT:
        search.forward_backward(FORWARD_BACKWARD_ROUNDS)
        search.local_search(random.Random(_SEED))
    if search.best_order is None:  # nothing beat bottom levels
        return bottom
    return _ranks(search.best_order)


def _order_matters(names: Iterable[str], slots: int, weights: Mapping[str, int] | None) -> bool:
    """With one slot every order takes the sum of the durations; when every tool fits
    at once every tool starts when its dependencies are done. Either way, no choice."""
    if slots <= 1:
        return False
    return sum(min((weights or {}).get(n, 1), slots) for n in names) > slots


def _ranks(order: Sequence[str]) -> dict[str, float]:
    return {name: float(len(order) - i) for i, name in enumerate(order)}


SortKey = Callable[[str], tuple[float, ...]]


def _linear_rules(
    deps: Mapping[str, Sequence[str]], durations: Mapping[str, float], bottom: Mapping[str, float]
) -> list[SortKey]:
    """Orders computable in linear time, each as a sort key (smallest first)."""
    on_path = set(graph.critical_path(deps, durations)[1])
    return [
        # The longest path after the tool: start what unlocks long chains, not what is long.
        lambda n: (-(bottom[n] - durations.get(n, 1.0)), -bottom[n]),
        lambda n: (n not in on_path, -bottom[n]),
    ]


def _all_rules(
    deps: Mapping[str, Sequence[str]],
    durations: Mapping[str, float],
    bottom: Mapping[str, float],
    slots: int,
    weights: Mapping[str, int] | None,
) -> list[SortKey]:
    """The linear rules and those that need each tool's descendants (quadratic)."""
    weights = weights or {}
    succ = graph.successors(deps)
    below: dict[str, set[str]] = {}
    for name in reversed(graph.topological_order(deps)):
        found: set[str] = set()
        for nxt in succ[name]:
            found |= below[nxt]
            found.add(nxt)
        below[name] = found

    def work(n: str) -> float:
        return durations.get(n, 1.0) * min(weights.get(n, 1), slots)

    count = {n: len(found) for n, found in below.items()}
    # The tool's own work and everything that waits for it, spread over the slots.
    share = {n: (work(n) + sum(work(d) for d in found)) / slots for n, found in below.items()}
    return [
        lambda n: (-bottom[n], -count[n]),
        lambda n: (-bottom[n], -share[n]),
        lambda n: (-(bottom[n] + share[n]), -bottom[n]),
        lambda n: (-max(bottom[n], share[n]), -bottom[n]),
        *_linear_rules(deps, durations, bottom),
    ]


class _Search:
    """Simulations within a budget, and the best order found so far. Starts by
    simulating bottom levels, the baseline every other order has to beat."""

    def __init__(
        self,
        deps: Mapping[str, Sequence[str]],
        durations: Mapping[str, float],
        slots: int,
        weights: Mapping[str, int] | None,
        budget: int,
        bottom: Mapping[str, float],
    ) -> None:
        self.deps = deps
        self.durations = {n: durations.get(n, 1.0) for n in deps}
        self.slots = slots
        self.weights = weights
        self.left = budget
        work = sum(d * min((weights or {}).get(n, 1), slots) for n, d in self.durations.items())
        self.bound = max(max(bottom.values()), work / slots)  # the top bottom level: the path
        self.tolerance = _REL_TOL * max(1.0, self.bound)
        self.bottom = bottom
        self.current = self.simulate(deps, bottom)  # where the local search starts
        self.best = self.current.makespan
        self.best_order: list[str] | None = None  # None: bottom levels are the best
        self.order: list[str] | None = None  # None: in bottom-level order

    def finished(self) -> bool:
        return self.left < 1 or self.best <= self.bound + self.tolerance

    def simulate(
        self, deps: Mapping[str, Sequence[str]], priority: Mapping[str, float]
    ) -> stats.Simulation:
        self.left -= 1
        return stats.simulate(
            deps, self.durations, slots=self.slots, weights=self.weights, priority=priority
        )

    def try_order(self, order: list[str]) -> stats.Simulation:
        sim = self.simulate(self.deps, _ranks(order))
        if sim.makespan < self.best - self.tolerance:
            self.best, self.best_order = sim.makespan, order
            self.order, self.current = order, sim
        return sim

    def forward_backward(self, rounds: int) -> None:
        """Schedule the reversed graph latest-finishing tool first, then the graph in
        the order that reversed schedule finishes its tools; repeat from the result."""
        reverse = {n: tuple(after) for n, after in graph.successors(self.deps).items()}
        for _ in range(rounds):
            if self.finished() or self.left < 2:
                return
            forward = self.current
            ends = {n: forward.starts[n] + self.durations[n] for n in self.deps}
            backward = self.simulate(reverse, ends)
            back_ends = {n: backward.starts[n] + self.durations[n] for n in self.deps}
            before = self.best
            self.try_order(sorted(self.deps, key=lambda n: (-back_ends[n], n)))
            if self.best >= before:
                return

    def local_search(self, rng: random.Random) -> None:
        """Move one tool at a time in the best order; keep moves that are not worse."""
        order = self.order or sorted(self.deps, key=lambda n: (-self.bottom[n], n))
        sim = self.current
        while not self.finished():
            candidate = self._move(order, sim, rng)
            trial = self.try_order(candidate)
            if trial.makespan <= sim.makespan + self.tolerance:
                order, sim = candidate, trial

    def _move(self, order: list[str], sim: stats.Simulation, rng: random.Random) -> list[str]:
        moved = list(order)
        starts = sim.starts
        ends = {n: starts[n] + self.durations[n] for n in order}
        ready = {n: max((ends[d] for d in self.deps[n]), default=0.0) for n in order}
        waited = [n for n in order if starts[n] > ready[n] + self.tolerance]
        if waited and rng.random() < _GUIDED:
            # A tool that waited for a slot, and one that started while it waited.
            tool = rng.choice(waited)
            took = [
                n
                for n in order
                if n != tool and ready[tool] - self.tolerance <= starts[n] <= starts[tool]
            ]
            if took:
                other = rng.choice(took)
                if rng.random() < 0.5:
                    moved.remove(tool)
                    moved.insert(moved.index(other), tool)
                else:
                    moved.remove(other)
                    moved.insert(moved.index(tool) + 1, other)
                return moved
        tool = moved.pop(rng.randrange(len(moved)))
        moved.insert(rng.randrange(len(moved) + 1), tool)
        return moved
