"""How long each tool took in recent runs of a repository, and what to expect next time.

The scheduler starts the longest chain first when it knows how long each tool will take
(``expected_durations``), and the live view shows an estimate of the time left. Both
come from :meth:`History.expected`, fitted to the tool's last :data:`MAX_SAMPLES` runs
with the newer ones weighing more (each older sample weighs :data:`DECAY` times the one
after it, an exponential moving average over what is kept):

- given a file count, ``seconds = fixed + rate * files``, by weighted least squares when
  the runs had different file counts, or the average per-file rate when they all had the
  same count;
- without one (project-wide tools such as mypy, whose time follows the project rather
  than the files passed), the weighted average of the durations.

A tool that ran niced (off the critical path, see :mod:`huskycat.core.scheduler`) is
recorded with its processes' CPU time when that is less than its wall time: it waited
for the CPUs by design, and its wall time would make it look like the longest tool.

Only tools that ran are recorded: not skipped ones, not results replayed from the result
cache, not runs that could not do their work; for a result merged with cached files,
only the files that ran count.

On disk: ``<state dir>/history.json`` (beside the result cache, see
:func:`huskycat.state.state_dir`), written atomically::

    {"format": 1, "tools": {"ruff": [[files, seconds, unix time], ...], ...}}

oldest first. :meth:`History.save` merges with what another run saved meanwhile, holding
an exclusive ``flock`` on ``history.lock`` beside it from the read to the write, so that
two runs saving at once both keep their samples. A file
that is missing is an empty history; one that is unreadable (truncated, garbage) is too,
and so is every row with absurd values (negative, non-finite, over a week, from the
future), which would otherwise make estimates absurd or keep real runs out for ever:
:attr:`History.warning` says what was ignored, and the next save rebuilds the file.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import math
import os
import time
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

from huskycat.core.results import OUTCOME_ERROR, ToolResult, ToolStatus
from huskycat.state import state_dir, write_atomic
from huskycat.tools.facts import ResultFacts, facts_of

FORMAT_VERSION = 1
FILE_NAME = "history.json"
LOCK_NAME = "history.lock"
MAX_SAMPLES = 10  # runs kept per tool
MAX_TOOLS = 200  # tools kept, the most recently run first
DECAY = 0.6  # weight of a sample relative to the next newer one
MAX_SECONDS = 7 * 24 * 3600.0  # a longer run is not a measurement (timeouts stop at a week)
MAX_FILES = 10_000_000
CLOCK_SLACK = 24 * 3600.0  # samples dated later than now + this are from a wrong clock


@dataclass(frozen=True)
class Sample:
    """One run of a tool: on how many files, how long it took, when (Unix time)."""

    files: int
    seconds: float
    when: float


class History:
    """Recent durations of each tool; :meth:`load`, :meth:`record`, :meth:`save`."""

    def __init__(
        self, path: Path | None = None, samples: Mapping[str, Iterable[Sample]] | None = None
    ) -> None:
        self.path = path
        self._samples = {k: _newest(v) for k, v in (samples or {}).items()}
        self._new: dict[str, list[Sample]] = {}
        # What load() ignored of a damaged file, for the command to say once.
        self.warning: str | None = None

    @classmethod
    def load(cls, root: Path | str | None = None, *, path: Path | str | None = None) -> History:
        """The history of the repository at ``root``, or the one kept at ``path``."""
        if path is None:
            if root is None:
                raise TypeError("History.load() needs the repository root or a path")
            path = state_dir(root) / FILE_NAME
        path = Path(path)
        samples, problem = _read(path)
        history = cls(path, samples)
        if problem is not None:
            history.warning = f"ignored {problem} in {str(path)!r}; it will be rebuilt"
        return history

    def samples(self, tool: str) -> list[Sample]:
        """The runs of ``tool`` kept, oldest first."""
        return list(self._samples.get(tool, ()))

    def add(self, tool: str, files: int, seconds: float, when: float | None = None) -> None:
        """Record one run of ``tool`` on ``files`` files that took ``seconds``."""
        if files < 0 or not math.isfinite(seconds) or seconds < 0:
            raise ValueError(f"not a run of {tool!r}: {files!r} files in {seconds!r}s")
        # Capped as load() would otherwise drop it (a library run without a timeout).
        seconds = min(float(seconds), MAX_SECONDS)
        sample = Sample(files, seconds, time.time() if when is None else when)
        self._new.setdefault(tool, []).append(sample)
        self._samples[tool] = _newest([*self._samples.get(tool, ()), sample])

    def record(
        self,
        results: Mapping[str, ToolResult] | Iterable[ToolResult],
        file_counts: Mapping[str, int] | None = None,
    ) -> int:
        """Record every result that ran a tool; returns how many were recorded.

        ``file_counts`` is the number of files each tool was given; a tool missing from
        it counts ``metadata["files"]`` as the runner set it. Files replayed from the
        cache (``metadata["cached_files"]``) are taken off.
        """
        recorded = 0
        for result in results.values() if isinstance(results, Mapping) else results:
            if not _ran(result):
                continue
            name = result.tool_name
            facts = facts_of(result)
            files = _int((file_counts or {}).get(name, facts.files))
            files -= facts.cached_files or 0
            self.add(name, max(files, 0), _own_seconds(result.duration, facts))
            recorded += 1
        return recorded

    def expected(self, tool: str, files: int | None = None) -> float | None:
        """Seconds ``tool`` should take on ``files`` files (None: however many it takes,
        for project-wide tools); None when it never ran here."""
        samples = self._samples.get(tool)
        if not samples:
            return None
        weights = [DECAY ** (len(samples) - 1 - i) for i in range(len(samples))]
        total = sum(weights)
        mean_seconds = sum(w * s.seconds for w, s in zip(weights, samples)) / total
        if files is None:
            return mean_seconds
        mean_files = sum(w * s.files for w, s in zip(weights, samples)) / total
        spread = sum(w * (s.files - mean_files) ** 2 for w, s in zip(weights, samples))
        if spread <= 0:  # every run had the same file count: scale by the per-file rate
            if mean_files <= 0 or files == mean_files:
                return mean_seconds
            return mean_seconds * files / mean_files
        covariance = sum(
            w * (s.files - mean_files) * (s.seconds - mean_seconds)
            for w, s in zip(weights, samples)
        )
        rate = max(covariance / spread, 0.0)
        fixed = max(mean_seconds - rate * mean_files, 0.0)
        return fixed + rate * files

    def expected_durations(self, file_counts: Mapping[str, int | None]) -> dict[str, float]:
        """``expected`` for each tool named in ``file_counts`` that ran here before, as
        the executor's ``expected_durations`` takes them (None: a project-wide tool)."""
        found = {name: self.expected(name, files) for name, files in file_counts.items()}
        return {name: seconds for name, seconds in found.items() if seconds is not None}

    def save(self) -> bool:
        """Write the history, merged with what other runs saved since it was loaded.

        False when it could not be written (a read-only repository): history only makes
        estimates better, so a run does not fail for it.
        """
        if self.path is None:
            raise ValueError("this History has no file: make it with History.load()")
        with _locked(self.path.with_name(LOCK_NAME)):
            return self._merge_and_write()

    def _merge_and_write(self) -> bool:
        assert self.path is not None
        merged, _ = _read(self.path)
        for tool, new in self._new.items():
            merged[tool] = _newest([*merged.get(tool, ()), *new])
        recent = sorted(merged, key=lambda t: merged[t][-1].when, reverse=True)[:MAX_TOOLS]
        document = {
            "format": FORMAT_VERSION,
            "tools": {
                tool: [[s.files, round(s.seconds, 4), round(s.when, 3)] for s in merged[tool]]
                for tool in sorted(recent)
            },
        }
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            write_atomic(self.path, json.dumps(document, indent=1).encode() + b"\n")
        except OSError:
            return False
        self._samples = {tool: merged[tool] for tool in recent}
        self._new = {}
        return True


