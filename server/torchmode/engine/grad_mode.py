"""The grad mode: ``no_grad()``/``inference_mode()``/``set_grad_enabled()`` contexts and
decorators, and what a disabled grad mode does to values."""

from __future__ import annotations

from typing import TYPE_CHECKING

import libcst as cst

from torchmode.engine import events as ev
from torchmode.engine import torch_api as api
from torchmode.engine.names import dotted, key_of, literal_bool
from torchmode.engine.values import (
    GradVal,
    Origin,
    State,
    Taint,
)

if TYPE_CHECKING:
    from torchmode.engine.interpreter import Interpreter


def disabled_origin(self: Interpreter, state: State) -> Origin | None:
    """Where gradients were turned off, if they are off on every path here."""
    if not state.grad or any(g.enabled is not False for g in state.grad):
        return None
    origins = {g.origin for g in state.grad}
    return next(iter(origins)) if len(origins) == 1 else None


def without_graph_if_disabled(
    self: Interpreter, taint: Taint, call: cst.Call, state: State
) -> Taint:
    disabled = self.disabled_origin(state)
    if disabled is None:
        return taint
    return Taint(
        frozenset(), False, taint.lossy, disabled, sources=taint.sources, drawn=taint.drawn
    )


def grad_context(
    self: Interpreter, expr: cst.BaseExpression, state: State
) -> frozenset[GradVal] | None:
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
    if self.file.declared.turns_grad_off(name or dotted(expr.func)):
        return frozenset({GradVal(False, self.origin(expr))})
    if name is None or name not in api.GRAD_CONTEXTS:
        return None
    origin = self.origin(expr)
    if name in api.NO_GRAD:
        if name in api.INFERENCE_MODE and expr.args:
            flag = literal_bool(expr.args[0].value)
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
    flag = literal_bool(arg)
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
def in_inference_mode(self: Interpreter, grad: GradVal) -> bool:
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


def check_bare_mode_switch(self: Interpreter, expr: cst.BaseExpression) -> None:
    if type(expr) is cst.Attribute and expr.attr.value in {"eval", "train"}:
        self.record(ev.Syntax(expr, self.flow, (), self.loop_nodes(), kind="uncalled-mode-switch"))
    elif type(expr) is cst.Call and not expr.args:
        # ``torch.no_grad()`` on its own line: a context manager built and thrown away
        name = self.facts.imports.resolve(expr.func)
        if name in api.NO_GRAD or name in api.ENABLE_GRAD:
            kind = "grad-context-not-entered"
            self.record(ev.Syntax(expr, self.flow, (), self.loop_nodes(), kind=kind, detail=name))


def check_uncalled_grad_context(self: Interpreter, expr: cst.BaseExpression) -> bool:
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
