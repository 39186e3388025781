"""The flow analysis: an abstract interpreter over statements.

State = the mode of each module (train / eval / as-on-entry / unknown, with where it was set),
the grad mode, what local values were computed from, and what happened last to each
optimizer's gradients. Branches join; loops iterate to a fixpoint, so an ``eval()`` at the end
of one iteration is seen at the start of the next. Every function gets a summary (its effect on
the modes of its parameters and ``self`` attributes, and its caller-dependent events); calls to
the file's own functions apply those summaries.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING

import libcst as cst

from torchmode.engine import events as ev
from torchmode.engine import torch_api as api
from torchmode.engine.blocks import block_statements, nested_blocks
from torchmode.engine.chunks import Chunk, ChunkCache, code_of
from torchmode.engine.facts import Facts, FunctionInfo
from torchmode.engine.names import is_within, key_of
from torchmode.engine.values import (
    CLEAN,
    GRAD_INPUT,
    GRAD_ON,
    INPUT_MODE,
    NO_TAINT,
    OTHER_GRADS,
    UNKNOWN_MODE,
    GradsState,
    GradsVal,
    GradVal,
    Guard,
    Mode,
    ModeVal,
    Origin,
    Snapshot,
    State,
    Taint,
    join_states,
)
from torchmode.engine.walk import calls_in, names_in, sub_expressions

if TYPE_CHECKING:
    from torchmode.engine.project import ExternalFunction, ProjectContext

MAX_LOOP_ROUNDS = 6
_COMPREHENSIONS = (cst.ListComp, cst.GeneratorExp, cst.SetComp, cst.DictComp)
LOOP_BUDGET = 600
GRAD_SNAPSHOT = "@grad"  # Taint.snapshot_of for a saved torch.is_grad_enabled()
COMPOUND_REGION = (cst.With, cst.For, cst.While)


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
    trains: bool = False  # backward/step anywhere inside (directly or through calls)
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

    def events_of(self, kind: type[ev.Event]) -> list[ev.Event]:
        if self._by_kind_count != len(self.events):  # events are only ever appended
            self._by_kind = {}
            self._by_kind_count = len(self.events)
        found = self._by_kind.get(kind)
        if found is None:
            found = self._by_kind[kind] = [e for e in self.events if isinstance(e, kind)]
        return found

    def release(self) -> None:
        """Drop what points back at analyses (see analysis.release)."""
        self.events.clear()
        self.states.clear()
        self._placed_ids = None
        self._by_kind = {}
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
        out: list[ev.Event] = []
        for e in self.events:
            if isinstance(e, ev.Forward):
                if any(v.mode is Mode.INPUT for v in e.modes) or any(
                    g.enabled is None for g in e.grad
                ):
                    out.append(e)
            elif isinstance(e, ev.Train):
                if e.optimizer or any(
                    v.mode is Mode.INPUT for vals in e.models.values() for v in vals
                ):
                    out.append(e)
            elif isinstance(e, ev.Step | ev.Clear | ev.Backward):
                out.append(e)
            elif isinstance(e, ev.Accumulate) and (
                any(g.enabled is None for g in e.grad) or e.target.startswith("self.")
            ):
                # the caller decides the grad mode; an attribute outlives the call, so the
                # caller's loop is the one it accumulates across
                out.append(e)
        return out


class FileFlow:
    """Runs the interpreter over the module and every function, computing summaries on demand."""

    def __init__(
        self,
        chunks: list[Chunk],
        facts: Facts,
        cache: ChunkCache | None = None,
        project: ProjectContext | None = None,
    ) -> None:
        self.project = project
        self.chunks = chunks
        self.facts = facts
        self.cache = cache
        self.fingerprint = cache.intern(facts.fingerprint()) if cache is not None else None
        self.flows: dict[int, FunctionFlow] = {}
        self.in_progress: set[int] = set()
        # id(node) -> (contains training?, the function analyses that answer depended on)
        self.training_cache: dict[int, tuple[bool, list[tuple[int, FunctionFlow | None]]]] = {}
        # interpreters running, innermost last (or a probe collecting what an answer used)
        self.active: list[Interpreter | _DepProbe] = []
        self.module_flow: FunctionFlow | None = None
        # id(node) -> (node, chunk) for every node an event, origin or fix may point at
        self.places: dict[int, tuple[cst.CSTNode, Chunk]] = {}
        # the same for nodes of reused function analyses: they are in their function's chunk
        self.reused_places: dict[int, FunctionFlow] = {}
        self.reused: dict[int, tuple[FunctionFlow, FunctionInfo]] = {}  # id(flow) -> ...
        self.chains: dict[int, tuple[cst.CSTNode, ...]] = {}  # id(node) -> its statements
        self._optimizer_keys: list[str] | None = None
        self._nested: dict[tuple[int, str], FunctionInfo] | None = None
        self.locals_cache: dict[int, set[str]] = {}
        self._module_trains: bool | None = None
        self.train_switch_cache: dict[int, bool] = {}

    def release(self) -> None:
        """Drop every analysis and place (see analysis.release)."""
        self.__dict__.clear()

    def nested_functions(self) -> dict[tuple[int, str], FunctionInfo]:
        """(id of the enclosing function, name) -> the first function of that name in it."""
        if self._nested is None:
            self._nested = {}
            for info in self.facts.all_functions:
                if info.outer is not None:
                    self._nested.setdefault((id(info.outer), info.name), info)
        return self._nested

    def optimizer_keys(self) -> list[str]:
        """Every key that names an optimizer: the ones built here, then the receivers of
        step()/zero_grad() that are optimizers."""
        if self._optimizer_keys is None:
            facts = self.facts
            self._optimizer_keys = [
                *facts.optimizer_cover,
                *(
                    key
                    for key in facts.step_receivers | facts.zero_receivers
                    if facts.is_optimizer_key(key)
                ),
            ]
        return self._optimizer_keys

    def chunk_of(self, node: cst.CSTNode) -> Chunk:
        placed = self.places.get(id(node))
        if placed is not None:
            return placed[1]
        # this run's chunk: a later analysis reusing the same function rebinds its ``info``
        return self.reused[id(self.reused_places[id(node)])][1].chunk

    def rebind(self) -> None:
        """Point the reused analyses back at this run's functions (after another analysis of
        a similar text, e.g. a fix being checked, reused them for its own)."""
        for info in self.facts.all_functions:
            flow = self.flows.get(id(info))
            if flow is not None:
                flow.info = info

    def run(self) -> None:
        for info in self.facts.all_functions:
            self.flow_of(info)
        chunk_of: dict[int, Chunk] = {}
        statements: list[cst.BaseStatement] = []
        for chunk in self.chunks:
            for stmt in chunk.statements:
                chunk_of[id(stmt)] = chunk
                statements.append(stmt)
        self.module_flow = self._reuse_module(statements, chunk_of) or self._analyse_module(
            statements, chunk_of
        )
        called = set(self.module_flow.callees)
        for flow in self.flows.values():
            called |= flow.callees
        handed: dict[str, list[int]] = {}
        for scope_id, name in self.facts.handed_on:
            handed.setdefault(name, []).append(scope_id)
        for flow in self.flows.values():
            # a function returned or stored as a value is called where it is taken to: its
            # callers, not a default, decide its grad mode
            flow.called = flow.info is not None and (
                id(flow.info.node) in called or self.handed_on(flow.info, handed)
            )

    def handed_on(self, info: FunctionInfo, handed: dict[str, list[int]]) -> bool:
        """``info`` is returned or stored as a value (``return step_fn``) where that name means
        this function, not a variable of the same name (a method never is a bare name);
        ``handed``: name -> the defs (0: the module) where a value of that name is handed on."""
        if info.cls is not None:
            return False
        for scope_id in handed.get(info.name, ()):
            name = info.name
            if info.outer is not None:
                if scope_id == id(info.outer.node):
                    return True
                continue
            scope = self.facts.function_by_node.get(scope_id)
            if scope is None or name not in self.locals_of(scope) | set(scope.params):
                return True
        return False

    def _analyse_module(
        self, statements: list[cst.BaseStatement], chunk_of: dict[int, Chunk]
    ) -> FunctionFlow:
        interp = Interpreter(self, None)
        interp.flow.chunk_of = chunk_of
        self.active.append(interp)
        try:
            interp.run_body(statements)
        finally:
            self.active.pop()
        if self.cache is not None:
            deps = tuple({(n, id(f)): (n, f) for n, f in interp.deps}.values())
            shape = _module_shape(statements)
            self.cache.module_flow = CachedModuleFlow(shape, self.fingerprint, deps, interp.flow)
        return interp.flow

    def _reuse_module(
        self, statements: list[cst.BaseStatement], chunk_of: dict[int, Chunk]
    ) -> FunctionFlow | None:
        """The module's own analysis is reused while its statements outside functions are the
        same nodes, the functions it calls have the same analyses and the facts are unchanged
        (an edit inside a function that the top level does not call, the common keystroke)."""
        cached = self.cache.module_flow if self.cache is not None else None
        if cached is None or not self._same_facts(cached.fingerprint):
            return None
        shape = _module_shape(statements)
        if len(shape) != len(cached.shape) or not all(
            a is b or (type(a) is str and a == b) for a, b in zip(shape, cached.shape, strict=True)
        ):
            return None
        for node_id, recorded in cached.deps:
            callee = self.facts.function_by_node.get(node_id)
            if callee is None or self.flows.get(id(callee)) is not recorded:
                return None
        flow = cached.flow
        flow.chunk_of = chunk_of  # this run's chunks (an edit above may have moved them)
        for node, top in zip(flow.placed, flow.placed_under, strict=True):
            if id(node) not in self.places and id(node) not in self.reused_places:
                self.places[id(node)] = (node, chunk_of[top])
        self.chains.update(flow.chain_map())
        return flow

    def flow_of(self, info: FunctionInfo) -> FunctionFlow | None:
        """The analysis of ``info``: memoised in this run, and reused from earlier runs while the
        function's code, the file's facts and the analyses of what it calls are unchanged."""
        key = id(info)
        flow = self.flows.get(key)
        if flow is None:
            if key in self.in_progress:
                flow = None  # recursion: the call is treated as unknown
            else:
                self.in_progress.add(key)
                try:
                    flow = self._reuse(info) or self._analyse(info)
                finally:
                    self.in_progress.discard(key)
                self.flows[key] = flow
        if self.active:
            self.active[-1].deps.append((id(info.node), flow))
        return flow

    def _analyse(self, info: FunctionInfo) -> FunctionFlow:
        interp = Interpreter(self, info)
        self.active.append(interp)
        try:
            interp.run_function()
        finally:
            self.active.pop()
        flow = interp.flow
        # a summary computed while another function it calls was still being analysed (mutual
        # recursion) is provisional: caching it would make the next analysis of the same text
        # differ. A call to itself is unknown on every analysis, so that one is stable.
        own = id(info.node)
        provisional = any(dep is None and node != own for node, dep in interp.deps)
        if self.cache is not None and not provisional:
            deps = tuple({(n, id(f)): (n, f) for n, f in interp.deps}.values())
            self.cache.flows[id(info.node)] = CachedFlow(info.node, self.fingerprint, deps, flow)
            self.cache.flows.move_to_end(id(info.node))
        return flow

    def _same_facts(self, fingerprint: object) -> bool:
        # interned (ChunkCache.intern): the same object while the facts stay the same, so the
        # hundreds of reuse checks of a keystroke do not compare the whole nested tuple each
        return fingerprint is self.fingerprint or fingerprint == self.fingerprint

    def _reuse(self, info: FunctionInfo) -> FunctionFlow | None:
        if self.cache is None:
            return None
        cached = self.cache.flows.get(id(info.node))
        if cached is None or cached.node is not info.node:
            return None
        if not self._same_facts(cached.fingerprint):
            return None
        for node_id, recorded in cached.deps:
            callee = self.facts.function_by_node.get(node_id)
            if callee is None or self.flow_of(callee) is not recorded:
                return None
        flow = cached.flow
        flow.info = info  # the same code, now in this run's chunk
        self.reused[id(flow)] = (flow, info)
        self.reused_places.update(flow.placed_ids())
        self.chains.update(flow.chain_map())
        self.cache.flows.move_to_end(id(info.node))
        return flow

    def module_trains(self) -> bool:
        """Does the module's top level (outside functions) train anything?"""
        if self._module_trains is not None:
            return self._module_trains
        trains = any(
            self.contains_training(stmt, None)
            for chunk in self.chunks
            for stmt in chunk.statements
            if type(stmt) not in (cst.FunctionDef, cst.ClassDef)
        )
        if trains or not self.in_progress:  # see contains_training: final answers only
            self._module_trains = trains
        return trains

    def locals_of(self, info: FunctionInfo) -> set[str]:
        cached = self.locals_cache.get(id(info))
        if cached is None:
            cached = set()
            for stmt in _walk_statements(block_statements(info.node.body)):
                if type(stmt) is cst.SimpleStatementLine:
                    for small in stmt.body:
                        if type(small) is cst.Assign:
                            for t in small.targets:
                                cached.update(_target_names(t.target))
                        elif type(small) is cst.AnnAssign or type(small) is cst.AugAssign:
                            cached.update(_target_names(small.target))
                elif type(stmt) is cst.For:
                    cached.update(_target_names(stmt.target))
                elif type(stmt) is cst.With:
                    for item in stmt.items:
                        if item.asname is not None:
                            cached.update(_target_names(item.asname.name))
            cached -= set(info.params)
            self.locals_cache[id(info)] = cached
        return cached

    def all_flows(self) -> Iterable[FunctionFlow]:
        yield from self.flows.values()
        if self.module_flow is not None:
            yield self.module_flow

    # -- "does this statement train?" --------------------------------------------------
    def contains_training(self, node: cst.CSTNode, scope: FunctionInfo | None) -> bool:
        cached = self.training_cache.get(id(node))
        if cached is not None:
            if self.active:
                self.active[-1].deps.extend(cached[1])
            return cached[0]
        probe = _DepProbe()
        self.active.append(probe)
        try:
            result = self._contains_training(node, scope)
        finally:
            self.active.pop()
        # an answer that met a function still being analysed (recursion) is not final: asked
        # again once that analysis is done (as a reused analysis would be), it may differ
        if all(dep is not None for _, dep in probe.deps):
            self.training_cache[id(node)] = (result, probe.deps)
        if self.active:
            self.active[-1].deps.extend(probe.deps)
        return result

    def _contains_training(self, node: cst.CSTNode, scope: FunctionInfo | None) -> bool:
        result = False
        stack: list[cst.CSTNode] = [node]
        while stack and not result:
            current = stack.pop()
            if type(current) is cst.SimpleStatementLine:
                for small in current.body:
                    for call in calls_in(small):
                        if self.is_training_call(call, scope):
                            result = True
                            break
            elif type(current) is cst.FunctionDef:
                if current is node:
                    stack.extend(block_statements(current.body))
            elif type(current) is cst.ClassDef:
                continue
            else:
                header = _header_expressions(current)
                for expr in header:
                    if any(self.is_training_call(c, scope) for c in calls_in(expr)):
                        result = True
                stack.extend(nested_blocks(current))
        return result

    def switches_to_train(self, node: cst.CSTNode) -> bool:
        """``model.train()`` or a call to something named like training (``train_one_epoch``):
        a statement that is not pure evaluation, even when its training is not visible."""
        cached = self.train_switch_cache.get(id(node))
        if cached is not None:
            return cached
        result = False
        for stmt in _walk_statements([node]):
            exprs: list[cst.CSTNode] = []
            if type(stmt) is cst.SimpleStatementLine:
                exprs = list(stmt.body)
            else:
                exprs = _header_expressions(stmt)
            for expr in exprs:
                for call in calls_in(expr):
                    func = call.func
                    name = (
                        func.attr.value
                        if type(func) is cst.Attribute
                        else (func.value if type(func) is cst.Name else "")
                    )
                    if name == "train" and type(func) is cst.Attribute:
                        arg = call.args[0].value if call.args else None
                        if arg is None or _literal_bool(arg) is not False:
                            result = True
                    elif "train" in name.lower() and (name != "train" or type(func) is cst.Name):
                        result = True  # train_one_epoch(...), train(model, loader, ...)
        self.train_switch_cache[id(node)] = result
        return result

    def is_training_call(self, call: cst.Call, scope: FunctionInfo | None) -> bool:
        func = call.func
        if type(func) is cst.Attribute:
            method = func.attr.value
            if method in {"backward", "manual_backward"}:
                return True
            if method == "step":
                receiver = key_of(func.value)
                if self.facts.is_optimizer_key(receiver):
                    return True
                if call.args and self.facts.is_optimizer_key(key_of(call.args[0].value)):
                    return True
        name = self.facts.imports.resolve(func)
        if name in {"torch.autograd.grad", "torch.autograd.backward"}:
            return True
        callee = self.resolve_callee(call, scope)
        if callee is not None:
            flow = self.flow_of(callee)
            return bool(flow and flow.trains)
        return False

    def resolve_callee(self, call: cst.Call, scope: FunctionInfo | None) -> FunctionInfo | None:
        func = call.func
        facts = self.facts
        if type(func) is cst.Name and func.value in facts.instances:
            cls = facts.classes.get(facts.instances[func.value])
            if cls is not None and not facts.class_is_module(cls.name):
                return facts.method(cls, "__call__")  # predictor(image)
        if type(func) is cst.Name:
            scope_fn = scope
            nested = self.nested_functions()
            while scope_fn is not None:  # a function defined inside this one (or around it)
                info = nested.get((id(scope_fn), func.value))
                if info is not None:
                    return info
                scope_fn = scope_fn.outer
            return facts.functions.get(func.value)
        if type(func) is cst.Attribute:
            receiver = func.value
            name = func.attr.value
            if type(receiver) is cst.Name and receiver.value == "self" and scope and scope.cls:
                return facts.method(scope.cls, name)
            if (
                type(receiver) is cst.Call
                and type(receiver.func) is cst.Name
                and receiver.func.value == "super"
                and scope
                and scope.cls
            ):
                for base in scope.cls.bases:
                    cls = facts.classes.get(base.rsplit(".", 1)[-1])
                    if cls is not None:
                        return facts.method(cls, name)
                return None
            key = key_of(receiver)
            if key is not None and key in facts.instances:
                cls = facts.classes.get(facts.instances[key])
                if cls is not None:
                    return facts.method(cls, name)
        return None


