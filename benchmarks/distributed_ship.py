"""What ``--cluster-files ship`` costs on a real project: packing, sending, checking.

In a temporary git repository holding a sample of a real project (``_project.py``,
default 400 modules of ansible-core), with a LocalCluster of W worker processes whose
ship cache is a new empty folder:

1. pack: the tar of every file and its content hash, on the client;
2. first ship: asking every worker, sending to all of them (none has the tree);
3. second ship: the same files again (every worker has them: only the question);
4. shared check: every worker's digest of the files compared with the client's (what
   ``--cluster-files shared`` does instead).

Printed: seconds, megabytes and megabytes per second, beside the project's size.

    python benchmarks/distributed_ship.py [--files 400] [--workers 2]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import distributed
from _project import build_project

from huskycat.core.dask_backend import DaskBackend
from huskycat.distributed.cluster import check_shared
from huskycat.distributed.ship import ENV_DIR, pack, ship


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=400)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="huskycat-bench-") as folder:
        project = build_project(Path(folder) / "project", python_files=args.files)
        files = subprocess.run(
            ["git", "ls-files"], cwd=project.root, capture_output=True, text=True, check=True
        ).stdout.split()
        size = sum((project.root / f).stat().st_size for f in files) / 1e6
        print(f"project: {project.source}, {len(files)} files, {size:.1f} MB")
        os.environ[ENV_DIR] = str(Path(folder) / "ship-cache")  # the workers inherit it
        start = time.perf_counter()
        _, data = pack(project.root, files)
        packed = time.perf_counter() - start
        with (
            distributed.LocalCluster(
                n_workers=args.workers,
                threads_per_worker=1,
                dashboard_address=None,
                silence_logs=40,
            ) as cluster,
            distributed.Client(cluster) as client,
        ):
            backend = DaskBackend(client)
            timings = []
            for _ in range(2):
                start = time.perf_counter()
                shipment = ship(backend, project.root, files)
                timings.append((time.perf_counter() - start, shipment.sent_to))
            start = time.perf_counter()
            check_shared(backend, project.root, files)
            shared = time.perf_counter() - start
    mb = len(data) / 1e6
    print(
        f"pack                  {packed:6.2f} s  {mb:5.1f} MB compressed  {size / packed:6.1f} MB/s"
    )
    for label, (seconds, sent) in zip(("first ship", "second ship"), timings):
        print(f"{label:21} {seconds:6.2f} s  sent to {sent} of {args.workers} workers")
    print(f"shared check          {shared:6.2f} s  every worker hashed {size:.1f} MB")


if __name__ == "__main__":
    main()
