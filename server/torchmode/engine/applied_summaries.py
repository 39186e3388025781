"""Applying a called function's summary in the caller's terms: the file's own functions
(``AtCall`` reads the callee's names and states at one call), another file's functions and
its plain classes' methods, and the project's own context managers and grad-off decorators."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import libcst as cst

from torchmode.engine import events as ev
from torchmode.engine import torch_api as api
from torchmode.engine.accumulation import accumulated_arguments
from torchmode.engine.assignments import set_flag
from torchmode.engine.binding import (
    bind_arguments,
    displayed_arguments,
    string_comparison,
)
from torchmode.engine.drawn import passes_evaluation_data
from torchmode.engine.facts import FunctionInfo
from torchmode.engine.flags import assigned_keys
from torchmode.engine.names import is_within
from torchmode.engine.values import (
    CLEAN,
    NO_TAINT,
    OTHER_GRADS,
    GradVal,
    Guard,
    Mode,
    ModeVal,
    State,
    Taint,
    combine,
)
from torchmode.engine.wrappers import is_context_manager, turns_grad_off, yield_statement

if TYPE_CHECKING:
    from torchmode.engine.interpreter import Interpreter
    from torchmode.engine.summary_types import ExternalFunction, Inside


# a branch condition that is a name or an attribute chain (``self.is_test``)
_ACCESS_PATH = re.compile(r"[A-Za-z_]\w*(?:\.[A-Za-z_]\w*)*")


# -- calls to the file's own functions ------------------------------------------------
def apply_summary(
    self: Interpreter,
    call: cst.Call,
    callee: FunctionInfo,
    args: list[Taint],
    state: State,
    self_key: str | None = None,
    free: dict[str, str | None] | None = None,
) -> Taint:
    flow = self.file.flow_of(callee)
    if flow is None:
        return NO_TAINT
    self.flow.callees.add(id(callee.node))
    at = AtCall.at(self, call, callee, state, self_key)
    if free:
        for name, caller_key in free.items():
            at.mapping.setdefault(name, caller_key)
    for e in flow.caller_dependent():
        moved = e.in_caller(at)
        if moved is not None:
            self.record(moved)
    accumulated_arguments(self, call, callee, flow, at, args)
    # the callee's effect on modes and grad mode
    before: ev.ModelModes = {}
    grad_before = state.grad
    for key, vals in flow.exit_modes.items():
        for exit_key in at.keys(key):
            before.setdefault(exit_key, self.mode_of(exit_key, state))
            self.set_mode(exit_key, at.modes(key, vals, exit_key), state)
    if flow.exit_grad is not None:
        state.grad = at.grad(flow.exit_grad)
    record_effect(self, call, before, grad_before, flow.exit_grad is not None, state)
    if state.flags:
        at.forget_flags()
    if flow.trains:
        self.flow.trains = True
        for opt in list(state.grads):
            state.grads[opt] = OTHER_GRADS
        state.dirty.clear()  # what the callee did to the gradients is not tracked here
    bound = self.bound_taints(call, callee, args)
    if flow.returned_items is not None:
        # ``loss, n_correct = helper(...)``: each element is what it is in the helper (the
        # count beside the loss is no loss), not all of the tuple
        self.call_items[id(call)] = tuple(
            _returned_at(r, call, callee, at, bound) for r in flow.returned_items
        )
    return _returned_at(flow.returns, call, callee, at, bound)


def _returned_at(
    r: Taint, call: cst.Call, callee: FunctionInfo, at: AtCall, bound: dict[str, Taint]
) -> Taint:
    """A value the callee returns (``r``, in its own terms) as the caller gets it."""
    returned = frozenset(m for k in r.models if (m := at.key(k)) is not None)
    through = NO_TAINT  # the arguments the returned value is computed from
    for name, arg_taint in bound.items():
        if name in r.sources:
            through = combine(through, arg_taint)
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
        drawn=through.drawn,
    )


@dataclass
class AtCall:
    """A called function's names and states read at one call to it (``ev.CallerTerms``)."""

    it: Interpreter
    call: cst.Call
    callee: FunctionInfo
    state: State
    mapping: dict[str, str | None]  # the callee's parameters -> the caller's names
    literals: dict[str, bool]  # literal boolean arguments, by parameter
    loops: ev.Loops
    evaluates: bool
    # the callee's parameters given a list or tuple of names (``[encoder, decoder]``) -> those
    spread: dict[str, list[str]] = field(default_factory=dict)
    strings: dict[str, str] = field(default_factory=dict)  # literal string arguments

    @staticmethod
    def at(
        it: Interpreter, call: cst.Call, callee: FunctionInfo, state: State, self_key: str | None
    ) -> AtCall:
        mapping = it.bind(call, callee, self_key)
        literals = it.literal_arguments(call, callee)
        loops = it.loop_nodes()
        it.place(call)
        _, evaluates, _ = it.region_of_forward(state)
        # an evaluation helper called from a training loop evaluates (named so, or handed
        # evaluation data); a loss helper trains
        evaluates = (
            evaluates or it.file.evaluation_name(callee.name) or passes_evaluation_data(call)
        )
        spread, strings = displayed_arguments(call, callee)
        return AtCall(it, call, callee, state, mapping, literals, loops, evaluates, spread, strings)

    def keys(self, key: str) -> list[str]:
        """The caller's names for the callee's ``key``: one, none, or, for a parameter given a
        list of names, each of them (what the callee does to every element of it)."""
        found = self.key(key)
        if found is not None:
            return [found]
        return list(self.spread.get(key, ()))

    def key(self, key: str) -> str | None:
        root_end = len(key)
        for i, c in enumerate(key):
            if c in ".[":
                root_end = i
                break
        root, rest = key[:root_end], key[root_end:]
        if root in self.mapping:
            target = self.mapping[root]
            return None if target is None else target + rest
        if root in self.callee.params or root in self.it.file.locals_of(self.callee):
            return None
        return key  # a global, the same name here

    def modes(
        self, key: str, values: frozenset[ModeVal], caller_key: str | None = None
    ) -> frozenset[ModeVal]:
        element = caller_key is not None and key in self.spread
        caller_key = caller_key or self.key(key)
        values = frozenset(v for v in values if not any(map(self.rules_out, v.guards)))
        if element and any(v.mode is not Mode.INPUT for v in values):
            # ``for m in models: m.eval()``: its paths that switch nothing unconditionally
            # (no iteration at all, a None element skipped) switch none of the elements given
            values = frozenset(v for v in values if v.mode is not Mode.INPUT or v.guards)
        out: set[ModeVal] = set()
        for v in values:
            # ``self.model.train(is_train)`` called with ``is_train=True``: ruled out above
            if v.mode is Mode.INPUT:
                if caller_key is None:
                    out.add(ModeVal(Mode.UNKNOWN))
                else:
                    out |= self.it.mode_of(caller_key, self.state)
            elif v.origin is not None:
                out.add(ModeVal(v.mode, v.origin.through(self.call)))
            else:
                out.add(ModeVal(v.mode))
        return frozenset(out)

    def grad(self, values: frozenset[GradVal]) -> frozenset[GradVal]:
        out: set[GradVal] = set()
        # ``torch.set_grad_enabled(training)`` called with ``training=False``: off
        kept = frozenset(g for g in values if not any(map(self.rules_out, g.guards)))
        for g in kept or values:
            if g.enabled is None:
                out |= self.state.grad
            else:
                out.add(GradVal(g.enabled, g.origin.through(self.call) if g.origin else None))
        return frozenset(out)

    @property
    def callee_trains(self) -> bool:
        flow = self.it.file.flow_of(self.callee)
        return flow is not None and flow.trains

    def returns_graph_of(self, key: str) -> bool:
        flow = self.it.file.flow_of(self.callee)
        returned = flow.returns if flow is not None else None
        # the models a returned value was computed from are not always all known (a dict
        # filled by ``outputs.update(helper(...))``): any graph returned counts
        return returned is not None and returned.graph

    def rules_out(self, guard: Guard) -> bool:
        text, polarity = guard
        compared = string_comparison(text, self.strings) if self.strings else None
        if compared is not None:  # ``if mode == "eval":`` called with ``mode="train"``
            return compared != polarity
        literal = self.literals.get(text)
        if literal is None:
            literal = self._training_flag(text)
        if literal is None and self.state.flags and _ACCESS_PATH.fullmatch(text):
            # ``if self.is_test: self.dqn.eval()`` called after ``self.is_test = False``
            caller_key = self.key(text)
            literal = self.state.flags.get(caller_key) if caller_key is not None else None
        return literal is not None and literal != polarity

    def _training_flag(self, text: str) -> bool | None:
        """``if model.training:`` in the callee, called with a module the caller switched:
        true in train mode, false in eval mode (None: not known, or not such a test)."""
        module, dot, attr = text.rpartition(".")
        if not dot or attr != "training" or not _ACCESS_PATH.fullmatch(module):
            return None
        caller_key = self.key(module)
        if caller_key is None:
            return None
        modes = {v.mode for v in self.it.mode_of(caller_key, self.state)}
        if modes == {Mode.TRAIN}:
            return True
        if modes == {Mode.EVAL}:
            return False
        return None

    def forget_flags(self) -> None:
        """What the callee (or a method of its class it calls) assigns is no longer known."""
        for key in assigned_keys(self.callee, self.it.file.assigned):
            for caller_key in {key, *self.keys(key)}:
                set_flag(caller_key, None, self.state)

    def trained(self, optimizer: str, models: ev.ModelModes) -> tuple[ev.ModelModes, str] | None:
        # the optimizer the caller passed decides which of the given models it trains; one
        # the caller was given in turn leaves the choice to its own callers, and one built
        # out of sight trains what nobody can say (a frozen teacher passed alongside the
        # student must not count)
        it = self.it
        covered = it.facts.covered_by(optimizer, it.info) if optimizer else set()
        if optimizer and not covered and not it._given(optimizer):
            return None
        out = {}
        for k, vals in models.items():
            ck = self.key(k)
            if ck is not None and (
                not covered or any(is_within(ck, c) or is_within(c, ck) for c in covered)
            ):
                out[ck] = self.modes(k, vals)
        return (out, "" if covered else optimizer) if out else None

    def cleared(self, key: str | None) -> None:
        if key is None:
            self.state.dirty.clear()  # a helper that clears parameters' .grad
        else:
            facts, scope = self.it.facts, self.it.info
            # and an instance's own optimizer (``self.generator.optimizer``), covered through
            # its class rather than built here
            instance_own = [
                opt
                for opt in self.state.dirty
                if facts.covered_by(opt, scope) and facts.may_cover(opt, key, scope)
            ]
            for opt in [key, *facts.optimizers_covering(key, scope), *instance_own]:
                self.state.dirty[opt] = CLEAN