@dataclass(eq=False)
class CachedFlow:
    node: cst.FunctionDef
    fingerprint: object
    deps: tuple[tuple[int, FunctionFlow | None], ...]  # what its result depended on
    flow: FunctionFlow


def _def_chain(info: FunctionInfo | None) -> tuple[cst.CSTNode, ...]:
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
    shape: tuple[object, ...]  # see _module_shape
    fingerprint: object
    deps: tuple[tuple[int, FunctionFlow | None], ...]
    flow: FunctionFlow


def _module_shape(statements: list[cst.BaseStatement]) -> tuple[object, ...]:
    """What the module's own analysis reads of its statements: each statement outside a
    function or class (by identity: unchanged code keeps its parsed nodes), and the names of
    the functions and classes it defines (their bodies are analysed on their own)."""
    return tuple(
        stmt.name.value if type(stmt) is cst.FunctionDef or type(stmt) is cst.ClassDef else stmt
        for stmt in statements
    )


class _DepProbe:
    """Collects the function analyses a cached answer depended on."""

    def __init__(self) -> None:
        self.deps: list[tuple[int, FunctionFlow | None]] = []


def _header_expressions(stmt: cst.CSTNode) -> list[cst.CSTNode]:
    if type(stmt) is cst.If or type(stmt) is cst.While:
        return [stmt.test]
    if type(stmt) is cst.For:
        return [stmt.iter]
    if type(stmt) is cst.With:
        return [item.item for item in stmt.items]
    return []


class _LoopContext:
    def __init__(self, node: cst.CSTNode) -> None:
        self.node = node
        self.breaks: list[State] = []
        self.continues: list[State] = []


