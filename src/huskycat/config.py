"""Configuration files -> validated settings; every configuration error message lives here.

Where the settings come from, at the repository root, the first that applies wins (files
are never merged):

1. ``huskycat.toml``, keys at the top level;
2. ``.huskycat.toml``, keys at the top level;
3. ``pyproject.toml``, keys in its ``[tool.huskycat]`` table (a pyproject.toml without
   that table does not count).

With none of them, :func:`load_config` returns ``Config()``: every default.

Keys (``[tool.huskycat]`` shown; the same names at the top of huskycat.toml)::

    jobs = 4                    # int from 1 to MAX_COUNT: worker slots
    timeout = 300               # seconds from MIN_SECONDS to MAX_SECONDS, per tool
    fail_fast = false           # stop at the first failure
    exclude = ["vendor/**"]     # globs left out for every tool (huskycat.files.matches_glob)
    disable = ["bandit"]        # tools not to run
    cluster = "local:4"         # a Dask cluster to run on (huskycat.distributed.cluster)
    require_tools = false       # a tool with files to check that cannot run fails the run

    [tool.huskycat.tools.mypy]  # a catalog tool: each key overrides the catalog's value
    args = ["--strict"]         # appended to the tool's arguments
    command = "mypy src"        # list of str, or a str split like a shell (shlex);
                                # replaces executable and arguments
    fix = ["mytool", "--fix"]   # list of str or str: the fix-mode command
    depends_on = ["black"]      # runs only after these succeeded
    after = ["ruff"]            # runs after these, whatever their outcome
    timeout = 600               # seconds, the same range
    weight = 2                  # int from 1 to MAX_COUNT: worker slots the tool takes
    files = ["src/**"]          # globs: only files matching one of them
    exclude = ["tests/**"]      # globs left out
    types = ["python"]          # identify tags: files with any of them
    pass_filenames = true       # whether files are passed on the command line
    enabled = true
    fail_on = "warning"         # "error" | "warning" | "note": the lowest level of
                                # diagnostic that fails the tool (default: its own verdict)
    version = "1.15.0"          # installed by huskycat into a managed environment
    inputs = ["src/**/*.py"]    # globs of the files the tool reads (tracked, untracked or
                                # ignored): a custom tool is cached only when it has them
    env = ["MY_TOOL_*"]         # environment variables it reads (NAME or PREFIX_*)
    cache = false               # never cache this tool's results

A table under ``tools`` whose name is not in the catalog declares a custom tool and must
have ``command``. ``depends_on`` and ``after`` add to the catalog's default edges (they
never remove one); the union must have no cycle.
"""

from __future__ import annotations

import graphlib
import itertools
import json
import math
import re
import shlex
import sys
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any, NoReturn

from identify.identify import ALL_TAGS

from huskycat.errors import HuskycatError

if sys.version_info >= (3, 11):
    import tomllib
else:  # the same parser, published for Python 3.10 as tomli; mypy (checking for 3.10)
    # may run where only 3.11 and no tomli is installed, hence the ignore.
    import tomli as tomllib  # type: ignore[import-not-found, unused-ignore]

CONFIG_FILES = ("huskycat.toml", ".huskycat.toml", "pyproject.toml")
TOP_LEVEL_KEYS = (
    "jobs", "timeout", "fail_fast", "exclude", "disable", "require_tools", "tools", "cluster",
)  # fmt: skip
_TOOL_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.+-]*")
_BARE_KEY = re.compile(r"[A-Za-z0-9_-]+")
_VERSION = re.compile(r"[0-9][0-9A-Za-z.+!-]*")
_ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\*?")


@dataclass(frozen=True, kw_only=True)
class ToolConfig:
    """One ``tools.NAME`` table; None means "not set": keep the catalog's value."""

    args: tuple[str, ...] | None = None
    command: tuple[str, ...] | None = None
    fix: tuple[str, ...] | None = None
    depends_on: tuple[str, ...] | None = None
    after: tuple[str, ...] | None = None
    timeout: float | None = None
    weight: int | None = None
    files: tuple[str, ...] | None = None
    exclude: tuple[str, ...] | None = None
    types: frozenset[str] | None = None
    pass_filenames: bool | None = None
    enabled: bool | None = None
    fail_on: str | None = None  # "error", "warning" or "note"; None: the tool's own verdict
    version: str | None = None  # installed by huskycat, exactly this version (huskycat.envs)
    inputs: tuple[str, ...] | None = None
    env: tuple[str, ...] | None = None
    cache: bool | None = None


FAIL_ON_LEVELS = ("error", "warning", "note")
TOOL_KEYS = tuple(f.name for f in fields(ToolConfig))


