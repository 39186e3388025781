"""What a function of another file of the project does to the models it is given.

``from eval import eval_net`` then ``eval_net(net, val)`` in a training loop: whether ``net`` is
still in train mode after the call is decided in ``eval.py``. The file that imports it is
analysed with a summary of each imported project function: the modes it leaves its parameters
in, the grad mode it leaves, and the modes its parameters are in where it trains them. Summaries
are computed by analysing the other file alone (one level: its own imports are not followed)
and kept per file while its size and modification time are unchanged.

An editor's open documents take precedence over the files on disk (``ProjectContext.overlay``:
unsaved changes count); a summary is kept while what it was computed from is unchanged: the
file's open buffer (its version) or its size and modification time on disk, and those of
the files it imports itself.

Imports resolve as Python resolves them for a script run from its folder or a package under the
project root or its ``src/`` folder: ``from eval import f`` looks for ``eval.py`` (or
``eval/__init__.py``) beside the importing file, then under the root, then under ``src/`` (the
``src`` layout, whose scripts put it on ``sys.path``); ``from .eval import f`` inside the
importing package.
"""

from __future__ import annotations

import dataclasses
import hashlib
import os
import sys
import threading
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from torchmode.engine.accumulation import Accumulator, KeptArgument
from torchmode.engine.callers import (
    CallSite,
    RepeatedCall,
    importers,
    imports_digest,
    listing_digest,
    listings_outdated,
    module_word,
)
from torchmode.engine.chunks import ChunkCache, parse_chunks
from torchmode.engine.collection import collection_paused
from torchmode.engine.fact_collection import collect_facts
from torchmode.engine.flow import FileFlow
from torchmode.engine.limits import refusal
from torchmode.engine.project_files import (
    Overlay,
    Stamp,
    buffer_import_words,
    buffer_of,
    forget_buffers,
    leave_parsed,
    module_file,
    other_module_file,
    read_source,
    stamp_of,
    stamp_size,
    subclasses_named,
    take_parsed,
)
from torchmode.engine.summarising import summary_of
from torchmode.engine.summary_store import (
    Imported,
    SummaryStore,
    content_digest,
    store_at,
    summary_digest,
)
from torchmode.engine.summary_types import (
    ExternalFunction,
    FileSummary,
    Inside,
    ParamEffect,
    Subclass,
)
from torchmode.engine.values import CallerSite, Mode

MAX_SOURCE_BYTES = 2_000_000  # a bigger module is not analysed for its summaries
# A module imported by more files than this is a helper of the whole project: its functions'
# callers are not looked for (each importer would be analysed first, a second or more per
# hundred lines, before the module itself; an editor opening it would wait that long).
MAX_IMPORTERS = 64
# How many files of callers a function's entry is read through (``train.py`` calls ``fit()``,
# which calls ``evaluate()``, which calls ``predict()``: three)
MAX_CHAIN = 4


