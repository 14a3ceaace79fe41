"""Where each tool documents a diagnostic code: the help URI a SARIF rule points to.

Most tools publish one page per code under an address built from the code alone
(shellcheck's wiki, hadolint's wiki, yamllint's and mypy's rule lists). Two need the
rule's name, which the code alone does not give:

- ruff: its pages are named after the rule (``F401`` is ``unused-import``); the names
  come from ``ruff rule --all --output-format json``, asked once per process of the
  ruff installed beside huskycat (none when it is not installed);
- bandit: its plugin pages are named after the test (``B101`` is ``assert_used``);
  the names come from bandit's own plugin registry when bandit is importable.

A code without a known page gets no help URI rather than a guessed one.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Callable

HELP_TIMEOUT = 10.0  # seconds for ``ruff rule --all``; a report is not worth more

_SHELLCHECK = re.compile(r"SC\d{4}")
_HADOLINT = re.compile(r"DL\d{4}")
_PYCODESTYLE = re.compile(r"[EW]\d{3}")
_PYFLAKES = re.compile(r"F\d{3}")
_BANDIT = re.compile(r"B\d{3}")


def help_uri(tool: str, code: str | None) -> str | None:
    """The page documenting ``code`` of ``tool``, or None when there is none we know."""
    if not code:
        return None
    builder = _BUILDERS.get(tool)
    return builder(code) if builder is not None else None


def information_uri(tool: str) -> str | None:
    """The tool's home page, for SARIF's ``driver.informationUri``."""
    return _HOMES.get(tool)


def _shellcheck(code: str) -> str | None:
    return f"https://www.shellcheck.net/wiki/{code}" if _SHELLCHECK.fullmatch(code) else None


def _hadolint(code: str) -> str | None:
    if _HADOLINT.fullmatch(code):
        return f"https://github.com/hadolint/hadolint/wiki/{code}"
    return _shellcheck(code)  # RUN lines are checked by shellcheck, with its codes


def _flake8(code: str) -> str | None:
    if _PYCODESTYLE.fullmatch(code):
        return "https://pycodestyle.pycqa.org/en/latest/intro.html#error-codes"
    if _PYFLAKES.fullmatch(code) or code == "C901":
        return "https://flake8.pycqa.org/en/latest/user/error-codes.html"
    return None


def _mypy(code: str) -> str | None:
    if not re.fullmatch(r"[a-z][a-z0-9-]*", code):
        return None
    return f"https://mypy.readthedocs.io/en/stable/error_code_list.html#code-{code}"


def _yamllint(code: str) -> str | None:
    if not re.fullmatch(r"[a-z][a-z-]*", code):
        return None
    module = code.replace("-", "_")
    return f"https://yamllint.readthedocs.io/en/stable/rules.html#module-yamllint.rules.{module}"


def _ansible_lint(code: str) -> str | None:
    rule = code.split("[", 1)[0]
    if not re.fullmatch(r"[a-z][a-z0-9-]*", rule):
        return None
    return f"https://ansible.readthedocs.io/projects/lint/rules/{rule}/"


def _ruff(code: str) -> str | None:
    name = _ruff_rule_names().get(code)
    return f"https://docs.astral.sh/ruff/rules/{name}/" if name else None


def _bandit(code: str) -> str | None:
    if not _BANDIT.fullmatch(code):
        return None
    name = _bandit_plugin_names().get(code)
    if name:
        return f"https://bandit.readthedocs.io/en/latest/plugins/{code.lower()}_{name}.html"
    if code.startswith("B3"):
        return "https://bandit.readthedocs.io/en/latest/blacklists/blacklist_calls.html"
    if code.startswith("B4"):
        return "https://bandit.readthedocs.io/en/latest/blacklists/blacklist_imports.html"
    return None


@functools.cache
def _ruff_rule_names() -> dict[str, str]:
    from huskycat.core import process
    from huskycat.tools.programs import find_executable

    exe = find_executable("ruff")
    if exe is None:
        return {}
    try:
        proc = process.run([exe, "rule", "--all", "--output-format", "json"], timeout=HELP_TIMEOUT)
        rules = json.loads(proc.stdout) if proc.returncode == 0 else []
        return {str(r["code"]): str(r["name"]) for r in rules}
    except (OSError, ValueError, TypeError, KeyError):
        return {}


@functools.cache
def _bandit_plugin_names() -> dict[str, str]:
    try:
        from bandit.core import extension_loader  # type: ignore[import-untyped]
    except Exception:  # noqa: BLE001 - not installed or broken: no names, no links
        return {}
    return {code: str(ext.name) for code, ext in extension_loader.MANAGER.plugins_by_id.items()}


_BUILDERS: dict[str, Callable[[str], str | None]] = {
    "shellcheck": _shellcheck,
    "hadolint": _hadolint,
    "flake8": _flake8,
    "mypy": _mypy,
    "yamllint": _yamllint,
    "ansible-lint": _ansible_lint,
    "ruff": _ruff,
    "bandit": _bandit,
}

_HOMES = {
    "ansible-lint": "https://ansible.readthedocs.io/projects/lint/",
    "autoflake": "https://github.com/PyCQA/autoflake",
    "bandit": "https://bandit.readthedocs.io/",
    "black": "https://black.readthedocs.io/",
    "chapel-format": "https://chapel-lang.org/",
    "flake8": "https://flake8.pycqa.org/",
    "gitlab-ci": "https://github.com/python-jsonschema/check-jsonschema",
    "hadolint": "https://github.com/hadolint/hadolint",
    "helm-lint": "https://helm.sh/docs/helm/helm_lint/",
    "isort": "https://pycqa.github.io/isort/",
    "mypy": "https://mypy.readthedocs.io/",
    "ruff": "https://docs.astral.sh/ruff/",
    "shellcheck": "https://www.shellcheck.net/",
    "taplo": "https://taplo.tamasfe.dev/",
    "yamllint": "https://yamllint.readthedocs.io/",
}
