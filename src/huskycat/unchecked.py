"""Nothing silently unchecked: a tool that has files to check but cannot run (not
installed, its environment failed to install) is never a quiet pass.

- ``CI`` set (to anything but "", "0", "false", "no"), ``--require-tools`` or
  ``require_tools = true`` (in a monorepo, a project's own ``require_tools`` covers that
  project's tools): such a tool FAILS, its result naming what installs it;
- otherwise it is SKIPPED, and the run says on stderr how many applicable tools did not
  run; a run in which nothing ran at all because of that fails (exit 1);
- a run where no tool applies to the files passes and says "nothing to check".

The planner marks such tools (``PlannedTool.unavailable``: what installs it); the
results carry ``metadata["unavailable"]``.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from huskycat.core.results import ToolResult
    from huskycat.planning import Plan


def tools_required(flag: bool, configured: bool, environ: Mapping[str, str] = os.environ) -> bool:
    """Whether a tool that has files but cannot run fails the run: ``--require-tools``,
    ``require_tools = true``, or ``CI`` set (to anything but "", "0" or "false")."""
    ci = environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")
    return flag or configured or ci


def unavailable_fail(plan: Plan, only: Callable[[str], bool] | None = None) -> Plan:
    """The plan with every applicable tool that cannot run (of those ``only`` accepts:
    a monorepo's projects that require their tools) turned into a failure that says how
    to install it."""
    from dataclasses import replace

    from huskycat.core.results import OUTCOME_ERROR, ToolResult, ToolStatus
    from huskycat.tools.facts import ResultFacts

    tools = dict(plan.tools)
    for name, tool in plan.tools.items():
        if tool.unavailable is None or tool.skip_reason is None:
            continue
        if only is not None and not only(name):
            continue
        how = "" if tool.unavailable in tool.skip_reason else f"; install it: {tool.unavailable}"
        message = f"{tool.skip_reason}{how} (required: CI, --require-tools or require_tools)"

        def failing(_cache: object, name: str = name, message: str = message) -> Any:
            return lambda: ToolResult(
                name,
                False,
                0.0,
                output=message,
                status=ToolStatus.FAILED,
                error_message=message,
                metadata=ResultFacts(outcome=OUTCOME_ERROR, unavailable=True).to_metadata(),
            )

        tools[name] = replace(tool, skip_reason=None, run=failing)
    return replace(plan, tools=tools)


def say_unchecked(results: Sequence[ToolResult], *, quiet: bool) -> bool:
    """Say how many applicable tools did not run; True when nothing ran at all because
    of that (a run that checked nothing is not a success)."""
    from huskycat.core.results import ToolStatus
    from huskycat.tools.facts import facts_of

    unrun = [r for r in results if r.status is ToolStatus.SKIPPED and facts_of(r).unavailable]
    ran = [r for r in results if r.status is not ToolStatus.SKIPPED]
    if unrun:
        names = ", ".join(r.tool_name for r in unrun)
        count = f"{len(unrun)} applicable tool{'s' if len(unrun) != 1 else ''}"
        print(
            f"huskycat: {count} did not run ({names}): not installed or the environment "
            "failed; CI=true or --require-tools makes that a failure",
            file=sys.stderr,
        )
        if not ran:
            print("huskycat: nothing was checked", file=sys.stderr)
            return True
    elif not ran and results and not quiet:
        print("huskycat: nothing to check: no tool applies to these files", file=sys.stderr)
    return False