@dataclass(frozen=True)
class ProjectContext:
    """The file being analysed and the root of the project it belongs to (picklable: it is
    sent to the CLI's worker processes inside the settings)."""

    root: str
    path: str
    overlay: Overlay | None = field(default=None, compare=False, repr=False)
    # open documents import this one: its analysis gives them its summary (``offer``)
    gives_summary: bool = field(default=False, compare=False)
    # the file being checked: its functions' callers in other files are looked for. False: a
    # file read for another's sake, whose calls into other files are recorded instead
    main: bool = True
    # where the other files' summaries are kept between runs (summary_store.py; None: not kept)
    cache_dir: str | None = field(default=None, compare=False)

    def function_file(self, qualified: str) -> str | None:
        """The real path of the other project file ``qualified`` (``eval.eval_net``, relative
        ones included) names a function of, if it does."""
        stripped = qualified.lstrip(".")
        module = stripped.rpartition(".")[0]
        source = self._source(module, len(qualified) - len(stripped))
        return os.path.realpath(source) if source is not None else None

    def callers(
        self, names: set[str], consulted: set[str] | None = None
    ) -> dict[str, list[CallSite] | None]:
        """The calls to each of this file's functions ``names`` from the other files of the
        project (None: some caller is not known; an empty list: none calls it). A call made
        with gradients as its own function was entered is read in terms of that function's
        callers, through files (``MAX_CHAIN``); ``consulted`` collects the files read beyond
        this one's importers (what the answer depends on too)."""
        return self._callers(names, 0, {}, consulted if consulted is not None else set())

    def _callers(
        self,
        names: set[str],
        depth: int,
        entered: dict[tuple[str, str], frozenset[tuple[bool | None, CallerSite | None]] | None],
        consulted: set[str],
    ) -> dict[str, list[CallSite] | None]:
        files = self._importers()
        if files is None or len(files) > MAX_IMPORTERS:
            return dict.fromkeys(names)
        real = os.path.realpath(self.path)
        out: dict[str, list[CallSite] | None] = {name: [] for name in names}
        # notebooks first: one that names a function leaves its callers unknown (a notebook
        # is not read here), and the files that call it need not be analysed then
        for file in sorted(files, key=lambda f: (not f.endswith(".ipynb"), f)):
            if os.path.realpath(file) == real:
                continue
            text = self._text_of(file)
            if text is None:
                continue
            mentioned = [name for name in names if out[name] is not None and name in text]
            if not mentioned:
                continue
            if depth and file.endswith(".py"):
                consulted.add(file)
            notebook = file.endswith(".ipynb")
            summary = (
                _NOTHING
                if notebook
                else _summary(Path(file), self.root, self.overlay, self.cache_dir)
            )
            for name in mentioned:
                found = out[name]
                if found is None:
                    continue
                known = summary.analysed and real not in summary.unknown_targets
                in_text, elsewhere = summary.references.get((real, name), (0, 0))
                if (
                    not known
                    or elsewhere
                    or in_text != summary.direct_calls.get((real, name), 0)
                    # a package re-exporting it: its importers are the callers
                    or ((real, name) in summary.imported and file.endswith("__init__.py"))
                ):
                    out[name] = None
                    continue
                found.extend(
                    self._through(site, file, depth, entered, consulted)
                    for site in summary.calls.get((real, name), ())
                )
        return out

    def _through(
        self,
        site: CallSite,
        file: str,
        depth: int,
        entered: dict[tuple[str, str], frozenset[tuple[bool | None, CallerSite | None]] | None],
        consulted: set[str],
    ) -> CallSite:
        """``site``, made in ``file`` with gradients as its function was entered there: with
        the grad modes that function's own callers enter it in (unknown stays unknown)."""
        if not site.caller or (None, None) not in site.grad or depth + 1 >= MAX_CHAIN:
            return site
        key = (os.path.realpath(file), site.caller)
        if key not in entered:
            entered[key] = None  # a cycle of calls reaching it again: not known there
            context = ProjectContext(self.root, file, self.overlay, False, False, self.cache_dir)
            sites = context._callers({site.caller}, depth + 1, entered, consulted)[site.caller]
            joined = frozenset(g for s in sites or () for g in s.grad)
            if sites is not None and not sites:
                # nothing in the project calls it (every importer read): an entry point, run
                # with gradients on, as a function nobody calls is analysed
                joined = frozenset({(True, None)})
            # one grad mode on every path in: gradients on or off there, as the caller's own
            # code would set them (several: each path would need its own entry, which a
            # joined one is not, so the call stays as its function was entered)
            if len({enabled for enabled, _ in joined}) == 1 and (None, None) not in joined:
                entered[key] = joined
        grad = entered[key]
        if grad is None:
            return site
        # the value is set beyond the calling file: the call is where it comes in
        passed = {(enabled, site.here if enabled is not None else None) for enabled, _ in grad}
        return dataclasses.replace(site, grad=(site.grad - {(None, None)}) | passed)

    def repeated(self, names: set[str], consulted: set[str]) -> dict[str, list[RepeatedCall]]:
        """The calls to this file's functions and class methods ``names`` (``f``,
        ``Class.method``) that other files of the project make inside a loop, through a
        package's ``__init__.py`` that re-exports them too; ``consulted`` collects the files
        read. Only what is known: a caller out of sight is not among them."""
        out: dict[str, list[RepeatedCall]] = {name: [] for name in names}
        self._repeated(names, out, 0, consulted)
        return out

    def _repeated(
        self, names: set[str], out: dict[str, list[RepeatedCall]], depth: int, consulted: set[str]
    ) -> None:
        files = self._importers()
        if files is None or len(files) > MAX_IMPORTERS:
            return
        real = os.path.realpath(self.path)
        for file in sorted(files):
            if not file.endswith(".py") or os.path.realpath(file) == real or file in consulted:
                continue
            text = self._text_of(file)
            if text is None:
                continue
            # the function, or the class whose method it is, is named there
            mentioned = {name for name in names if name.partition(".")[0] in text}
            if not mentioned:
                continue
            consulted.add(file)
            summary = _summary(Path(file), self.root, self.overlay, self.cache_dir)
            for name in mentioned:
                out[name].extend(summary.repeated.get((real, name), ()))
            exported = {n for n in mentioned if (real, n.partition(".")[0]) in summary.imported}
            if exported and file.endswith("__init__.py") and depth + 1 < MAX_CHAIN:
                # ``from .gan import GAN`` in a package: its importers name it by the package
                package = ProjectContext(
                    self.root, file, self.overlay, False, False, self.cache_dir
                )
                package._repeated(exported, out, depth + 1, consulted)

    def importing_files(self) -> tuple[str, ...]:
        """The other ``.py`` files of the project whose imports name this file's module, where
        ``callers`` looks: what its functions' entry depends on, so an editor analyses this
        file again when one of them changes. (A notebook that names one of its functions
        leaves that function's callers unknown whatever else it does.)"""
        real = os.path.realpath(self.path)
        files = self._importers() or ()
        return tuple(
            file
            for file in (files if len(files) <= MAX_IMPORTERS else ())
            if file.endswith(".py") and os.path.realpath(file) != real
        )

    def _importers(self) -> list[str] | None:
        word = module_word(self.path)
        files = importers(self.root, word)
        if files is None or not self.overlay:
            return files
        # an open document's imports are those of its buffer, saved or not
        found = dict.fromkeys(files)
        inside = os.path.join(self.root, "")
        for path, (version, text) in self.overlay.items():
            if path.startswith(inside) and path.endswith(".py"):
                if word in buffer_import_words(path, version, text):
                    found[path] = None
                else:
                    found.pop(path, None)
        return list(found)

    def _text_of(self, file: str) -> str | None:
        """A project file's text: its open buffer's in an editor, else the disk's (None:
        unreadable)."""
        opened = self.overlay.get(file) if self.overlay is not None else None
        if opened:
            return opened[1]
        try:
            return Path(file).read_text("utf-8", errors="replace")
        except OSError:
            return None

    def subclasses(self, cls: str) -> tuple[Subclass, ...]:
        """The subclasses of this file's class ``cls`` in the files that import this one
        (overrides.py)."""
        real = os.path.realpath(self.path)
        found: list[Subclass] = []
        for file in self.importing_files():
            text = self._text_of(file)
            if text is None:
                continue
            if cls not in text or not subclasses_named(text, cls):
                continue
            summary = _summary(Path(file), self.root, self.overlay, self.cache_dir)
            found.extend(sub for sub in summary.subclasses if (real, cls) in sub.bases)
        return tuple(found)

    def defines(self, qualified: str) -> bool:
        """Whether ``qualified`` (``models.unet.UNet``) names something in a file of the
        project rather than in an installed package."""
        stripped = qualified.lstrip(".")
        level = len(qualified) - len(stripped)
        module = stripped.rpartition(".")[0]
        return module_file(Path(self.root), Path(self.path), module, level) is not None

    def _defining(self, qualified: str) -> tuple[FileSummary, str] | None:
        """The summary of the other project file ``qualified`` (``eval.eval_net``,
        ``..model.VSE``) names something of, and that thing's name there."""
        stripped = qualified.lstrip(".")
        module, _, name = stripped.rpartition(".")
        source = self._source(module, len(qualified) - len(stripped))
        if source is None:
            return None
        return _summary(source, self.root, self.overlay, self.cache_dir), name

    def lookup(self, qualified: str) -> ExternalFunction | None:
        """The summary of the function ``qualified`` (``eval.eval_net``, or ``..eval.eval_net``
        for a relative import) as imported by this file."""
        found = self._defining(qualified)
        return found[0].functions.get(found[1]) if found is not None else None

    def method(self, qualified: str, method: str) -> ExternalFunction | None:
        """The summary of ``method`` of the plain or module class ``qualified`` (``model.VSE``)
        of another file of the project, ``self`` its first parameter, if it switches or trains
        attributes of ``self`` or returns a value with its graph."""
        found = self._defining(qualified)
        methods = found[0].methods.get(found[1]) if found is not None else None
        return methods.get(method) if methods is not None else None

    def held_module(self, qualified: str, attr: str) -> tuple[str, bool | None] | None:
        """The module the plain class ``qualified`` of another file of the project holds as
        ``self.<attr>``: its class (as that file names it) and whether it has mode-dependent
        layers (None: it holds no such module, as far as its file shows)."""
        found = self._defining(qualified)
        held = found[0].held_modules.get(found[1]) if found is not None else None
        return held.get(attr) if held is not None else None

    def constructor_children(
        self, qualified: str
    ) -> tuple[tuple[str, ...], tuple[tuple[str, str], ...]] | None:
        """The constructor parameters of the module class ``qualified`` of another file of
        the project, and those it keeps as attributes of ``self`` (None: it keeps none)."""
        found = self._defining(qualified)
        return found[0].constructor_children.get(found[1]) if found is not None else None

    def held_modules(self, qualified: str) -> dict[str, tuple[str, bool | None]]:
        """Every module the plain class ``qualified`` of another file of the project holds, by
        attribute of ``self`` (``held_module`` for each)."""
        found = self._defining(qualified)
        held = found[0].held_modules.get(found[1]) if found is not None else None
        return dict(held) if held is not None else {}

    def switching_method(self, qualified: str, attr: str, mode: Mode) -> str | None:
        """A method of the plain class ``qualified`` of another file of the project, called
        without arguments, that switches ``self.<attr>`` to ``mode`` and only switches modes
        (``VSE.train_start``); of several, the one switching the most modules."""
        defining = self._defining(qualified)
        if defining is None:
            return None
        methods = defining[0].methods.get(defining[1], {})
        found = [
            (-len(summary.exit_modes), method)
            for method, summary in methods.items()
            if summary.params == ("self",)
            and not summary.trains
            and all(e.param == "self" and e.mode is mode for e in summary.exit_modes)
            and any(e.suffix == "." + attr for e in summary.exit_modes)
        ]
        return min(found)[1] if found else None

    def accumulator(self, qualified: str, method: str) -> Accumulator | None:
        """What ``method`` of the class ``qualified`` of another file of the project keeps of
        its arguments in its object's attributes, if anything."""
        found = self._defining(qualified)
        kept = found[0].accumulators.get(found[1]) if found is not None else None
        return kept.get(method) if kept is not None else None

    def is_module_class(self, qualified: str) -> bool:
        """Whether the class ``qualified`` (``._base.Distiller``) of another file of the project
        is an ``nn.Module`` (through its own bases, in its own file's terms)."""
        return self._module_class(qualified) is not None

    def class_sensitivity(self, qualified: str) -> bool | None:
        """Whether that class has layers that behave differently in eval mode (None: it is
        not a module class of the project, or that is not known)."""
        found = self._module_class(qualified)
        return found[1] if found is not None else None

    def module_classes_of(self, module: str) -> dict[str, bool | None]:
        """The nn.Module classes of the project module ``module`` (``.parts``), with whether
        each has mode-dependent layers: what ``from module import *`` brings in."""
        stripped = module.lstrip(".")
        source = self._source(stripped, len(module) - len(stripped))
        if source is None:
            return {}
        return _summary(source, self.root, self.overlay, self.cache_dir).module_classes

    def _module_class(self, qualified: str) -> tuple[str, bool | None] | None:
        found = self._defining(qualified)
        if found is None:
            return None
        classes, name = found[0].module_classes, found[1]
        return (name, classes[name]) if name in classes else None

    def stamp(self, imported: Iterable[str]) -> tuple[tuple[str, Stamp | None], ...]:
        """The other files of the project these imported names (``eval.eval_net``, ``models``,
        ``.parts``) may come from, each with what its summary is computed from now: an
        analysis that reused its work while this is unchanged reads the same summaries (and
        an editor re-analyses a file when one of these changes)."""
        paths: set[Path] = set()
        for qualified in imported:
            stripped = qualified.lstrip(".")
            level = len(qualified) - len(stripped)
            # ``import models`` or ``from pkg import module``: a module; ``from m import f``: f
            # in the module m
            for module in {stripped, stripped.rpartition(".")[0]}:
                source = self._source(module, level)
                if source is not None:
                    paths.add(source)
        return tuple((str(path), stamp_of(path, self.overlay)) for path in sorted(paths))

    def summaries(self, paths: Iterable[str]) -> tuple[FileSummary, ...]:
        """What these files of the project (``stamp``'s paths) give the files that import
        them, now: while it is equal, so is the analysis of a file that imports them."""
        return tuple(
            _summary(Path(path), self.root, self.overlay, self.cache_dir) for path in paths
        )

    def reading(self, paths: Iterable[str]) -> str:
        """A digest of what an analysis of this file that read the files ``paths`` (its
        ``depends_on``) read of the project: their summaries now, and the import graph, which
        says what other files may call its functions. While it is equal, that analysis
        stands: a batch run keeps its result between runs on it."""
        digest = hashlib.sha256(imports_digest(self.root).encode())
        for path in paths:
            summary = _summary(Path(path), self.root, self.overlay, self.cache_dir)
            digest.update(f"\n{path}\0{_digest_of(summary)}".encode("utf-8", "surrogatepass"))
        return digest.hexdigest()

    def _source(self, module: str, level: int) -> Path | None:
        if not module and not level:
            return None
        return other_module_file(self.root, self.path, module, level)


