"""Results as SARIF 2.1.0, the format GitHub code scanning and other CI servers read.

One ``run`` per tool that ran (tools skipped as not applicable are left out)::

    {"version": "2.1.0", "$schema": ".../sarif-schema-2.1.0.json", "runs": [
      {"tool": {"driver": {"name": "shellcheck", "version": "0.11.0",
                           "informationUri": "https://www.shellcheck.net/",
                           "rules": [{"id": "SC2086", "helpUri": ".../wiki/SC2086", ...}]}},
       "automationDetails": {"id": "huskycat/shellcheck/"},
       "originalUriBaseIds": {"SRCROOT": {"uri": "file:///path/to/repo/"}},
       "invocations": [{"executionSuccessful": true}],
       "results": [{"ruleId": "SC2086", "ruleIndex": 0, "level": "note",
                    "message": {"text": "Double quote to prevent globbing ..."},
                    "locations": [{"physicalLocation": {
                        "artifactLocation": {"uri": "bin/x.sh", "uriBaseId": "SRCROOT"},
                        "region": {"startLine": 3, "startColumn": 6}}}],
                    "partialFingerprints": {"huskycat/v1": "..."}}]}]}

- Rules come from the diagnostic codes, with the page each tool publishes for them
  (:mod:`huskycat.report.rule_help`); a diagnostic without a code gets the rule named
  after its tool. Severities: error -> ``error``, warning -> ``warning``, info -> ``note``.
- Locations are relative to the repository root through ``uriBaseId`` ``SRCROOT``, as
  GitHub expects; a file outside the root keeps an absolute ``file:`` URI.
- ``partialFingerprints["huskycat/v1"]`` is stable across runs and across edits that
  only move a finding: a hash of the tool, the rule, the file, the text of the line
  (read from the file when it is there, else the line number) and the message, with a
  counter for identical findings.
- A tool that crashed, timed out, or was skipped because a dependency did not pass, is
  a run with ``executionSuccessful: false`` and a ``toolExecutionNotification`` saying
  why, never silence. A tool that ran and reported findings executed successfully.
- Each run has its own ``automationDetails.id`` (its category on GitHub), so that one
  upload holds every tool.
"""

from __future__ import annotations

import os
from pathlib import Path, PurePosixPath
from typing import Any
from urllib.parse import quote

from huskycat.core.results import Diagnostic, ToolResult, ToolStatus
from huskycat.report.describe import describe, first_line
from huskycat.report.fingerprint import LineReader, fingerprint
from huskycat.report.rule_help import help_uri, information_uri
from huskycat.report.run_data import RunData, ran
from huskycat.tools.facts import facts_of

SARIF_VERSION = "2.1.0"
SARIF_SCHEMA_URI = "https://json.schemastore.org/sarif-2.1.0.json"
BASE_ID = "SRCROOT"
FINGERPRINT_KEY = "huskycat/v1"
_LEVEL = {"error": "error", "warning": "warning", "info": "note"}


def build_sarif(run: RunData) -> dict[str, Any]:
    """The SARIF log of ``run`` (see the module docstring)."""
    root = Path(run.root) if run.root else None
    lines = LineReader(root)
    return {
        "version": SARIF_VERSION,
        "$schema": SARIF_SCHEMA_URI,
        "runs": [_run(result, root, lines) for result in ran(run.results)],
    }


