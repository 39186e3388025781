"""The flow analysis: an abstract interpreter over statements.

State = the mode of each module (train / eval / as-on-entry / unknown, with where it was set),
the grad mode, what local values were computed from, and what happened last to each
optimizer's gradients. Branches join; loops iterate to a fixpoint, so an ``eval()`` at the end
of one iteration is seen at the start of the next. Every function gets a summary (its effect on
the modes of its parameters and ``self`` attributes, and its caller-dependent events); calls to
the file's own functions apply those summaries.

The file level and entry points are here (functions other files call: entered_from_callers.py;
whether a statement trains: training_queries.py); the interpreter and its parts are in
interpreter.py, calls.py, applied_summaries.py, training.py, guards.py and grad_mode.py."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

import libcst as cst

from torchmode.engine import torch_api as api
from torchmode.engine import training_queries
from torchmode.engine.blocks import block_statements
from torchmode.engine.callers import RepeatedCall
from torchmode.engine.chunks import Chunk, ChunkCache
from torchmode.engine.entered_from_callers import enter_from_other_files, repeated_from_other_files
from torchmode.engine.facts import ClassInfo, Facts, FunctionInfo
from torchmode.engine.function_flow import (
    CachedFlow,
    CachedModuleFlow,
    Externals,
    FunctionFlow,
    module_shape,
)
from torchmode.engine.interpreter import Interpreter
from torchmode.engine.overrides import Runs, runs_of
from torchmode.engine.training_queries import DepProbe, walk_statements
from torchmode.settings import NOTHING_DECLARED, Declared

if TYPE_CHECKING:
    from torchmode.engine.accumulation import Accumulator
    from torchmode.engine.project import ProjectContext
    from torchmode.engine.summary_types import ExternalFunction, Subclass


class FileFlow:
    """Runs the interpreter over the module and every function, computing summaries on demand."""

    def __init__(
        self,
        chunks: list[Chunk],
        facts: Facts,
        cache: ChunkCache | None = None,
        project: ProjectContext | None = None,
        declared: Declared = NOTHING_DECLARED,
    ) -> None:
        self.project = project
        self.declared = declared
        # a file read for another's sake records its calls into other files (ev.ProjectCall)
        self.collect_calls = project is not None and not project.main
        # id(a function's analysis) -> the same function entered as its callers in other
        # files of the project enter it (what the rules read instead)
        self.entered: dict[int, FunctionFlow] = {}
        # functions that also evaluate, entered as the callers that run them to evaluate do
        self.also_entered: list[FunctionFlow] = []
        self.parameter_tests: dict[int, bool] = {}  # tests_a_parameter
        # the other files of the project whose calls decided how its functions are entered
        self.caller_files: tuple[str, ...] = ()
        # the files read for the subclasses that define what a base class here leaves to them
        self.override_files: set[str] = set()
        # class -> its subclasses in the files that import this one
        self._subclasses: dict[str, tuple[Subclass, ...]] = {}
        # id(a function's analysis) -> the calls other files of the project make to it inside
        # a loop (_repeated_from_other_files)
        self.repeated: dict[int, tuple[RepeatedCall, ...]] = {}
        self.chunks = chunks
        # ``d_net = Distiller(t_net, s_net)`` at the top level: what each module keeps
        self.module_held: dict[str, dict[str, str]] | None = None
        self.class_wrapped: dict[int, dict[str, dict[str, str]]] = {}  # held_arguments.py
        self.facts = facts
        self.cache = cache
        self.fingerprint = (
            cache.intern((facts.fingerprint(), declared)) if cache is not None else None
        )
        self.flows: dict[int, FunctionFlow] = {}
        self.in_progress: set[int] = set()
        # id(node) -> (contains training?, the function analyses that answer depended on)
        self.training_cache: dict[
            int, tuple[bool, list[tuple[int, FunctionFlow | None]], list[tuple[str, object]]]
        ] = {}
        # interpreters running, innermost last (or a probe collecting what an answer used)
        self.active: list[Interpreter | DepProbe] = []
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
        # id(a function's info) -> the names and attributes it assigns (flags.assigned_keys)
        self.assigned: dict[int, frozenset[str]] = {}
        self._module_trains: bool | None = None
        self.train_switch_cache: dict[int, bool] = {}

    def release(self) -> None:
        """Break the reference cycles of this finished analysis and of its cache (function
        analyses, chunks and caches refer to each other), so that reference counting frees its
        trees at once: a batch run then needs no cyclic garbage collection, which walks every
        object of every file. The analysis and its cache are unusable afterwards."""
        if self.cache is not None:
            self.cache.clear()
        functions = [
            *self.flows.values(),
            *self.entered.values(),
            *self.also_entered,
            self.module_flow,
            *(r[0] for r in self.reused.values()),
        ]
        for function in functions:
            if function is not None:
                function.release()
        for info in self.facts.all_functions:
            if info.cls is not None:
                info.cls.methods.clear()
        for chunk in self.chunks:
            chunk.cache = None
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
            # callers, not a default, decide its grad mode; one the project declares an entry
            # point is also called from outside, as entered with the defaults
            flow.called = (
                flow.info is not None
                and (id(flow.info.node) in called or self.handed_on(flow.info, handed))
                and not self.declared.is_entry_point(flow.info.name, flow.info.qualname)
            )
        if self.project is not None and self.project.main:
            enter_from_other_files(self)
            repeated_from_other_files(self)
        if self.override_files:
            read = set(self.caller_files)
            self.caller_files += tuple(sorted(self.override_files - read))

    def external(self, qualified: str) -> ExternalFunction | None:
        """The summary of another file's function ``qualified``, as the analysis in progress
        read it: a cached analysis is reused while every such lookup finds the same."""
        if self.project is None:
            return None
        found = self.project.lookup(qualified)
        if self.active:
            self.active[-1].externals.append((qualified, found))
        return found

    def accumulator(self, qualified: str, method: str) -> Accumulator | None:
        """What ``method`` of another file's class ``qualified`` keeps of its arguments (read as
        ``external`` reads a function's summary)."""
        if self.project is None:
            return None
        found = self.project.accumulator(qualified, method)
        if self.active:
            self.active[-1].externals.append((f"{qualified}:{method}", found))
        return found

    def method_summary(self, qualified: str, method: str) -> ExternalFunction | None:
        """What ``method`` of another file's plain class ``qualified`` does to the modules an
        instance holds (read as ``external`` reads a function's summary)."""
        if self.project is None:
            return None
        found = self.project.method(qualified, method)
        if self.active:
            self.active[-1].externals.append((f"{_METHOD}{qualified}:{method}", found))
        return found

    def override(self, cls: ClassInfo, method: str) -> Runs:
        """What ``self.method()`` in ``cls`` runs when the one definition of ``method`` is a
        subclass's in a file that imports this one (overrides.py): looked for in the file
        being checked only, as its functions' callers are."""
        if self.project is None or not self.project.main:
            return ()
        name = f"{_OVERRIDE}{cls.name}.{method}"
        found = self._override(name)
        if self.active:
            self.active[-1].externals.append((name, found))
        return found

    def _override(self, name: str) -> Runs:
        """``override`` for an ``Externals`` entry's name; the importing files read once per
        class and analysis (``self.m()`` calls of inherited methods are many)."""
        cls, _, method = name[len(_OVERRIDE) :].rpartition(".")
        found = self._subclasses.get(cls)
        if found is None:
            assert self.project is not None
            found = self._subclasses[cls] = self.project.subclasses(cls)
            self.override_files.update(self.project.importing_files())
        return runs_of(found, method)

    def _same_externals(self, externals: Externals) -> bool:
        project = self.project
        if project is None:
            return all(found is None for _, found in externals)
        return all(
            (self._override(name) if name.startswith(_OVERRIDE) else _looked_up(project, name))
            == found
            for name, found in externals
        )

    def evaluation_name(self, name: str) -> bool:
        """A function named for evaluating a model (``validate``, ``test_epoch``), or one the
        project declared so (``evaluation-functions``)."""
        return bool(api.EVALUATION_FUNCTION.match(name)) or self.declared.evaluates(name)

    def inference_name(self, name: str) -> bool:
        """... or for running one (``predict``, ``sample``, ``generate``), which may also be a
        step of training."""
        return bool(api.EVAL_FUNCTION.match(name)) or self.declared.evaluates(name)

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
            shape = module_shape(statements)
            self.cache.module_flow = CachedModuleFlow(
                shape, self.fingerprint, deps, interp.flow, _externals(interp.externals)
            )
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
        shape = module_shape(statements)
        if len(shape) != len(cached.shape) or not all(
            a is b or (type(a) is str and a == b) for a, b in zip(shape, cached.shape, strict=True)
        ):
            return None
        for node_id, recorded in cached.deps:
            callee = self.facts.function_by_node.get(node_id)
            if callee is None or self.flows.get(id(callee)) is not recorded:
                return None
        if not self._same_externals(cached.externals):
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

    def _run(self, interp: Interpreter) -> FunctionFlow:
        """Run one function's interpreter, as the innermost analysis in progress."""
        self.active.append(interp)
        try:
            interp.run_function()
        finally:
            self.active.pop()
        return interp.flow

    def _analyse(self, info: FunctionInfo) -> FunctionFlow:
        interp = Interpreter(self, info)
        flow = self._run(interp)
        # a summary computed while another function it calls was still being analysed (mutual
        # recursion) is provisional: caching it would make the next analysis of the same text
        # differ. A call to itself is unknown on every analysis, so that one is stable.
        own = id(info.node)
        provisional = any(dep is None and node != own for node, dep in interp.deps)
        if self.cache is not None and not provisional:
            deps = tuple({(n, id(f)): (n, f) for n, f in interp.deps}.values())
            self.cache.flows[id(info.node)] = CachedFlow(
                info.node, self.fingerprint, deps, flow, _externals(interp.externals)
            )
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
        if not self._same_externals(cached.externals):
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
            for stmt in walk_statements(block_statements(info.node.body)):
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
        for flow in self.flows.values():
            yield self.entered.get(id(flow), flow)
        yield from self.also_entered
        if self.module_flow is not None:
            yield self.module_flow

    # -- "does this statement train?" (training_queries.py) --------------------------------
    contains_training = training_queries.contains_training
    tests_a_parameter = training_queries.tests_a_parameter
    training_guards = training_queries.training_guards
    switches_to_train = training_queries.switches_to_train
    is_training_call = training_queries.is_training_call
    resolve_callee = training_queries.resolve_callee


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


def _externals(looked_up: list[tuple[str, object]]) -> Externals:
    """Each lookup once (one analysis finds the same for a name every time)."""
    return tuple(dict(looked_up).items())


# marks an ``Externals`` entry of a subclass's method (no name has it)
_OVERRIDE = "<"
# marks one of a plain class's method summary (``>model.VSE:val_start``)
_METHOD = ">"


def _looked_up(project: ProjectContext, name: str) -> object:
    """What an ``Externals`` entry looked up: a function, or ``class:method`` (no name has a
    colon) a method's accumulator (``<class.method``, what a subclass's method runs, is
    ``FileFlow._override``'s)."""
    qualified, colon, method = name.partition(":")
    if name.startswith(_METHOD):
        return project.method(qualified[len(_METHOD) :], method)
    return project.accumulator(qualified, method) if colon else project.lookup(name)
