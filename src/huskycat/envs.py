"""Tool environments huskycat installs itself: one Python virtual environment (or, for
``language: node`` hooks, one npm prefix) per set of requirements, shared by every
repository on the machine.

::

    EnvSpec(python, requirements) --key--> <user cache>/huskycat/envs/<key>/
      ready (marker file)  -> used as it is
      missing              -> lock <key>.lock -> still missing? -> uv (or venv + pip) -> marker

The key is a digest of what goes in: the Python interpreter (path and version) and the
requirements as given (a pinned ``ruff==0.6.9``, a hook repository's clone, which is
itself keyed by URL and rev). A virtual environment cannot be moved once made, so it is
built in place under an exclusive file lock and marked ready last: two runs that start
together build it once, and a build that failed or was killed is removed and redone.
``uv`` is used when it is installed (a dependency of huskycat), else ``venv`` and pip.

A node environment is a folder that npm installs into as its global prefix, as
pre-commit's ``language: node`` with the system's node: ``npm install -g`` of the hook
repository (``git+file://`` of its clone, at the rev) and the additional dependencies;
the hooks' programs land in its ``bin``. Its key holds the ``node`` and ``npm`` on PATH
(their real paths, sizes and times: no process is started to key it).
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from huskycat.errors import HuskycatError

READY = ".huskycat-ready"
INSTALL_TIMEOUT = 900.0  # seconds for one environment's installation


class EnvError(HuskycatError):
    """An environment that could not be made: names what was installed and why it failed;
    ``hint``, when set, is the command that makes it possible (installing node)."""

    def __init__(self, spec: EnvSpec, message: str, hint: str | None = None) -> None:
        super().__init__(spec, message)
        self.spec, self.message, self.hint = spec, message, hint

    def __str__(self) -> str:
        return f"cannot install {' '.join(self.spec.requirements)}: {self.message}"


@dataclass(frozen=True)
class EnvSpec:
    """What goes into one environment."""

    requirements: tuple[str, ...]  # pip (or npm) requirement arguments (names, pins, paths)
    python: str = "default"  # a language_version: "default" (this Python) or "python3.12"
    label: str = field(default="", compare=False)  # what to call it in messages
    language: str = "python"  # or "node": an npm prefix instead of a virtual environment

    def interpreter(self) -> str | None:
        """The program to build it with: for python, this Python for "default", else the
        program named (pre-commit's "3.12" means "python3.12"); for node, ``node``."""
        if self.language == "node":
            return shutil.which("node")
        if self.python == "default":
            return sys.executable
        name = self.python
        if name[:1].isdigit():
            name = f"python{name}"
        return shutil.which(name)

    def key(self) -> str:
        exe = self.interpreter()
        material: dict[str, object] = {
            "python": self.python,
            "interpreter": os.path.realpath(exe) if exe else None,
            "version": list(sys.version_info[:3]) if self.python == "default" else None,
            "requirements": list(self.requirements),
        }
        if self.language != "python":  # python's keys stay as they were
            material["language"] = self.language
            material["programs"] = [_signature(exe), _signature(shutil.which("npm"))]
        text = json.dumps(material, sort_keys=True)
        return hashlib.sha256(text.encode()).hexdigest()[:24]


def _signature(program: str | None) -> list[object] | None:
    """A program's real path, size and modification time: a new version is a new key."""
    if program is None:
        return None
    real = os.path.realpath(program)
    try:
        st = os.stat(real)
    except OSError:
        return [real]
    return [real, st.st_size, st.st_mtime_ns]


NODE_INSTALL_HINT = "install Node.js and npm (Debian, Ubuntu: apt-get install nodejs npm)"


def envs_dir() -> Path:
    """``<user cache>/huskycat/envs``."""
    from huskycat.state import user_cache_dir

    return user_cache_dir() / "envs"


@contextlib.contextmanager
def locked(path: Path) -> Iterator[None]:
    """An exclusive lock on ``path`` (made if missing), across processes and threads."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # closing releases the lock


def env_path(spec: EnvSpec) -> Path:
    return envs_dir() / spec.key()


def bin_dir(env: Path) -> Path:
    return env / ("Scripts" if sys.platform == "win32" else "bin")


def is_ready(spec: EnvSpec) -> bool:
    return (env_path(spec) / READY).is_file()


def uv_program() -> str | None:
    """The ``uv`` beside this Python (huskycat depends on it), else on PATH."""
    from huskycat.tools.runner import find_executable

    return find_executable("uv")


def ensure(spec: EnvSpec, *, say: Callable[[str], None] | None = None) -> Path:
    """The environment for ``spec``, installed first if needed; raises :class:`EnvError`.

    ``say`` receives one line before an installation ("installing ...") and one after
    it ("installed ... in 3.1 s").
    """
    env = env_path(spec)
    if (env / READY).is_file():
        return env
    with locked(env.with_name(env.name + ".lock")):
        if (env / READY).is_file():
            return env  # another run installed it while we waited
        shutil.rmtree(env, ignore_errors=True)  # a build that failed or was killed
        uv = uv_program()
        what = spec.label or " ".join(spec.requirements)
        if say is not None:
            say(f"installing {what} into {env} ({_installer(spec, uv)})")
        started = time.monotonic()
        try:
            _build(spec, env, uv)
        except EnvError:
            shutil.rmtree(env, ignore_errors=True)
            raise
        (env / READY).write_text(json.dumps({"requirements": list(spec.requirements)}))
        if say is not None:
            say(f"installed {what} in {time.monotonic() - started:.1f} s")
    return env


def _installer(spec: EnvSpec, uv: str | None) -> str:
    return "npm" if spec.language == "node" else "uv" if uv else "venv + pip"


def _build(spec: EnvSpec, env: Path, uv: str | None) -> None:
    if spec.language == "node":
        _build_node(spec, env)
        return
    python = spec.interpreter()
    if python is None:
        raise EnvError(spec, f"no interpreter {spec.python!r} on PATH")
    env_python = str(bin_dir(env) / "python")
    if uv is not None:
        _call(spec, [uv, "venv", "-q", "--python", python, str(env)])
        if spec.requirements:
            _call(spec, [uv, "pip", "install", "-q", "--python", env_python, *spec.requirements])
    else:
        _call(spec, [python, "-m", "venv", str(env)])
        if spec.requirements:
            _call(
                spec,
                [env_python, "-m", "pip", "install", "-q", "--disable-pip-version-check"]
                + list(spec.requirements),
            )


def _build_node(spec: EnvSpec, env: Path) -> None:
    """``npm install -g`` into ``env`` as its prefix, as pre-commit installs a node hook
    (``--install-links``: a local package is copied, not linked)."""
    if spec.python not in ("default", "system"):
        raise EnvError(
            spec,
            f"language_version {spec.python!r}: huskycat runs node hooks with the node on "
            "PATH only (language_version default or system)",
        )
    npm = shutil.which("npm")
    if spec.interpreter() is None or npm is None:
        raise EnvError(spec, f"node or npm is not on PATH: {NODE_INSTALL_HINT}", NODE_INSTALL_HINT)
    if not spec.requirements:
        raise EnvError(spec, "language: node needs a package.json or additional_dependencies")
    env.mkdir(parents=True)
    install = [npm, "install", "--allow-git=root", "--install-links", "-g"]
    quiet = ["--no-audit", "--no-fund", "--no-progress"]
    _call(spec, [*install, *quiet, *spec.requirements], extra=node_env(env), cwd=env)


def node_env(env: Path) -> dict[str, str | None]:
    """The variables a node hook runs with (pre-commit's, None: unset): npm's prefix and
    node's module path in ``env``, its ``bin`` first on PATH."""
    prefix = str(env)
    return {
        "NODE_VIRTUAL_ENV": prefix,
        "NPM_CONFIG_PREFIX": prefix,
        "npm_config_prefix": prefix,
        "NPM_CONFIG_USERCONFIG": None,
        "npm_config_userconfig": None,
        "NODE_PATH": os.path.join(prefix, "lib", "node_modules"),
        "PATH": os.pathsep.join([str(bin_dir(env)), os.environ.get("PATH", os.defpath)]),
    }


def _call(
    spec: EnvSpec,
    argv: Sequence[str],
    *,
    extra: dict[str, str | None] | None = None,
    cwd: Path | None = None,
) -> None:
    environ = {k: v for k, v in os.environ.items() if k not in ("VIRTUAL_ENV", "PYTHONHOME")}
    for name, value in (extra or {}).items():
        if value is None:
            environ.pop(name, None)
        else:
            environ[name] = value
    if extra is not None:  # npm fetches git+file:// with git: not this repository's git
        environ = {k: v for k, v in environ.items() if not k.startswith("GIT_")}
    try:
        proc = subprocess.run(
            list(argv),
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            env=environ,
            cwd=cwd,
            timeout=INSTALL_TIMEOUT,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise EnvError(spec, f"{argv[0]}: {exc}") from exc
    if proc.returncode != 0:
        lines = [  # npm ends with where its log is: not why it failed
            line
            for line in (proc.stderr or proc.stdout).strip().splitlines()
            if "complete log of this run" not in line
        ]
        raise EnvError(spec, lines[-1] if lines else f"exit code {proc.returncode}")


def remove_all() -> int:
    """Remove every managed environment (and fetched hook repository); how many."""
    from huskycat.precommit.repos import repos_dir

    count = 0
    for folder in (envs_dir(), repos_dir()):
        if not folder.is_dir():
            continue
        for entry in folder.iterdir():
            if entry.is_dir():
                with locked(entry.with_name(entry.name + ".lock")):
                    shutil.rmtree(entry, ignore_errors=True)
                count += 1
        shutil.rmtree(folder, ignore_errors=True)
    from huskycat.cache import user_cache_dir

    shutil.rmtree(user_cache_dir() / "yaml", ignore_errors=True)  # parsed configurations
    return count


def pinned_spec(executable: str, version: str) -> EnvSpec:
    """The environment of a catalog program pinned to ``version``; ``LookupError`` when
    huskycat does not know which package installs it."""
    from huskycat.tools.runner import DISTRIBUTIONS

    distribution = DISTRIBUTIONS.get(executable)
    if distribution is None:
        raise LookupError(f"huskycat does not know which package installs {executable!r}")
    return EnvSpec((f"{distribution}=={version}",), label=f"{distribution}=={version}")


def pinned_tool(executable: str, version: str) -> str:
    """The full path of ``executable`` at exactly ``version``, installed on first use."""
    env = ensure(pinned_spec(executable, version), say=say)
    path = bin_dir(env) / executable
    if not path.is_file():
        raise EnvError(pinned_spec(executable, version), f"it installs no program {executable!r}")
    return str(path)


def say(line: str) -> None:
    """How installations are announced: one line on stderr."""
    print(f"huskycat: {line}", file=sys.stderr, flush=True)