def wrapper_method(
    self: Interpreter, key: str | None, built: str, method: str
) -> ExternalFunction | None:
    """The summary of ``method`` of another file's plain class ``built`` when ``key`` holds
    only instances of it (every assignment to that name in the file builds one: a parameter
    named so is taken to hold what the file builds under that name, as for its own classes)."""
    if key is None or self.facts.held_by(key + ".") != (built, ""):
        return None  # also given something else: which class it holds is not known
    return self.file.method_summary(built, method)


def module_method(
    self: Interpreter, key: str | None, built: str, method: str
) -> ExternalFunction | None:
    """The summary of ``method`` of another file's module class ``built`` when ``key`` holds
    an instance of it (``trainer = DetectorTrainer(model, optimizer)``): a trainer module whose
    ``train_step()`` runs, backpropagates, steps and returns its losses."""
    if key is None or self.facts.module_class.get(key) != built or not self.is_module_key(key):
        return None
    return self.file.method_summary(built, method)


def apply_external(
    self: Interpreter,
    call: cst.Call,
    callee: ExternalFunction,
    state: State,
    self_key: str | None = None,
) -> None:
    """A function of another file of the project: what it does to the models passed; or, with
    ``self_key``, a method of one of its plain classes called on that instance."""
    params = callee.params[1:] if self_key is not None else callee.params
    bound = {p: k for p, k in bind_arguments(call, params).items() if k is not None}
    if self_key is not None:
        bound[callee.params[0]] = self_key
    if not bound:
        return
    self.place(call)
    for effect in callee.forwards:
        key = bound.get(effect.param)
        if key is not None and self.is_module_key(key + effect.suffix):
            # before the effects below: it ran in the mode it was given
            key += effect.suffix
            self.forward(call, key, [], state, given=key)
    for param, suffix in callee.clears:
        # before its training: helpers clear first (``optimizer.zero_grad()``, then the loss)
        key = bound.get(param)
        if key is not None:
            self.clear(call, key + suffix, state)
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
        # its step is in the other file, out of the rules' sight
        kind = "step" if callee.steps else "backward"
        self.record(ev.Train(call, self.flow, (), self.loop_nodes(), kind=kind, models=trained))
        for opt in list(state.grads):
            state.grads[opt] = OTHER_GRADS
        state.dirty.clear()
    before: ev.ModelModes = {}
    grad_before = state.grad
    for effect in callee.exit_modes:
        key = bound.get(effect.param)
        if key is not None:
            origin = self.origin(call)
            before.setdefault(key + effect.suffix, self.mode_of(key + effect.suffix, state))
            self.set_mode(key + effect.suffix, frozenset({ModeVal(effect.mode, origin)}), state)
    if callee.exit_grad is not None:
        state.grad = frozenset({GradVal(callee.exit_grad, self.origin(call))})
    record_effect(self, call, before, grad_before, callee.exit_grad is not None, state)


