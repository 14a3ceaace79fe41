"""The TOML check that does not depend on taplo's log (which loses lines under load)."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import threading
from pathlib import Path

from huskycat.tools import taplo
from huskycat.tools.runner import run_tool

TAPLO = shutil.which("taplo") or "taplo"


def check(cwd: Path, *files: str) -> dict[str, object]:
    proc = subprocess.run(
        [sys.executable, "-m", "huskycat.tools.taplo_check", TAPLO, *files],
        cwd=cwd,
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
        check=False,
    )
    return json.loads(proc.stdout)


def test_names_unformatted_files_and_syntax_errors_with_their_place(tmp_path: Path) -> None:
    (tmp_path / "ok.toml").write_text("[a]\nb = 1\n")
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "ugly.toml").write_text("[a]\nb=1\n")
    (tmp_path / "bad.toml").write_text("[a]\nb = = 1\n")
    report = check(tmp_path, "ok.toml", "sub/ugly.toml", "bad.toml")
    assert report["unformatted"] == ["sub/ugly.toml"]
    assert report["syntax"] == [
        {"file": "bad.toml", "line": 2, "column": 5, "message": "invalid TOML: Invalid value"}
    ]
    assert report["error"] is None
    assert (tmp_path / "sub" / "ugly.toml").read_text() == "[a]\nb=1\n"  # never rewritten


def test_the_projects_taplo_configuration_is_used(tmp_path: Path) -> None:
    # With align_entries, "a = 1\nbbb = 2" is not formatted; without it, it is.
    (tmp_path / "x.toml").write_text("a = 1\nbbb = 2\n")
    assert check(tmp_path, "x.toml")["unformatted"] == []
    (tmp_path / "taplo.toml").write_text("[formatting]\nalign_entries = true\n")
    assert check(tmp_path, "x.toml")["unformatted"] == ["x.toml"]


def test_the_verdict_is_the_same_under_load(tmp_path: Path) -> None:
    (tmp_path / "ugly.toml").write_text("[a]\nb=1\n")
    (tmp_path / "ok.toml").write_text("[a]\nb = 1\n")
    verdicts: list[tuple[str, ...]] = []
    lock = threading.Lock()

    def go() -> None:
        for _ in range(8):
            result = run_tool(taplo.SPEC, ["ok.toml", "ugly.toml"], root=tmp_path)
            with lock:
                verdicts.append(tuple(d.file for d in result.diagnostics))

    threads = [threading.Thread(target=go) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert set(verdicts) == {("ugly.toml",)}