@dataclass(frozen=True, kw_only=True)
class Config:
    """Validated settings. ``source`` is the file read, None when there was none."""

    source: Path | None = None
    jobs: int | None = None
    timeout: float | None = None
    fail_fast: bool = False
    exclude: tuple[str, ...] = ()
    disable: frozenset[str] = frozenset()
    require_tools: bool = False  # a tool with files that cannot run fails the run
    tools: Mapping[str, ToolConfig] = field(default_factory=dict)
    custom_tools: tuple[str, ...] = ()  # names under ``tools`` that are not in the catalog
    cluster: str | None = None  # a Dask cluster to run on (huskycat.distributed.cluster)

    def tool(self, name: str) -> ToolConfig:
        """The settings of tool ``name`` (all unset when it has no table)."""
        return self.tools.get(name, ToolConfig())

    def is_enabled(self, name: str) -> bool:
        """False when ``name`` is in ``disable`` or its table says ``enabled = false``."""
        return name not in self.disable and self.tool(name).enabled is not False


class ConfigError(HuskycatError):
    """A configuration file that cannot be used: names the file, the key and the value."""

    def __init__(
        self, source: Path, key: str | None, message: str, *, line: int | None = None
    ) -> None:
        super().__init__(source, key, message, line)
        self.source = source
        self.key = key
        self.message = message
        self.line = line

    def __str__(self) -> str:
        where = _display(self.source) + (f":{self.line}" if self.line else "")
        return ": ".join(part for part in (where, self.key, self.message) if part)


