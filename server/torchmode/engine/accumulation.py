"""Accumulations that a call makes: a value handed to a function that adds it to an attribute
(``meter.update(loss)`` with ``self.sum += val`` inside) is accumulated by the call, as the
caller passes it."""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

import libcst as cst

from torchmode.engine import events as ev
from torchmode.engine.facts import FunctionInfo
from torchmode.engine.values import Taint

if TYPE_CHECKING:
    from torchmode.engine.function_flow import FunctionFlow
    from torchmode.engine.interpreter import Interpreter


def accumulated_arguments(
    self: Interpreter,
    call: cst.Call,
    callee: FunctionInfo,
    flow: FunctionFlow,
    at: ev.CallerTerms,
    args: list[Taint],
) -> None:
    """``meter.update(loss)`` where ``update`` adds what it is given to an attribute that
    outlives the call (``self.sum += val``): the call accumulates the argument as the caller
    passes it. Recorded here, at the argument, because only the caller knows whether it
    carries a graph; the callee's own record of it sees a parameter, of unknown content."""
    taints: dict[str, Taint] | None = None
    nodes: dict[str, cst.BaseExpression] = {}
    for e in flow.events:
        if type(e) is not ev.Accumulate or e.via or e.value.graph or not e.value.sources:
            continue
        target = at.key(e.target)
        if target is None:
            continue  # a local of the callee: gone when it returns
        if taints is None:
            taints = self.bound_taints(call, callee, args)
            nodes = argument_nodes(call, callee)
        cls = callee.cls
        named = f"{cls.name}.{callee.name}" if cls is not None else callee.name
        for param in sorted(e.value.sources):
            taint, node = taints.get(param), nodes.get(param)
            if taint is None or node is None:
                continue
            self.record(
                ev.Accumulate(
                    node,
                    self.flow,
                    (),
                    at.loops,
                    target=target,
                    value=replace(taint, lossy=taint.lossy or e.value.lossy),
                    grad=at.grad(e.grad),
                    kind=e.kind,
                    value_node=node,
                    inner=e.node,
                    inner_function=named,
                )
            )


def argument_nodes(call: cst.Call, callee: FunctionInfo) -> dict[str, cst.BaseExpression]:
    """Parameter -> the expression passed to it (``*args`` and what follows left out)."""
    params = list(callee.params)
    if callee.cls is not None and params and params[0] in {"self", "cls"}:
        params = params[1:]
    out: dict[str, cst.BaseExpression] = {}
    for name, arg in zip(params, call.args, strict=False):
        if arg.keyword is not None or arg.star:
            break
        out[name] = arg.value
    for arg in call.args:
        if arg.keyword is not None:
            out[arg.keyword.value] = arg.value
    return out
