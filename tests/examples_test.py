"""The demo the seed names runs and reports measured statistics."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

DEMO = Path(__file__).resolve().parent.parent / "examples" / "demo_parallel_executor.py"


def test_demo_runs_the_seed_graph_and_prints_measured_statistics() -> None:
    proc = subprocess.run(
        [sys.executable, str(DEMO), "--scale", "0.05", "--workers", "3"],
        capture_output=True,
        text=True,
        timeout=120,
        stdin=subprocess.DEVNULL,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert "Level 1 (6 tools in parallel):" in proc.stdout
    assert "measured: wall" in proc.stdout and "efficiency" in proc.stdout
    assert proc.stdout.count(" success ") == 30  # 15 live lines and 15 result lines


def test_demo_failure_skips_dependents_and_exits_one() -> None:
    proc = subprocess.run(
        [sys.executable, str(DEMO), "--scale", "0.05", "--fail", "yamllint"],
        capture_output=True,
        text=True,
        timeout=120,
        stdin=subprocess.DEVNULL,
        check=False,
    )
    assert proc.returncode == 1
    assert "skipped ansible-lint  (dependency 'yamllint' failed)" in proc.stdout
