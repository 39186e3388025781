"""What the analysis of one function leaves: its events and summary, and the cached forms of
function and module analyses that a later keystroke reuses."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, TypeVar

import libcst as cst

from torchmode.engine import events as ev
from torchmode.engine.chunks import Chunk
from torchmode.engine.facts import FunctionInfo
from torchmode.engine.values import (
    NO_TAINT,
    GradVal,
    ModeVal,
    Snapshot,
    Taint,
)

if TYPE_CHECKING:
    pass


T = TypeVar("T")

# (qualified name, what ProjectContext.lookup found for it) per lookup an analysis made
Externals = tuple[tuple[str, object], ...]


@dataclass(eq=False)
class FunctionFlow:
    """The analysis of one function (or of the module's top level, ``info`` None)."""

    info: FunctionInfo | None
    chunk_of: dict[int, Chunk] = field(default_factory=dict)
    events: list[ev.Event] = field(default_factory=list)
    states: dict[int, Snapshot] = field(default_factory=dict)  # id(statement) -> before it
    exit_modes: dict[str, frozenset[ModeVal]] = field(default_factory=dict)
    exit_grad: frozenset[GradVal] | None = None
    returns: Taint = NO_TAINT
    # what each element is when every return returns a tuple of as many (``return loss, n``)
    returned_items: tuple[Taint, ...] | None = None
    trains: bool = False  # backward/step anywhere inside (directly or through calls)
    # every return gives a module it built and never switched: train mode, as ``Net()`` is
    returns_fresh: bool = False
    returns_class: str = ""  # then the class every return builds, when one (as the file names it)
    called: bool = False  # some function of this file calls it
    callees: set[int] = field(default_factory=set)  # id(def) of the file's functions it calls
    placed: list[cst.CSTNode] = field(default_factory=list)  # nodes rules may need positions of
    # the module's analysis only: the top-level statement each placed node was placed under
    placed_under: list[int] = field(default_factory=list)
    # per placed node, the statements from the chunk's top down to the one holding it
    placed_chains: list[tuple[cst.CSTNode, ...]] = field(default_factory=list)
    _chain_map: dict[int, tuple[cst.CSTNode, ...]] | None = field(default=None, repr=False)
    # events by kind, for the rules: a reused analysis keeps them from keystroke to keystroke
    _by_kind: dict[type, list[ev.Event]] = field(default_factory=dict, repr=False)
    _by_kind_count: int = field(default=-1, repr=False)  # len(events) when _by_kind was made
    # what rules derive from this analysis alone, by name (see ``derived``)
    _derived: dict[str, object] = field(default_factory=dict, repr=False)
    _derived_count: int = field(default=-1, repr=False)

    def events_of(self, kind: type[ev.Event]) -> list[ev.Event]:
        if self._by_kind_count != len(self.events):  # events are only ever appended
            self._by_kind = {}
            self._by_kind_count = len(self.events)
        found = self._by_kind.get(kind)
        if found is None:
            found = self._by_kind[kind] = [e for e in self.events if isinstance(e, kind)]
        return found

    def derived(self, name: str, compute: Callable[[FunctionFlow], T]) -> T:
        """``compute(self)``, for a value that depends on nothing but this analysis (its
        events, its function's code): kept with it, so that the keystrokes that reuse it
        (an edit elsewhere in the file) do not compute it again."""
        if self._derived_count != len(self.events):  # events are only ever appended
            self._derived = {}
            self._derived_count = len(self.events)
        if name not in self._derived:
            self._derived[name] = compute(self)
        return self._derived[name]  # type: ignore[return-value]

    def release(self) -> None:
        """Drop what points back at analyses (see analysis.release)."""
        self.events.clear()
        self.states.clear()
        self._placed_ids = None
        self._by_kind = {}
        self._derived = {}
        self.chunk_of.clear()

    def chain_map(self) -> dict[int, tuple[cst.CSTNode, ...]]:
        if self._chain_map is None:
            self._chain_map = {
                id(node): chain for node, chain in zip(self.placed, self.placed_chains, strict=True)
            }
        return self._chain_map

    _placed_ids: dict[int, FunctionFlow] | None = field(default=None, repr=False)

    def placed_ids(self) -> dict[int, FunctionFlow]:
        """id(node) -> this analysis, for every placed node (built once, merged per reuse)."""
        if self._placed_ids is None:
            self._placed_ids = dict.fromkeys(map(id, self.placed), self)
        return self._placed_ids

    @property
    def name(self) -> str:
        return self.info.qualname if self.info else "<module>"

    def caller_dependent(self) -> list[ev.Event]:
        return [e for e in self.events if e.depends_on_caller()]


@dataclass(eq=False)
class CachedFlow:
    node: cst.FunctionDef
    fingerprint: object
    deps: tuple[tuple[int, FunctionFlow | None], ...]  # what its result depended on
    flow: FunctionFlow
    # the other files' functions it looked up (qualified name, summary found): reused only
    # while each lookup finds the same (Externals)
    externals: Externals = ()


def def_chain(info: FunctionInfo | None) -> tuple[cst.CSTNode, ...]:
    """The definitions enclosing a function's body, from the top level (its class, the
    functions it is nested in)."""
    chain: list[cst.CSTNode] = []
    while info is not None:
        chain.append(info.node)
        if info.outer is None and info.cls is not None:
            chain.append(info.cls.node)
        info = info.outer
    chain.reverse()
    return tuple(chain)


@dataclass(eq=False)
class CachedModuleFlow:
    shape: tuple[object, ...]  # see module_shape
    fingerprint: object
    deps: tuple[tuple[int, FunctionFlow | None], ...]
    flow: FunctionFlow
    externals: Externals = ()


def module_shape(statements: list[cst.BaseStatement]) -> tuple[object, ...]:
    """What the module's own analysis reads of its statements: each statement outside a
    function or class (by identity: unchanged code keeps its parsed nodes), and the names of
    the functions and classes it defines (their bodies are analysed on their own)."""
    return tuple(
        stmt.name.value if type(stmt) is cst.FunctionDef or type(stmt) is cst.ClassDef else stmt
        for stmt in statements
    )
