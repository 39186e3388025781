"""What other files need of a file (its summary: summary_types.FileSummary), kept on disk.

A run of ``torchmode check`` over a project analyses each file it reports on, and, to know how
the functions it imports behave and how its own functions are called, the files it imports and
the files that import it (their summaries). A second run over an unchanged project finds those
summaries here instead of analysing those files again. Findings are never kept: each file
reported on is analysed afresh, with what it reads of the others from here.

An entry is keyed by the file's content (SHA-256 of its bytes), the content of each project file
whose summary went into it (its imports, through any depth), and the folder it sits in, which
names the torchmode version and the code that computed it (``folder_tag``). When one of those
files changed, the entry still holds if that file's summary did not (a comment, a constant, a
function nobody imports): it keeps the digest of each one's summary too, and the run computes
the changed file's summary, which it needs anyway, to compare. It is plain JSON of the
summary's own classes, read back through an allow-list: the cache folder sits in the user's
project, and reading it must never run anything (no pickle). A file that cannot be read, parsed
or understood is a miss. Writes go to a temporary file renamed over the entry, so concurrent
runs (``-j``, two terminals, pre-commit and an editor) never see half an entry; the last
writer wins, and both wrote the same thing.
"""

from __future__ import annotations

import contextlib
import dataclasses
import enum
import hashlib
import json
import os
import tempfile
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from torchmode.engine.values import Mode

# The cache folder's marks, as ruff's and other tools' caches have them: backup tools skip a
# folder with CACHEDIR.TAG, and git ignores everything in it.
CACHEDIR_TAG = (
    "Signature: 8a477f597d28d172789f06886806bc55\n"
    "# This file is a cache directory tag created by torchmode.\n"
    "# For information about cache directory tags see https://bford.info/cachedir/\n"
)
_SCHEMA = 3

# (real path, content digest or None: unreadable, digest of its summary or None: not known)
Imported = tuple[tuple[str, str | None, str | None], ...]


def content_digest(path: Path | str) -> str | None:
    """SHA-256 of the file's bytes (None: it cannot be read), remembered while its size and
    modification time are unchanged (within ``files_unchanged``: once read)."""
    name = str(path)
    unchanged = _UNCHANGED
    if unchanged is not None and name in unchanged:
        return unchanged[name]
    digest = _content_digest(name)
    if unchanged is not None:
        unchanged[name] = digest
    return digest


def _content_digest(name: str) -> str | None:
    try:
        stat = os.stat(name)
    except OSError:
        return None
    key = (name, stat.st_size, stat.st_mtime_ns)
    with _LOCK:
        known = _DIGESTS.get(key)
    if known is not None:
        return known
    try:
        with open(name, "rb") as file:
            digest = hashlib.sha256(file.read()).hexdigest()
    except OSError:
        return None
    with _LOCK:
        _DIGESTS[key] = digest
    return digest


@contextlib.contextmanager
def files_unchanged() -> Iterator[None]:
    """Within: the files on disk do not change (a batch run that writes nothing), so each
    file's digest is computed once, without looking at the file again at each use."""
    global _UNCHANGED
    before, _UNCHANGED = _UNCHANGED, {}
    try:
        yield
    finally:
        _UNCHANGED = before


_LOCK = threading.Lock()
_DIGESTS: dict[tuple[str, int, int], str] = {}
_UNCHANGED: dict[str, str | None] | None = None


def text_digest(text: str) -> str:
    """The digest of a text as ``content_digest`` gives it for a UTF-8 file holding it."""
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


def folder_tag(version: str, package: Path) -> str:
    """The name of the cache's subfolder for this torchmode: its version and a fingerprint of
    its own source files (a development checkout changes without a new version)."""
    files = sorted(package.rglob("*.py"))
    fingerprint = hashlib.sha256()
    for file in files:
        try:
            stat = file.stat()
        except OSError:
            continue
        fingerprint.update(
            f"{file.relative_to(package)}\0{stat.st_size}\0{stat.st_mtime_ns}\n".encode()
        )
    return f"{version}-{fingerprint.hexdigest()[:12]}"


