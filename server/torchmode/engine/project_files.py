"""The files of a project as the analysis reads them: where an import resolves, a file's text,
what a summary of it is computed from (its stamp), and what is kept of the open documents
being edited (their parse caches)."""

from __future__ import annotations

import functools
import io
import os
import re
import threading
import tokenize
from collections import OrderedDict
from collections.abc import Hashable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from stat import S_ISREG

import libcst as cst

from torchmode.engine.callers import import_words
from torchmode.engine.chunks import ChunkCache
from torchmode.engine.facts import Facts
from torchmode.engine.summary_store import files_unchanged
from torchmode.engine.wrappers import turns_grad_off

# An editor's open documents, by path (``str(Path)``, as the project's files are found): a
# version (anything comparable and picklable that changes whenever the text does, even across
# closing and opening again) and the text, read instead of the file on disk. The adapter's
# snapshot: never mutated.
Overlay = Mapping[str, tuple[Hashable, str]]
# What a summary was computed from, for one file (``stamp_of``): the buffer or the file on disk
Stamp = tuple[object, ...]

_LOCK = threading.Lock()


@functools.lru_cache(maxsize=16384)
def other_module_file(root: str, importer: str, module: str, level: int) -> Path | None:
    """The file ``importer`` imports ``module`` from, unless that is ``importer`` itself (asked
    for at every name a file uses: the paths are made once per question)."""
    source = module_file(Path(root), Path(importer), module, level)
    if source is None or os.path.realpath(source) == os.path.realpath(importer):
        return None
    return source


@functools.lru_cache(maxsize=4096)
def module_file(root: Path, importer: Path, module: str, level: int) -> Path | None:
    parts = [p for p in module.split(".") if p]
    if level:
        base = importer.parent
        for _ in range(level - 1):
            base = base.parent
        bases = [base]
    else:
        # the script's folder, the project root, and ``src/`` (the packaging layout whose
        # scripts put it on ``sys.path``, or run once it is installed)
        bases = [importer.parent, root, root / "src"]
    for base in bases:
        target = base.joinpath(*parts) if parts else base
        for candidate in (target.with_suffix(".py"), target / "__init__.py"):
            if parts and candidate.is_file():
                return candidate
    return None


@dataclass
class Buffer:
    """What is kept of an open document summarised lately: its parse cache, so that an edit
    re-parses (and re-analyses) only the statements it changed, and which of its unchanged
    functions turn grad off as decorators (walking every function's tree is most of the
    time of summarising a big file again)."""

    cache: ChunkCache = field(default_factory=ChunkCache)
    imports: object = None  # the import table the verdicts below were reached with
    grad_off: dict[int, tuple[cst.FunctionDef, bool]] = field(default_factory=dict)
    # the verdicts of the summary being computed: only they are kept (``settle``), not the
    # trees of functions edited since
    fresh: dict[int, tuple[cst.FunctionDef, bool]] = field(default_factory=dict)

    def turns_grad_off(self, node: cst.FunctionDef, facts: Facts) -> bool:
        imports = tuple(sorted(facts.imports.names.items()))
        if imports != self.imports:
            self.imports, self.grad_off = imports, {}
        known = self.grad_off.get(id(node))
        if known is None or known[0] is not node:
            known = (node, turns_grad_off(node, facts.imports))
        self.fresh[id(node)] = known
        return known[1]

    def settle(self) -> None:
        self.grad_off, self.fresh = self.fresh, {}


# The open documents summarised last (an editor's, the few being edited).
_BUFFERS: OrderedDict[Path, Buffer] = OrderedDict()


KEPT_BUFFERS = 4


# While a batch run that writes no file goes on, what each file's stamp on disk is (a cached
# summary is checked against the stamps of every file it read, each time it is used).
_UNCHANGED_DISK: dict[str, Stamp | None] | None = None


@contextmanager
def disk_unchanged() -> Iterator[None]:
    """Within: the files on disk do not change (``torchmode check`` without ``--fix``), so each
    file's size and modification time are read once, not at each use of a summary."""
    global _UNCHANGED_DISK
    before, _UNCHANGED_DISK = _UNCHANGED_DISK, {}
    try:
        with files_unchanged():
            yield
    finally:
        _UNCHANGED_DISK = before


def stamp_of(path: Path | str, overlay: Overlay | None) -> Stamp | None:
    """What the summary of ``path`` is computed from: its open buffer's version, else its size
    and modification time on disk; None if it cannot be read. Plain data, the same in another
    process (the editor's analysis process hands summaries back: ``kept``)."""
    key = str(path)
    buffer = overlay.get(key) if overlay is not None else None
    if buffer is not None:
        version, text = buffer
        return ("buffer", len(text), version)
    known = _UNCHANGED_DISK
    if known is not None and key in known:
        return known[key]
    try:
        stat = os.stat(key)
    except OSError:
        stamp = None
    else:
        stamp = ("disk", stat.st_size, stat.st_mtime_ns)
    if known is not None:
        known[key] = stamp
    return stamp


def stamp_size(stamp: Stamp) -> int:
    size = stamp[1]
    assert isinstance(size, int)
    return size


_BUFFER_WORDS: OrderedDict[str, tuple[Hashable, frozenset[str]]] = OrderedDict()


def buffer_import_words(path: str, version: Hashable, text: str) -> frozenset[str]:
    """``import_words`` of an open document's buffer, kept for its version."""
    with _LOCK:
        kept = _BUFFER_WORDS.get(path)
        if kept is not None and kept[0] == version:
            _BUFFER_WORDS.move_to_end(path)
            return kept[1]
    words = import_words(text)
    with _LOCK:
        _BUFFER_WORDS[path] = (version, words)
        while len(_BUFFER_WORDS) > 64:
            _BUFFER_WORDS.popitem(last=False)
    return words


def subclasses_named(text: str, cls: str) -> bool:
    """Whether a class statement of ``text`` names ``cls`` among its bases (before the
    summary of that file, which costs its whole analysis, is asked for them)."""
    return re.search(rf"\bclass\s+\w+[^:]*\b{re.escape(cls)}\b", text) is not None


def read_source(path: Path) -> str | None:
    try:
        if not S_ISREG(path.stat().st_mode):
            return None  # a fifo named like a module would block the read for ever
        data = path.read_bytes()
    except OSError:
        return None
    try:
        encoding, _ = tokenize.detect_encoding(io.BytesIO(data).readline)
    except SyntaxError:
        encoding = "utf-8"
    try:
        return data.decode(encoding).replace("\r\n", "\n")
    except (UnicodeDecodeError, LookupError):
        return None


def buffer_of(path: Path) -> Buffer:
    with _LOCK:
        buffer = _BUFFERS.pop(path, None) or Buffer()
        _BUFFERS[path] = buffer
        while len(_BUFFERS) > KEPT_BUFFERS:
            _BUFFERS.popitem(last=False)
        return buffer


def forget_buffers(paths: Iterable[str]) -> None:
    """What is kept of these documents goes (closed in the editor, or changed on disk)."""
    with _LOCK:
        for path in paths:
            _BUFFERS.pop(Path(path), None)
