"""ansible-lint, the linter of Ansible playbooks, roles and task files.

Check: ``ansible-lint -f codeclimate --nocolor -q --offline FILES``; fix: the same with
``--fix`` (ansible-lint rewrites the YAML and applies its rule transforms, then reports
what is left). Verified against ansible-lint 26.10 (ansible-core 2.19).

``--offline`` matters: without it ansible-lint may install the collections and roles
of a ``requirements.yml``, refreshes its JSON schemas and checks PyPI for a newer
version (all network), and takes a lock file in its cache folder with a 180 s timeout,
which serialises parallel runs. With it, a tiny playbook takes about 3 s, the same with
the network cut off (measured with ``unshare -n``). Nothing else is set in the
environment: ``ANSIBLE_HOME`` and the like would hide the collections the user
installed; ansible-core keeps its temporary files under ``~/.ansible/tmp`` as usual.

``-f codeclimate`` (``json`` is an alias) prints one JSON list on stdout::

    [{"type": "issue", "check_name": "fqcn[action-core]", "severity": "major",
      "description": "Use FQCN for builtin module actions (shell).",
      "content": {"body": "Use `ansible.builtin.shell` ..."},
      "location": {"path": "site.yml",
                   "positions": {"begin": {"line": 3, "column": 5}}}, ...}]

(``location.lines.begin`` instead of ``positions`` when there is no column).
ansible-lint maps its levels to two severities: ``major`` for errors and ``minor`` for
warnings (the ``warn_list``: ``experimental``, ``jinja[spacing]``...); ``info`` is read as
info. A file it cannot load (YAML syntax error, missing file) gets ``load-failure[...]``
at ``minor`` severity, yet fails the run; huskycat counts it as an error.

Exit codes: 0 no error (warnings may be listed), 2 violations, 3 invalid configuration
(the message on stderr, in red even with ``--nocolor``), 4 lock timeout, 5 no file
analysed, 8 violations fixed and none left (``--fix``). huskycat takes ansible-lint's
verdict, so warnings alone are reported on an "ok" run; 5 is "ok" too, since huskycat
only passes Ansible files and 5 then means the configuration excludes them all.

Files: only Ansible content, so that ansible-lint does not lint every YAML file as
generic YAML. :func:`ansible_files` keeps YAML files that

- live in ``roles/<role>/{tasks,handlers,defaults,vars,meta}/``, or in a ``tasks/``,
  ``handlers/`` or ``playbooks/`` folder (at any depth); or
- are playbooks: a top-level list with an item that has a ``hosts`` or
  ``import_playbook`` key. This is read from the first 64 KiB of the file's text with
  a few patterns, not with a YAML parser; a file that cannot be read is left out.

Scope "project": ansible-lint follows a playbook into the roles and task files it
uses, and its results depend on them and on ``requirements.yml``, so one file's result is
not that file's alone.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Sequence
from typing import Any

from huskycat.core.results import Diagnostic, Severity
from huskycat.tools.base import ParseResult, ToolOutput, ToolSpec
from huskycat.tools.parsing import failed, first_line
from huskycat.tools.verdict import by_exit_status

_ANSI = re.compile(r"\x1b\[[0-9;]*m")
_SEVERITY: dict[str, Severity] = {
    "blocker": "error",
    "critical": "error",
    "major": "error",
    "minor": "warning",
    "info": "info",
}
_EXIT_OK, _EXIT_VIOLATIONS, _EXIT_NO_FILES, _EXIT_FIXED = 0, 2, 5, 8

_CONTENT_PATH = re.compile(
    r"(?:^|/)(?:roles/[^/]+/(?:tasks|handlers|defaults|vars|meta)|tasks|handlers|playbooks)"
    r"/(?:.+/)?[^/]+\.ya?ml$"
)
_SNIFF_BYTES = 64 * 1024
_SKIP = re.compile(r"^\s*(?:#.*|---.*|%.*|\.\.\.\s*)?$")  # blank, comment, ---, directive
_ITEM = re.compile(r"^(?P<indent> *)-(?: +|$)")
_PLAY_KEY = r"(?:hosts|import_playbook|ansible\.builtin\.import_playbook)\s*:"


def _is_playbook(text: str) -> bool:
    """Whether ``text`` starts a top-level list with a ``hosts`` or ``import_playbook`` key.

    Such a key counts on an item's first line (``- hosts: all``) or at the column where
    the item's keys sit (``  hosts: all`` under ``- name: x``).
    """
    lines = text.splitlines()
    first = next((line for line in lines if not _SKIP.match(line)), None)
    item = _ITEM.match(first) if first is not None else None
    if item is None:
        return False
    indent = len(item["indent"])
    key_column = indent + 2 if item.end() == len(first or "") else item.end()
    on_item = re.compile(rf"^ {{{indent}}}- +{_PLAY_KEY}")
    in_item = re.compile(rf"^ {{{key_column}}}{_PLAY_KEY}")
    return any(on_item.match(line) or in_item.match(line) for line in lines)


def _read_start(path: str) -> str | None:
    try:
        with open(path, "rb") as handle:
            return handle.read(_SNIFF_BYTES).decode("utf-8", "replace")
    except OSError:
        return None


def ansible_files(files: Sequence[str], root: str | None = None) -> list[str]:
    """The Ansible content among ``files``, in their order (see the module docstring).

    ``files`` are relative to ``root`` (default: the current folder) and come back as
    given. Never raises: a file that cannot be read is not Ansible content.
    """
    kept = []
    for name in files:
        posix = name.replace(os.sep, "/")
        if not posix.endswith((".yml", ".yaml")):
            continue
        if _CONTENT_PATH.search(posix):
            kept.append(name)
            continue
        text = _read_start(os.path.join(root, name) if root else name)
        if text is not None and _is_playbook(text):
            kept.append(name)
    return kept


def _diagnostic(issue: Any) -> Diagnostic:
    location = issue.get("location") or {}
    begin = (location.get("positions") or {}).get("begin") or {}
    line = begin.get("line", (location.get("lines") or {}).get("begin"))
    column = begin.get("column")
    code = str(issue.get("check_name") or "") or None
    severity = _SEVERITY.get(str(issue.get("severity")), "error")
    if code is not None and code.startswith("load-failure"):
        severity = "error"
    message = str(issue.get("description") or "")
    body = (issue.get("content") or {}).get("body")
    if body and str(body) not in ("None", message):
        message = f"{message} ({body})" if message else str(body)
    return Diagnostic(
        str(location.get("path") or ""),
        int(line) if line is not None else None,
        int(column) if column is not None else None,
        code,
        severity,
        message,
    )


def parse(out: ToolOutput) -> ParseResult:
    """Read the codeclimate list; exit 3 (bad configuration) and the like are errors."""
    if out.returncode not in (_EXIT_OK, _EXIT_VIOLATIONS, _EXIT_NO_FILES, _EXIT_FIXED):
        return failed(out, first_line(_ANSI.sub("", out.stderr)) or None)
    try:
        issues = json.loads(out.stdout) if out.stdout.strip() else []
        diagnostics = [_diagnostic(issue) for issue in issues]
    except (ValueError, TypeError, AttributeError) as exc:
        return failed(out, f"unreadable codeclimate output from ansible-lint ({exc})")
    if out.returncode == _EXIT_VIOLATIONS and not diagnostics:
        return failed(out, "ansible-lint found violations but listed none")
    message = None
    if out.returncode == _EXIT_NO_FILES:  # every file given is excluded by its configuration
        message = "ansible-lint analysed no file (excluded by its configuration)"
    return by_exit_status(diagnostics, failed=out.returncode == _EXIT_VIOLATIONS, message=message)


_ARGS = ("-f", "codeclimate", "--nocolor", "-q", "--offline")

SPEC = ToolSpec(
    name="ansible-lint",
    description="Ansible playbook, role and task linter",
    executable="ansible-lint",
    install_hint="pip install ansible-lint",
    check_args=_ARGS,
    fix_args=(*_ARGS, "--fix"),
    types=frozenset({"yaml"}),
    files=r"\.ya?ml$",
    scope="project",
    config_files=(
        ".ansible-lint",
        ".ansible-lint.yml",
        ".ansible-lint.yaml",
        ".config/ansible-lint.yml",
        ".config/ansible-lint.yaml",
        ".ansible-lint-ignore",
        ".config/ansible-lint-ignore.txt",
        ".yamllint",
        ".yamllint.yaml",
        ".yamllint.yml",
        "ansible.cfg",
        "requirements.yml",
    ),
    # --offline: "--version" otherwise asks GitHub for the latest release.
    version_args=("--nocolor", "--offline", "--version"),
    parse=parse,
    targets=ansible_files,
)
