"""Results as a JUnit XML file, the format CI servers show as a test report.

One ``<testsuites>`` holds one ``<testsuite>``; each tool is a ``<testcase>``::

    <testsuites name="huskycat" tests="4" failures="2" errors="0" skipped="1" time="2.31">
      <testsuite name="huskycat" tests="4" failures="2" errors="0" skipped="1" time="2.31">
        <testcase name="ruff" classname="huskycat.ruff" time="0.410" />
        <testcase name="flake8" classname="huskycat.flake8" time="1.200">
          <failure message="3 errors, 1 warning" type="failed">...output...</failure>
        </testcase>
        <testcase name="mypy" classname="huskycat.mypy" time="30.000">
          <failure message="timed out after 30.0s" type="timeout">...</failure>
        </testcase>
        <testcase name="bandit" classname="huskycat.bandit" time="0.000">
          <skipped message="not installed: pip install bandit" />
        </testcase>
      </testsuite>
    </testsuites>

A failed tool's failure text is its output followed by its parsed diagnostics; a passed
tool's output, if any, goes to ``<system-out>``. A tool that failed and one that timed out
both count as failures (``errors`` stays 0: that attribute is for a test harness that
broke, and a tool that crashed is reported by its own output).
"""

from __future__ import annotations

import os
import re
import xml.etree.ElementTree as ET  # nosec B405 - only writes XML, never parses any
from datetime import datetime
from pathlib import Path

from huskycat.core.results import ToolResult, ToolStatus
from huskycat.report.describe import (
    Results,
    as_list,
    counts_text,
    describe,
    diagnostic_line,
    first_line,
    skip_text,
)
from huskycat.state import write_atomic

# Terminal colour and cursor sequences: drop them whole rather than leave "[31m" behind.
_ANSI_ESCAPE = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]|\x1b[@-Z\\-_]")
# Characters XML 1.0 forbids anywhere in a document, even escaped (tab, LF, CR are allowed).
_ILLEGAL_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def xml_safe(text: str) -> str:
    """``text`` with terminal escapes and the characters XML 1.0 forbids removed."""
    return _ILLEGAL_XML.sub("", _ANSI_ESCAPE.sub("", text))


def build_junit_xml(
    results: Results,
    *,
    suite_name: str = "huskycat",
    wall_time: float | None = None,
    timestamp: datetime | None = None,
) -> ET.Element:
    """The ``<testsuites>`` element for ``results`` (see the module docstring).

    ``time`` is ``wall_time`` when given, else the sum of the tools' durations;
    ``timestamp`` is left out when None.
    """
    listed = as_list(results)
    failures = sum(r.status in (ToolStatus.FAILED, ToolStatus.TIMEOUT) for r in listed)
    skipped = sum(r.status is ToolStatus.SKIPPED for r in listed)
    total = wall_time if wall_time is not None else sum(r.duration for r in listed)
    counts = {
        "tests": str(len(listed)),
        "failures": str(failures),
        "errors": "0",
        "skipped": str(skipped),
        "time": f"{total:.3f}",
    }
    name = xml_safe(suite_name)
    root = ET.Element("testsuites", {"name": name, **counts})
    suite = ET.SubElement(root, "testsuite", {"name": name, **counts})
    if timestamp is not None:
        suite.set("timestamp", timestamp.isoformat(timespec="seconds"))
    for result in listed:
        suite.append(_testcase(result))
    return root


def write_junit_xml(
    results: Results,
    path: str | os.PathLike[str],
    *,
    suite_name: str = "huskycat",
    wall_time: float | None = None,
    timestamp: datetime | None = None,
) -> Path:
    """Write ``results`` as JUnit XML to ``path``, atomically; returns the path."""
    root = build_junit_xml(results, suite_name=suite_name, wall_time=wall_time, timestamp=timestamp)
    ET.indent(root)
    data = ET.tostring(root, encoding="utf-8", xml_declaration=True) + b"\n"
    return write_atomic(path, data)


def _testcase(result: ToolResult) -> ET.Element:
    name = xml_safe(result.tool_name)
    case = ET.Element(
        "testcase",
        {"name": name, "classname": f"huskycat.{name}", "time": f"{result.duration:.3f}"},
    )
    status = result.status
    if status is ToolStatus.FAILED:
        message = counts_text(result) or first_line(result.error_message) or "failed"
        failure = ET.SubElement(case, "failure", {"message": xml_safe(message), "type": "failed"})
        failure.text = xml_safe(_failure_text(result))
    elif status is ToolStatus.TIMEOUT:
        failure = ET.SubElement(
            case, "failure", {"message": xml_safe(describe(result)), "type": "timeout"}
        )
        failure.text = xml_safe(_failure_text(result))
    elif status is ToolStatus.SKIPPED:
        ET.SubElement(case, "skipped", {"message": xml_safe(skip_text(result))})
    elif result.output:
        ET.SubElement(case, "system-out").text = xml_safe(result.output)
    return case


def _failure_text(result: ToolResult) -> str:
    parts = []
    if result.error_message and result.error_message not in result.output:
        parts.append(result.error_message.rstrip("\n"))
    if result.output:
        parts.append(result.output.rstrip("\n"))
    if result.diagnostics:
        lines = [diagnostic_line(d) for d in result.diagnostics]
        parts.append("diagnostics:\n" + "\n".join(lines))
    return "\n\n".join(parts) + "\n" if parts else ""