def record_effect(
    self: Interpreter,
    call: cst.Call,
    before: ev.ModelModes,
    grad_before: frozenset[GradVal],
    grad_set: bool,
    state: State,
) -> None:
    """What a call's summary left, beside what was there (ev.CallEffect): only when it sets
    something, so that a file's many other calls cost nothing."""
    if not before and not grad_set:
        return
    after = {key: self.mode_of(key, state) for key in before}
    self.record(
        ev.CallEffect(
            call,
            self.flow,
            (),
            self.loop_nodes(),
            before=before,
            after=after,
            grad_before=grad_before,
            grad_after=state.grad if grad_set else None,
        )
    )


# -- the project's own wrappers of the grad mode (wrappers.py) -------------------------------
def grad_off_decorator(self: Interpreter, target: cst.BaseExpression, name: str | None) -> bool:
    """Whether a decorator (``@no_grad_when_possible()``: ``target`` is what is called or
    named) is a function of the file or the project that runs what it wraps without grad."""
    if type(target) is cst.Name:
        local = self.facts.functions.get(target.value)
        if local is not None:
            return turns_grad_off(local.node, self.facts.imports)
    if name is not None and self.file.project is not None:
        external = self.file.external(name)
        return external is not None and external.grad_off_decorator
    return False


def enter_context(
    self: Interpreter, expr: cst.BaseExpression, state: State
) -> Callable[[State], None] | None:
    """``with helper(model):`` where ``helper`` is a ``@contextmanager`` of the file or the
    project: ``state`` becomes the state at its ``yield``; the function returned applies what
    the code after the ``yield`` does, when the block ends. None: not such a call."""
    if type(expr) is not cst.Call:
        return None
    callee = self.file.resolve_callee(expr, self.info)
    if callee is None:
        name = self.facts.imports.resolve(expr.func)
        external = self.file.external(name) if name else None
        if external is None or external.inside is None:
            return None
        return _enter_external(self, expr, external, external.inside, state)
    if not is_context_manager(callee.node, self.facts.imports):
        return None
    flow = self.file.flow_of(callee)
    stmt = yield_statement(callee.node)
    inside = flow.states.get(id(stmt)) if flow is not None and stmt is not None else None
    if flow is None or inside is None:
        return None
    self.flow.callees.add(id(callee.node))
    # the caller's state before the block: what "as on entry" means to the code after the yield
    at = AtCall.at(self, expr, callee, state.copy(), None)
    switched: list[str] = []
    for key, vals in inside.modes.items():
        caller_key = at.key(key)
        if caller_key is not None and any(v.mode is not Mode.INPUT for v in vals):
            self.set_mode(caller_key, at.modes(key, vals), state)
            switched.append(caller_key)
    state.grad = at.grad(inside.grad)
    exit_modes = flow.exit_modes

    def leave(out: State) -> None:
        # the whole function has run: what it does not leave changed is as before the block
        for switched_key in switched:
            self.set_mode(switched_key, self.mode_of(switched_key, at.state), out)
        for key, vals in exit_modes.items():
            exit_key = at.key(key)
            if exit_key is not None:
                self.set_mode(exit_key, at.modes(key, vals), out)

    return leave


