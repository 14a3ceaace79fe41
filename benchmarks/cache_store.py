"""The result cache's own cost at scale: storing and looking up N files x 2 tools.

A generated repository of N small Python files; ruff and flake8 looked up through the
real :func:`huskycat.cache.lookup` (keys, fingerprints, the store), with results stored
by :meth:`Lookup.finish` from a clean result made here, so that no tool runs and only
huskycat's own work is timed. Three phases, each in a new process as real runs are:

- cold: look up (all misses) and store both tools' results, close the cache;
- warm: look up again, nothing changed (every file a hit, the whole run replayed);
- one changed: one file edited, look up again.

Printed beside the issue's targets, for this branch and, as the baseline, for the code
at ``--baseline`` (the ``src`` folder of an older checkout, e.g. a ``git worktree`` of
commit 7ba7c31 with the one-JSON-file-per-entry store; none by default)::

    python benchmarks/cache_store.py [--files 20000] [--baseline PATH]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

TOOLS = ("ruff", "flake8")
HERE = Path(__file__).resolve().parent.parent / "src"


def make_repo(root: Path, files: int) -> list[str]:
    names = []
    for i in range(files):
        name = f"pkg{i // 500}/mod{i}.py"
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(f'"""Module {i}."""\n\nVALUE_{i} = {i}\n')
        names.append(name)
    subprocess.run(["git", "init", "-q", str(root)], check=True)
    # Committed, older than the index, as a repository's files usually are: their ids
    # come from git's index (huskycat.content), as in a real run.
    time.sleep(2.1)
    who = ["-c", "user.name=bench", "-c", "user.email=bench@example.invalid"]
    subprocess.run(["git", "-C", str(root), "add", "-A"], check=True)
    subprocess.run(
        ["git", "-C", str(root), *who, "commit", "-q", "--no-verify", "-m", "files"], check=True
    )
    return names


WORKER = r"""
import json, sys, time
from pathlib import Path
t0 = time.perf_counter()
from huskycat.cache import Cache, lookup, fingerprint
spent = [0.0]
real_digests = fingerprint.file_digests
def timed_digests(*args, **kwargs):
    t = time.perf_counter()
    try:
        return real_digests(*args, **kwargs)
    finally:
        spent[0] += time.perf_counter() - t
fingerprint.file_digests = timed_digests
from huskycat.core.results import ToolResult
from huskycat.tools.catalog import CATALOG
root = Path(sys.argv[1]); names = json.loads(Path(sys.argv[2]).read_text())
hits = stored = 0
start = time.perf_counter()
with Cache.for_root(root) as cache:
    for tool in sys.argv[3].split(","):
        spec = CATALOG[tool]
        found = lookup(cache, spec, names, root=root)
        if found.result is not None:
            hits += len(names)
            continue
        hits += len(names) - len(found.misses)
        clean = ToolResult(tool, True, 0.0, metadata={"outcome": "ok", "files": len(found.misses),
                           "batches": 1, "returncodes": [0], "summary": []})
        found.finish(clean if found.run_needed else None)
        stored += 1
    lookup_done = time.perf_counter()
print(json.dumps({"seconds": time.perf_counter() - start, "hits": hits,
                  "lookup": lookup_done - start, "digests": spent[0]}))
"""


def phase(src: Path, root: Path, names_file: Path) -> dict[str, float]:
    env = {**os.environ, "PYTHONPATH": str(src)}
    proc = subprocess.run(
        [sys.executable, "-c", WORKER, str(root), str(names_file), ",".join(TOOLS)],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    if proc.returncode != 0:
        sys.exit(f"worker failed ({src}):\n{proc.stderr}")
    result: dict[str, float] = json.loads(proc.stdout.splitlines()[-1])
    return result


def disk_bytes(folder: Path) -> int:
    total = 0
    for path in folder.rglob("*"):
        if path.is_file():
            st = path.stat()
            total += max(st.st_size, getattr(st, "st_blocks", 0) * 512)
    return total


def measure(src: Path, files: int) -> dict[str, float]:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "repo"
        root.mkdir()
        names = make_repo(root, files)
        names_file = Path(tmp) / "names.json"
        names_file.write_text(json.dumps(names))
        cold = phase(src, root, names_file)
        warm = phase(src, root, names_file)
        (root / names[len(names) // 2]).write_text('"""Changed."""\n\nVALUE = -1\n')
        changed = phase(src, root, names_file)
        folder = root / ".git" / "huskycat" / "cache"
        entries = 2 * files  # one per file per tool (plus a few whole-run entries)
        return {
            "cold": cold["seconds"],
            "warm": warm["seconds"],
            "warm_digests": warm["digests"],
            "warm_hits": warm["hits"],
            "changed": changed["seconds"],
            "bytes_per_entry": disk_bytes(folder) / entries,
        }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=20000)
    parser.add_argument("--baseline", default=None)
    args = parser.parse_args()
    rows = [("this branch (SQLite)", measure(HERE, args.files))]
    if args.baseline and Path(args.baseline).is_dir():
        rows.append((f"baseline {args.baseline}", measure(Path(args.baseline), args.files)))
    n = args.files
    print(f"{n} files x {len(TOOLS)} tools ({', '.join(TOOLS)}); huskycat's own work, no tool runs")
    print(f"{'':28} {'cold store':>11} {'warm':>8} {'1 changed':>10} {'bytes/entry':>12}")
    for name, r in rows:
        print(
            f"{name:28} {r['cold']:>10.2f}s {r['warm']:>7.2f}s {r['changed']:>9.2f}s"
            f" {r['bytes_per_entry']:>12.0f}"
        )
        print(
            f"{'':28} {'':>11} {r['warm_digests']:>7.2f}s of the warm run taking content ids"
            " (git's listings, an lstat per file)"
        )
        if r["warm_hits"] != n * len(TOOLS):
            print(f"{'':28} warm run hit {r['warm_hits']:.0f} of {n * len(TOOLS)} file lookups")
    print(
        f"{'target':28} {'':>11} {'<=0.50s':>8} {'<=0.50s':>10} {'<=1024':>12}"
        "   (warm and one-changed: the whole run's budget; bytes: per cached file entry)"
    )
    print(
        f"{'per file per tool (branch)':28} {'':>11} {1e6 * rows[0][1]['warm'] / (n * 2):>6.1f}us"
    )


if __name__ == "__main__":
    main()