def _display(path: Path) -> str:
    # Relative to the working folder when inside it: what a user would type.
    try:
        return str(path.absolute().relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def _dotted(parts: tuple[str, ...]) -> str:
    return ".".join(p if _BARE_KEY.fullmatch(p) else json.dumps(p) for p in parts)


# Numbers, from the command line and the configuration alike. Beyond these a value is a
# mistake (a timeout of 1e300 s overflows the clocks waits are measured with; a thousand
# worker threads for one machine's linters is not a setting, it is a typo).
MIN_SECONDS = 0.001
MAX_SECONDS = 7 * 24 * 3600.0  # a week
MAX_COUNT = 1024  # jobs and weights


def count_problem(value: object) -> str | None:
    """What is wrong with ``value`` as a number of worker slots, or None."""
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_COUNT:
        return f"expected an integer from 1 to {MAX_COUNT}, {_got(value)}"
    return None


def seconds_problem(value: object) -> str | None:
    """What is wrong with ``value`` as a timeout in seconds, or None."""
    if (
        isinstance(value, bool)
        or not isinstance(value, (int, float))
        or not math.isfinite(value)
        or not MIN_SECONDS <= value <= MAX_SECONDS
    ):
        return f"expected seconds from {MIN_SECONDS:g} to {MAX_SECONDS:g} (a week), {_got(value)}"
    return None


def _suggest(word: str, options: Collection[str]) -> str:
    import difflib  # only for a message: not imported on every commit

    close = difflib.get_close_matches(word, sorted(options), n=1)
    return f"; did you mean {close[0]!r}?" if close else ""


def _got(value: object) -> str:
    kind = " (a boolean)" if isinstance(value, bool) else ""
    return f"got {value!r}{kind}"


class _Checker:
    """Reads one table, raising ConfigError at the first bad key."""

    def __init__(self, source: Path, prefix: tuple[str, ...]) -> None:
        self.source = source
        self.prefix = prefix

    def fail(self, path: tuple[str, ...], message: str) -> NoReturn:
        raise ConfigError(self.source, _dotted(self.prefix + path), message)

    def table(self, value: object, path: tuple[str, ...]) -> dict[str, Any]:
        if not isinstance(value, dict):
            self.fail(path, f"expected a table, {_got(value)}")
        return value

    def known_keys(
        self, table: Mapping[str, Any], path: tuple[str, ...], keys: Collection[str]
    ) -> None:
        for key in table:
            if key not in keys:
                hint = _suggest(key, keys) or f"; expected one of {', '.join(keys)}"
                self.fail(path + (key,), f"unknown key {key!r}{hint}")

    def boolean(self, value: object, path: tuple[str, ...]) -> bool:
        if not isinstance(value, bool):
            self.fail(path, f"expected true or false, {_got(value)}")
        return value

    def count(self, value: object, path: tuple[str, ...]) -> int:
        problem = count_problem(value)
        if problem:
            self.fail(path, problem)
        assert isinstance(value, int)
        return value

    def seconds(self, value: object, path: tuple[str, ...]) -> float:
        problem = seconds_problem(value)
        if problem:
            self.fail(path, problem)
        assert isinstance(value, (int, float))
        return float(value)

    def strings(
        self,
        value: object,
        path: tuple[str, ...],
        *,
        what: str = "strings",
        allow_empty: bool = True,
    ) -> tuple[str, ...]:
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            self.fail(path, f"expected a list of {what}, {_got(value)}")
        if not allow_empty and "" in value:
            self.fail(path, f"expected a list of non-empty {what}, {_got(value)}")
        return tuple(value)

    def command(self, value: object, path: tuple[str, ...]) -> tuple[str, ...]:
        if isinstance(value, str):
            try:
                argv = tuple(shlex.split(value))
            except ValueError as exc:
                self.fail(path, f"cannot split {value!r} into arguments: {exc}")
        elif isinstance(value, list) and all(isinstance(v, str) for v in value):
            argv = tuple(value)
        else:
            self.fail(path, f"expected a command, as a list of strings or a string, {_got(value)}")
        if not argv or not argv[0]:
            self.fail(path, f"expected a non-empty command, {_got(value)}")
        return argv

    def names(
        self, value: object, path: tuple[str, ...], known: Collection[str]
    ) -> tuple[str, ...]:
        names = self.strings(value, path, what="tool names")
        for name in names:
            if name not in known:
                self.fail(path, f"unknown tool {name!r}{_suggest(name, known)}")
        return names

    def variables(self, value: object, path: tuple[str, ...]) -> tuple[str, ...]:
        names = self.strings(value, path, what="environment variable names")
        for name in names:
            if not _ENV_NAME.fullmatch(name):
                self.fail(
                    path,
                    f"invalid environment variable name {name!r}: use letters, digits and"
                    " '_', not starting with a digit, with an optional '*' at the end",
                )
        return names

    def types(self, value: object, path: tuple[str, ...]) -> frozenset[str]:
        tags = self.strings(value, path, what="identify tags")
        for tag in tags:
            if tag not in ALL_TAGS:
                hint = _suggest(tag, ALL_TAGS)
                self.fail(path, f"unknown file type {tag!r}{hint} (types are identify tags)")
        return frozenset(tags)


def _read(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as stream:
            data: dict[str, Any] = tomllib.load(stream)
            return data
    except tomllib.TOMLDecodeError as exc:
        found = re.search(r"\(at line (\d+), column \d+\)", str(exc))
        line = int(found.group(1)) if found else None
        raise ConfigError(path, None, f"invalid TOML: {exc}", line=line) from exc
    except UnicodeDecodeError as exc:
        raise ConfigError(path, None, f"invalid TOML: not UTF-8 text ({exc})") from exc
    except OSError as exc:
        raise ConfigError(path, None, f"cannot read: {exc.strerror or exc}") from exc


def _locate(root: Path) -> tuple[Path, Any, tuple[str, ...]] | None:
    """(file, its settings table, the key prefix) of the first file that applies."""
    for name in CONFIG_FILES:
        path = root / name
        if not path.is_file():
            continue
        data = _read(path)
        if name != "pyproject.toml":
            return path, data, ()
        tool = data.get("tool")
        if isinstance(tool, dict) and "huskycat" in tool:
            return path, tool["huskycat"], ("tool", "huskycat")
    return None


def _tool(check: _Checker, name: str, table: dict[str, Any], known: Collection[str]) -> ToolConfig:
    where = ("tools", name)
    check.known_keys(table, where, TOOL_KEYS)
    values: dict[str, Any] = {}
    for key, value in table.items():
        path = where + (key,)
        if key in ("command", "fix"):
            values[key] = check.command(value, path)
        elif key == "args":
            values[key] = check.strings(value, path)
        elif key in ("files", "exclude", "inputs"):
            values[key] = check.strings(value, path, what="globs", allow_empty=False)
        elif key == "env":
            values[key] = check.variables(value, path)
        elif key in ("depends_on", "after"):
            values[key] = check.names(value, path, known)
        elif key == "timeout":
            values[key] = check.seconds(value, path)
        elif key == "weight":
            values[key] = check.count(value, path)
        elif key == "types":
            values[key] = check.types(value, path)
        elif key == "fail_on":
            if value not in FAIL_ON_LEVELS:
                check.fail(path, f"expected one of 'error', 'warning', 'note', {_got(value)}")
            values[key] = value
        elif key == "version":
            if not isinstance(value, str) or not _VERSION.fullmatch(value):
                check.fail(path, f"expected a version such as '0.6.9', {_got(value)}")
            values[key] = value
        else:  # pass_filenames, enabled, cache
            values[key] = check.boolean(value, path)
    return ToolConfig(**values)


def find_cycle(edges: Mapping[str, Collection[str]]) -> list[str] | None:
    """A cycle in ``edges`` (tool -> the tools it runs after), or None.

    The cycle reads ``[a, b, ..., a]``: each tool runs after the next one.
    """
    try:
        graphlib.TopologicalSorter(edges).prepare()
    except graphlib.CycleError as exc:
        # graphlib lists each node before the one that depends on it; we say it the other
        # way round, as "black -> mypy" reads "black depends on mypy".
        return list(reversed(exc.args[1]))
    return None


def _check_cycles(
    check: _Checker, tools: Mapping[str, ToolConfig], defaults: Mapping[str, Collection[str]]
) -> None:
    # Ordered dicts, not sets: the same file must always report the same cycle.
    edges: dict[str, dict[str, None]] = {n: dict.fromkeys(d) for n, d in defaults.items()}
    for name, tool in tools.items():
        edges.setdefault(name, {}).update(
            dict.fromkeys((tool.depends_on or ()) + (tool.after or ()))
        )
    cycle = find_cycle(edges)
    if cycle is None:
        return
    # Blame the first edge of the cycle that the file declares, and start the story there.
    for index, (tool_name, dependency) in enumerate(itertools.pairwise(cycle)):
        tool = tools.get(tool_name, ToolConfig())
        for key in ("depends_on", "after"):
            if dependency in (getattr(tool, key) or ()):
                loop = cycle[index:-1] + cycle[:index] + [tool_name]
                check.fail(("tools", tool_name, key), f"dependency cycle {' -> '.join(loop)}")
    check.fail(("tools",), f"dependency cycle {' -> '.join(cycle)}")


def load_config(
    root: Path,
    *,
    known_tools: Collection[str],
    default_edges: Mapping[str, Collection[str]] | None = None,
) -> Config:
    """Read and validate the configuration of the repository at ``root``.

    ``known_tools`` are the catalog's names; ``default_edges`` the catalog's ordering
    (tool -> tools it runs after), used only to find cycles that the file's
    ``depends_on`` and ``after`` would close. Raises :class:`ConfigError`.
    """
    found = _locate(Path(root))
    if found is None:
        return Config()
    source, data, prefix = found
    check = _Checker(source, prefix)
    top = check.table(data, ())
    check.known_keys(top, (), TOP_LEVEL_KEYS)
    declared = check.table(top.get("tools", {}), ("tools",))
    custom = [name for name in declared if name not in known_tools]
    known = set(known_tools) | set(custom)
    for name in custom:
        if not _TOOL_NAME.fullmatch(name):
            check.fail(
                ("tools", name),
                f"invalid tool name {name!r}: use letters, digits and "
                "'-', '_', '.', '+', starting with a letter or digit",
            )
    tools: dict[str, ToolConfig] = {}
    for name, value in declared.items():
        table = check.table(value, ("tools", name))
        tools[name] = _tool(check, name, table, known)
        if name in custom and tools[name].command is None:
            hint = _suggest(name, known_tools)
            check.fail(
                ("tools", name),
                f"{name!r} is not a catalog tool, so it needs a 'command' to run{hint}",
            )
    settings: dict[str, Any] = {}
    if "jobs" in top:
        settings["jobs"] = check.count(top["jobs"], ("jobs",))
    if "timeout" in top:
        settings["timeout"] = check.seconds(top["timeout"], ("timeout",))
    if "cluster" in top:
        if not isinstance(top["cluster"], str) or not top["cluster"].strip():
            check.fail(
                ("cluster",),
                f"must be 'local', 'local:N' or 'tcp://host:port', got {top['cluster']!r}",
            )
        settings["cluster"] = top["cluster"]
    if "fail_fast" in top:
        settings["fail_fast"] = check.boolean(top["fail_fast"], ("fail_fast",))
    if "require_tools" in top:
        settings["require_tools"] = check.boolean(top["require_tools"], ("require_tools",))
    if "exclude" in top:
        settings["exclude"] = check.strings(
            top["exclude"], ("exclude",), what="globs", allow_empty=False
        )
    disable = frozenset(check.names(top.get("disable", []), ("disable",), known))
    for name in sorted(disable):
        if tools.get(name, ToolConfig()).enabled is True:
            check.fail(
                ("tools", name, "enabled"),
                f"{name!r} is also listed in {_dotted(prefix + ('disable',))}",
            )
    _check_cycles(check, tools, default_edges or {})
    return Config(
        source=source,
        disable=disable,
        tools=tools,
        custom_tools=tuple(custom),
        **settings,
    )