def _own_seconds(duration: float, facts: ResultFacts) -> float:
    """How long a tool takes by itself: its duration, unless it ran niced (off the
    critical path: it yields the CPUs to the tools on it) and its processes used less CPU
    time than that. Its wall time then measures the tools ahead of it; recorded as it is,
    the next run would take it for the longest and put the real one behind it."""
    if facts.nice and facts.cpu_seconds is not None:
        return min(duration, facts.cpu_seconds)
    return duration


@contextlib.contextmanager
def _locked(path: Path) -> Iterator[None]:
    """Hold an exclusive flock on ``path`` for the block (without, where it cannot be
    made: the history is then unwritable too, and save() says so)."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_RDWR | os.O_CREAT | getattr(os, "O_CLOEXEC", 0), 0o644)
    except OSError:
        yield
        return
    try:
        with contextlib.suppress(OSError):
            fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


def _ran(result: ToolResult) -> bool:
    if facts_of(result).cached:
        return False
    if result.status is ToolStatus.FAILED and result.outcome == OUTCOME_ERROR:
        return False  # a crash or a bad configuration says nothing of a normal run
    if result.status not in (ToolStatus.SUCCESS, ToolStatus.FAILED, ToolStatus.TIMEOUT):
        return False
    return math.isfinite(result.duration) and result.duration > 0


def _int(value: object) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


def _newest(samples: Iterable[Sample]) -> list[Sample]:
    unique = {(s.when, s.files, s.seconds): s for s in samples}
    return sorted(unique.values(), key=lambda s: s.when)[-MAX_SAMPLES:]


def _read(path: Path) -> tuple[dict[str, list[Sample]], str | None]:
    """The samples in the file at ``path``, and what was wrong with it (None: nothing).
    A bad row is left out, a bad file is empty."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return {}, None
    except OSError as exc:
        return {}, f"an unreadable file ({exc.strerror or exc})"
    try:
        document = json.loads(data)
        if document.get("format") != FORMAT_VERSION:
            return {}, f"a file of format {document.get('format')!r}"
        items = list(document["tools"].items())
    except (ValueError, TypeError, KeyError, AttributeError, RecursionError):
        return {}, "a damaged file (not the JSON huskycat writes)"
    found = {}
    bad = 0
    now = time.time()
    for tool, rows in items:
        rows = rows if isinstance(rows, list) else [rows]
        samples = [s for s in (_sample(row, now) for row in rows) if s]
        bad += len(rows) - len(samples)
        if samples:
            found[str(tool)] = _newest(samples)
    return found, (f"{bad} damaged or absurd sample{'s' * (bad != 1)}" if bad else None)


def _sample(row: object, now: float) -> Sample | None:
    if not isinstance(row, list) or len(row) != 3:
        return None
    try:
        sample = Sample(int(row[0]), float(row[1]), float(row[2]))
    except (TypeError, ValueError, OverflowError):
        return None
    usable = (
        0 <= sample.files <= MAX_FILES
        and 0 <= sample.seconds <= MAX_SECONDS  # also false for nan
        and 0 <= sample.when <= now + CLOCK_SLACK
    )
    return sample if usable else None
