"""How a run runs (worker slots, time limit, fail-fast), resolved once by the command.

The command line wins over the configuration: ``--jobs`` over ``jobs``, ``--timeout`` over
``timeout``, and ``--fail-fast`` or ``fail_fast = true`` stops at the first failure. A
tool's own ``[tool.huskycat.tools.NAME] timeout`` wins over both (the plan resolves each
tool's from :meth:`RunOptions.tool_timeout`). In a monorepo every project's
configuration gives its own options; the run takes its first project's ``jobs`` and
stops at the first failure when any project asks to (:func:`combined`). Hooks of a
``.pre-commit-config.yaml`` stop as pre-commit does, by their order's edges, never by
the engine's fail-fast.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from huskycat.core.process import DEFAULT_TIMEOUT

if TYPE_CHECKING:
    from huskycat.config import Config


@dataclass(frozen=True, kw_only=True)
class RunOptions:
    """``jobs``: worker slots (None: one per CPU); ``timeout``: seconds per tool unless
    the tool's own setting says otherwise (None: :data:`DEFAULT_TIMEOUT`); ``fail_fast``:
    stop at the first failure."""

    jobs: int | None = None
    timeout: float | None = None
    fail_fast: bool = False

    @classmethod
    def of(
        cls,
        config: Config,
        *,
        jobs: int | None = None,
        timeout: float | None = None,
        fail_fast: bool = False,
    ) -> RunOptions:
        """The options of a run of ``config``'s project, given the command line's."""
        return cls(
            jobs=jobs if jobs is not None else config.jobs,
            timeout=timeout or config.timeout,
            fail_fast=fail_fast or config.fail_fast,
        )

    def tool_timeout(self, own: float | None) -> float:
        """The time limit of a tool whose configuration says ``own`` (None: not set)."""
        return own or self.timeout or DEFAULT_TIMEOUT


def combined(projects: Sequence[RunOptions]) -> RunOptions:
    """One run's options over its projects' (the first is the run's own, see the module
    docstring)."""
    if not projects:
        return RunOptions()
    first = projects[0]
    return RunOptions(
        jobs=first.jobs, timeout=first.timeout, fail_fast=any(p.fail_fast for p in projects)
    )
