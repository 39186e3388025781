"""What rules see: the analysis results, positions on demand, and helpers to describe nodes."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Protocol, TypeVar

import libcst as cst

from torchmode.engine import events as ev
from torchmode.engine.chunks import Chunk, ChunkCache, code_of
from torchmode.engine.facts import Facts
from torchmode.engine.flow import FileFlow
from torchmode.engine.function_flow import FunctionFlow
from torchmode.engine.statements import StatementIndex
from torchmode.findings import Finding, Range
from torchmode.settings import Settings

E = TypeVar("E", bound=ev.Event)
T = TypeVar("T")


class Reanalysis(Protocol):
    """What checking a fix needs to know of the analysis of the fixed text."""

    @property
    def findings(self) -> Sequence[Finding]: ...
    @property
    def syntax_error(self) -> object | None: ...
    @property
    def context(self) -> RuleContext | None: ...


# The driver's analyze(), lent to the rules so that a fix can be checked without the rules
# importing the layer above them.
Reanalyze = Callable[[str, Settings, ChunkCache], Reanalysis]


@dataclass
class RuleContext:
    source: str
    lines: list[str]  # without line endings
    chunks: list[Chunk]
    facts: Facts
    flow: FileFlow
    settings: Settings
    reanalyze: Reanalyze | None = field(default=None, repr=False)
    _indexes: dict[int, StatementIndex] = field(default_factory=dict)
    memo: dict[object, object] = field(default_factory=dict)  # rules' per-analysis caches
    # id(node) -> (node, its range): rules ask for the same few nodes' ranges many times (a
    # training step is named in every finding it is part of; ~5 asks per node on a big file)
    _ranges: dict[int, tuple[cst.CSTNode, Range]] = field(default_factory=dict)

    def release(self) -> None:
        """Drop the per-analysis caches (see analysis.release)."""
        self._indexes.clear()
        self.memo.clear()
        self._ranges.clear()

    # -- events ----------------------------------------------------------------------------
    def events(self, kind: type[E]) -> list[tuple[FunctionFlow, E]]:
        """Every event of ``kind`` with its function's analysis (listed once per analysis:
        rules of the same events share it)."""
        key = ("events", kind)
        found = self.memo.get(key)
        if found is None:
            found = self.memo[key] = [
                (flow, e) for flow in self.flow.all_flows() for e in flow.events_of(kind)
            ]
        return found  # type: ignore[return-value]

    # -- positions -------------------------------------------------------------------------
    def chunk_of(self, node: cst.CSTNode) -> Chunk:
        return self.flow.chunk_of(node)

    def range_of(self, node: cst.CSTNode, chunk: Chunk | None = None) -> Range:
        known = self._ranges.get(id(node))
        if known is not None and known[0] is node:
            return known[1]
        chunk = chunk or self.chunk_of(node)
        chain = self.flow.chains.get(id(node))
        found = chunk.range_in(node, chain) if chain else chunk.range_of(node)
        self._ranges[id(node)] = (node, found)
        return found

    def line_of(self, node: cst.CSTNode, chunk: Chunk | None = None) -> int:
        """1-based line, for messages."""
        return self.range_of(node, chunk).start.line + 1

    def index(self, chunk: Chunk) -> StatementIndex:
        idx = self._indexes.get(id(chunk))
        if idx is None:
            idx = StatementIndex.of(chunk)
            self._indexes[id(chunk)] = idx
        return idx

    def of_text(self, chunk: Chunk, name: str, compute: Callable[[Chunk], T]) -> T:
        """``compute(chunk)`` for a value that depends on the chunk's text alone: kept with its
        parse when the analysis has a cache (a keystroke computes it for the edited chunk)."""
        cache = self.flow.cache
        return compute(chunk) if cache is None else cache.derived(chunk, name, compute)

    def siblings_after(self, stmt: cst.CSTNode, chunk: Chunk) -> list[tuple[cst.CSTNode, Chunk]]:
        """The statements after ``stmt`` in its block; for a top-level statement, the rest of
        the module (later chunks included)."""
        index = self.index(chunk)
        if index.parent_of(stmt) is not None:
            return [(s, chunk) for s in index.siblings_after(stmt)]
        out: list[tuple[cst.CSTNode, Chunk]] = [(s, chunk) for s in index.siblings_after(stmt)]
        later = False
        for other in self.chunks:
            if later:
                out.extend((s, other) for s in other.statements)
            elif other is chunk:
                later = True
        return out

    def siblings_before(self, stmt: cst.CSTNode, chunk: Chunk) -> list[cst.CSTNode]:
        """The statements before ``stmt`` in its block, in order; for a top-level statement,
        the module's from its start (earlier chunks included)."""
        index = self.index(chunk)
        block = index.block.get(id(stmt), [])
        own: list[cst.CSTNode] = list(
            block[: next((i for i, s in enumerate(block) if s is stmt), 0)]
        )
        if index.parent_of(stmt) is not None:
            return own
        earlier: list[cst.CSTNode] = []
        for other in self.chunks:
            if other is chunk:
                break
            earlier.extend(other.statements)
        return earlier + own

    # -- text ------------------------------------------------------------------------------
    def code(self, node: cst.CSTNode) -> str:
        cache = self.flow.cache
        return cache.code_text(node) if cache is not None else code_of(node).strip()

    def short(self, node: cst.CSTNode, limit: int = 40) -> str:
        text = " ".join(self.code(node).split())
        return text if len(text) <= limit else text[: limit - 1] + "…"

    def newline(self) -> str:
        return self.chunks[0].module.default_newline if self.chunks else "\n"