class Interpreter:
    def __init__(self, file: FileFlow, info: FunctionInfo | None) -> None:
        self.file = file
        self.facts = file.facts
        self.info = info
        self.flow = FunctionFlow(info)
        self.default_mode = INPUT_MODE if info is not None else UNKNOWN_MODE
        self.loops: list[_LoopContext] = []
        self.stmt_stack: list[cst.CSTNode] = []
        self.def_chain = _def_chain(info)
        self.exit_states: list[State] = []
        self.with_grads: list[tuple[int, frozenset[GradVal]]] = []  # grad mode at each with
        self.grad_saved: dict[str, frozenset[GradVal]] = {}  # prev = torch.is_grad_enabled()
        self.returns: Taint | None = None  # joined over every return statement
        # (id(node), ids of the calls it is reached through, event kind, a Clear's key)
        self.recorded: dict[tuple[int, tuple[int, ...], str, str | None], ev.Event] = {}
        self.deps: list[tuple[int, FunctionFlow | None]] = []  # analyses this one used
        # for name in (a, b): the names it stands for (None: not known)
        self.loop_targets: dict[str, list[str] | None] = {}
        self.aliases: dict[str, str] = {}  # opt = self.optimizer
        # loop bodies re-run to a fixpoint; nested loops multiply that, so past this many rounds
        # in one function a loop body runs once (deeply nested code stays linear, not 2^depth)
        self.loop_budget = LOOP_BUDGET
        self.comprehensions = 0  # depth of comprehensions around the expression evaluated
        self.iterated = False
        self.over_eval_data = False

    # -- entry points ------------------------------------------------------------------
    def run_function(self) -> None:
        assert self.info is not None
        node = self.info.node
        state = State(grad=self._entry_grad(node))
        scalars = _scalar_params(node)
        for param in self.info.params:
            # an argument may carry a graph (nothing is known of it here), unless its default
            # says it is a plain number or flag (``T=4.0``)
            state.vars[param] = Taint(sources=frozenset({param}), opaque=param not in scalars)
        body = block_statements(node.body)
        for stmt in body:
            self.flow.chunk_of[id(stmt)] = self.info.chunk
        entry_grad = state.grad
        out = self.exec_block(body, state)
        self.exit_states.append(out)
        final = join_states(self.exit_states, self.default_mode)
        if final.reachable:
            self.flow.exit_modes = {
                k: v for k, v in final.modes.items() if v != INPUT_MODE and self._summary_key(k)
            }
            if final.grad != entry_grad and entry_grad == GRAD_INPUT:
                self.flow.exit_grad = final.grad
        self.flow.returns = self.returns or NO_TAINT
        self._finish()

    def run_body(self, statements: Sequence[cst.BaseStatement]) -> None:
        self.exec_block(statements, State(grad=GRAD_ON))
        self._finish()

    def _finish(self) -> None:
        self.flow.events = list(self.recorded.values())
        self.flow.trains = self.flow.trains or any(
            isinstance(e, ev.Train) for e in self.flow.events
        )

    def _summary_key(self, key: str) -> bool:
        root = key.split(".", 1)[0].split("[", 1)[0]
        assert self.info is not None
        return root in self.info.params or root not in self._locals()

    def _locals(self) -> set[str]:
        assert self.info is not None
        return self.file.locals_of(self.info)

    def _entry_grad(self, node: cst.FunctionDef) -> frozenset[GradVal]:
        for dec in node.decorators:
            expr = dec.decorator
            target = expr.func if type(expr) is cst.Call else expr
            name = self.facts.imports.resolve(target)
            if name in api.NO_GRAD:
                if (
                    name in api.INFERENCE_MODE
                    and type(expr) is cst.Call
                    and expr.args
                    and _literal_bool(expr.args[0].value) is False
                ):
                    continue  # inference_mode(False): gradients as before
                return frozenset({GradVal(False, self.origin(dec))})
            if name in api.ENABLE_GRAD:
                return frozenset({GradVal(True, self.origin(dec))})
        return GRAD_INPUT

    # -- recording -----------------------------------------------------------------------
    def record(self, event: ev.Event) -> None:
        key = (
            id(event.node),
            tuple(id(v) for v in event.via),
            type(event).__name__,
            getattr(event, "key", None) if isinstance(event, ev.Clear) else None,
        )
        self.recorded[key] = event
        if not event.via:
            self.place(event.node)
            if isinstance(event, ev.Forward) and event.region is not None:
                self.place(event.region)
            if isinstance(event, ev.Accumulate) and event.value_node is not None:
                self.place(event.value_node)

    def current_chunk(self) -> Chunk:
        if self.info is not None:
            return self.info.chunk
        return self.flow.chunk_of[id(self.stmt_stack[0])]

    def place(self, node: cst.CSTNode) -> None:
        if id(node) not in self.file.places and id(node) not in self.file.reused_places:
            self.file.places[id(node)] = (node, self.current_chunk())
            self.flow.placed.append(node)
            chain = (*self.def_chain, *self.stmt_stack)
            self.flow.placed_chains.append(chain)
            self.file.chains[id(node)] = chain
            if self.info is None:
                self.flow.placed_under.append(id(self.stmt_stack[0]))

    def origin(self, node: cst.CSTNode, constructed: bool = False) -> Origin:
        self.place(node)
        return Origin(node, constructed=constructed)

    def loop_nodes(self) -> tuple[cst.CSTNode, ...]:
        return tuple(lc.node for lc in self.loops)

    # -- statements ----------------------------------------------------------------------
    def exec_block(self, stmts: Sequence[cst.BaseStatement], state: State) -> State:
        for stmt in stmts:
            if not state.reachable:
                break
            state = self.exec_stmt(stmt, state)
        return state

    def exec_stmt(self, stmt: cst.BaseStatement, state: State) -> State:
        self.flow.states[id(stmt)] = Snapshot.of(state)
        self.stmt_stack.append(stmt)
        try:
            if type(stmt) is cst.SimpleStatementLine:
                for small in stmt.body:
                    if not state.reachable:
                        break
                    state = self.exec_small(small, state)
                return state
            if type(stmt) is cst.If:
                return self.exec_if(stmt, state)
            if type(stmt) is cst.For or type(stmt) is cst.While:
                return self.exec_loop(stmt, state)
            if type(stmt) is cst.With:
                return self.exec_with(stmt, state)
            if type(stmt) is cst.Try or type(stmt) is cst.TryStar:
                return self.exec_try(stmt, state)
            if type(stmt) is cst.Match:
                self.eval_expr(stmt.subject, state)
                outs = [
                    self.exec_block(block_statements(case.body), state.copy())
                    for case in stmt.cases
                ]
                return join_states([state, *outs], self.default_mode)
            if type(stmt) is cst.FunctionDef or type(stmt) is cst.ClassDef:
                name = stmt.name.value
                state.vars.pop(name, None)
                return state
            return state
        finally:
            self.stmt_stack.pop()

    def exec_small(self, small: cst.BaseSmallStatement, state: State) -> State:
        if type(small) is cst.Expr:
            self.check_bare_mode_switch(small.value)
            self.eval_expr(small.value, state)
        elif type(small) is cst.Assign:
            value = self.eval_expr(small.value, state)
            self.check_running_sum(small, state)
            for target in small.targets:
                self.assign(target.target, small.value, value, state)
        elif type(small) is cst.AnnAssign:
            if small.value is not None:
                value = self.eval_expr(small.value, state)
                self.assign(small.target, small.value, value, state)
        elif type(small) is cst.AugAssign:
            self.exec_augassign(small, state)
        elif type(small) is cst.Return:
            if small.value is not None:
                value = self.eval_expr(small.value, state)
                self.returns = value if self.returns is None else self.returns.join(value)
            self.exit_states.append(self.leaving(state, loop_exit=False))
            return _dead()
        elif type(small) is cst.Raise:
            if small.exc is not None:
                self.eval_expr(small.exc, state)
            return _dead()
        elif type(small) is cst.Break:
            if self.loops:
                self.loops[-1].breaks.append(self.leaving(state, loop_exit=True))
            return _dead()
        elif type(small) is cst.Continue:
            if self.loops:
                self.loops[-1].continues.append(self.leaving(state, loop_exit=True))
            return _dead()
        elif type(small) is cst.Assert:
            self.eval_expr(small.test, state)
        elif type(small) is cst.Del:
            for name in names_in(small.target):
                state.vars.pop(name, None)
        return state

    def exec_if(self, stmt: cst.If, state: State) -> State:
        self.eval_expr(stmt.test, state)
        if self.is_module_check(stmt.test) or _is_grad_presence_check(stmt.test):
            # ``if isinstance(net, nn.Module): net.eval()`` is true for every module;
            # ``if p.grad is not None: p.grad.zero_()`` leaves no gradient either way
            return self.exec_block(block_statements(stmt.body), state)
        guard = self.guard_of(stmt.test)
        snapshot = self.snapshot_test(stmt.test, state)
        then_in = self.refine(state, guard, True)
        then_out = self.exec_block(block_statements(stmt.body), then_in)
        if stmt.orelse is None:
            else_out = self.refine(state, guard, False)
        elif type(stmt.orelse) is cst.If:
            else_in = self.refine(state, guard, False)
            self.flow.states[id(stmt.orelse)] = Snapshot.of(else_in)
            else_out = self.exec_if(stmt.orelse, else_in)
        else:
            else_in = self.refine(state, guard, False)
            else_out = self.exec_block(block_statements(stmt.orelse.body), else_in)
        if snapshot is not None:
            key, polarity = snapshot
            self.restore_snapshot(then_out, key, Mode.TRAIN if polarity else Mode.EVAL, state)
            self.restore_snapshot(else_out, key, Mode.EVAL if polarity else Mode.TRAIN, state)
        if guard is not None:
            self.tag(then_out, state, (guard, True))
            self.tag(else_out, state, (guard, False))
        return join_states([then_out, else_out], self.default_mode)

    def exec_loop(self, stmt: cst.For | cst.While, state: State) -> State:
        iter_taint = self.eval_expr(stmt.iter, state) if type(stmt) is cst.For else NO_TAINT
        ctx = _LoopContext(stmt)
        head = state.copy()
        target_name = (
            stmt.target.value if type(stmt) is cst.For and type(stmt.target) is cst.Name else None
        )
        if target_name is not None:
            assert type(stmt) is cst.For
            members = None
            if type(stmt.iter) is cst.Tuple or type(stmt.iter) is cst.List:
                keys = [key_of(el.value) for el in stmt.iter.elements]
                members = [k for k in keys if k is not None] if all(keys) else None
            had_target = target_name in self.loop_targets
            saved_target = self.loop_targets.get(target_name)
            self.loop_targets[target_name] = members
        try:
            return self._exec_loop(stmt, state, ctx, head, iter_taint)
        finally:
            if target_name is not None:
                if not had_target:
                    del self.loop_targets[target_name]
                else:
                    self.loop_targets[target_name] = saved_target

    def _exec_loop(
        self,
        stmt: cst.For | cst.While,
        state: State,
        ctx: _LoopContext,
        head: State,
        iter_taint: Taint,
    ) -> State:
        body = block_statements(stmt.body)
        infinite = type(stmt) is cst.While and _literal_bool(stmt.test) is True
        for _ in range(MAX_LOOP_ROUNDS if self.loop_budget > 0 else 1):
            self.loop_budget -= 1
            ctx.breaks.clear()
            ctx.continues.clear()
            body_in = head.copy()
            if isinstance(stmt, cst.For):
                self.assign(stmt.target, stmt.iter, iter_taint, body_in, loop_target=True)
            else:
                self.eval_expr(stmt.test, body_in)
            self.loops.append(ctx)
            try:
                body_out = self.exec_block(body, body_in)
            finally:
                self.loops.pop()
            new_head = join_states([state, body_out, *ctx.continues], self.default_mode)
            if new_head.same_as(head):
                break
            head = new_head
        normal_exit = head if not infinite else _dead()
        if type(stmt) is cst.For and body_out.reachable and normal_exit.reachable:
            # a for loop is written to run: an epoch loop that calls model.train() leaves the
            # model in train mode, a loop over parameters that clears them leaves them cleared
            # (the zero-iteration path is not a case the code is written for)
            normal_exit = join_states([body_out, *ctx.continues], self.default_mode)
        if stmt.orelse is not None:
            normal_exit = self.exec_block(block_statements(stmt.orelse.body), normal_exit)
        return join_states([normal_exit, *ctx.breaks], self.default_mode)

    def exec_with(self, stmt: cst.With, state: State) -> State:
        before = state.grad
        self.with_grads.append((len(self.loops), before))
        try:
            return self._exec_with(stmt, state, before)
        finally:
            self.with_grads.pop()

    def leaving(self, state: State, loop_exit: bool) -> State:
        """The state after a return/break/continue leaves the ``with`` blocks around it."""
        depth = len(self.loops)
        for loops_at_entry, grad in self.with_grads:
            if not loop_exit or loops_at_entry >= depth:
                state = state.copy()
                state.grad = grad
                break
        return state

    def _exec_with(self, stmt: cst.With, state: State, before: frozenset[GradVal]) -> State:
        for item in stmt.items:
            expr = item.item
            grad = self.grad_context(expr, state)
            if grad is not None:
                state.grad = grad
            elif self.check_uncalled_grad_context(expr):
                # ``with torch.no_grad:`` raises (TM203); the body is meant to run without grad
                state.grad = frozenset({GradVal(False, self.origin(expr))})
            else:
                self.eval_expr(expr, state)
            if item.asname is not None:
                self.assign(item.asname.name, expr, NO_TAINT, state)
        out = self.exec_block(block_statements(stmt.body), state)
        if out.reachable:
            out.grad = before
        return out

    def exec_try(self, stmt: cst.Try | cst.TryStar, state: State) -> State:
        returns_before = len(self.exit_states)
        out = self._exec_try(stmt, state)
        if stmt.finalbody is not None and len(self.exit_states) > returns_before:
            # a return inside try/except still runs the finally block on its way out
            final = block_statements(stmt.finalbody.body)
            leaving = self.exit_states[returns_before:]
            del self.exit_states[returns_before:]
            for exit_state in leaving:
                before = len(self.exit_states)
                after = self.exec_block(final, exit_state.copy())
                if after.reachable and len(self.exit_states) == before:
                    self.exit_states.append(after)
        return out

    def _exec_try(self, stmt: cst.Try | cst.TryStar, state: State) -> State:
        body_out = self.exec_block(block_statements(stmt.body), state.copy())
        handler_in = join_states([state, body_out], self.default_mode)
        outs = []
        for handler in stmt.handlers:
            outs.append(self.exec_block(block_statements(handler.body), handler_in.copy()))
        if stmt.orelse is not None:
            body_out = self.exec_block(block_statements(stmt.orelse.body), body_out)
        merged = join_states([body_out, *outs], self.default_mode)
        if stmt.finalbody is not None:
            if not merged.reachable:
                merged = handler_in
                merged = self.exec_block(block_statements(stmt.finalbody.body), merged)
                return _dead()
            merged = self.exec_block(block_statements(stmt.finalbody.body), merged)
        return merged

    def exec_augassign(self, small: cst.AugAssign, state: State) -> None:
        value = self.eval_expr(small.value, state)
        target = key_of(small.target)
        if target is None and type(small.target) is cst.Subscript:
            self.eval_expr(small.target, state)
            target = key_of(small.target.value)  # total[name] += loss: ``total`` accumulates
        if target is None:
            self.eval_expr(small.target, state)
            return
        if type(small.operator) in (cst.AddAssign, cst.SubtractAssign):
            self.accumulation(small, target, value, small.value, "+=", state)
        old = state.vars.get(target, NO_TAINT)
        state.vars[target] = old.join(value)

    def check_running_sum(self, small: cst.Assign, state: State) -> None:
        """``total = total + loss`` accumulates like ``total += loss``."""
        value = small.value
        if len(small.targets) != 1 or type(value) is not cst.BinaryOperation:
            return
        if type(value.operator) is not cst.Add:
            return
        target = key_of(small.targets[0].target)
        if target is None or key_of(value.left) != target:
            return
        taint = self.peek_expr(value.right, state)
        self.accumulation(small, target, taint, value.right, "+=", state)

    def accumulation(
        self,
        node: cst.CSTNode,
        target: str,
        value: Taint,
        value_node: cst.CSTNode,
        kind: str,
        state: State,
    ) -> None:
        self.record(
            ev.Accumulate(
                node,
                self.flow,
                (),
                self.loop_nodes(),
                target=target,
                value=value,
                grad=state.grad,
                kind=kind,
                value_node=value_node,
            )
        )

    def peek_expr(self, node: cst.BaseExpression, state: State) -> Taint:
        """The taint of an expression already evaluated (no events recorded again)."""
        saved = self.recorded
        self.recorded = dict(saved)
        try:
            return self.eval_expr(node, state.copy())
        finally:
            self.recorded = saved

    # -- assignment ----------------------------------------------------------------------
    def assign(
        self,
        target: cst.BaseExpression,
        value_node: cst.BaseExpression,
        value: Taint,
        state: State,
        loop_target: bool = False,
        element: bool = False,
    ) -> None:
        """``element``: the target receives one element of ``value_node``, not all of it."""
        if type(target) is cst.Tuple or type(target) is cst.List:
            values = (
                [el.value for el in value_node.elements]
                if (type(value_node) is cst.Tuple or type(value_node) is cst.List)
                and len(value_node.elements) == len(target.elements)
                else None
            )
            for i, el in enumerate(target.elements):
                sub_value = value
                if values is not None:
                    sub_value = self.peek_taint(values[i], state)
                if values is not None:
                    self.assign(el.value, values[i], sub_value, state)
                else:
                    self.assign(el.value, value_node, sub_value, state, element=True)
            return
        if type(target) is cst.StarredElement:
            self.assign(target.value, value_node, value, state, element=element)
            return
        if (
            type(target) is cst.Attribute
            and target.attr.value == "grad"
            and type(value_node) is cst.Name
            and value_node.value == "None"
        ):
            self.record(ev.Clear(target, self.flow, (), self.loop_nodes(), key=None))
            state.dirty.clear()
        elif type(target) is cst.Attribute and target.attr.value == "grad":
            # p.grad = g: gradients written by hand (PCGrad, gradient surgery) for the step
            for opt in list(state.grads):
                state.grads[opt] = frozenset({GradsVal(GradsState.FRESH, self.origin(target))})
        key = key_of(target)
        if key is None:
            return
        if value.snapshot_of == GRAD_SNAPSHOT:
            self.grad_saved[key] = state.grad  # prev = torch.is_grad_enabled()
        # ``opt_g, opt_d = optimizers``: each is one of them, not an alias of the list
        source = key_of(value_node) if not (loop_target or element) else None
        if source is not None and source != key and self.facts.is_optimizer_key(source):
            self.aliases[key] = self.aliases.get(source, source)
        else:
            self.aliases.pop(key, None)
        self.strip_guards(key, state)
        if loop_target:
            # items of a data loader or a list: whatever they carry, they are data, not the
            # result of an unknown computation
            value = Taint(value.models, value.graph, value.lossy, None, None, value.sources)
        state.vars[key] = Taint(
            value.models,
            value.graph,
            value.lossy or "loss" in key.rsplit(".", 1)[-1].lower(),
            value.no_grad_origin,
            value.snapshot_of,
            value.sources,
            target,
            value.opaque,
            value.maybe_no_grad,
        )
        if key in self.facts.module_keys or any(
            is_within(k, key) for k in list(state.modes) if k != key
        ):
            self.rebind_module(key, value_node, state)
        self.construct(key, value_node, state)

    def construct(self, key: str, value_node: cst.BaseExpression, state: State) -> None:
        """``predictor = Predictor(cfg)``: what ``__init__`` does to ``self.*`` now holds for
        ``predictor.*`` (its model built in train mode, for instance)."""
        if type(value_node) is not cst.Call or type(value_node.func) is not cst.Name:
            return
        cls = self.facts.classes.get(value_node.func.value)
        if cls is None:
            return
        init = self.facts.method(cls, "__init__")
        if init is not None:
            self.apply_summary(value_node, init, [], state, self_key=key)

    def rebind_module(self, key: str, value_node: cst.BaseExpression, state: State) -> None:
        base = value_node
        while (
            type(base) is cst.Call
            and type(base.func) is cst.Attribute
            and base.func.attr.value in api.MODULE_IDENTITY_METHODS
        ):
            base = base.func.value
        same = key_of(base)
        if same == key:
            return  # model = model.to(device): the same module
        for k in list(state.modes):
            if k != key and is_within(k, key):
                del state.modes[k]
        if type(base) is cst.Call and self.is_construction(base):
            # Hugging Face's from_pretrained() returns the model in eval mode
            name = self.facts.imports.resolve(base.func) or code_of(base.func)
            mode = Mode.EVAL if name.endswith("from_pretrained") else Mode.TRAIN
            state.modes[key] = frozenset({ModeVal(mode, self.origin(value_node, constructed=True))})
        elif same is not None and same in self.facts.module_keys:
            state.modes[key] = state.modes.get(same, self.default_mode)
        else:
            state.modes[key] = UNKNOWN_MODE

    def is_construction(self, call: cst.Call) -> bool:
        name = self.facts.imports.resolve(call.func) or code_of(call.func)
        if name in self.facts.classes:
            return self.facts.class_is_module(name)
        return (
            bool(api.MODULE_FACTORIES.match(name))
            or name.endswith(("from_pretrained", "create_model"))
            or self.facts.project_class(name) is not None
        )

    def peek_taint(self, node: cst.BaseExpression, state: State) -> Taint:
        key = key_of(node)
        if key is not None:
            return state.vars.get(key, NO_TAINT)
        return NO_TAINT

    # -- expressions -----------------------------------------------------------------------
    def eval_expr(self, node: cst.CSTNode, state: State) -> Taint:
        if type(node) is cst.Name:
            return state.vars.get(node.value, NO_TAINT)
        if type(node) is cst.Call:
            return self.eval_call(node, state)
        if type(node) is cst.Attribute:
            base = self.eval_expr(node.value, state)
            attr = node.attr.value
            if attr == "training":
                key = key_of(node.value)
                if key is not None and state.modes.get(key, self.default_mode) == INPUT_MODE:
                    return Taint(snapshot_of=key)
                return NO_TAINT
            if attr in {"data", "grad", "shape", "device", "dtype"}:
                return NO_TAINT
            if attr == "loss":
                return replace(base, lossy=True)
            return base
        if type(node) is cst.Subscript:
            base = self.eval_expr(node.value, state)
            for el in node.slice:
                if type(el.slice) is cst.Index:
                    self.eval_expr(el.slice.value, state)
            return base
        if type(node) is cst.BinaryOperation:
            left = self.eval_expr(node.left, state)
            right = self.eval_expr(node.right, state)
            return _combine(left, right)
        if type(node) is cst.Comparison:
            self.eval_expr(node.left, state)
            for comp in node.comparisons:
                self.eval_expr(comp.comparator, state)
            return NO_TAINT
        if type(node) is cst.UnaryOperation:
            inner = self.eval_expr(node.expression, state)
            return NO_TAINT if type(node.operator) is cst.Not else inner
        if type(node) is cst.BooleanOperation:
            return _combine(self.eval_expr(node.left, state), self.eval_expr(node.right, state))
        if type(node) is cst.IfExp:
            self.eval_expr(node.test, state)
            guard = self.guard_of(node.test)
            if guard is None:
                return self.eval_expr(node.body, state).join(self.eval_expr(node.orelse, state))
            # ``net.train() if is_train else net.eval()``: each side under its condition, so
            # that a later ``if is_train:`` meets only the mode of its own side
            then_state = self.refine(state, guard, True)
            else_state = self.refine(state, guard, False)
            result = self.eval_expr(node.body, then_state).join(
                self.eval_expr(node.orelse, else_state)
            )
            self.tag(then_state, state, (guard, True))
            self.tag(else_state, state, (guard, False))
            state.become(join_states([then_state, else_state], self.default_mode))
            return result
        if type(node) is cst.Lambda:
            return NO_TAINT
        out = NO_TAINT
        comprehension = type(node) in _COMPREHENSIONS
        self.comprehensions += comprehension
        try:
            for child in sub_expressions(node):
                out = _combine(out, self.eval_expr(child, state))
        finally:
            self.comprehensions -= comprehension
        if type(node) in (cst.ListComp, cst.GeneratorExp, cst.SetComp, cst.DictComp):
            return out
        if type(node) in (cst.Tuple, cst.List, cst.Dict, cst.Set):
            return out
        return out if out.graph else NO_TAINT

    def eval_call(self, call: cst.Call, state: State) -> Taint:
        func = call.func
        receiver_key: str | None = None
        receiver = NO_TAINT
        method = None
        if type(func) is cst.Attribute:
            method = func.attr.value
            receiver = self.eval_expr(func.value, state)
            receiver_key = key_of(func.value)
            if receiver_key is None and method in {"eval", "train"}:
                receiver_key = key_of(_strip_identity(func.value))
        elif type(func) is not cst.Name:
            self.eval_expr(func, state)
        args = [self.eval_expr(a.value, state) for a in call.args]
        qualified = self.facts.imports.resolve(func)

        if (
            method in {"eval", "train"}
            and receiver_key is not None
            and self.mode_switch(call, method, receiver_key, state)
        ):
            return NO_TAINT
        if method in {"backward", "manual_backward"}:
            loss = receiver
            if _is_backward_helper(func):
                loss = args[0] if args else NO_TAINT
            self.training_step(call, "backward", loss, state)
            return NO_TAINT
        if method == "append" and receiver_key is not None and len(args) == 1:
            self.accumulation(call, receiver_key, args[0], call.args[0].value, "append", state)
        if method == "step":
            self.optimizer_step(call, receiver_key, state)
        if method == "zero_grad" and receiver_key is not None:
            self.clear(call, receiver_key, state)
            return NO_TAINT
        if (
            type(func) is cst.Name
            and func.value == "zero_grad"
            and self.file.resolve_callee(call, self.info) is None
        ):
            # a project helper imported from another file (``zero_grad(self.model_params)``,
            # built on ``p.grad.zero_()``): it clears the gradients of what it is given
            self.record(ev.Clear(call, self.flow, (), self.loop_nodes(), key=None))
            state.dirty.clear()
            for opt in list(state.grads):
                state.grads[opt] = frozenset({GradsVal(GradsState.CLEARED, self.origin(call))})
            return NO_TAINT
        if method in {"zero_", "detach_", "fill_"} and type(func) is cst.Attribute:
            inner = func.value
            if type(inner) is cst.Attribute and inner.attr.value == "data":
                inner = inner.value  # param.grad.data.zero_()
            if type(inner) is cst.Attribute and inner.attr.value == "grad":
                self.record(ev.Clear(call, self.flow, (), self.loop_nodes(), key=None))
                state.dirty.clear()
        if qualified in api.SET_GRAD_ENABLED and call.args:
            arg = call.args[0].value
            flag = _literal_bool(arg)
            if flag is not None:
                state.grad = frozenset({GradVal(flag, self.origin(call))})
            elif args[0].snapshot_of == GRAD_SNAPSHOT and (k := key_of(arg)) in self.grad_saved:
                state.grad = self.grad_saved[k]  # set_grad_enabled(prev): restored
            return NO_TAINT
        if qualified in {"torch.is_grad_enabled", "torch.autograd.grad_mode.is_grad_enabled"}:
            return Taint(snapshot_of=GRAD_SNAPSHOT)
        if qualified in {"torch.autograd.grad", "torch.autograd.backward"}:
            self.flow.trains = True
            return NO_TAINT

        # forward passes
        forward_key = None
        if type(func) in (cst.Name, cst.Attribute) and method not in {"forward", "generate"}:
            k = key_of(func)
            if k is not None and k in self.facts.module_keys:
                forward_key = k
        if method == "forward" and receiver_key in self.facts.module_keys:
            forward_key = receiver_key
        if forward_key is not None:
            return self.forward(call, forward_key, args, state)

        callee = self.file.resolve_callee(call, self.info)
        if callee is not None:
            result = self.apply_summary(call, callee, args, state)
            return self.without_graph_if_disabled(result, call, state)
        if self.file.project is not None and qualified is not None:
            external = self.file.project.lookup(qualified)
            if external is not None:
                self.apply_external(call, external, state)

        # everything else: how the result relates to its inputs
        if method is not None and method in api.GRAPH_CUTTERS:
            # fake.detach(): a backward() through this value does not reach the module
            return Taint(frozenset(), False, receiver.lossy)
        if type(func) is cst.Name and func.value in api.GRAPH_CUTTING_FUNCTIONS:
            return NO_TAINT
        if method == "scale" and args:
            return args[0]
        name = qualified or (func.value if type(func) is cst.Name else method) or ""
        callee_key = key_of(func)
        lossy = bool(
            api.LOSS_FUNCTIONAL.match(qualified or "")
            or (callee_key is not None and callee_key in self.facts.loss_fns)
            or api.LOSS_CALL.search(name.rsplit(".", 1)[-1])
        )
        inputs = receiver if method is not None else NO_TAINT
        for a in args:
            inputs = _combine(inputs, a)
        if lossy:
            # criterion(prediction, target): the graph comes from the prediction; targets
            # (labels, returns) are data by convention, whatever is known of them
            positional = (t for a, t in zip(call.args, args, strict=False) if a.keyword is None)
            first = next(positional, None)
            if (
                first is not None
                and first.no_grad_origin is not None
                and not first.opaque
                and not first.graph
            ):
                inputs = replace(inputs, no_grad_origin=first.no_grad_origin, opaque=False)
        model_args = frozenset(
            k
            for a in call.args
            if (k := key_of(a.value)) is not None and k in self.facts.module_keys
        )
        if any(kw.keyword and kw.keyword.value == "requires_grad" for kw in call.args):
            return Taint(inputs.models, True, lossy)
        # tensor methods and torch functions keep the graph; unknown helpers are assumed
        # to return metrics unless they are named like a loss
        keeps_graph = lossy or method is not None or (qualified or "").startswith("torch.")
        graph = inputs.graph and keeps_graph
        disabled = self.disabled_origin(state)
        if disabled is not None:
            return Taint(frozenset(), False, lossy, disabled, sources=inputs.sources)
        # an unknown callable (a model we do not recognise, a helper elsewhere) may return a
        # tensor with a graph; torch functions, losses and tensor methods only pass one on
        opaque = (
            not (
                lossy
                or (qualified or "").startswith("torch.")
                or (method is not None and not receiver.opaque and receiver is not NO_TAINT)
            )
            or inputs.opaque
        )
        return Taint(
            inputs.models | model_args,
            graph,
            lossy or (receiver.lossy and method is not None),
            inputs.no_grad_origin if not graph and not opaque else None,
            sources=inputs.sources,
            opaque=opaque,
            maybe_no_grad=inputs.maybe_no_grad,
        )

    def disabled_origin(self, state: State) -> Origin | None:
        """Where gradients were turned off, if they are off on every path here."""
        if not state.grad or any(g.enabled is not False for g in state.grad):
            return None
        origins = {g.origin for g in state.grad}
        return next(iter(origins)) if len(origins) == 1 else None

    def without_graph_if_disabled(self, taint: Taint, call: cst.Call, state: State) -> Taint:
        disabled = self.disabled_origin(state)
        if disabled is None:
            return taint
        return Taint(frozenset(), False, taint.lossy, disabled, sources=taint.sources)

    # -- the PyTorch calls that matter ----------------------------------------------------
    def mode_switch(self, call: cst.Call, method: str, key: str, state: State) -> bool:
        if key not in self.facts.module_keys:
            return False
        if call.args:
            arg = call.args[0]
            if len(call.args) != 1 or (arg.keyword is not None and arg.keyword.value != "mode"):
                return False
            if method == "eval":
                # a TypeError (TM103); analyse the rest as the evaluation it was meant to be
                self.record(
                    ev.Syntax(call, self.flow, (), self.loop_nodes(), kind="eval-with-argument")
                )
                call_origin = self.origin(call)
                self.set_mode(key, frozenset({ModeVal(Mode.EVAL, call_origin)}), state)
                return True
        origin = self.origin(call)
        values: frozenset[ModeVal]
        if method == "eval":
            values = frozenset({ModeVal(Mode.EVAL, origin)})
        else:
            values = self.train_argument(call, origin, state)
        self.set_mode(key, values, state)
        self.record(ev.ModeSwitch(call, self.flow, (), self.loop_nodes(), key=key, modes=values))
        return True

    def train_argument(self, call: cst.Call, origin: Origin, state: State) -> frozenset[ModeVal]:
        if not call.args:
            return frozenset({ModeVal(Mode.TRAIN, origin)})
        arg = call.args[0].value
        flag = _literal_bool(arg)
        if flag is not None:
            return frozenset({ModeVal(Mode.TRAIN if flag else Mode.EVAL, origin)})
        taint = self.peek_taint(arg, state) if key_of(arg) else NO_TAINT
        if type(arg) is cst.Attribute and arg.attr.value == "training":
            k = key_of(arg.value)
            if k is not None:
                return state.modes.get(k, self.default_mode)
        if taint.snapshot_of is not None:
            return INPUT_MODE
        polarity = True
        inner = arg
        if type(arg) is cst.UnaryOperation and type(arg.operator) is cst.Not:
            polarity = False
            inner = arg.expression
        text = self.guard_of(inner)
        if text is None:
            return frozenset({ModeVal(Mode.TRAIN, origin), ModeVal(Mode.EVAL, origin)})
        return frozenset(
            {
                ModeVal(Mode.TRAIN, origin, frozenset({(text, polarity)})),
                ModeVal(Mode.EVAL, origin, frozenset({(text, not polarity)})),
            }
        )

    def set_mode(self, key: str, values: frozenset[ModeVal], state: State) -> None:
        for k in list(state.modes):
            if k != key and is_within(k, key):
                state.modes[k] = values
        state.modes[key] = values
        if key.endswith(".module"):
            # DDP(model).module holds every layer: its mode is the wrapper's mode
            state.modes[key[: -len(".module")]] = values

    def mode_of(self, key: str, state: State) -> frozenset[ModeVal]:
        if key in state.modes:
            return state.modes[key]
        parent = key
        while "." in parent:
            parent = parent.rsplit(".", 1)[0]
            if parent in state.modes:
                return state.modes[parent]
        if self.info is not None and not self._summary_key(key):
            return UNKNOWN_MODE
        return self.default_mode

    def forward(self, call: cst.Call, key: str, args: list[Taint], state: State) -> Taint:
        region, evaluation, is_body = self.region_of_forward(state)
        self.record(
            ev.Forward(
                call,
                self.flow,
                (),
                self.loop_nodes(),
                key=key,
                modes=self.mode_of(key, state),
                grad=state.grad,
                region=region,
                evaluation=evaluation,
                region_is_body=is_body,
                iterated=self.iterated,
                over_eval_data=self.over_eval_data,
            )
        )
        enabled = any(g.enabled is not False for g in state.grad)
        no_grad_origin = None
        if not enabled:
            origins = {g.origin for g in state.grad}
            no_grad_origin = next(iter(origins)) if len(origins) == 1 else None
        # only a forward that autograd records can train the module through this value
        models = frozenset({key}) if enabled else frozenset()
        sources: frozenset[str] = frozenset()
        for a in args:
            models |= a.models
            sources |= a.sources
        # off on some path, not by a branch condition: a global switch left off
        maybe_off = next(
            (g.origin for g in state.grad if g.enabled is False and not g.guards), None
        )
        return Taint(
            models,
            enabled,
            False,
            no_grad_origin,
            sources=sources,
            maybe_no_grad=maybe_off if enabled else None,
        )

    def region_of_forward(self, state: State) -> tuple[cst.CSTNode, bool, bool]:
        """The statement an evaluation fix acts on, and whether this forward is evaluation."""
        stack = self.stmt_stack
        root = stack[-1]
        i = len(stack) - 1
        while i > 0:
            parent = stack[i - 1]
            if not isinstance(parent, COMPOUND_REGION):
                break
            if self.file.contains_training(parent, self.info) or self.file.switches_to_train(
                parent
            ):
                break
            root = parent
            i -= 1
        innermost_loop = self.loops[-1].node if self.loops else None
        if innermost_loop is not None:
            evaluation = not self.file.contains_training(innermost_loop, self.info)
        elif self.info is not None:
            evaluation = not self.file.contains_training(self.info.node, self.info)
        else:
            evaluation = not self.file.module_trains()
        # iterating inside the evaluation region (over a dev loader): an evaluation pass, not a
        # single sample (GAN samples, pseudo-labels) taken inside a training loop
        self.iterated = self.comprehensions > 0 or any(
            lc.node is s for lc in self.loops for s in stack[i:]
        )
        self.over_eval_data = self.iterated and any(
            type(s) is cst.For and _names_evaluation_data(s.iter)
            for lc in self.loops
            for s in stack[i:]
            if lc.node is s
        )
        return root, evaluation, i == 0

    def training_step(self, call: cst.Call, kind: str, loss: Taint, state: State) -> None:
        self.flow.trains = True
        models = {k for k in loss.models if k in self.facts.module_keys}
        if kind == "backward":
            self.record(ev.Backward(call, self.flow, (), self.loop_nodes(), loss=loss))
            # every optimizer's gradients are fresh (one value shared: a file may have dozens)
            fresh = frozenset({GradsVal(GradsState.FRESH, self.origin(call))})
            state.grads.update(dict.fromkeys(self.file.optimizer_keys(), fresh))
        self.record_training(call, kind, models, state)

    def record_training(self, call: cst.Call, kind: str, models: set[str], state: State) -> None:
        trained = {k: self.mode_of(k, state) for k in models if k not in self.facts.frozen}
        if trained:
            self.record(ev.Train(call, self.flow, (), self.loop_nodes(), kind=kind, models=trained))

    def optimizer_step(self, call: cst.Call, receiver_key: str | None, state: State) -> None:
        optimizer = self.aliases.get(receiver_key, receiver_key) if receiver_key else None
        if not self.facts.is_optimizer_key(optimizer):
            if call.args and self.facts.is_optimizer_key(key_of(call.args[0].value)):
                optimizer = key_of(call.args[0].value)  # scaler.step(optimizer)
            else:
                return
        assert optimizer is not None
        self.flow.trains = True
        closure = bool(call.args) and optimizer == receiver_key
        self.record(
            ev.Step(
                call,
                self.flow,
                (),
                self.loop_nodes(),
                optimizer=optimizer,
                grads=state.grads.get(optimizer, OTHER_GRADS),
                closure=closure,
                dirty=state.dirty.get(optimizer, CLEAN),
            )
        )
        state.grads[optimizer] = OTHER_GRADS
        state.dirty[optimizer] = frozenset({self.origin(call)})
        covered = self.facts.covered_by(optimizer, self.info)
        if covered or not self._given(optimizer):
            self.record_training(call, "step", covered, state)
            return
        given = {k for k in self.facts.module_keys if self._given(k)}
        given |= {k for k in state.modes if self._given(k)}
        # the models as given, not their parts (``model``, not ``model.features``)
        given = {k for k in given if not any(o != k and is_within(k, o) for o in given)}
        trained = {k: self.mode_of(k, state) for k in given if k not in self.facts.frozen}
        if trained:
            self.record(
                ev.Train(
                    call,
                    self.flow,
                    (),
                    self.loop_nodes(),
                    kind="step",
                    models=trained,
                    optimizer=optimizer,
                )
            )

    def clear(self, call: cst.Call, key: str, state: State) -> None:
        key = self.aliases.get(key, key)
        if key in self.loop_targets:
            members = self.loop_targets[key]
            if members is None:
                # for opt in optimizers: opt.zero_grad() -- clears them all, whichever they are
                self.record(ev.Clear(call, self.flow, (), self.loop_nodes(), key=None))
                state.dirty.clear()
                return
            for member in members:  # for opt in (opt_g, opt_d): opt.zero_grad()
                self.clear_one(call, member, state)
            return
        self.clear_one(call, key, state)

    def clear_one(self, call: cst.Call, key: str, state: State) -> None:
        self.record(ev.Clear(call, self.flow, (), self.loop_nodes(), key=key))
        if self.facts.is_optimizer_key(key):
            targets = [key]
        else:
            # model.zero_grad(): the optimizers over its parameters, and any optimizer whose
            # parameters are not known (built by a helper such as configure_optimizers())
            targets = self.facts.optimizers_covering(key, self.info) + [
                opt for opt in state.dirty if not self.facts.covered_by(opt, self.info)
            ]
        for opt in targets:
            state.dirty[opt] = CLEAN
            old = state.grads.get(opt, OTHER_GRADS)
            state.grads[opt] = frozenset(
                GradsVal(GradsState.CLEARED, self.origin(call))
                if v.state is not GradsState.OTHER
                else v
                for v in old
            )

    # -- calls to the file's own functions ------------------------------------------------
    def apply_summary(
        self,
        call: cst.Call,
        callee: FunctionInfo,
        args: list[Taint],
        state: State,
        self_key: str | None = None,
    ) -> Taint:
        flow = self.file.flow_of(callee)
        if flow is None:
            return NO_TAINT
        self.flow.callees.add(id(callee.node))
        mapping = self.bind(call, callee, self_key)

        def to_caller(key: str) -> str | None:
            root_end = len(key)
            for i, c in enumerate(key):
                if c in ".[":
                    root_end = i
                    break
            root, rest = key[:root_end], key[root_end:]
            if root in mapping:
                target = mapping[root]
                return None if target is None else target + rest
            if root in callee.params or root in self.file.locals_of(callee):
                return None
            return key  # a global, the same name here

        literals = self.literal_arguments(call, callee)

        def resolve_modes(key: str, vals: frozenset[ModeVal]) -> frozenset[ModeVal]:
            caller_key = to_caller(key)
            out: set[ModeVal] = set()
            for v in vals:
                # ``self.model.train(is_train)`` called with ``is_train=True``
                if any(literals.get(text, pol) != pol for text, pol in v.guards):
                    continue
                if v.mode is Mode.INPUT:
                    if caller_key is None:
                        out.add(ModeVal(Mode.UNKNOWN))
                    else:
                        out |= self.mode_of(caller_key, state)
                elif v.origin is not None:
                    out.add(ModeVal(v.mode, v.origin.through(call)))
                else:
                    out.add(ModeVal(v.mode))
            return frozenset(out)

        def resolve_grad(vals: frozenset[GradVal]) -> frozenset[GradVal]:
            out: set[GradVal] = set()
            for g in vals:
                if g.enabled is None:
                    out |= state.grad
                else:
                    out.add(GradVal(g.enabled, g.origin.through(call) if g.origin else None))
            return frozenset(out)

        loops = self.loop_nodes()
        self.place(call)
        _, call_is_evaluation, _ = self.region_of_forward(state)
        # an evaluation helper called from a training loop evaluates; a loss helper trains
        call_is_evaluation = call_is_evaluation or bool(api.EVALUATION_FUNCTION.match(callee.name))
        for e in flow.caller_dependent():
            via = (call, *e.via)
            if isinstance(e, ev.Forward):
                # a module local to the callee keeps its name: only the grad mode is ours
                caller_key = to_caller(e.key) or e.key
                self.record(
                    ev.Forward(
                        e.node,
                        e.site,
                        via,
                        loops,
                        key=caller_key,
                        modes=resolve_modes(e.key, e.modes),
                        grad=resolve_grad(e.grad),
                        region=e.region,
                        # an evaluation already confirmed by a call further in stays one however
                        # its caller is reached (``__main__`` -> main() -> validate())
                        evaluation=e.evaluation and (call_is_evaluation or bool(e.via)),
                        region_is_body=e.region_is_body,
                        iterated=e.iterated,
                        over_eval_data=e.over_eval_data,
                    )
                )
            elif isinstance(e, ev.Accumulate):
                observed = to_caller(e.observed_target or e.target) or ""
                self.record(
                    ev.Accumulate(
                        e.node,
                        e.site,
                        via,
                        loops,
                        site_loops=e.site_loops,
                        target=e.target,
                        observed_target=observed,
                        value=e.value,
                        grad=resolve_grad(e.grad),
                        kind=e.kind,
                        value_node=e.value_node,
                    )
                )
            elif isinstance(e, ev.Train):
                optimizer = to_caller(e.optimizer) if e.optimizer else ""
                if optimizer is None:
                    continue
                # the optimizer the caller passed decides which of the given models it trains;
                # one the caller was given in turn leaves the choice to its own callers, and
                # one built out of sight trains what nobody can say (a frozen teacher passed
                # alongside the student must not count)
                covered = self.facts.covered_by(optimizer, self.info) if optimizer else set()
                if optimizer and not covered and not self._given(optimizer):
                    continue
                models = {}
                for k, vals in e.models.items():
                    ck = to_caller(k)
                    if ck is not None and (
                        not covered or any(is_within(ck, c) or is_within(c, ck) for c in covered)
                    ):
                        models[ck] = resolve_modes(k, vals)
                if models:
                    self.record(
                        ev.Train(
                            e.node,
                            e.site,
                            via,
                            loops,
                            kind=e.kind,
                            models=models,
                            optimizer="" if covered else optimizer,
                        )
                    )
            elif isinstance(e, ev.Step):
                opt = to_caller(e.optimizer)
                if opt is not None:
                    self.record(
                        ev.Step(
                            e.node,
                            e.site,
                            via,
                            loops,
                            optimizer=opt,
                            grads=e.grads,
                            closure=e.closure,
                        )
                    )
            elif isinstance(e, ev.Clear):
                ck = to_caller(e.key) if e.key else None
                self.record(ev.Clear(e.node, e.site, via, loops, key=ck))
                if ck is None:
                    state.dirty.clear()  # a helper that clears parameters' .grad
                else:
                    for opt in [ck, *self.facts.optimizers_covering(ck, self.info)]:
                        state.dirty[opt] = CLEAN
            elif isinstance(e, ev.Backward):
                self.record(ev.Backward(e.node, e.site, via, loops, loss=e.loss))
        # the callee's effect on modes and grad mode
        for key, vals in flow.exit_modes.items():
            exit_key = to_caller(key)
            if exit_key is not None:
                self.set_mode(exit_key, resolve_modes(key, vals), state)
        if flow.exit_grad is not None:
            state.grad = resolve_grad(flow.exit_grad)
        if flow.trains:
            self.flow.trains = True
            for opt in list(state.grads):
                state.grads[opt] = OTHER_GRADS
            state.dirty.clear()  # what the callee did to the gradients is not tracked here
        returned = frozenset(m for k in flow.returns.models if (m := to_caller(k)) is not None)
        r = flow.returns
        through = NO_TAINT  # the arguments the returned value is computed from
        for name, arg_taint in self.bound_taints(call, callee, args).items():
            if name in r.sources:
                through = _combine(through, arg_taint)
        graph = r.graph or through.graph
        origin = r.no_grad_origin.through(call) if r.no_grad_origin is not None else None
        if origin is None and not graph:
            origin = through.no_grad_origin
        return Taint(
            returned | through.models,
            graph,
            r.lossy or through.lossy or bool(api.LOSS_CALL.search(callee.name)),
            origin if not graph else None,
            sources=through.sources,
            opaque=r.opaque or through.opaque,
        )

    def apply_external(self, call: cst.Call, callee: ExternalFunction, state: State) -> None:
        """A function of another file of the project: what it does to the models passed."""
        bound = {p: k for p, k in bind_arguments(call, callee.params).items() if k is not None}
        if not bound:
            return
        self.place(call)
        trained: dict[str, frozenset[ModeVal]] = {}
        for effect in callee.trains:
            key = bound.get(effect.param)
            if key is None or key + effect.suffix in self.facts.frozen:
                continue
            key += effect.suffix
            trained[key] = (
                self.mode_of(key, state)
                if effect.mode is Mode.INPUT
                else frozenset({ModeVal(effect.mode, self.origin(call))})
            )
        if trained:
            self.flow.trains = True
            self.record(ev.Train(call, self.flow, (), self.loop_nodes(), models=trained))
            for opt in list(state.grads):
                state.grads[opt] = OTHER_GRADS
            state.dirty.clear()
        for effect in callee.exit_modes:
            key = bound.get(effect.param)
            if key is not None:
                origin = self.origin(call)
                self.set_mode(key + effect.suffix, frozenset({ModeVal(effect.mode, origin)}), state)
        if callee.exit_grad is not None:
            state.grad = frozenset({GradVal(callee.exit_grad, self.origin(call))})

    def _given(self, key: str) -> bool:
        return self.info is not None and self.info.receives(key)

    def literal_arguments(self, call: cst.Call, callee: FunctionInfo) -> dict[str, bool]:
        params = list(callee.params)
        if callee.cls is not None and params and params[0] in {"self", "cls"}:
            params = params[1:]
        out: dict[str, bool] = {}
        positional = [a for a in call.args if a.keyword is None]
        for name, arg in zip(params, positional, strict=False):
            flag = _literal_bool(arg.value)
            if flag is not None and not arg.star:
                out[name] = flag
        for arg in call.args:
            if arg.keyword is not None:
                flag = _literal_bool(arg.value)
                if flag is not None:
                    out[arg.keyword.value] = flag
        return out

    def bound_taints(
        self, call: cst.Call, callee: FunctionInfo, args: list[Taint]
    ) -> dict[str, Taint]:
        params = list(callee.params)
        if callee.cls is not None and params and params[0] in {"self", "cls"}:
            params = params[1:]
        out: dict[str, Taint] = {}
        positional = [(a, t) for a, t in zip(call.args, args, strict=False) if a.keyword is None]
        for name, (arg, taint) in zip(params, positional, strict=False):
            if not arg.star:
                out[name] = taint
        for arg, taint in zip(call.args, args, strict=False):
            if arg.keyword is not None:
                out[arg.keyword.value] = taint
        return out

    def bind(
        self, call: cst.Call, callee: FunctionInfo, self_key: str | None = None
    ) -> dict[str, str | None]:
        """Callee parameter (and ``self``) -> the caller's access path for it."""
        params = list(callee.params)
        mapping: dict[str, str | None] = {}
        is_method = callee.cls is not None and params and params[0] in {"self", "cls"}
        if is_method:
            func = call.func
            receiver = func.value if type(func) is cst.Attribute else None
            if self_key is not None:  # predictor = Predictor(...): __init__ on ``predictor``
                mapping[params[0]] = self_key
            elif callee.name == "__call__":  # predictor(image)
                mapping[params[0]] = key_of(func)
            elif type(receiver) is cst.Call:  # super().method()
                mapping[params[0]] = "self"
            else:
                mapping[params[0]] = key_of(receiver) if receiver is not None else None
            params = params[1:]
        mapping.update(bind_arguments(call, params))
        for name in callee.params:
            mapping.setdefault(name, None)
        return mapping

    # -- conditions ------------------------------------------------------------------------
    def guard_of(self, test: cst.BaseExpression) -> str | None:
        """A branch condition that later branches can be correlated with (no calls in it)."""
        if any(True for _ in calls_in(test)):
            return None
        if type(test) is cst.UnaryOperation and type(test.operator) is cst.Not:
            return None
        cache = self.file.cache
        return cache.code_text(test) if cache is not None else code_of(test).strip()

    def is_module_check(self, test: cst.BaseExpression) -> bool:
        if not (
            type(test) is cst.Call
            and type(test.func) is cst.Name
            and test.func.value == "isinstance"
            and len(test.args) == 2
        ):
            return False
        key = key_of(test.args[0].value)
        kind = self.facts.imports.resolve(test.args[1].value) or code_of(test.args[1].value)
        return key in self.facts.module_keys and kind.endswith("Module")

    def refine(self, state: State, guard: str | None, polarity: bool) -> State:
        out = state.copy()
        if guard is None:
            return out
        contrary = (guard, not polarity)
        for key, vals in state.modes.items():
            kept = frozenset(v for v in vals if contrary not in v.guards)
            if kept:
                out.modes[key] = kept
        kept_grad = frozenset(g for g in state.grad if contrary not in g.guards)
        if kept_grad:
            out.grad = kept_grad
        return out

    def tag(self, out: State, before: State, guard: Guard) -> None:
        if not out.reachable:
            return
        for key, vals in out.modes.items():
            old = before.modes.get(key, frozenset())
            if vals != old:
                # every value on this path holds under the branch condition
                out.modes[key] = frozenset(
                    ModeVal(v.mode, v.origin, v.guards | {guard}) for v in vals
                )
        if out.grad != before.grad:
            out.grad = frozenset(GradVal(g.enabled, g.origin, g.guards | {guard}) for g in out.grad)

    def strip_guards(self, name: str, state: State) -> None:
        def touches(guards: frozenset[Guard]) -> bool:
            return any(name in _guard_names(text) for text, _ in guards)

        # called on every assignment, and few values hold a condition: those are looked at
        touched = [
            key
            for key, vals in state.modes.items()
            if any(v.guards and touches(v.guards) for v in vals)
        ]
        for key in touched:
            state.modes[key] = frozenset(
                ModeVal(v.mode, v.origin) if v.guards and touches(v.guards) else v
                for v in state.modes[key]
            )
        if any(g.guards and touches(g.guards) for g in state.grad):
            state.grad = frozenset(
                GradVal(g.enabled, g.origin) if g.guards and touches(g.guards) else g
                for g in state.grad
            )

    def snapshot_test(self, test: cst.BaseExpression, state: State) -> tuple[str, bool] | None:
        polarity = True
        if type(test) is cst.UnaryOperation and type(test.operator) is cst.Not:
            polarity = False
            test = test.expression
        if type(test) is cst.Name:
            taint = state.vars.get(test.value)
            if taint is not None and taint.snapshot_of is not None:
                return taint.snapshot_of, polarity
        return None

    def restore_snapshot(self, out: State, key: str, mode: Mode, before: State) -> None:
        """In ``if was_training: model.train()``, train mode on that path is the entry mode."""
        if not out.reachable:
            return
        vals = out.modes.get(key)
        if vals is None:
            return
        out.modes[key] = frozenset(ModeVal(Mode.INPUT) if v.mode is mode else v for v in vals)

    def grad_context(self, expr: cst.BaseExpression, state: State) -> frozenset[GradVal] | None:
        key = key_of(expr)
        if key is not None and key in self.facts.grad_contexts:
            return self.grad_context(self.facts.grad_contexts[key], state)
        if type(expr) is cst.Call:
            factory = key_of(expr.func)
            if factory is not None and factory in self.facts.grad_factories:
                # a context picked at run time among torch's grad modes: unknown here
                origin = self.origin(expr)
                return frozenset({GradVal(True, origin), GradVal(False, origin)})
        if type(expr) is cst.IfExp:
            a = self.grad_context(expr.body, state)
            b = self.grad_context(expr.orelse, state)
            if a is None and b is None:
                return None
            guard = self.guard_of(expr.test)
            if guard is None:
                return (a or state.grad) | (b or state.grad)
            # ``enable_grad() if is_train else no_grad()``: each mode under its condition
            return frozenset(
                GradVal(g.enabled, g.origin, g.guards | {(guard, polarity)})
                for values, polarity in ((a or state.grad, True), (b or state.grad, False))
                for g in values
            )
        if type(expr) is not cst.Call:
            return None
        name = self.facts.imports.resolve(expr.func)
        if name is None or name not in api.GRAD_CONTEXTS:
            return None
        origin = self.origin(expr)
        if name in api.NO_GRAD:
            if name in api.INFERENCE_MODE and expr.args:
                flag = _literal_bool(expr.args[0].value)
                if flag is False:
                    return state.grad
            return frozenset({GradVal(False, origin)})
        if name in api.ENABLE_GRAD:
            if state.grad and all(self.in_inference_mode(g) for g in state.grad):
                return state.grad  # enable_grad() does not record inside inference_mode()
            return frozenset({GradVal(True, origin)})
        if not expr.args:
            return None
        arg = expr.args[0].value
        flag = _literal_bool(arg)
        if flag is not None:
            return frozenset({GradVal(flag, origin)})
        guard = self.guard_of(arg)
        if guard is None:
            return frozenset({GradVal(True, origin), GradVal(False, origin)})
        return frozenset(
            {
                GradVal(True, origin, frozenset({(guard, True)})),
                GradVal(False, origin, frozenset({(guard, False)})),
            }
        )

    # -- syntax-level mistakes ---------------------------------------------------------------
    def in_inference_mode(self, grad: GradVal) -> bool:
        if grad.enabled is not False or grad.origin is None:
            return False
        node = grad.origin.node
        target = node.func if type(node) is cst.Call else node
        if type(target) is cst.Decorator:
            target = target.decorator
            target = target.func if type(target) is cst.Call else target
        if not isinstance(target, cst.BaseExpression):
            return False  # only a name or an attribute chain resolves to an import
        resolved = self.facts.imports.resolve(target)
        return resolved is not None and resolved in api.INFERENCE_MODE

    def check_bare_mode_switch(self, expr: cst.BaseExpression) -> None:
        if type(expr) is cst.Attribute and expr.attr.value in {"eval", "train"}:
            self.record(
                ev.Syntax(expr, self.flow, (), self.loop_nodes(), kind="uncalled-mode-switch")
            )
        elif type(expr) is cst.Call and not expr.args:
            # ``torch.no_grad()`` on its own line: a context manager built and thrown away
            name = self.facts.imports.resolve(expr.func)
            if name in api.NO_GRAD or name in api.ENABLE_GRAD:
                kind = "grad-context-not-entered"
                self.record(
                    ev.Syntax(expr, self.flow, (), self.loop_nodes(), kind=kind, detail=name)
                )

    def check_uncalled_grad_context(self, expr: cst.BaseExpression) -> bool:
        name = self.facts.imports.resolve(expr)
        if name not in api.GRAD_CONTEXTS:
            return False
        self.record(
            ev.Syntax(
                expr,
                self.flow,
                (),
                self.loop_nodes(),
                kind="grad-context-not-called",
                detail=name,
            )
        )
        return name not in api.ENABLE_GRAD and name not in api.SET_GRAD_ENABLED


