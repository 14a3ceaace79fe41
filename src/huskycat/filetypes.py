"""File types (identify's tags) remembered across runs, so that unchanged files are not
typed again.

A file's tags depend on its name, its content (a shebang, text or binary) and whether it
is executable or a symlink; so they are remembered by (path, content id, kind), the id
and kind from :mod:`huskycat.content` (for most files, one ``lstat`` and the index's
blob id). A file whose id or kind changed is typed again with
:func:`huskycat.files.tags_for`.

On disk, one file per repository, ``<state dir>/file-types``, written whole and
atomically (a temporary file renamed over it) when a run typed anything new::

    huskycat-file-types 1\\n
    ["python","text"]\\t["shell","text","executable"]...\\n    tag sets, tab-separated JSON
    <kind><tag set index>\\t<id>\\t<path>\\0 ...                  one record per file

A file that cannot be read or parsed is ignored (every file is typed again) and replaced
by the next write. Outside a git repository nothing is remembered.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import sys
import tempfile
import zlib
from collections.abc import Callable, Collection, Sequence
from pathlib import Path

from huskycat import content, git
from huskycat.files import select_for_tool, tags_for

MAGIC = b"huskycat-file-types 1\n"
FILE_NAME = "file-types"
# Entries of files a run did not ask about are kept, up to this many beyond twice those
# it asked about: a run on staged files keeps the rest; deleted files fall out in time.
SPARE_ENTRIES = 10_000

Tags = frozenset[str]


def _decode(data: bytes) -> str:
    return data.decode(sys.getfilesystemencoding(), "surrogateescape")


def _encode(text: str) -> bytes:
    return text.encode(sys.getfilesystemencoding(), "surrogateescape")


def load(path: Path | str) -> dict[str, tuple[str, str, Tags]]:
    """``path -> (id, kind, tags)`` from the file at ``path``; empty when it is missing,
    unreadable, of another format or damaged anywhere."""
    try:
        with open(path, "rb") as f:
            data = f.read()
    except OSError:
        return {}
    if not data.startswith(MAGIC):
        return {}
    try:
        header, _, body = data[len(MAGIC) :].partition(b"\n")
        if body and not body.endswith(b"\0"):
            return {}  # cut short: its last record may name a prefix of the real path
        tagsets = [frozenset(json.loads(part)) for part in header.split(b"\t") if part]
        if not all(all(isinstance(tag, str) for tag in tags) for tags in tagsets):
            return {}
        entries: dict[str, tuple[str, str, Tags]] = {}
        for record in _decode(body).split("\0"):
            if not record:
                continue
            head, found, name = record.split("\t", 2)
            entries[name] = (found, head[0], tagsets[int(head[1:])])
        return entries
    except (ValueError, IndexError, TypeError):  # damaged: start again
        return {}


def dump(path: Path | str, entries: dict[str, tuple[str, str, Tags]]) -> None:
    """Write ``entries`` to ``path`` atomically; a failure leaves the old file (or none)."""
    tagsets: dict[Tags, int] = {}
    records = []
    for name, (found, kind, tags) in entries.items():
        index = tagsets.setdefault(tags, len(tagsets))
        records.append(f"{kind}{index}\t{found}\t{name}\0")
    header = "\t".join(json.dumps(sorted(tags)) for tags in tagsets)
    data = MAGIC + _encode(header) + b"\n" + _encode("".join(records))
    _write_atomically(os.fspath(path), data)


def _write_atomically(path: str, data: bytes) -> None:
    """Write ``data`` to ``path`` through a temporary file renamed over it; a failure
    leaves the old file (or none)."""
    folder = os.path.dirname(path)
    try:
        os.makedirs(folder, exist_ok=True)
        fd, temporary = tempfile.mkstemp(dir=folder, prefix=".tmp-file-types-")
    except OSError:
        return  # nowhere to write: the types are found again next time
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.replace(temporary, path)
    except OSError:
        try:
            os.unlink(temporary)
        except OSError:
            pass


class FileTypes:
    """``types.tags_of(name)``: the tags of the file ``name`` (relative to ``root``),
    remembered or found; :meth:`save` writes what was found to ``store`` (None: keep
    nothing)."""

    def __init__(
        self, root: Path | str, store: Path | str | None, *, expected: int | None = None
    ) -> None:
        self._root = os.path.join(os.path.abspath(root), "")
        self._store = store
        self._loaded: dict[str, tuple[str, str, Tags]] | None = None  # read when first asked
        self._identify = content.Identifier(root, expected=expected)
        self._listed, self._executables = self._identify.listed()
        self._seen: dict[str, Tags] = {}
        self._changed = False
        self._choices: Choices | None = None  # the remembered choices of this listing

    @property
    def _known(self) -> dict[str, tuple[str, str, Tags]]:
        if self._loaded is None:
            self._loaded = load(self._store) if self._store is not None else {}
        return self._loaded

    @classmethod
    def for_root(cls, root: Path | str, *, expected: int | None = None) -> FileTypes:
        """The types of ``root``'s files, remembered in its repository's state folder
        (``expected``: about how many will be asked for, see
        :class:`huskycat.content.Identifier`)."""
        if content.snapshot(root, take=False) is None:  # else in a repository, as listed
            try:
                git.git_dir(root)
            except git.GitError:
                return cls(root, None, expected=expected)  # no repository, no place of its own
        from huskycat.state import state_dir

        return cls(root, state_dir(root) / FILE_NAME, expected=expected)

    def tags_of(self, name: str) -> Tags:
        """identify's tags of ``name`` (see :func:`huskycat.files.tags_for`).

        A file the latest snapshot vouches for is taken as git found it when the files
        were listed, without looking at it again; any other is looked at now.
        """
        seen = self._seen.get(name)
        if seen is not None:
            return seen
        found: str | None = self._listed.get(name)
        if found is not None:
            kind = "x" if name in self._executables else "f"
        else:
            found, kind = self._identify(name)
        remembered = self._loaded if self._loaded is not None else self._known
        known = remembered.get(name)
        if known is not None and found is not None and known[0] == found and known[1] == kind:
            tags = known[2]
        else:
            tags = tags_for(self._root + name, kind)
            if found is not None and kind != "l":
                remembered[name] = (found, kind, tags)
                self._changed = True
        self._seen[name] = tags
        return tags

    def select(
        self,
        candidates: Sequence[str],
        *,
        types: Collection[str] = (),
        exclude_types: Collection[str] = (),
        files_regex: str = "",
        exclude_regex: str = "",
        include_globs: Sequence[str] = (),
        exclude_globs: Sequence[str] = (),
    ) -> list[str]:
        """:func:`huskycat.files.select_for_tool` of ``candidates`` with these filters and
        :meth:`tags_of`, in their order.

        Which of the files git's listing vouches for (tracked, unchanged) a tool gets is
        remembered beside the types, for exactly those files with exactly those ids and
        modes (and these filters, identify's and huskycat's own code): with nothing
        changed, no file is typed or its type looked up. The other files (changed,
        untracked) are typed each time.
        """

        def pick(names: Sequence[str], tags_of: Callable[[str], Tags]) -> list[str]:
            return select_for_tool(
                names,
                tags_of,
                types=types,
                exclude_types=exclude_types,
                files_regex=files_regex,
                exclude_regex=exclude_regex,
                include_globs=include_globs,
                exclude_globs=exclude_globs,
            )

        choices = self._choices_for(candidates)
        if choices is None:
            return pick(candidates, self.tags_of)
        name = json.dumps(
            [
                sorted(types),
                sorted(exclude_types),
                files_regex,
                exclude_regex,
                list(include_globs),
                list(exclude_globs),
            ]
        )
        chosen = choices.get(name)
        if chosen is None:
            chosen = pick(choices.vouched, self.tags_of)
            choices.put(name, chosen)
        if not choices.others:
            return chosen
        # Few, as a rule: typed as they are, not remembered (their ids are hashed).
        fresh = pick(choices.others, self._tags_now)
        if not fresh:
            return chosen
        kept = {*chosen, *fresh}
        return [name for name in candidates if name in kept]

    def _tags_now(self, name: str) -> Tags:
        """:meth:`tags_of` for a file the listing does not vouch for, without reading the
        store when it is not read yet."""
        if self._loaded is not None:
            return self.tags_of(name)
        seen = self._seen.get(name)
        if seen is None:
            kind = self._identify(name)[1]
            seen = self._seen[name] = tags_for(self._root + name, kind)
        return seen

    def _choices_for(self, candidates: Sequence[str]) -> Choices | None:
        """The remembered choices for ``candidates`` as listed now; None when the listing
        vouches for no file (then every file is typed)."""
        if self._store is None or not self._listed:
            return None
        known = self._choices
        if known is not None and known.candidates is candidates:
            return known
        listed = self._listed
        vouched = [name for name in candidates if name in listed]
        others = (
            [name for name in candidates if name not in listed]
            if len(vouched) < len(candidates)
            else []
        )
        digest = hashlib.blake2b(digest_size=20)
        executables = sorted(self._executables.intersection(vouched))
        for part in (
            f"{CHOICES_VERSION}\0{self._root}\0{_code_signature()}\0{os.geteuid()}\0",
            "\0".join(vouched),
            "\0".join([listed[name] for name in vouched]),
            "\0".join(executables),
        ):
            digest.update(_encode(part) + b"\1")
        path = os.path.join(os.path.dirname(os.fspath(self._store)), CHOICES_NAME)
        self._choices = Choices.read(path, digest.hexdigest(), candidates, vouched, others)
        return self._choices

    def save(self) -> None:
        """Write the store when this run typed a file it did not know, and the choices
        when this run made new ones."""
        if self._choices is not None:
            self._choices.save()
        if self._store is None or not self._changed:
            return
        entries = self._known
        if len(entries) > 2 * len(self._seen) + SPARE_ENTRIES:
            entries = {name: entries[name] for name in self._seen if name in entries}
        dump(self._store, entries)
        self._changed = False


CHOICES_NAME = "file-choices"
CHOICES_VERSION = 1


def _code_signature() -> str:
    """What the tags of a file depend on besides the file: identify's code and data, and
    huskycat's own (:func:`huskycat.files.tags_for`)."""
    from identify import extensions, identify, interpreters

    from huskycat.cache.fingerprint import package_signature, stat_signature

    modules = (identify, extensions, interpreters)
    return json.dumps([package_signature(), *(stat_signature(m.__file__ or "") for m in modules)])


