"""Every built-in tool by name, and the default edges between them.

Two kinds of edge order the tools, and the configuration may add to both:

- :data:`DEFAULT_DEPENDS_ON` ("requires"): the tool runs only if each listed tool
  succeeded or was skipped as not applicable. Used where a later tool's findings mean
  nothing when an earlier one failed: a linter of Ansible playbooks, GitLab CI files or
  Helm charts reads YAML that yamllint must first find well-formed.
- :data:`DEFAULT_AFTER` ("after"): the tool only starts after the listed ones have
  finished, whatever they found; it is blocked only when one of them could not do its
  work (crashed, timed out). Used after formatters, whose "would reformat" is a finding
  that must not hide the type and lint findings of the tools that follow, but whose
  fix mode rewrites the files those tools read, so they must wait for it.
"""

from __future__ import annotations

import dataclasses

from huskycat.tools import (
    ansible_lint,
    autoflake,
    bandit,
    black,
    chapel_format,
    flake8,
    gitlab_ci,
    hadolint,
    helm_lint,
    isort,
    mypy,
    ruff,
    shellcheck,
    taplo,
    yamllint,
)
from huskycat.tools.base import ToolSpec
from huskycat.tools.defaults import DEFAULT_AFTER, DEFAULT_DEPENDS_ON, NAMES
from huskycat.tools.parsing import says_why

__all__ = ["CATALOG", "DEFAULT_AFTER", "DEFAULT_DEPENDS_ON", "NAMES"]

# Every parser guarded: a tool that fails in silence is an error that says so.
CATALOG: dict[str, ToolSpec] = {
    spec.name: dataclasses.replace(spec, parse=says_why(spec.parse))
    for spec in (
        black.SPEC,
        isort.SPEC,
        autoflake.SPEC,
        ruff.SPEC,
        mypy.SPEC,
        flake8.SPEC,
        bandit.SPEC,
        yamllint.SPEC,
        taplo.SPEC,
        shellcheck.SPEC,
        hadolint.SPEC,
        ansible_lint.SPEC,
        helm_lint.SPEC,
        gitlab_ci.SPEC,
        chapel_format.SPEC,
    )
}

if tuple(CATALOG) != NAMES:  # pragma: no cover - a catalog edit that forgot defaults.py
    raise AssertionError(f"catalog {tuple(CATALOG)!r} differs from defaults.NAMES {NAMES!r}")