class SummaryStore:
    """The summaries kept under ``folder`` (a versioned subfolder of a project's cache)."""

    def __init__(self, folder: Path, classes: dict[str, type]) -> None:
        self.folder = folder
        self.classes = classes  # what an entry may hold, by name
        self._writable = True

    def get(
        self, path: Path, digest: str, digest_now: Callable[[Path], str] | None = None
    ) -> tuple[Imported, Any, str | None] | None:
        """The summary of ``path`` with this content, and what it imported, if kept and still
        true: every file it imported has the content it had, or the same summary (the digest
        of its summary now: ``digest_now``); and the digest of the summary itself, as
        ``summary_digest`` gave it when it was kept (None: not known)."""
        try:
            data = json.loads(self._entry(path).read_text("utf-8"))
            if (
                data.get("schema") != _SCHEMA
                or data.get("path") != str(path)
                or data.get("digest") != digest
            ):
                return None
            imported: Imported = tuple(
                (str(p), _optional(d), _optional(s)) for p, d, s in data["imported"]
            )
            summary = decode(data["summary"], self.classes)
            own = _optional(data.get("own"))
        except (OSError, ValueError, KeyError, TypeError, AttributeError):
            return None
        for other, known, summarised in imported:
            if content_digest(other) == known:
                continue
            if digest_now is None or summarised is None:
                return None
            if digest_now(Path(other)) != summarised:
                return None
        return imported, summary, own

    def put(self, path: Path, digest: str, imported: Imported, summary: object, own: str) -> None:
        """Keep ``summary`` of ``path`` (content ``digest``), with what it imported and its
        own ``summary_digest``."""
        if not self._writable:
            return
        entry = self._entry(path)
        data = {
            "schema": _SCHEMA,
            "path": str(path),
            "digest": digest,
            "imported": [list(pair) for pair in imported],
            "summary": encode(summary),
            "own": own,
        }
        try:
            self._prepare(entry.parent)
            fd, temporary = tempfile.mkstemp(dir=entry.parent, prefix=".entry-", suffix=".tmp")
            try:
                with os.fdopen(fd, "w", encoding="utf-8") as out:
                    json.dump(data, out, separators=(",", ":"))
                os.replace(temporary, entry)
            except BaseException:
                Path(temporary).unlink(missing_ok=True)
                raise
        except OSError:
            self._writable = False  # a read-only checkout: the run goes on without a cache

    def _entry(self, path: Path) -> Path:
        name = hashlib.sha256(str(path).encode("utf-8", "surrogatepass")).hexdigest()[:40]
        return self.folder / "summaries" / name[:2] / f"{name}.json"

    def _prepare(self, folder: Path) -> None:
        if folder.is_dir():
            return
        top = self.folder.parent
        top.mkdir(parents=True, exist_ok=True)
        for name, text in (("CACHEDIR.TAG", CACHEDIR_TAG), (".gitignore", "*\n")):
            mark = top / name
            if not mark.exists():
                mark.write_text(text, encoding="utf-8")
        folder.mkdir(parents=True, exist_ok=True)


def _optional(value: object) -> str | None:
    return None if value is None else str(value)


def summary_digest(summary: object) -> str:
    """A digest of a summary's value, the same in every process (sets and dicts in a fixed
    order): equal summaries, equal digests."""
    canonical = json.dumps(_canonical(encode(summary)), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8", "surrogatepass")).hexdigest()


def _canonical(data: Any) -> Any:
    if isinstance(data, list):
        return [_canonical(item) for item in data]
    if not isinstance(data, dict):
        return data
    if len(data) == 1 and ("frozenset" in data or "dict" in data):
        ((kind, items),) = data.items()
        ordered = sorted((_canonical(item) for item in items), key=_text)
        return {kind: ordered}
    return {key: _canonical(value) for key, value in data.items()}


def _text(data: Any) -> str:
    return json.dumps(data, sort_keys=True, separators=(",", ":"))


_STORES: dict[str, SummaryStore] = {}


def store_at(folder: str, classes: dict[str, type]) -> SummaryStore:
    with _LOCK:
        store = _STORES.get(folder)
        if store is None:
            store = _STORES[folder] = SummaryStore(Path(folder), classes)
        return store


# -- JSON of the summary's classes ---------------------------------------------------------------
def encode(value: object) -> Any:
    """Plain JSON: containers tagged by kind, the summary's dataclasses by name and fields."""
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, enum.Enum):
        assert isinstance(value, Mode)
        return {"mode": value.value}
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {
            "class": type(value).__name__,
            "fields": {
                f.name: encode(getattr(value, f.name)) for f in dataclasses.fields(value) if f.init
            },
        }
    if isinstance(value, tuple):
        return {"tuple": [encode(v) for v in value]}
    if isinstance(value, frozenset):
        return {"frozenset": [encode(v) for v in value]}
    if isinstance(value, dict):
        return {"dict": [[encode(k), encode(v)] for k, v in value.items()]}
    raise TypeError(f"not a summary value: {type(value).__name__}")


def decode(data: Any, classes: dict[str, type]) -> Any:
    """The value ``encode`` wrote; only the classes named in ``classes`` are ever built."""
    if data is None or isinstance(data, bool | int | float | str):
        return data
    if not isinstance(data, dict) or len(data) not in (1, 2):
        raise ValueError("not an encoded summary value")
    if "mode" in data:
        return Mode(data["mode"])
    if "class" in data:
        kind = classes[data["class"]]  # KeyError: not one of ours
        fields = {name: decode(v, classes) for name, v in data["fields"].items()}
        return kind(**fields)
    if "tuple" in data:
        return tuple(decode(v, classes) for v in data["tuple"])
    if "frozenset" in data:
        return frozenset(decode(v, classes) for v in data["frozenset"])
    if "dict" in data:
        return {decode(k, classes): decode(v, classes) for k, v in data["dict"]}
    raise ValueError("not an encoded summary value")
