"""A run's one-line summary as data: counted phrases that add up when parts are merged.

A tool's summary ("2 errors, 1 warning", "would reformat 3 files") is a tuple of
phrases: a :class:`Count` ("would reformat " + "3 files") or a plain string ("exit code
2: bad option"). Parts of one run (batches, shards, results replayed and calls run again)
are merged with :func:`merge`, which sums counts of the same phrase and keeps strings once;
the text is made by :func:`render` only when a result is built, and never read back.

Counts are ordered by ``rank`` (the parser's order), so that merged parts print in the
order one run would: "2 errors, 1 warning" whichever part had the warning.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any, TypeAlias

# What a count counts, so that a result can be split by file (see :func:`for_file`).
OF_ERRORS = "error"  # diagnostics of severity "error"
OF_WARNINGS = "warning"
OF_NOTES = "info"
OF_FILES = "file"  # the files in ``Count.files``


@dataclass(frozen=True)
class Count:
    """``before`` + "N noun(s)" + ``after``; ``of`` says what is counted."""

    noun: str
    n: int
    before: str = ""
    after: str = ""
    rank: int = 0
    of: str = ""  # one of the OF_* names, or "" when the count cannot be split by file
    files: tuple[str, ...] | None = None  # for OF_FILES: the files counted

    @property
    def identity(self) -> tuple[int, str, str, str, str]:
        return (self.rank, self.before, self.noun, self.after, self.of)

    def text(self) -> str:
        noun = self.noun if self.n == 1 else self.noun + "s"
        return f"{self.before}{self.n} {noun}{self.after}"


Phrase: TypeAlias = Count | str
Summary: TypeAlias = tuple[Phrase, ...]


def counts(errors: int, warnings: int) -> Summary:
    """The usual summary of a linter: "N errors, M warnings" (zero counts not shown)."""
    return (
        Count("error", errors, rank=0, of=OF_ERRORS),
        Count("warning", warnings, rank=1, of=OF_WARNINGS),
    )


def files(before: str, names: Iterable[str], *, rank: int = 0, after: str = "") -> Count:
    """A count of files, knowing which: ``files("would reformat ", ["a.py"])``."""
    chosen = tuple(dict.fromkeys(names))
    return Count("file", len(chosen), before, after, rank, OF_FILES, chosen)


def merge(parts: Iterable[Sequence[Phrase]]) -> Summary:
    """One summary from the summaries of parts of a run: counts of the same phrase
    summed (files united), strings kept once in the order first seen."""
    totals: dict[tuple[int, str, str, str, str], Count] = {}
    strings: dict[str, None] = {}
    for part in parts:
        for phrase in part:
            if isinstance(phrase, str):
                strings.setdefault(phrase)
                continue
            known = totals.get(phrase.identity)
            if known is None:
                totals[phrase.identity] = phrase
            elif known.files is not None and phrase.files is not None:
                united = tuple(dict.fromkeys((*known.files, *phrase.files)))
                totals[phrase.identity] = replace(known, n=len(united), files=united)
            else:
                totals[phrase.identity] = replace(known, n=known.n + phrase.n, files=None)
    ordered = sorted(totals.values(), key=lambda c: c.identity)
    return (*ordered, *strings)


def render(summary: Sequence[Phrase]) -> str | None:
    """The summary line: counts that are not zero, then strings; None when empty."""
    texts = [p.text() for p in summary if isinstance(p, Count) and p.n] + [
        p for p in summary if isinstance(p, str) and p
    ]
    return ", ".join(texts) or None


def for_file(summary: Sequence[Phrase], name: str, severities: Mapping[str, int]) -> Summary | None:
    """The part of a run's ``summary`` that one file ``name`` accounts for, given how
    many of its diagnostics have each severity; None when the summary cannot be split
    (a string, or a count of something not attributed to files)."""
    part: list[Phrase] = []
    for phrase in summary:
        if isinstance(phrase, str):
            return None
        if phrase.of == OF_FILES and phrase.files is not None:
            n = int(name in phrase.files)
            if n:
                part.append(replace(phrase, n=1, files=(name,)))
        elif phrase.of in (OF_ERRORS, OF_WARNINGS, OF_NOTES):
            n = severities.get(phrase.of, 0)
            if n:
                part.append(replace(phrase, n=n))
        elif phrase.n:
            return None
    return tuple(part)


def to_json(summary: Sequence[Phrase]) -> list[Any]:
    """A JSON-ready form: strings as they are, counts as lists."""
    return [
        (
            p
            if isinstance(p, str)
            else [
                p.noun,
                p.n,
                p.before,
                p.after,
                p.rank,
                p.of,
                None if p.files is None else list(p.files),
            ]
        )
        for p in summary
    ]


def from_json(data: object) -> Summary | None:
    """A summary from :func:`to_json`; None for data that is not one."""
    if not isinstance(data, list):
        return None
    phrases: list[Phrase] = []
    for item in data:
        if isinstance(item, str):
            phrases.append(item)
            continue
        if not isinstance(item, list) or len(item) != 7:
            return None
        noun, n, before, after, rank, of, names = item
        if not (
            all(isinstance(x, str) for x in (noun, before, after, of))
            and all(isinstance(x, int) and not isinstance(x, bool) for x in (n, rank))
            and (
                names is None
                or (isinstance(names, list) and all(isinstance(x, str) for x in names))
            )
        ):
            return None
        phrases.append(
            Count(noun, n, before, after, rank, of, None if names is None else tuple(names))
        )
    return tuple(phrases)