def bind_arguments(call: cst.Call, params: Sequence[str]) -> dict[str, str | None]:
    """Parameter -> the caller's access path for the argument passed to it (positional
    arguments past a ``*args`` are not placed)."""
    positional = [a for a in call.args if a.keyword is None and not a.star]
    mapping = {name: key_of(arg.value) for name, arg in zip(params, positional, strict=False)}
    for arg in call.args:
        if arg.keyword is not None and arg.keyword.value in params:
            mapping[arg.keyword.value] = key_of(arg.value)
    return mapping


def _names_evaluation_data(node: cst.BaseExpression) -> bool:
    """``val_loader``, ``enumerate(tqdm(self.test_loader))``: the loop goes over evaluation data
    (the iterable itself, or a wrapper's first argument)."""
    while type(node) is cst.Call and node.args:
        node = node.args[0].value
    while type(node) is cst.Subscript:
        node = node.value
    if type(node) is cst.Attribute:
        return bool(api.EVALUATION_DATA.search(node.attr.value))
    return type(node) is cst.Name and bool(api.EVALUATION_DATA.search(node.value))


def _dead() -> State:
    s = State()
    s.reachable = False
    return s


def _combine(a: Taint, b: Taint) -> Taint:
    if a is NO_TAINT:
        return b
    if b is NO_TAINT:
        return a
    origin = a.no_grad_origin if a.no_grad_origin == b.no_grad_origin else None
    # a graph-less value stays graph-less when combined with constants and other graph-less
    # values, never with something that may carry a graph
    if a.no_grad_origin is not None and _graphless(b):
        origin = a.no_grad_origin
    if b.no_grad_origin is not None and _graphless(a):
        origin = b.no_grad_origin
    return Taint(
        a.models | b.models,
        a.graph or b.graph,
        a.lossy or b.lossy,
        origin,
        sources=a.sources | b.sources,
        opaque=a.opaque or b.opaque,
        maybe_no_grad=a.maybe_no_grad or b.maybe_no_grad,
    )


