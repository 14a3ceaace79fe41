"""Fingerprints of diagnostics that survive re-runs and edits that only move a finding.

A fingerprint hashes the tool, the rule, the file, the text of the diagnostic's line
(read from the file when it is there, else the line number) and the message. Reports
that need unique fingerprints (SARIF, GitLab code quality) add a counter for identical
findings.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from pathlib import Path

from huskycat.core.results import Diagnostic


def fingerprint(tool: str, rule: str, diagnostic: Diagnostic, lines: LineReader) -> str:
    """32 hex digits identifying ``diagnostic`` of ``tool`` under ``rule``."""
    text = lines.line(diagnostic.file, diagnostic.line)
    anchor = text.strip() if text is not None else f"line {diagnostic.line}"
    parts = (tool, rule, diagnostic.file, anchor, diagnostic.message)
    key = "\0".join(parts)
    return hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()[:32]


class LineReader:
    """The text of a line of a file under ``root``; each file read once."""

    def __init__(self, root: Path | None) -> None:
        self._root = root
        self._files: dict[str, Sequence[str] | None] = {}

    def line(self, file: str, number: int | None) -> str | None:
        """Line ``number`` (from 1) of ``file``, or None when it cannot be read."""
        if self._root is None or not file or number is None or number < 1:
            return None
        if file not in self._files:
            try:
                data = (self._root / file).read_bytes()
                self._files[file] = data.decode("utf-8", "replace").splitlines()
            except OSError:
                self._files[file] = None
        lines = self._files[file]
        if lines is None or number > len(lines):
            return None
        return lines[number - 1]
