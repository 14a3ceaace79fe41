"""The result cache: a tool whose inputs did not change since a run is not run again.

::

    lookup(cache, spec, files) --keys--> entries on disk
      every input as before ---------------------------> Lookup.result (metadata cached)
      else: per-file hits + misses --run(misses)--> fresh --finish()--> merged, stored

- :mod:`.lookup`: keys, :func:`lookup` and :func:`cached_run_tool`, the planner's entry;
- :mod:`.sharded`: :func:`cached_sharded_call`, a file-local tool looked up once as a
  whole, its misses run in shards;
- :mod:`.merge`: a file-local result split by file and merged back (pure);
- :mod:`.store`: :class:`Cache`, the entries on disk, eviction, :func:`clear`;
- :mod:`.keys`: what each tool reads besides its arguments (:data:`keys.READS`);
- :mod:`.fingerprint`: digests of files, configuration, programs, Python environments,
  the project.

What a key covers (:func:`lookup`): the tool, its command and arguments before the files
with the program's full path, check or fix mode, the program's version and file
signature, the ``site-packages`` folders beside it, the configuration files the tool
reads (``spec.config_files``, in the root and every folder above it, and for file-local
tools in the folders down to each file; a missing file counts too), the environment
variables named after it, what :mod:`.keys` says it reads (variables, user configuration
files, the Python environment it runs in, search paths), its parser's name, the
signature (names, sizes, modification times) of huskycat's own source files, huskycat's
version, this module's :data:`FORMAT_VERSION` and the root folder. Then:

- file-local catalog tools (``scope == "file"``, file arguments, no target mapping) are
  cached per file, by the file's name and content: a file's diagnostics and whether it
  was clean (stored in its folder's row). Changing one file re-runs the tool on that
  file alone, and the other files' diagnostics are merged in. A whole run is also kept,
  so that a run with nothing changed replays the tool's own output and message;
- every other tool (mypy, ansible-lint, helm lint) is cached as a whole, keyed also by
  every tracked and untracked (not ignored) file of the repository, and the gitignored
  files of the kinds it reads: such a tool may read any of them. A custom tool is cached
  only when it declares its ``inputs`` (then keyed by those files alone); ``cache =
  false`` turns caching off for any tool. Outside a git repository these are never
  cached.

Not stored: runs that could not do their work (outcome "error"), timeouts and
cancellations (they raise), skips, and any file whose content changed while the tool
ran. In ``--fix`` mode a writer's run is stored only for the files it did not modify:
running a fixer on content it leaves alone is a fixed point, so running it again on
that content would again change nothing and report the same; a file it rewrote is
checked again next time (a formatter is not always idempotent in one pass).

On disk (:class:`Cache`): one SQLite database per repository,
``<git dir>/huskycat/cache/results.db`` (outside a repository
``$XDG_CACHE_HOME/huskycat/cache/results.db``), rows ``(key, value, used, files)``. A
file-local tool's results are one row per folder, keyed by the tool's key, the folder and
its configuration chain: ``[names, ids, {name: row}]``, the names of its files joined by
"/", their content ids joined by " ", and the row ``[clean, [[line, column, code,
severity, message], ...]]`` of each file that is not clean and silent; a file's result is
a hit only when its id now is the one beside it. A whole run's row is ``{"result":
ToolResult.to_dict()}``, without its diagnostics for a file-local tool (they are in the
folders' rows); a program's remembered version is ``{"version": "...", "checked":
UNIX_TIME}``. A run's writes go in one transaction when it closes the cache.
"""

from __future__ import annotations

from huskycat.cache.lookup import Lookup, cached_run_tool, is_file_local, lookup
from huskycat.cache.merge import FileState, file_states, merge_cached, render
from huskycat.cache.store import (
    DEFAULT_MAX_BYTES,
    FORMAT_VERSION,
    PRUNE_TARGET,
    VERSION_TTL,
    Cache,
    Stats,
    clear,
)
from huskycat.state import state_dir, user_cache_dir

__all__ = [
    "DEFAULT_MAX_BYTES",
    "FORMAT_VERSION",
    "PRUNE_TARGET",
    "VERSION_TTL",
    "Cache",
    "FileState",
    "Lookup",
    "Stats",
    "cached_run_tool",
    "clear",
    "file_states",
    "is_file_local",
    "lookup",
    "merge_cached",
    "render",
    "state_dir",
    "user_cache_dir",
]
