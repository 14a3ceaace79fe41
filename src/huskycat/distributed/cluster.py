"""Which Dask cluster a run uses, opening it, and checking the workers see our files.

A cluster is named by ``--cluster``, else ``HUSKYCAT_CLUSTER``, else the configuration's
``cluster`` key: ``local`` or ``local:N`` (a LocalCluster of N worker processes on this
machine, one thread each by default) or ``tcp://host:port`` (the scheduler of an
existing cluster). Files are ``shared``: the repository must be at the same path on
every worker, which :func:`check_shared` proves by comparing digests of the run's files.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import re
import warnings
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from huskycat.errors import HuskycatError

if TYPE_CHECKING:
    from huskycat.core.dask_backend import DaskBackend

INSTALL_HINT = "pip install 'huskycat[dask]'"
ENV_VAR = "HUSKYCAT_CLUSTER"
_LOCAL = re.compile(r"local(?::(?P<n>[0-9]+))?")
_REMOTE = re.compile(r"(tcp|tls|ws|wss)://[^\s/:]+:[0-9]+/?")


class ClusterSetupError(HuskycatError):
    """A cluster that cannot be used: a bad name, dask missing, unreachable, mismatched."""


@dataclass(frozen=True)
class ClusterSpec:
    """A parsed cluster name and where it came from (for messages)."""

    text: str
    source: str
    local_workers: int | None  # None: an existing scheduler at ``text``


def parse(text: str, source: str) -> ClusterSpec:
    """``local``, ``local:N`` or ``tcp://host:port``; ClusterSetupError names the source."""
    value = text.strip()
    local = _LOCAL.fullmatch(value)
    if local is not None:
        count = int(local["n"]) if local["n"] else max(1, min(4, os.cpu_count() or 1))
        if count < 1:
            raise ClusterSetupError(f"{source} {text!r}: local:N needs at least one worker")
        return ClusterSpec(value, source, count)
    if _REMOTE.fullmatch(value):
        return ClusterSpec(value.rstrip("/"), source, None)
    raise ClusterSetupError(
        f"{source} {text!r} is not a cluster: expected 'local', 'local:N' or "
        "'tcp://host:port' (a Dask scheduler)"
    )


def choose(option: str | None, configured: str | None) -> ClusterSpec | None:
    """The cluster asked for: the option, else the environment, else the configuration."""
    if option is not None:
        return parse(option, "--cluster")
    env = os.environ.get(ENV_VAR)
    if env:
        return parse(env, ENV_VAR)
    if configured:
        return parse(configured, "configuration key 'cluster'")
    return None


def require_dask(spec: ClusterSpec) -> None:
    """ClusterSetupError naming the install command when Dask distributed is missing."""
    try:
        import dask  # noqa: F401 - only whether it imports
        import distributed  # noqa: F401
    except ImportError as exc:
        raise ClusterSetupError(
            f"{spec.source} {spec.text!r} needs Dask distributed, which is not installed "
            f"({exc}): {INSTALL_HINT}"
        ) from exc


@contextlib.contextmanager
def opened(spec: ClusterSpec) -> Iterator[DaskBackend]:
    """A backend on the cluster of ``spec``, closed (and a local cluster stopped) after."""
    require_dask(spec)
    import dask
    import distributed

    from huskycat.core.dask_backend import ClusterError, DaskBackend

    with contextlib.ExitStack() as stack:
        # Dask logs a lost connection with tracebacks; the run says it once, in one line.
        stack.enter_context(_quiet("distributed", "tornado", "asyncio"))
        if spec.local_workers is not None:
            # The scheduler's HTTP server moves off a busy port 8787 by itself; that is
            # no news for the user of a run.
            stack.enter_context(warnings.catch_warnings())
            warnings.filterwarnings("ignore", message="Port [0-9]+ is already in use")
            # Dask retries a task whose worker died silently; huskycat retries and says so.
            stack.enter_context(dask.config.set({"distributed.scheduler.allowed-failures": 0}))
            cluster = stack.enter_context(
                distributed.LocalCluster(  # type: ignore[no-untyped-call]
                    n_workers=spec.local_workers,
                    threads_per_worker=1,
                    processes=True,
                    dashboard_address=None,
                    silence_logs=40,  # logging.ERROR: the run's output is ours
                )
            )
            address: Any = cluster
        else:
            address = spec.text
        try:
            connect: Any = distributed.Client  # untyped
            client = connect(address, timeout=10, set_as_default=False)
        except (OSError, TimeoutError) as exc:
            raise ClusterSetupError(
                f"{spec.source}: cannot reach the Dask scheduler at {spec.text!r}: {exc}"
            ) from exc
        stack.callback(client.close)
        try:
            backend = DaskBackend(client)
            stack.callback(backend.close)  # before the client: the lanes end first
            yield backend
        except ClusterError as exc:
            raise ClusterSetupError(str(exc)) from exc


@contextlib.contextmanager
def _quiet(*names: str) -> Iterator[None]:
    """Only critical messages from these loggers and their children (Dask's logging
    configuration gives some children levels of their own)."""
    known = [n for n in logging.root.manager.loggerDict if n.split(".")[0] in names]
    loggers = [logging.getLogger(name) for name in {*names, *known}]
    levels = [logger.level for logger in loggers]
    for logger in loggers:
        logger.setLevel(logging.CRITICAL)
    try:
        yield
    finally:
        for logger, level in zip(loggers, levels):
            logger.setLevel(level)


def tree_digest(root: str, files: Sequence[str]) -> str:
    """A digest of ``files`` under ``root``: their names and contents (a missing file
    counts as missing). Run on the client and on every worker."""
    digest = hashlib.sha256()
    for name in sorted(files):
        digest.update(name.encode() + b"\0")
        try:
            digest.update(hashlib.sha256(Path(root, name).read_bytes()).digest())
        except OSError:
            digest.update(b"missing")
    return digest.hexdigest()


def check_shared(backend: DaskBackend, root: Path, files: Sequence[str]) -> None:
    """Every worker sees the run's files at the same path with the same contents, or a
    ClusterSetupError naming the workers that do not."""
    mine = tree_digest(str(root), files)
    theirs = backend.client.run(tree_digest, str(root), list(files), on_error="return")
    wrong = sorted(addr for addr, digest in theirs.items() if digest != mine)
    if wrong:
        shown = ", ".join(wrong[:3]) + (f" and {len(wrong) - 3} more" if len(wrong) > 3 else "")
        raise ClusterSetupError(
            f"files are 'shared', but {len(wrong)} of {len(theirs)} workers see "
            f"{str(root)!r} differently ({shown}): run huskycat on a file system the "
            "workers share, or from the same machine"
        )
