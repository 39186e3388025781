"""The abstract values of the flow analysis.

A module's mode and the grad mode are sets of possibilities, each remembering where it was set
(so messages can name the line) and, optionally, the branch condition it holds under (so
``if phase == "train": model.train() else: model.eval()`` followed by
``if phase == "train": loss.backward()`` is understood as one decision, not two).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum

import libcst as cst

Guard = tuple[str, bool]  # (condition source text, polarity)


class Mode(Enum):
    TRAIN = "train"
    EVAL = "eval"
    INPUT = "input"  # whatever the mode was when the function was entered
    UNKNOWN = "unknown"


Span = tuple[int, int, int, int]


# The values below are never changed once built (``dataclasses.replace`` makes new ones), but
# they are not frozen dataclasses: building a frozen one costs ~6x more (every field is set
# through ``object.__setattr__``), and an analysis of a 5,000-line module builds ~20,000.
@dataclass(frozen=True, slots=True)
class CallerSite:
    """A call from another file of the project that decided how a function of this file is
    entered, and where that file set the value it passed (plain data: no node of that file)."""

    path: str  # the calling file, relative to the project root
    line: int  # the call's line there (1-based)
    call: str  # the call's code, shortened
    set_line: int | None = None  # where that file set the mode or grad mode passed
    set_code: str = ""  # the code that set it (``net.train()``, ``UNet(3, 1)``)
    constructed: bool = False  # the module was built there (train mode by construction)
    sensitive: bool | None = None  # whether that module has mode-dependent layers
    model_class: str = ""  # its class, as that file names it
    # For related locations in that file: its real path and the call's and the setting's
    # ranges there (0-based lines, code points: start line, start column, end line, end column)
    file: str = ""
    span: Span | None = None
    set_span: Span | None = None


@dataclass(eq=False, slots=True)
class Origin:
    """Where a value was set: a node, reached through a chain of calls (``via``); for a value
    a caller in another file decided, ``node`` is the function's name here and ``caller``
    says where."""

    node: cst.CSTNode
    via: Origin | None = None
    constructed: bool = False  # a freshly built module: train mode by construction
    caller: CallerSite | None = None

    def __hash__(self) -> int:
        return hash((id(self.node), self.via, self.caller))

    def __eq__(self, other: object) -> bool:
        return (
            isinstance(other, Origin)
            and self.node is other.node
            and self.via == other.via
            and self.constructed == other.constructed
            and self.caller == other.caller
        )

    def through(self, call: cst.CSTNode) -> Origin:
        """The same origin seen from a caller: ``call`` is the outermost call site."""
        if self.via is None:
            return Origin(self.node, Origin(call), self.constructed, self.caller)
        return Origin(self.node, self.via.through(call), self.constructed, self.caller)

    @property
    def outermost(self) -> cst.CSTNode:
        return self.via.outermost if self.via is not None else self.node

    def chain(self) -> list[cst.CSTNode]:
        """Call sites from the outermost inwards, then the node itself."""
        nodes: list[cst.CSTNode] = []
        o: Origin | None = self
        while o is not None:
            nodes.append(o.node)
            o = o.via
        # self.node is innermost; vias are progressively outer call sites
        return [*reversed(nodes[1:]), nodes[0]]


@dataclass(unsafe_hash=True, slots=True)
class ModeVal:
    mode: Mode
    origin: Origin | None = None
    guards: frozenset[Guard] = frozenset()


@dataclass(unsafe_hash=True, slots=True)
class GradVal:
    enabled: bool | None  # None: as on function entry
    origin: Origin | None = None
    guards: frozenset[Guard] = frozenset()


INPUT_MODE = frozenset({ModeVal(Mode.INPUT)})
UNKNOWN_MODE = frozenset({ModeVal(Mode.UNKNOWN)})
GRAD_ON = frozenset({GradVal(True)})
GRAD_INPUT = frozenset({GradVal(None)})


@dataclass(unsafe_hash=True, slots=True)
class Taint:
    """What a local value was computed from: enough to tell a loss from a metric."""

    models: frozenset[str] = frozenset()  # modules whose forward fed this value
    graph: bool = False  # may carry an autograd graph
    lossy: bool = False  # a loss value (named or computed like one)
    no_grad_origin: Origin | None = None  # computed entirely with gradients disabled here
    snapshot_of: str | None = None  # holds ``<key>.training`` read on function entry
    sources: frozenset[str] = frozenset()  # parameters of the function it derives from
    node: cst.CSTNode | None = None  # the assignment that produced it
    opaque: bool = False  # returned by a call we cannot see into: it may carry a graph
    # computed where gradients may be off, on some path, by a global switch never restored
    maybe_no_grad: Origin | None = None
    # drawn from evaluation data with ``next()`` (``next(iter(val_loader))``): the ids of
    # those calls, so that a forward on it and a backward from it can be matched up
    drawn: frozenset[int] = frozenset()

    def join(self, other: Taint) -> Taint:
        if self == other:
            return self
        return Taint(
            self.models | other.models,
            self.graph or other.graph,
            self.lossy or other.lossy,
            self.no_grad_origin
            if self.no_grad_origin is not None and self.no_grad_origin == other.no_grad_origin
            else None,
            self.snapshot_of if self.snapshot_of == other.snapshot_of else None,
            self.sources | other.sources,
            self.node if self.node is other.node else None,
            self.opaque or other.opaque,
            self.maybe_no_grad or other.maybe_no_grad,
            self.drawn | other.drawn,
        )


NO_TAINT = Taint()
CLEAN: frozenset[Origin | None] = frozenset({None})


class GradsState(Enum):
    """Per optimizer: what happened to the gradients last."""

    FRESH = "fresh"  # backward() ran since the last clear
    CLEARED = "cleared"  # zero_grad() ran after a backward()
    OTHER = "other"


@dataclass(unsafe_hash=True, slots=True)
class GradsVal:
    state: GradsState
    origin: Origin | None = None  # the zero_grad (CLEARED) or backward (FRESH)


# Nothing known about an optimizer's gradients (also what a missing key means).
OTHER_GRADS = frozenset({GradsVal(GradsState.OTHER)})


@dataclass
class State:
    modes: dict[str, frozenset[ModeVal]] = field(default_factory=dict)
    grad: frozenset[GradVal] = GRAD_ON
    vars: dict[str, Taint] = field(default_factory=dict)
    grads: dict[str, frozenset[GradsVal]] = field(default_factory=dict)
    # model = self.model: a local name for a module attribute; the mode lives under the attribute
    aliases: dict[str, str] = field(default_factory=dict)
    reachable: bool = True
    # per optimizer: the steps whose gradients nobody cleared since (None: cleared)
    dirty: dict[str, frozenset[Origin | None]] = field(default_factory=dict)
    # per optimizer: what the assignment that reaches here built it over (else Facts' cover)
    covers: dict[str, frozenset[str]] = field(default_factory=dict)
    # names and attributes last given a literal boolean on every path (``self.is_test =
    # False``): a callee's branch on the contrary value does not run at a call from here
    flags: dict[str, bool] = field(default_factory=dict)

    def copy(self) -> State:
        return State(
            dict(self.modes),
            self.grad,
            dict(self.vars),
            dict(self.grads),
            dict(self.aliases),
            self.reachable,
            dict(self.dirty),
            dict(self.covers),
            dict(self.flags),
        )

    def module_key(self, key: str) -> str:
        """The key a module's mode is kept under: ``model.encoder`` is ``self.model.encoder``
        after ``model = self.model``."""
        if not self.aliases:
            return key
        head, dot, rest = key.partition(".")
        target = self.aliases.get(head)
        return key if target is None else target + dot + rest

    def become(self, other: State) -> None:
        """Take ``other``'s values (an expression's effects, joined, on the state in hand)."""
        self.modes, self.grad, self.vars = other.modes, other.grad, other.vars
        self.grads, self.aliases, self.reachable = other.grads, other.aliases, other.reachable
        self.dirty, self.covers, self.flags = other.dirty, other.covers, other.flags

    def same_as(self, other: State) -> bool:
        return (
            self.reachable == other.reachable
            and self.modes == other.modes
            and self.grad == other.grad
            and self.vars == other.vars
            and self.grads == other.grads
            and self.aliases == other.aliases
            and self.dirty == other.dirty
            and self.covers == other.covers
            and self.flags == other.flags
        )


@dataclass(slots=True)
class Snapshot:
    """What hover tells of the state before a statement: the modules' modes, the grad mode.
    (One is kept per statement: a copy of the whole state would cost 5 dicts each.)"""

    modes: dict[str, frozenset[ModeVal]]
    grad: frozenset[GradVal]

    @staticmethod
    def of(state: State) -> Snapshot:
        modes = dict(state.modes)
        for name, target in state.aliases.items():
            if target in modes:
                modes[name] = modes[target]  # hover on `model` after model = self.model
        return Snapshot(modes, state.grad)


def join_states(states: list[State], default_mode: frozenset[ModeVal]) -> State:
    live = [s for s in states if s.reachable]
    if not live:
        dead = State()
        dead.reachable = False
        return dead
    if len(live) == 1:
        return live[0].copy()
    out = live[0].copy()
    for s in live[1:]:
        # the dicts are mostly equal (the same values, often the same objects): compared whole
        # first, which is much cheaper than joining key by key
        if out.modes != s.modes:
            for key in out.modes.keys() | s.modes.keys():
                a = out.modes.get(key, default_mode)
                b = s.modes.get(key, default_mode)
                out.modes[key] = a | b if a != b else a
        out.grad = out.grad | s.grad
        if out.vars != s.vars:
            _join_vars(out, s)
        if out.grads != s.grads:
            for key in out.grads.keys() | s.grads.keys():
                a_g, b_g = out.grads.get(key, OTHER_GRADS), s.grads.get(key, OTHER_GRADS)
                out.grads[key] = a_g | b_g if a_g != b_g else a_g
        if out.dirty != s.dirty:
            for key in out.dirty.keys() | s.dirty.keys():
                a_d, b_d = out.dirty.get(key, CLEAN), s.dirty.get(key, CLEAN)
                out.dirty[key] = a_d | b_d if a_d != b_d else a_d
        for name in list(out.aliases):
            if s.aliases.get(name) != out.aliases[name]:
                del out.aliases[name]
        for name in list(out.covers):
            if s.covers.get(name) != out.covers[name]:
                del out.covers[name]
        for name in list(out.flags):
            if s.flags.get(name) != out.flags[name]:
                del out.flags[name]
    return out


def _join_vars(out: State, s: State) -> None:
    for name in out.vars.keys() | s.vars.keys():
        a_t = out.vars.get(name)
        b_t = s.vars.get(name)
        if a_t is None or b_t is None:
            t = a_t or b_t
            assert t is not None
            # Unassigned on one path: keep what it may be, never "definitely".
            out.vars[name] = Taint(
                t.models, t.graph, t.lossy, None, None, t.sources, t.node, t.opaque, drawn=t.drawn
            )
        else:
            out.vars[name] = a_t.join(b_t)


GRAD_SNAPSHOT = "@grad"  # Taint.snapshot_of for a saved torch.is_grad_enabled()


def combine(a: Taint, b: Taint) -> Taint:
    if a is NO_TAINT:
        return b
    if b is NO_TAINT:
        return a
    origin = a.no_grad_origin if a.no_grad_origin == b.no_grad_origin else None
    # a graph-less value stays graph-less when combined with constants and other graph-less
    # values, never with something that may carry a graph
    if a.no_grad_origin is not None and graphless(b):
        origin = a.no_grad_origin
    if b.no_grad_origin is not None and graphless(a):
        origin = b.no_grad_origin
    return Taint(
        a.models | b.models,
        a.graph or b.graph,
        a.lossy or b.lossy,
        origin,
        sources=a.sources | b.sources,
        opaque=a.opaque or b.opaque,
        maybe_no_grad=a.maybe_no_grad or b.maybe_no_grad,
        drawn=a.drawn | b.drawn,
    )


def graphless(t: Taint) -> bool:
    return not t.graph and not t.models and not t.opaque