def _graphless(t: Taint) -> bool:
    return not t.graph and not t.models and not t.opaque


def _scalar_params(node: cst.FunctionDef) -> set[str]:
    params = [*node.params.posonly_params, *node.params.params, *node.params.kwonly_params]
    literal = (cst.Integer, cst.Float, cst.SimpleString, cst.Name)
    return {
        p.name.value
        for p in params
        if p.default is not None
        and isinstance(p.default, literal)
        and (type(p.default) is not cst.Name or p.default.value in {"True", "False", "None"})
    }


def _strip_identity(node: cst.BaseExpression) -> cst.BaseExpression:
    """``model.to(device).cuda()`` -> ``model``: these methods return the module itself."""
    while (
        type(node) is cst.Call
        and type(node.func) is cst.Attribute
        and node.func.attr.value in api.MODULE_IDENTITY_METHODS
    ):
        node = node.func.value
    return node


def _is_grad_presence_check(test: cst.BaseExpression) -> bool:
    return (
        type(test) is cst.Comparison
        and type(test.left) is cst.Attribute
        and test.left.attr.value == "grad"
        and len(test.comparisons) == 1
        and type(test.comparisons[0].operator) is cst.IsNot
        and type(test.comparisons[0].comparator) is cst.Name
        and test.comparisons[0].comparator.value == "None"
    )


