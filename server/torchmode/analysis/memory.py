"""What an editor session keeps of each document's analysis, and when Python's cyclic GC runs.

An analysis of a big file holds its libcst trees, facts and per-function analyses (~35 MB for
5,000 lines): that is what makes the next keystroke cheap, but only for the documents being
worked on. The few most recently analysed documents keep everything; the others keep their
findings only ("slim" results) and are analysed again, from scratch, if a hover or a quick
fix needs them.

Python's cyclic garbage collector walks every tracked object on a full collection: with
several big documents open, each collection would cost a good part of an analysis and hit at
random points (typically right after an analysis, which allocates the most). So analyses run
with the collector off, and what survives a big one (a first analysis: trees, facts and flows
that stay) is frozen: never walked again. A keystroke's analysis allocates a few thousand
objects and leaves as much garbage (the analysis it replaces): those are not frozen, so the
collector's ordinary young collections free them for a few milliseconds. Freezing them too made
that garbage reachable only by a full collection including the frozen objects (0.6 s with a few
big documents open), every 40 keystrokes.

The garbage that frozen objects may still hide (the analysis a keystroke replaced, when it was a
frozen one) is collected when the server has been idle for a while, or sooner after many big
analyses. A slimmed document's analysis and cache are not left to that collection: their
reference cycles are broken in the analysis worker (``driver.release``), so reference
counting frees them at once (with twenty documents open, a full collection took 1-2 s, and the
next analysis waited for it).
"""

from __future__ import annotations

import gc
from collections import OrderedDict
from collections.abc import Callable
from typing import TypeVar

from torchmode.engine.chunks import ChunkCache
from torchmode.engine.collection import collection_paused

T = TypeVar("T")

HOT_DOCUMENTS = 3  # documents whose caches and full results are kept
# Documents above either size are analysed in a separate process (lsp/isolation.py), where a
# time and a memory limit can be enforced and whose memory goes back to the system when they
# are closed. Measured on generated training modules (bench/corpus.py), first analysis on a
# 2-core machine: 5,000 lines (0.2 MB) 1.3 s and ~50 MB; 20,000 lines (0.9 MB) 5.3 s and
# ~130 MB; 50,000 (2.1 MB) 17 s and ~340 MB; 127,000 (5.2 MB) 100 s and ~600 MB. In the
# server's one analysis thread, every other document waits for such a first analysis; the
# documents below stay there, with their per-document cache for fast keystrokes.
ISOLATE_ABOVE_LINES = 10_000  # ~2.5 s, ~65 MB
ISOLATE_ABOVE_BYTES = 512 * 1024
IDLE_COLLECT_S = 3.0  # quiet time before a full collection
FREEZE_AFTER = 20_000  # objects an analysis leaves tracked: a first analysis of ~500 lines
MAX_FROZEN_BETWEEN_COLLECTIONS = 20
MAX_EVICTED_BETWEEN_COLLECTIONS = 3  # a big document's trees are ~20-35 MB of garbage
MIN_FROZEN_FOR_IDLE_COLLECTION = 3  # fewer hide little garbage: not worth a full walk


class DocumentCaches:
    """One engine cache per document (a notebook counts as one), the most recent few only."""

    def __init__(self, capacity: int = HOT_DOCUMENTS) -> None:
        self._caches: OrderedDict[str, ChunkCache] = OrderedDict()
        self._capacity = capacity

    def cache_for(self, key: str, recent: bool = True) -> ChunkCache:
        """``recent``: the document becomes the most recent. Else (a document analysed again
        because a file it imports changed: it must not push out the one being edited) it
        keeps its place, and one not kept gets a cache of its own for that analysis only."""
        cache = self._caches.get(key)
        if cache is None:
            cache = ChunkCache()
            if not recent:
                return cache
            self._caches[key] = cache
        if recent:
            self._caches.move_to_end(key)
        return cache

    def holds(self, key: str, cache: ChunkCache) -> bool:
        return self._caches.get(key) is cache

    def evict_cold(self) -> list[tuple[str, ChunkCache]]:
        """Drop the caches beyond the capacity: the keys whose results should go slim, and
        their caches."""
        cold = []
        while len(self._caches) > self._capacity:
            cold.append(self._caches.popitem(last=False))
        return cold

    def drop(self, key: str) -> ChunkCache | None:
        return self._caches.pop(key, None)


class Collector:
    """Runs ``work`` with the cyclic GC off and freezes what survives a big one (see above)."""

    def __init__(self) -> None:
        self.frozen = 0  # analyses frozen since the last full collection
        # documents slimmed since the last collection whose trees could not be released (an
        # analysis of theirs was on its way): garbage that only a collection frees
        self.evicted = 0

    def run_frozen(self, work: Callable[..., T], *args: object) -> T:
        with collection_paused():
            try:
                return work(*args)
            finally:
                # What a big analysis allocated would otherwise be walked by the next young
                # collection (hundreds of thousands of objects), and survivors again on each
                # full one.
                if gc.get_count()[0] >= FREEZE_AFTER:
                    gc.freeze()
                    self.frozen += 1

    @property
    def worth_it(self) -> bool:
        return self.evicted > 0 or self.frozen >= MIN_FROZEN_FOR_IDLE_COLLECTION

    @property
    def overdue(self) -> bool:
        return (
            self.frozen >= MAX_FROZEN_BETWEEN_COLLECTIONS
            or self.evicted >= MAX_EVICTED_BETWEEN_COLLECTIONS
        )

    def collect(self) -> int:
        """A full collection including the frozen objects; the survivors are frozen again."""
        self.frozen = self.evicted = 0
        gc.unfreeze()
        try:
            return gc.collect()
        finally:
            gc.freeze()
