"""``python -m huskycat.tools.taplo_check TAPLO FILE...``: which TOML files taplo would
reformat, and which do not parse, printed as one JSON object.

Why not ``taplo fmt --check``: taplo reports the files through a logger that writes from
a background thread, and under load it exits before the last lines are written (seen
with taplo 0.9.3: of 90 runs on a busy machine, 62 lost some or all of their report).
Its exit code alone cannot say which file is wrong. So this check asks nothing of
taplo's log: syntax errors come from Python's own TOML parser (with line and column),
and formatting from running ``taplo fmt`` once on copies of the files, in a temporary
folder laid out like the repository (with its taplo configuration), and comparing.

Output: ``{"unformatted": [paths], "syntax": [{"file", "line", "column", "message"}],
"error": null or a message}``; exit 0 when it could decide, 2 when it could not.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from typing import Any

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib  # type: ignore[import-not-found, unused-ignore]

CONFIG_FILES = ("taplo.toml", ".taplo.toml")
_AT = re.compile(r"^(?P<message>.*?)\s*\(at line (?P<line>\d+), column (?P<col>\d+)\)$")


def check(taplo: str, files: list[str]) -> dict[str, Any]:
    for config in CONFIG_FILES:
        # taplo itself only warns about a broken configuration and formats with its
        # defaults: results that ignore what the user wrote. Say so instead.
        if os.path.isfile(config):
            try:
                with open(config, "rb") as handle:
                    tomllib.loads(handle.read().decode("utf-8"))
            except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
                return {
                    "unformatted": [],
                    "syntax": [],
                    "error": f"invalid configuration file {config}: {exc}",
                }
    syntax: list[dict[str, Any]] = []
    valid: list[str] = []
    for name in files:
        try:
            with open(name, "rb") as handle:
                tomllib.loads(handle.read().decode("utf-8"))
        except (UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
            match = _AT.match(str(exc))
            syntax.append(
                {
                    "file": name,
                    "line": int(match["line"]) if match else None,
                    "column": int(match["col"]) if match else None,
                    "message": f"invalid TOML: {match['message'] if match else exc}",
                }
            )
        except OSError as exc:
            return {"unformatted": [], "syntax": [], "error": f"cannot read {name}: {exc}"}
        else:
            valid.append(name)
    unformatted: list[str] = []
    if valid:
        with tempfile.TemporaryDirectory(prefix="huskycat-taplo-") as tmp:
            for config in CONFIG_FILES:
                if os.path.isfile(config):
                    shutil.copyfile(config, os.path.join(tmp, config))
            copies = []
            for index, name in enumerate(valid):
                rel = os.path.normpath(name)
                if os.path.isabs(rel) or rel.startswith(os.pardir):
                    rel = os.path.join("_outside", str(index), os.path.basename(rel))
                target = os.path.join(tmp, rel)
                os.makedirs(os.path.dirname(target), exist_ok=True)
                shutil.copyfile(name, target)
                copies.append((name, target))
            proc = subprocess.run(
                [taplo, "fmt", "--colors", "never", *(os.path.relpath(t, tmp) for _, t in copies)],
                cwd=tmp,
                stdin=subprocess.DEVNULL,
                capture_output=True,
                text=True,
                env={**os.environ, "RUST_LOG": "warn"},
                check=False,
            )
            if "invalid configuration file" in proc.stderr:
                why = proc.stderr.strip().splitlines()[-1]
                return {"unformatted": [], "syntax": syntax, "error": why}
            if proc.returncode != 0:
                why = proc.stderr.strip() or f"exit code {proc.returncode}"
                return {"unformatted": [], "syntax": syntax, "error": f"taplo fmt failed: {why}"}
            for name, target in copies:
                with open(name, "rb") as a, open(target, "rb") as b:
                    if a.read() != b.read():
                        unformatted.append(name)
    return {"unformatted": unformatted, "syntax": syntax, "error": None}


def main(argv: list[str]) -> int:
    if len(argv) < 1:
        print("usage: python -m huskycat.tools.taplo_check TAPLO FILE...", file=sys.stderr)
        return 2
    report = check(argv[0], argv[1:])
    print(json.dumps(report))
    return 2 if report["error"] else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