# ---------------------------------------------------------------------------------------------


_NOTHING = FileSummary()
_LOCK = threading.Lock()
# per file: its stamp, those of the files it imports (their summaries went into its own), and
# its summary
_CACHE: dict[Path, tuple[Stamp, tuple[tuple[str, Stamp | None], ...], FileSummary]] = {}
_IN_PROGRESS: set[Path] = set()


def _summary(
    path: Path, root: str, overlay: Overlay | None = None, cache_dir: str | None = None
) -> FileSummary:
    stamp = stamp_of(path, overlay)
    if stamp is None:
        return _NOTHING
    with _LOCK:
        cached = _CACHE.get(path)
    if (
        cached is not None
        and cached[0] == stamp
        and all(stamp_of(p, overlay) == s for p, s in cached[1])
    ):
        return cached[2]
    # a file on disk: kept between runs by its content (an open buffer is the editor's)
    store = store_at(cache_dir, _STORED) if cache_dir is not None and stamp[0] == "disk" else None
    digest = _cache_key(path, root) if store is not None else None
    if store is not None and digest is not None:
        kept_there = _kept(store, path, digest, root, overlay, cache_dir)
        if kept_there is not None and isinstance(kept_there[1], FileSummary):
            stamps = tuple((p, stamp_of(p, overlay)) for p, _, _ in kept_there[0])
            with _LOCK:
                _CACHE[path] = (stamp, stamps, kept_there[1])
                if kept_there[2] is not None:
                    _DIGESTS[id(kept_there[1])] = (kept_there[1], kept_there[2])
            return kept_there[1]
    with _LOCK:
        if path in _IN_PROGRESS or stamp_size(stamp) > MAX_SOURCE_BYTES:
            return _NOTHING  # an import cycle: what is being summarised is not known yet
        _IN_PROGRESS.add(path)
    try:
        summarised = _summarise(path, root, overlay, cache_dir)
    finally:
        with _LOCK:
            _IN_PROGRESS.discard(path)
    found: FileSummary = _NOTHING
    imported: tuple[tuple[str, Stamp | None], ...] = ()
    if summarised is not None:
        found, imported = summarised
    elif cached is not None and stamp[0] == "buffer":
        # Not analysable as it stands (an open document in mid-edit, with a syntax error):
        # what it gave before stands, rather than nothing known for a keystroke or two.
        imported, found = cached[1], cached[2]
    with _LOCK:
        _CACHE[path] = (stamp, imported, found)
    if store is not None and digest is not None and summarised is not None:
        store.put(path, digest, _closure(imported), found, _digest_of(found))
    return found