def _enter_external(
    self: Interpreter, call: cst.Call, callee: ExternalFunction, inside: Inside, state: State
) -> Callable[[State], None]:
    bound = {p: k for p, k in bind_arguments(call, callee.params).items() if k is not None}
    self.place(call)
    origin = self.origin(call)
    before: dict[str, frozenset[ModeVal]] = {}
    for effect in (*inside.modes, *callee.context_exit):
        key = bound.get(effect.param)
        if key is not None:
            before.setdefault(key + effect.suffix, self.mode_of(key + effect.suffix, state))
    for effect in inside.modes:
        key = bound.get(effect.param)
        if key is not None:
            self.set_mode(key + effect.suffix, frozenset({ModeVal(effect.mode, origin)}), state)
    if inside.grad is not None:
        state.grad = frozenset({GradVal(inside.grad, origin)})

    def leave(out: State) -> None:
        for key, modes in before.items():  # what the summary does not name is as before
            self.set_mode(key, modes, out)
        for effect in callee.context_exit:
            given = bound.get(effect.param)
            if given is None:
                continue
            full = given + effect.suffix
            if effect.mode is Mode.INPUT:  # put back as it was before the block
                self.set_mode(full, before[full], out)
            else:
                self.set_mode(full, frozenset({ModeVal(effect.mode, origin)}), out)

    return leave
