"""A first run's hook repositories and environments, fetched and installed in the
background from the moment the run knows it runs ``.pre-commit-config.yaml``'s hooks,
while it still lists and classifies the repository's files.

As pre-commit installs them, every hook of the stage that is not skipped (``--skip``,
``--tools``, ``SKIP``) gets its environment, whether or not it has files this time. The
plan (:func:`.plan.install_envs`) waits for the background work and takes its outcome; a
failure is left for the plan to report (a bad configuration, a repository that cannot
be fetched), and an environment that failed to install is not tried a second time.
"""

from __future__ import annotations

import atexit
import os
import threading
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from huskycat.envs import EnvError, EnvSpec, ensure

_LOCK = threading.Lock()
_THREADS: dict[str, threading.Thread] = {}
_OUTCOMES: dict[str, dict[EnvSpec, Path | EnvError]] = {}


def start(root: Path, *, only: Sequence[str] = (), skip: Sequence[str] = ()) -> None:
    """Begin fetching and installing what ``root``'s hooks need, in a background thread
    (one at a time per root)."""
    from huskycat.precommit.plan import config_path

    key = os.path.abspath(root)
    if config_path(root) is None:
        return
    with _LOCK:
        if key in _THREADS:
            return
        thread = threading.Thread(
            target=_work, args=(root, key, tuple(only), tuple(skip)), daemon=True
        )
        _THREADS[key] = thread
    thread.start()
    # An early exit (a bad --tools name) waits for an installation under way, rather
    # than leave its installer running on its own.
    atexit.register(thread.join)


def outcomes(root: Path) -> dict[EnvSpec, Path | EnvError]:
    """What the background work for ``root`` installed, once it is done (waiting for
    it); empty when none was started. Taken once: a later run starts afresh."""
    key = os.path.abspath(root)
    with _LOCK:
        thread = _THREADS.get(key)
    if thread is None:
        return {}
    thread.join()
    with _LOCK:
        _THREADS.pop(key, None)
        return _OUTCOMES.pop(key, {})


def _work(root: Path, key: str, only: tuple[str, ...], skip: tuple[str, ...]) -> None:
    from huskycat.precommit.plan import STAGE, _say, hook_env_spec, load_hooks

    found: dict[EnvSpec, Path | EnvError] = {}
    try:
        _, hooks = load_hooks(root)
        skipped = {s.strip() for s in os.environ.get("SKIP", "").split(",") if s.strip()}
        wanted = [
            h
            for h in hooks
            if STAGE in h.stages
            and not {h.id, h.alias} & (set(skip) | skipped)
            and (not only or bool({h.id, h.alias} & set(only)))
        ]
        specs = list(dict.fromkeys(s for s in map(hook_env_spec, wanted) if s is not None))

        def one(spec: EnvSpec) -> Path | EnvError:
            try:
                return ensure(spec, say=_say)
            except EnvError as exc:
                return exc

        with ThreadPoolExecutor(max_workers=2) as pool:  # two at a time, as the plan does
            found.update(zip(specs, pool.map(one, specs), strict=True))
    except Exception:  # noqa: BLE001, S110  # nosec B110 - the plan meets it, reports it
        pass
    _OUTCOMES[key] = found