def _kept(
    store: SummaryStore,
    path: Path,
    digest: str,
    root: str,
    overlay: Overlay | None,
    cache_dir: str | None,
) -> tuple[Imported, object, str | None] | None:
    """The entry kept for ``path``, if it holds; a file it read that changed is summarised now
    to compare, with ``path`` counted as in progress (in an import cycle, the changed file sees
    it as a cold run that started at ``path`` would: not known yet)."""
    with _LOCK:
        if path in _IN_PROGRESS:
            return store.get(path, digest)
        _IN_PROGRESS.add(path)
    try:
        return store.get(
            path, digest, lambda other: _digest_of(_summary(other, root, overlay, cache_dir))
        )
    finally:
        with _LOCK:
            _IN_PROGRESS.discard(path)


def _cache_key(path: Path, root: str) -> str | None:
    """What a summary kept on disk is keyed by: the file's content and which files the project
    has (where its imports resolve)."""
    content = content_digest(path)
    return None if content is None else f"{content}:{listing_digest(root)}"


def _closure(imported: Iterable[tuple[str, Stamp | None]]) -> Imported:
    """The files whose summaries went into a summary, through any depth (a class's bases in a
    third file), each with its content and the digest of its summary now: an entry kept on
    disk holds while either is equal."""
    seen: dict[str, tuple[str | None, str | None]] = {}
    todo = [p for p, _ in imported]
    while todo:
        other = todo.pop()
        if other in seen:
            continue
        with _LOCK:
            entry = _CACHE.get(Path(other))
        summarised = _digest_of(entry[2]) if entry is not None else None
        seen[other] = (content_digest(other), summarised)
        if entry is not None:
            todo.extend(p for p, _ in entry[1])
    return tuple((p, content, summarised) for p, (content, summarised) in sorted(seen.items()))


