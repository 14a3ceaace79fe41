"""The catalog's tool names and default edges, without importing any tool module.

The command line needs these to validate a configuration on every commit (a git hook),
before it knows whether any tool will run; importing the whole catalog for that would
cost the hook its start-up time. :mod:`huskycat.tools.catalog` checks that the two agree.
"""

from __future__ import annotations

# The seed's 15 tools, in catalog order (the order writers of the same files run in).
NAMES: tuple[str, ...] = (
    "black",
    "isort",
    "autoflake",
    "ruff",
    "mypy",
    "flake8",
    "bandit",
    "yamllint",
    "taplo",
    "shellcheck",
    "hadolint",
    "ansible-lint",
    "helm-lint",
    "gitlab-ci",
    "chapel-format",
)

# Requires success: Ansible, GitLab CI and Helm linters read YAML that yamllint must pass.
DEFAULT_DEPENDS_ON: dict[str, list[str]] = {
    "ansible-lint": ["yamllint"],
    "gitlab-ci": ["yamllint"],
    "helm-lint": ["yamllint"],
}

# Ordered after only: a formatter's "would reformat" must not hide what follows.
DEFAULT_AFTER: dict[str, list[str]] = {
    "mypy": ["black", "isort"],
    "flake8": ["black", "isort"],
    "bandit": ["black"],
}


# The seed's TOOL_DEPENDENCIES: every tool with all the tools it waits for, required or
# not (which is which: the two maps above). Re-exported by huskycat.core.parallel_executor.
TOOL_DEPENDENCIES: dict[str, list[str]] = {
    name: [*DEFAULT_DEPENDS_ON.get(name, ()), *DEFAULT_AFTER.get(name, ())] for name in NAMES
}
