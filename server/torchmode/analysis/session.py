"""The front door for adapters: one object that analyses, fixes and frees.

The CLI and the language server hold a ``Session`` and go through it for everything the
engine does; what lives between analyses (parse caches, what a finished analysis still holds)
is the session's business, not theirs.
"""

from __future__ import annotations

from collections.abc import Sequence

from torchmode.analysis import driver, fixes
from torchmode.analysis.driver import Analysis
from torchmode.analysis.memory import Collector, DocumentCaches
from torchmode.engine.chunks import ChunkCache
from torchmode.engine.project_files import take_parsed
from torchmode.settings import Settings


class Session:
    """Analyses of one client: a batch run (each text analysed once, then freed) or an editor
    (a cache per document, so that the next keystroke reuses the parse of the statements it
    did not change; only the few most recent documents keep theirs: memory.py).

    An editor picks a document's cache on its message loop (``document_cache``, which also
    orders the documents by recency) and analyses with it in its worker thread
    (``analyze_document``); the other methods belong to the thread that owns the worker's
    order of jobs, as ``release`` and ``collect`` walk what analyses hold."""

    def __init__(self) -> None:
        self._caches = DocumentCaches()
        self._collector = Collector()

    def analyze(self, source: str, settings: Settings, cache: ChunkCache | None = None) -> Analysis:
        # a cache of its own for a one-off text: keeping every file's trees in a shared cache
        # only grows memory and the garbage collector's work; in a batch run, the parse of a
        # file summarised earlier for a file importing it (take_parsed; the driver keeps this
        # one's for a file importing it later)
        if cache is None:
            taken = take_parsed(settings.project.path, source) if settings.project else None
            cache = taken if taken is not None else ChunkCache()
        return driver.analyze(source, settings, cache=cache)

    def fix(
        self, source: str, settings: Settings, *, unsafe: bool, analysis: Analysis | None = None
    ) -> fixes.FixOutcome:
        """Every applicable fix applied, to a fixpoint (``fixes.fix_source``)."""
        return fixes.fix_source(source, settings, unsafe=unsafe, analysis=analysis)

    def reads_the_same(self, analysis: Analysis, settings: Settings) -> bool:
        """Whether the other files of the project ``analysis`` read give what they gave it,
        under ``settings`` (an editor's newer buffers): then it stands for them."""
        if not analysis.depends_on:
            return False
        return driver.project_state(settings, analysis.depends_on) == analysis.read

    def release(self, analysis: Analysis, cache: ChunkCache | None = None) -> None:
        """Free what ``analysis`` (and ``cache``, by default the one it was parsed with) holds
        now, by reference counting (``driver.release``): both are unusable afterwards."""
        cache = cache if cache is not None else analysis.cache
        if cache is not None:
            driver.release(analysis, cache)

    # -- an editor's documents ----------------------------------------------------------------
    def document_cache(self, key: str, recent: bool = True) -> ChunkCache:
        """The cache of document ``key`` (a notebook counts as one), now the most recent
        unless not ``recent`` (memory.DocumentCaches.cache_for)."""
        return self._caches.cache_for(key, recent)

    def keeps(self, key: str, cache: ChunkCache) -> bool:
        """Whether ``cache`` is the one kept for document ``key`` (not a one-off)."""
        return self._caches.holds(key, cache)

    def analyze_document(self, source: str, settings: Settings, cache: ChunkCache) -> Analysis:
        """``analyze`` with a document's cache, the collector off and big results frozen;
        and what the other files of the project it read gave it (``reads_the_same``)."""
        analysis = self._collector.run_frozen(driver.analyze, source, settings, cache)
        analysis.read = driver.project_state(settings, analysis.depends_on)
        return analysis

    def evict_cold(self) -> list[tuple[str, ChunkCache]]:
        """The documents beyond the few most recent: their keys and caches, now forgotten
        here, to be released once no analysis uses them (``release``), or else counted as
        garbage left to the next collection (``evicted_in_use``)."""
        return self._caches.evict_cold()

    def evicted_in_use(self) -> None:
        self._collector.evicted += 1

    def forget(self, key: str) -> ChunkCache | None:
        """Document ``key`` was closed (or is analysed elsewhere now): its cache, forgotten
        here, to be released (``release``) by whoever knows no analysis uses it any more."""
        return self._caches.drop(key)

    @property
    def collection_overdue(self) -> bool:
        return self._collector.overdue

    @property
    def collection_worth_it(self) -> bool:
        return self._collector.worth_it

    @property
    def frozen_since_collection(self) -> int:
        """Big analyses frozen since the last full collection (memory.py)."""
        return self._collector.frozen

    def collect(self) -> int:
        """A full collection of garbage (memory.py says when it is worth it)."""
        return self._collector.collect()

    def fix_cells(
        self, cells: Sequence[str], settings: Settings, *, unsafe: bool
    ) -> fixes.NotebookFixOutcome:
        """``fix`` for a notebook's code cells (``fixes.fix_cells``)."""
        return fixes.fix_cells(cells, settings, unsafe=unsafe)