def _run(result: ToolResult, root: Path | None, lines: LineReader) -> dict[str, Any]:
    rules: dict[str, int] = {}
    rule_list: list[dict[str, Any]] = []
    results = []
    seen: dict[str, int] = {}
    for diagnostic in result.diagnostics:
        rule_id = diagnostic.code or result.tool_name
        if rule_id not in rules:
            rules[rule_id] = len(rule_list)
            rule_list.append(_rule(result.tool_name, rule_id, diagnostic))
        results.append(
            _result(result.tool_name, rule_id, rules[rule_id], diagnostic, root, lines, seen)
        )
    driver: dict[str, Any] = {"name": result.tool_name, "rules": rule_list}
    version = facts_of(result).version
    if version:
        driver["version"] = version
    home = information_uri(result.tool_name)
    if home:
        driver["informationUri"] = home
    out: dict[str, Any] = {
        "tool": {"driver": driver},
        "automationDetails": {"id": f"huskycat/{result.tool_name}/"},
        "invocations": [_invocation(result)],
        "results": results,
        "columnKind": "unicodeCodePoints",
    }
    if root is not None:
        out["originalUriBaseIds"] = {BASE_ID: {"uri": root.resolve().as_uri() + "/"}}
    return out


def _rule(tool: str, rule_id: str, first: Diagnostic) -> dict[str, Any]:
    rule: dict[str, Any] = {
        "id": rule_id,
        "shortDescription": {"text": f"{tool} {rule_id}" if rule_id != tool else tool},
        "defaultConfiguration": {"level": _LEVEL.get(first.severity, "error")},
    }
    uri = help_uri(tool, first.code)
    if uri:
        rule["helpUri"] = uri
        rule["help"] = {"text": f"See {uri}"}
    return rule


def _result(
    tool: str,
    rule_id: str,
    index: int,
    diagnostic: Diagnostic,
    root: Path | None,
    lines: LineReader,
    seen: dict[str, int],
) -> dict[str, Any]:
    out: dict[str, Any] = {
        "ruleId": rule_id,
        "ruleIndex": index,
        "level": _LEVEL.get(diagnostic.severity, "error"),
        "message": {"text": diagnostic.message or rule_id},
    }
    if diagnostic.file:
        physical: dict[str, Any] = {"artifactLocation": _artifact(diagnostic.file, root)}
        if diagnostic.line is not None and diagnostic.line >= 1:
            region: dict[str, int] = {"startLine": diagnostic.line}
            if diagnostic.column is not None and diagnostic.column >= 1:
                region["startColumn"] = diagnostic.column
            physical["region"] = region
        out["locations"] = [{"physicalLocation": physical}]
    digest = fingerprint(tool, rule_id, diagnostic, lines)
    seen[digest] = seen.get(digest, 0) + 1
    out["partialFingerprints"] = {FINGERPRINT_KEY: f"{digest}:{seen[digest]}"}
    return out


def _artifact(file: str, root: Path | None) -> dict[str, Any]:
    if os.path.isabs(file):
        return {"uri": Path(file).as_uri()}
    posix = PurePosixPath(file.replace(os.sep, "/"))
    uri = quote(str(posix), safe="/-._~")
    if root is None:
        return {"uri": uri}
    return {"uri": uri, "uriBaseId": BASE_ID}


def _invocation(result: ToolResult) -> dict[str, Any]:
    invocation: dict[str, Any] = {"executionSuccessful": True}
    codes = facts_of(result).returncodes
    if codes is not None and len(codes) == 1:
        invocation["exitCode"] = codes[0]
    failed_to_work = result.status is ToolStatus.TIMEOUT or (
        result.status is ToolStatus.FAILED and result.outcome != "findings"
    )
    if failed_to_work or result.status is ToolStatus.SKIPPED:
        invocation["executionSuccessful"] = False
        reason = describe(result)
        detail = first_line(result.error_message)
        if detail and detail not in reason:
            reason = f"{reason}: {detail}"
        if result.status is ToolStatus.FAILED and not result.error_message:
            reason = f"{reason}: {first_line(result.output) or 'no output'}"
        descriptor = {
            ToolStatus.TIMEOUT: "timeout",
            ToolStatus.SKIPPED: "skipped",
        }.get(result.status, "error")
        invocation["toolExecutionNotifications"] = [
            {
                "level": "warning" if result.status is ToolStatus.SKIPPED else "error",
                "message": {"text": reason},
                "descriptor": {"id": descriptor},
            }
        ]
    return invocation
