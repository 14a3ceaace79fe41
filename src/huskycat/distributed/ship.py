"""``--cluster-files ship``: the run's files sent to workers that lack them.

::

    client                                        each worker (one cache per machine)
    pack(root, files) -> tar + key (content hash)
    client.run(has, key) ---------------------->  <cache>/<key> exists?
    client.run(unpack, key, tar) -- lacking --->  extract to <key>.tmp-<pid>, rename to <key>
    task: RemoteRun(..., Shipped(key, overlay)) ->  checks: run in <key> (read only)
                                                    fixers, or files fixed since packing:
                                                    a private copy with the overlay applied
    finish: apply the fixer's changes  <--------- Fixed(result, {path: new bytes})

The unpacked tree is never written: a fixer works on a private copy, and what it changed
comes back as the new contents of its files, which the client writes (the scheduler
already orders every writer after each tool on the same files, as on one machine). Files
fixed during the run travel with later tasks as an overlay, so that tools after a fixer
check the fixed files.
"""

from __future__ import annotations

import hashlib
import io
import os
import shutil
import tarfile
import tempfile
import threading
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

if TYPE_CHECKING:
    from huskycat.core.dask_backend import DaskBackend
    from huskycat.core.results import ToolResult

ENV_DIR = "HUSKYCAT_SHIP_DIR"  # where workers keep shipped trees (default: a temp folder)


class Shipped(NamedTuple):
    """What a task needs to find its files on a worker."""

    key: str
    overlay: Mapping[str, bytes]  # files fixed since the tree was packed: their contents


class Fixed(NamedTuple):
    """A shipped fixer's result and the new contents of the files it changed."""

    result: ToolResult
    changes: Mapping[str, bytes]


@dataclass
class Shipment:
    """The client's side of a shipped tree: its key and the files fixed since packing."""

    key: str
    root: Path
    size: int
    sent_to: int  # workers that lacked it
    _overlay: dict[str, bytes] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def ref(self) -> Shipped:
        with self._lock:
            return Shipped(self.key, dict(self._overlay))

    def apply(self, changes: Mapping[str, bytes]) -> None:
        """Write a shipped fixer's changes into the client's files, atomically each."""
        for name, data in sorted(changes.items()):
            target = self.root / name
            temp = target.with_name(f".{target.name}.huskycat-{os.getpid()}")
            temp.write_bytes(data)
            shutil.copymode(target, temp)
            os.replace(temp, target)
        with self._lock:
            self._overlay.update(changes)


def pack(root: Path, files: Iterable[str]) -> tuple[str, bytes]:
    """A gzipped tar of ``files`` and its content hash (names, modes, contents)."""
    names = sorted({f for f in files if (root / f).is_file()})
    digest = hashlib.sha256()
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz", compresslevel=3) as tar:
        for name in names:
            path = root / name
            data = path.read_bytes()
            mode = path.stat().st_mode & 0o777
            digest.update(f"{name}\0{mode:o}\0".encode() + hashlib.sha256(data).digest())
            info = tarfile.TarInfo(name)
            info.size, info.mode = len(data), mode
            tar.addfile(info, io.BytesIO(data))
    return digest.hexdigest()[:32], buffer.getvalue()


def ship(backend: DaskBackend, root: Path, files: Sequence[str]) -> Shipment:
    """Pack the run's files and send them to every worker that lacks them."""
    key, data = pack(root, files)
    have = backend.client.run(has_tree, key)
    lacking = sorted(addr for addr, present in have.items() if not present)
    if lacking:
        backend.client.run(unpack_tree, key, data, workers=lacking)
    return Shipment(key, root, len(data), len(lacking))


def config_files(specs: Iterable[Any], root: Path) -> list[str]:
    """The configuration files at the root that the run's tools read."""
    names = {name for spec in specs for name in getattr(spec, "config_files", ())}
    return sorted(n for n in names if "/" not in n and (root / n).is_file())


# --- on the worker --------------------------------------------------------------------
def ship_dir() -> Path:
    base = os.environ.get(ENV_DIR) or os.path.join(
        tempfile.gettempdir(), f"huskycat-ship-{os.getuid()}"
    )
    return Path(base)


def has_tree(key: str) -> bool:
    return (ship_dir() / key).is_dir()


def unpack_tree(key: str, data: bytes) -> None:
    """Unpack into a temporary folder, then rename: a tree is whole or absent."""
    final = ship_dir() / key
    if final.is_dir():
        return
    final.parent.mkdir(parents=True, exist_ok=True)
    temp = Path(tempfile.mkdtemp(prefix=f"{key}.tmp-", dir=final.parent))
    with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as tar:
        tar.extractall(temp, filter="data")
    try:
        os.rename(temp, final)
    except OSError:  # another worker of this machine was first
        shutil.rmtree(temp, ignore_errors=True)


def run_shipped(shipped: Shipped, fix: bool, files: Sequence[str], run: Any) -> ToolResult | Fixed:
    """``run(root)`` in the shipped tree, or in a private copy of it for a fixer or when
    files were fixed since packing; a fixer's changes come back as :class:`Fixed`."""
    base = ship_dir() / shipped.key
    if not base.is_dir():
        raise FileNotFoundError(f"the shipped tree {shipped.key} is not on this worker")
    if not fix and not shipped.overlay:
        result: ToolResult = run(base)
        return result
    with tempfile.TemporaryDirectory(prefix="huskycat-task-") as scratch:
        root = Path(scratch) / "tree"
        shutil.copytree(base, root, symlinks=True)
        for name, data in shipped.overlay.items():
            (root / name).write_bytes(data)
        before = {name: _read(root / name) for name in files}
        result = run(root)
        if not fix:
            return result
        changes = {}
        for name in files:
            after = _read(root / name)
            if after is not None and after != before[name]:
                changes[name] = after
        return Fixed(result, changes)


def _read(path: Path) -> bytes | None:
    try:
        return path.read_bytes()
    except OSError:
        return None
