"""Which files each hook gets, as pre-commit's classifier picks them: the run's files
that exist, filtered by the top-level ``files``/``exclude``, then per hook by its
``files``/``exclude`` regexes (``re.search``) and identify tags: all of ``types``, any
of ``types_or``, none of ``exclude_types``."""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Sequence
from pathlib import Path

from huskycat.precommit.config import PreCommitConfig
from huskycat.precommit.repos import Hook


def hook_files(
    hook: Hook, candidates: Sequence[str], tags: Callable[[str], frozenset[str]]
) -> list[str]:
    """The ``candidates`` ``hook`` gets: its regexes, then its types (all of ``types``,
    any of ``types_or``, none of ``exclude_types``)."""
    # The defaults ("" and "^$") match every path and none: not searched for each file.
    include = re.compile(hook.files) if hook.files else None
    exclude = re.compile(hook.exclude) if hook.exclude != "^$" else None
    verdicts: dict[frozenset[str], bool] = {}  # files share few distinct sets of tags
    kept = []
    for name in candidates:
        if include is not None and not include.search(name):
            continue
        if exclude is not None and exclude.search(name):
            continue
        found = tags(name)
        wanted = verdicts.get(found)
        if wanted is None:
            wanted = verdicts[found] = (
                found >= hook.types
                and (not hook.types_or or bool(found & hook.types_or))
                and not found & hook.exclude_types
            )
        if wanted:
            kept.append(name)
    return kept


def run_files(root: Path, candidates: Sequence[str], config: PreCommitConfig) -> list[str]:
    """The run's files that exist, filtered by the top-level ``files`` and ``exclude``."""
    include, exclude = re.compile(config.files), re.compile(config.exclude)
    return [
        name
        for name in candidates
        if include.search(name)
        and not exclude.search(name)
        and os.path.lexists(os.path.join(root, name))
    ]