def _digest_of(summary: FileSummary) -> str:
    """``summary_digest``, once per summary (a widely imported file is in many closures)."""
    with _LOCK:
        known = _DIGESTS.get(id(summary))
    if known is not None and known[0] is summary:
        return known[1]
    digest = summary_digest(summary)
    with _LOCK:
        _DIGESTS[id(summary)] = (summary, digest)
        while len(_DIGESTS) > _KEPT_DIGESTS:
            _DIGESTS.pop(next(iter(_DIGESTS)))
    return digest


_DIGESTS: dict[int, tuple[FileSummary, str]] = {}
_KEPT_DIGESTS = 8192


def offer(project: ProjectContext, file_flow: FileFlow, text: str) -> None:
    """The analysis of ``text``, an open document (``project.path``, in ``project.overlay``)
    that parsed without error, is done: the files that import it take its summary from that
    analysis, not from a second one of the same text, which costs as much again (a big file
    whose facts a keystroke changed is analysed afresh)."""
    overlay = project.overlay
    path = Path(project.path)
    opened = overlay.get(str(path)) if overlay is not None else None
    if opened is None or text != opened[1]:
        return  # another text (a fix being checked), or not an open document
    stamp = stamp_of(path, overlay)
    if stamp is None or stamp_size(stamp) > MAX_SOURCE_BYTES:
        return
    summary, imported = summary_of(file_flow, path, buffer_of(path), text, project.root)
    with _LOCK:
        _CACHE[path] = (stamp, imported, summary)


