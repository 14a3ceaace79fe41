"""pre-commit's meta hooks, computed when the run is planned: they read the
configuration and every tracked file, never the files of the run."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence

from huskycat.precommit.classify import hook_files
from huskycat.precommit.config import PreCommitConfig
from huskycat.precommit.repos import Hook


def meta_verdict(
    hook: Hook,
    config: PreCommitConfig,
    hooks: Sequence[Hook],
    tracked: Callable[[], list[str]],
    tags: Callable[[str], frozenset[str]],
) -> tuple[int, str]:
    """pre-commit's meta hooks, on every tracked file as pre-commit runs them (every
    stage's hooks; check-useless-excludes reads the hooks as configured, without the
    definitions' types)."""
    every = list(tracked())
    kept = [n for n in every if re.search(config.files, n) and not re.search(config.exclude, n)]
    lines: list[str] = []
    if hook.id == "check-hooks-apply":
        for other in hooks:
            if other.always_run or other.language == "fail":
                continue
            if not hook_files(other, kept, tags):
                lines.append(f"{other.id} does not apply to this repository")
    elif hook.id == "check-useless-excludes":
        if config.exclude != "^$" and not any(re.search(config.exclude, n) for n in every):
            lines.append(f"The global exclude pattern {config.exclude!r} does not match any files")
        for repo in config.repos:
            for table in repo.hooks:
                exclude = table.get("exclude", "^$")
                if exclude == "^$":
                    continue
                types = frozenset(table.get("types", ()))
                types_or = frozenset(table.get("types_or", ()))
                exclude_types = frozenset(table.get("exclude_types", ()))
                include = re.compile(table.get("files", ""))
                if not any(
                    include.search(n)
                    and re.search(exclude, n)
                    and tags(n) >= types
                    and (not types_or or tags(n) & types_or)
                    and not tags(n) & exclude_types
                    for n in kept
                ):
                    hook_id = table["id"]
                    lines.append(
                        f"The exclude pattern {exclude!r} for {hook_id} does not match any files"
                    )
    return (1 if lines else 0), "".join(f"{line}\n" for line in lines)