def _literal_bool(node: cst.BaseExpression) -> bool | None:
    if type(node) is cst.Name and node.value in {"True", "False"}:
        return node.value == "True"
    return None


def _is_backward_helper(func: cst.BaseExpression) -> bool:
    """``accelerator.backward(loss)``, ``fabric.backward(loss)``, ``self.manual_backward(loss)``."""
    if type(func) is not cst.Attribute:
        return False
    if func.attr.value == "manual_backward":
        return True
    receiver = key_of(func.value)
    return receiver is not None and receiver.rsplit(".", 1)[-1] in {
        "accelerator",
        "fabric",
        "engine",
        "model_engine",
        "deepspeed_engine",
        "trainer",
    }


_GUARD_NAME_CACHE: dict[str, frozenset[str]] = {}


def _guard_names(text: str) -> frozenset[str]:
    cached = _GUARD_NAME_CACHE.get(text)
    if cached is None:
        import re

        cached = frozenset(re.findall(r"[A-Za-z_]\w*", text))
        if len(_GUARD_NAME_CACHE) > 10000:
            _GUARD_NAME_CACHE.clear()
        _GUARD_NAME_CACHE[text] = cached
    return cached


def _target_names(node: cst.BaseExpression) -> list[str]:
    if type(node) is cst.Name:
        return [node.value]
    if type(node) is cst.Tuple or type(node) is cst.List:
        out: list[str] = []
        for el in node.elements:
            out.extend(_target_names(el.value))
        return out
    if type(node) is cst.StarredElement:
        return _target_names(node.value)
    return []


def _walk_statements(stmts: Iterable[cst.CSTNode]) -> Iterable[cst.CSTNode]:
    stack = list(stmts)
    while stack:
        stmt = stack.pop()
        yield stmt
        if type(stmt) not in (cst.FunctionDef, cst.ClassDef, cst.SimpleStatementLine):
            stack.extend(nested_blocks(stmt))