# What is kept of a file's summary: its stamp, those of the files it imports, the summary.
Kept = tuple[Stamp, tuple[tuple[str, Stamp | None], ...], FileSummary]


def kept(path: str) -> Kept | None:
    """What is kept of the summary of ``path``: plain data, for another process's ``keep``
    (the editor's analysis process summarises the big documents it analyses)."""
    with _LOCK:
        return _CACHE.get(Path(path))


def keep(path: str, entry: Kept) -> None:
    with _LOCK:
        _CACHE[Path(path)] = entry


def files_changed(paths: Iterable[str], created_or_deleted: bool = False) -> None:
    """Files of a project changed on disk, or an editor closed them: their summaries (and
    parse caches) are dropped, and which files import which is read again; after files were
    created or deleted, imports resolve again."""
    paths = list(paths)
    with _LOCK:
        for path in paths:
            _CACHE.pop(Path(path), None)
    forget_buffers(paths)
    listings_outdated()
    if created_or_deleted:
        module_file.cache_clear()
        other_module_file.cache_clear()


def _file_flow(
    text: str, project: ProjectContext, cache: ChunkCache | None = None
) -> FileFlow | None:
    """The other file's flow analysis alone (no rules: only its functions' summaries count)."""
    if refusal(text) is not None or "\x00" in text:
        return None
    limit = sys.getrecursionlimit()
    try:
        with collection_paused():
            sys.setrecursionlimit(max(limit, 20000))
            cache = cache if cache is not None else ChunkCache()
            parsed = parse_chunks(text, cache)
            if not parsed.complete:
                return None
            facts = collect_facts(parsed.chunks, cache.records, project)
            flow = FileFlow(parsed.chunks, facts, cache, project)
            flow.run()
            return flow
    except RecursionError:
        return None
    finally:
        sys.setrecursionlimit(limit)