class Choices:
    """Which of the vouched files each set of filters chose, for one listing (``key``).

    On disk (``<state dir>/file-choices``), JSON: ``{"key": ..., "chosen": {filters:
    "all" | "none" | base64 of the zlib-compressed bytes, 1 for each file chosen}}``;
    another listing's, or a damaged file, holds nothing for this one.
    """

    def __init__(
        self,
        path: str,
        key: str,
        candidates: Sequence[str],
        vouched: list[str],
        others: list[str],
        chosen: dict[str, str],
    ) -> None:
        self.path = path
        self.key = key
        self.candidates = candidates
        self.vouched = vouched
        self.others = others
        self._chosen = chosen
        self._changed = False

    @classmethod
    def read(
        cls, path: str, key: str, candidates: Sequence[str], vouched: list[str], others: list[str]
    ) -> Choices:
        chosen: dict[str, str] = {}
        try:
            with open(path, "rb") as f:
                data = json.loads(f.read())
            if isinstance(data, dict) and data.get("key") == key:
                found = data.get("chosen")
                if isinstance(found, dict) and all(isinstance(v, str) for v in found.values()):
                    chosen = found
        except (OSError, ValueError):
            pass
        return cls(path, key, candidates, vouched, others, chosen)

    def get(self, filters: str) -> list[str] | None:
        """The vouched files ``filters`` chose, in order; None when not remembered."""
        mark = self._chosen.get(filters)
        if mark is None:
            return None
        if mark == "all":
            return self.vouched
        if mark == "none":
            return []
        try:
            bits = zlib.decompress(base64.b64decode(mark, validate=True))
        except (ValueError, zlib.error):
            return None
        if len(bits) != len(self.vouched):
            return None
        return [name for name, bit in zip(self.vouched, bits) if bit]

    def put(self, filters: str, chosen: Sequence[str]) -> None:
        if len(chosen) == len(self.vouched):
            mark = "all"
        elif not chosen:
            mark = "none"
        else:
            kept = set(chosen)
            bits = bytes(name in kept for name in self.vouched)
            mark = base64.b64encode(zlib.compress(bits)).decode()
        self._chosen[filters] = mark
        self._changed = True

    def save(self) -> None:
        if not self._changed:
            return
        data = json.dumps({"key": self.key, "chosen": self._chosen}).encode()
        _write_atomically(self.path, data)
        self._changed = False
