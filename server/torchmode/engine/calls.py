"""Calls: the methods that matter (a table by name), forward passes, and applying the summary
of a called function (applied_summaries.py)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

import libcst as cst

from torchmode.engine import events as ev
from torchmode.engine import torch_api as api
from torchmode.engine.accumulation import accumulated_elsewhere
from torchmode.engine.applied_summaries import module_method, wrapper_method
from torchmode.engine.binding import (
    resolve_closure,
)
from torchmode.engine.drawn import draws_evaluation_data
from torchmode.engine.names import key_of, literal_bool, strip_identity
from torchmode.engine.overrides import apply_override
from torchmode.engine.project_calls import project_call, project_instance
from torchmode.engine.training import engine_step
from torchmode.engine.values import (
    GRAD_SNAPSHOT,
    NO_TAINT,
    GradsState,
    GradsVal,
    GradVal,
    Mode,
    State,
    Taint,
    combine,
)

if TYPE_CHECKING:
    from torchmode.engine.interpreter import Interpreter
    from torchmode.engine.summary_types import ExternalFunction


def eval_call(self: Interpreter, call: cst.Call, state: State) -> Taint:
    func = call.func
    receiver_key: str | None = None
    receiver = NO_TAINT
    method = None
    if type(func) is cst.Attribute:
        method = func.attr.value
        receiver = self.eval_expr(func.value, state)
        receiver_key = key_of(func.value)
        if receiver_key is None and method in {"eval", "train"}:
            receiver_key = key_of(strip_identity(func.value))
    elif type(func) is not cst.Name:
        self.eval_expr(func, state)
    args = [self.eval_expr(a.value, state) for a in call.args]
    qualified = self.facts.imports.resolve(func)

    if type(func) is cst.Attribute and (handler := METHODS.get(func.attr.value)) is not None:
        seen = MethodCall(call, func, func.attr.value, receiver, receiver_key, args)
        if (result := handler(self, seen, state)) is not None:
            return result
    if (result := _grad_function(self, call, qualified, args, state)) is not None:
        return result

    # forward passes
    forward_key = None
    if type(func) in (cst.Name, cst.Attribute, cst.Subscript) and method not in {
        "forward",
        "generate",
    }:
        k = key_of(func)
        if k is not None and self.is_module_key(k):
            forward_key = k
    if method == "forward" and receiver_key is not None and self.is_module_key(receiver_key):
        forward_key = receiver_key
    if forward_key is not None:
        return self.forward(call, forward_key, args, state, volatile=self.volatile_inputs(call))
    if (
        method is not None
        and receiver_key is not None
        and self.is_module_key(receiver_key)
        and self.volatile_inputs(call)
    ):
        # ``policy.act(Variable(obs, volatile=True))``: a method of the model, given inputs
        # its author meant it to compute from without autograd — it runs the model
        ran = self.forward(call, receiver_key, args, state, volatile=True)
        if self.file.resolve_callee(call, self.info) is None:
            return ran

    callee = self.file.resolve_callee(call, self.info)
    if (
        method == "generate"
        and callee is None
        and receiver_key is not None
        and self.is_module_key(receiver_key)
    ):
        return self.generation(call, receiver_key, args, state)
    if method is not None:
        apply_override(self, call, callee, state)
    if callee is not None:
        result = self.apply_summary(call, callee, args, state)
        return self.without_graph_if_disabled(result, call, state)
    if (closure := resolve_closure(self, call)) is not None:
        inner, free = closure
        result = self.apply_summary(call, inner, args, state, free=free)
        return self.without_graph_if_disabled(result, call, state)
    if (
        method is not None
        and receiver_key is not None
        and (built := self.facts.built_from.get(receiver_key)) is not None
        and (kept := self.file.accumulator(built, method)) is not None
    ):
        accumulated_elsewhere(self, call, receiver_key, method, built, kept, args, state)
    if qualified is None and method is not None:
        # ``gan.step(batch)`` on an instance of a class of another file of the project
        built = project_instance(self, receiver_key)
        if built is not None:
            if self.file.collect_calls:
                project_call(self, call, built, state, method)
            wrapper = wrapper_method(self, receiver_key, built, method)
            if wrapper is None:
                wrapper = module_method(self, receiver_key, built, method)
            if wrapper is not None:
                # ``model.val_start()``: what it does to the modules ``model`` holds
                self.apply_external(call, wrapper, state, receiver_key)
                if wrapper.returns_graph:
                    # ``losses = trainer.train_step(x, y)``: its losses, graph and all
                    return _with_graph(
                        self, call, method, receiver, qualified, args, state, wrapper
                    )
    if self.file.project is not None and qualified is not None:
        if self.file.collect_calls:
            project_call(self, call, qualified, state)
        external = self.file.external(qualified)
        if external is not None:
            self.apply_external(call, external, state)
            if external.returns_graph:
                # ``output = forward(model, batch)`` with a helper of another file that
                # returns the model's output
                return _with_graph(self, call, method, receiver, qualified, args, state, external)
    result = _result_of(self, call, method, receiver, qualified, args, state)
    if draws_evaluation_data(call, receiver if method is not None else None, args):
        result = self.drawing(call, result)
    return result


def _with_graph(
    self: Interpreter,
    call: cst.Call,
    method: str | None,
    receiver: Taint,
    qualified: str | None,
    args: list[Taint],
    state: State,
    callee: ExternalFunction,
) -> Taint:
    """The result of a call to a function or method of another file whose summary says it
    returns a value with its graph (unless gradients are off here)."""
    result = _result_of(self, call, method, receiver, qualified, args, state)
    graph = replace(result, graph=True, lossy=result.lossy or callee.returns_loss, opaque=False)
    return self.without_graph_if_disabled(graph, call, state)


@dataclass(frozen=True, slots=True)
class MethodCall:
    """``receiver.method(args)``, its receiver and arguments evaluated."""

    call: cst.Call
    func: cst.Attribute
    method: str
    receiver: Taint
    receiver_key: str | None
    args: list[Taint]


# A method's effect on the state; its result when that is decided (None: read on as a call)
MethodHandler = Callable[["Interpreter", MethodCall, State], Taint | None]


def _mode_switch(it: Interpreter, m: MethodCall, state: State) -> Taint | None:
    if _own_switch_method(it, m.call):
        # ``self.eval()`` in a trainer class (not a module) whose own ``eval()`` switches the
        # modules it holds: that method runs, as it says, not Module.eval() on all of them
        return None
    container = it.every_entry(m.func.value)
    if container is not None and it.mode_switch(m.call, m.method, container, state, True):
        # for k in self.models: self.models[k].eval(), for net in self.models.values():
        # net.train() -- every module held there
        return NO_TAINT
    if m.receiver_key is not None and it.mode_switch(m.call, m.method, m.receiver_key, state):
        return NO_TAINT
    return None


def _own_switch_method(it: Interpreter, call: cst.Call) -> bool:
    """A plain class's own ``eval()``/``train()`` whose switches are understood (``self.policy
    .eval()``); one that switches by name (``getattr(self, name).eval()``) reads as switching
    every module the object holds, which is what it does."""
    callee = it.file.resolve_callee(call, it.info)
    if callee is None or callee.cls is None or not it.facts.class_is_plain(callee.cls.name):
        return False
    flow = it.file.flow_of(callee)
    return flow is not None and any(
        key.startswith("self.") and any(v.mode in (Mode.TRAIN, Mode.EVAL) for v in modes)
        for key, modes in flow.exit_modes.items()
    )


def _backward(it: Interpreter, m: MethodCall, state: State) -> Taint | None:
    loss = m.receiver
    loss_node: cst.BaseExpression | None = m.func.value
    if _is_backward_helper(m.func) or _engine(it, m.receiver_key) is not None:
        # ``accelerator.backward(loss)``, ``model_engine.backward(loss)``
        loss = m.args[0] if m.args else NO_TAINT
        loss_node = m.call.args[0].value if m.call.args else None
    it.training_step(m.call, "backward", loss, state)
    _backpropagated(loss_node, state)
    return NO_TAINT


def _backpropagated(node: cst.BaseExpression | None, state: State) -> None:
    """``loss.backward()`` (or ``scaler.scale(loss).backward()``): whatever computed it, that
    loss carries an autograd graph, even when the forward was not recognised (``self(x)`` in the
    model's own training method, ``models["net"](x)``)."""
    if (
        type(node) is cst.Call
        and type(node.func) is cst.Attribute
        and node.func.attr.value == "scale"
        and node.args
    ):
        node = node.args[0].value  # scaler.scale(loss)
    key = key_of(node) if node is not None else None
    taint = state.vars.get(key) if key is not None else None
    if taint is None and (type(node) is cst.Subscript or type(node) is cst.Attribute):
        # output["loss"].backward(), outputs.loss.backward(): the dict or output object holds
        # that graph too, for as long as it is kept
        key = key_of(node.value)
        taint = state.vars.get(key) if key is not None else None
    if key is not None and taint is not None and not (taint.graph and taint.lossy):
        state.vars[key] = replace(taint, graph=True, lossy=True)


def _append(it: Interpreter, m: MethodCall, state: State) -> Taint | None:
    if m.receiver_key is not None and len(m.args) == 1:
        it.accumulation(m.call, m.receiver_key, m.args[0], m.call.args[0].value, "append", state)
    return None


def _step(it: Interpreter, m: MethodCall, state: State) -> Taint | None:
    engine = _engine(it, m.receiver_key)
    if engine is not None:
        engine_step(it, m.call, engine, state)
        return NO_TAINT
    it.optimizer_step(m.call, m.receiver_key, state)
    return None


def _engine(it: Interpreter, key: str | None) -> str | None:
    """``key`` (or what it aliases) when it holds a DeepSpeed engine (library_engines.py)."""
    if key is None:
        return None
    key = it.aliases.get(key, key)
    return key if key in it.facts.engines else None


def _zero_grad(it: Interpreter, m: MethodCall, state: State) -> Taint | None:
    if m.receiver_key is None:
        return None
    it.clear(m.call, m.receiver_key, state)
    return NO_TAINT


def _in_place_on_grad(it: Interpreter, m: MethodCall, state: State) -> Taint | None:
    inner = m.func.value
    if type(inner) is cst.Attribute and inner.attr.value == "data":
        inner = inner.value  # param.grad.data.zero_()
    if type(inner) is cst.Attribute and inner.attr.value == "grad":
        it.record(ev.Clear(m.call, it.flow, (), it.loop_nodes(), key=None))
        state.dirty.clear()
    return None


METHODS: dict[str, MethodHandler] = {
    "eval": _mode_switch,
    "train": _mode_switch,
    "backward": _backward,
    "manual_backward": _backward,
    "append": _append,
    "step": _step,
    "zero_grad": _zero_grad,
    "zero_": _in_place_on_grad,
    "detach_": _in_place_on_grad,
    "fill_": _in_place_on_grad,
}


def _grad_function(
    it: Interpreter, call: cst.Call, qualified: str | None, args: list[Taint], state: State
) -> Taint | None:
    """Functions (not methods) that clear gradients or set, save or use the grad mode."""
    func = call.func
    if (
        type(func) is cst.Name
        and func.value == "zero_grad"
        and it.file.resolve_callee(call, it.info) is None
    ):
        # a project helper imported from another file (``zero_grad(self.model_params)``,
        # built on ``p.grad.zero_()``): it clears the gradients of what it is given
        it.record(ev.Clear(call, it.flow, (), it.loop_nodes(), key=None))
        state.dirty.clear()
        for opt in list(state.grads):
            state.grads[opt] = frozenset({GradsVal(GradsState.CLEARED, it.origin(call))})
        return NO_TAINT
    if qualified in api.SET_GRAD_ENABLED and call.args:
        arg = call.args[0].value
        flag = literal_bool(arg)
        if flag is not None:
            state.grad = frozenset({GradVal(flag, it.origin(call))})
        elif args[0].snapshot_of == GRAD_SNAPSHOT and (k := key_of(arg)) in it.grad_saved:
            state.grad = it.grad_saved[k]  # set_grad_enabled(prev): restored
        return NO_TAINT
    if qualified in {"torch.is_grad_enabled", "torch.autograd.grad_mode.is_grad_enabled"}:
        return Taint(snapshot_of=GRAD_SNAPSHOT)
    if qualified in {"torch.autograd.grad", "torch.autograd.backward"}:
        it.flow.trains = True
        for a in args:
            it.drawn_trained |= a.drawn  # a meta-gradient through a validation batch
        return NO_TAINT
    return None


def _result_of(
    self: Interpreter,
    call: cst.Call,
    method: str | None,
    receiver: Taint,
    qualified: str | None,
    args: list[Taint],
    state: State,
) -> Taint:
    """Any other call: how its result relates to its inputs."""
    func = call.func
    if method is not None and method in api.GRAPH_CUTTERS:
        # fake.detach(): a backward() through this value does not reach the module
        return Taint(frozenset(), False, receiver.lossy, drawn=receiver.drawn)
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
        inputs = combine(inputs, a)
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
        k for a in call.args if (k := key_of(a.value)) is not None and self.is_module_key(k)
    )
    if any(kw.keyword and kw.keyword.value == "requires_grad" for kw in call.args):
        return Taint(inputs.models, True, lossy)
    # tensor methods and torch functions keep the graph; unknown helpers are assumed
    # to return metrics unless they are named like a loss
    keeps_graph = lossy or method is not None or (qualified or "").startswith("torch.")
    graph = inputs.graph and keeps_graph
    disabled = self.disabled_origin(state)
    if disabled is not None:
        return Taint(
            frozenset(), False, lossy, disabled, sources=inputs.sources, drawn=inputs.drawn
        )
    # an unknown callable (a model we do not recognise, a helper elsewhere) may return a
    # tensor with a graph; torch functions, losses and tensor methods only pass one on
    opaque = (
        not (
            lossy
            or (qualified or "").startswith("torch.")
            or (method is not None and not receiver.opaque and receiver is not NO_TAINT)
            or _repacks(self, func)
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
        drawn=inputs.drawn,
    )


# builtins that hand back their arguments' elements, regrouped: what those are, nothing more
_REPACKING_BUILTINS = frozenset({"zip", "enumerate", "list", "tuple", "sorted", "reversed"})


def _repacks(self: Interpreter, func: cst.BaseExpression) -> bool:
    return (
        type(func) is cst.Name
        and func.value in _REPACKING_BUILTINS
        and func.value not in self.facts.functions
        and self.facts.imports.resolve(func) is None
    )


def _given(self: Interpreter, key: str) -> bool:
    return self.info is not None and self.info.receives(key)


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