def _summarise(
    path: Path, root: str, overlay: Overlay | None, cache_dir: str | None
) -> tuple[FileSummary, tuple[tuple[str, Stamp | None], ...]] | None:
    """The summary of ``path`` and the stamps of the project files it imports; None if its
    text cannot be analysed."""
    opened = overlay.get(str(path)) if overlay is not None else None
    text = opened[1] if opened is not None else read_source(path)
    if text is None:
        return _NOTHING, ()
    project = ProjectContext(root, str(path), overlay, main=False, cache_dir=cache_dir)
    buffer = buffer_of(path) if opened is not None else None
    cache = buffer.cache if buffer is not None else take_parsed(str(path), text)
    file_flow = _file_flow(text, project, cache)
    if file_flow is None:
        return None
    summary, imported = summary_of(file_flow, path, buffer, text, root)
    if buffer is None:  # an open buffer's analysis is kept for the next one
        if file_flow.cache is not None:
            leave_parsed(str(path), text, file_flow.cache)
        file_flow.release()
    return summary, imported


# What a summary kept on disk may hold (summary_store.py reads nothing else back)
_STORED: dict[str, type] = {
    kind.__name__: kind
    for kind in (
        FileSummary,
        ExternalFunction,
        ParamEffect,
        Inside,
        CallSite,
        CallerSite,
        RepeatedCall,
        Accumulator,
        KeptArgument,
        Subclass,
    )
}
