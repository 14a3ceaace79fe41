"""The catalog: every built-in tool once, by its own name, and edges between known tools."""

from __future__ import annotations

from huskycat.tools.catalog import CATALOG, DEFAULT_AFTER, DEFAULT_DEPENDS_ON

NAMES = [
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
]


def test_catalog_lists_every_tool_in_order_by_its_own_name() -> None:
    assert list(CATALOG) == NAMES
    assert all(spec.name == name for name, spec in CATALOG.items())


def test_default_edges_name_only_catalog_tools() -> None:
    for edges in (DEFAULT_DEPENDS_ON, DEFAULT_AFTER):
        for tool, needs in edges.items():
            assert tool in CATALOG
            assert set(needs) <= set(CATALOG) - {tool}


def test_type_checkers_and_linters_wait_for_the_formatters_without_requiring_them() -> None:
    assert DEFAULT_AFTER == {
        "mypy": ["black", "isort"],
        "flake8": ["black", "isort"],
        "bandit": ["black"],
    }
    assert not set(DEFAULT_AFTER) & set(DEFAULT_DEPENDS_ON)


def test_yaml_linters_require_yamllint() -> None:
    assert DEFAULT_DEPENDS_ON == {
        "ansible-lint": ["yamllint"],
        "gitlab-ci": ["yamllint"],
        "helm-lint": ["yamllint"],
    }
