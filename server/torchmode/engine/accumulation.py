"""Accumulations that a call makes: a value handed to a function that adds it to an attribute
(``meter.update(loss)`` with ``self.sum += val`` inside) is accumulated by the call, as the
caller passes it."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

import libcst as cst

from torchmode.engine import events as ev
from torchmode.engine.facts import FunctionInfo
from torchmode.engine.values import State, Taint

if TYPE_CHECKING:
    from torchmode.engine.function_flow import FunctionFlow
    from torchmode.engine.interpreter import Interpreter


def kept_arguments(flow: FunctionFlow) -> list[tuple[str, ev.Accumulate]]:
    """The parameters of ``flow``'s function that it adds to something outliving the call (an
    attribute, a global), each with the accumulation: the caller decides whether what it
    passes carries a graph (the callee sees a parameter, of unknown content)."""
    out: list[tuple[str, ev.Accumulate]] = []
    for e in flow.events:
        if type(e) is not ev.Accumulate or e.via or e.value.graph or not e.value.sources:
            continue
        out.extend((param, e) for param in sorted(e.value.sources))
    return out


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
    passes it, recorded at the argument."""
    kept = kept_arguments(flow)
    if not kept:
        return
    taints = self.bound_taints(call, callee, args)
    nodes = argument_nodes(call, callee)
    cls = callee.cls
    named = f"{cls.name}.{callee.name}" if cls is not None else callee.name
    for param, e in kept:
        target = at.key(e.target)
        taint, node = taints.get(param), nodes.get(param)
        if target is None or taint is None or node is None:
            continue  # a local of the callee is gone when it returns
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


@dataclass(frozen=True)
class KeptArgument:
    """One parameter a method of another file adds to an attribute of its object."""

    param: str
    target: str  # as the method writes it (``self.sum``)
    kind: str  # as ``Accumulate.kind``
    lossy: bool  # computed like a loss there
    statement: str  # its code, shortened, and its line: for the message
    line: int


@dataclass(frozen=True)
class Accumulator:
    """A method of a class of another file of the project that keeps what it is given in an
    attribute of its object (``AverageMeter.update``: ``self.sum += val * n``)."""

    params: tuple[str, ...]  # ``self`` left out
    kept: tuple[KeptArgument, ...]
    path: str  # the file's name, for the message


def accumulated_elsewhere(
    self: Interpreter,
    call: cst.Call,
    receiver: str,
    method: str,
    cls: str,
    found: Accumulator,
    args: list[Taint],
    state: State,
) -> None:
    """``meter.update(loss)`` with ``meter`` built from a class of another file whose
    ``update`` keeps its argument: as ``accumulated_arguments``, from that file's summary."""
    nodes = _bind(call, found.params)
    taints = {name: args[i] for name, (i, _) in nodes.items()}
    for k in found.kept:
        bound = nodes.get(k.param)
        if bound is None or not k.target.startswith("self."):
            continue
        node = bound[1]
        taint = taints[k.param]
        self.record(
            ev.Accumulate(
                node,
                self.flow,
                (),
                self.loop_nodes(),
                target=receiver + k.target[len("self") :],
                value=replace(taint, lossy=taint.lossy or k.lossy),
                grad=state.grad,
                kind=k.kind,
                value_node=node,
                inner_function=f"{cls.rsplit('.', 1)[-1]}.{method}",
                inner_elsewhere=f"`{k.statement}` at {found.path}:{k.line}",
            )
        )


def _bind(call: cst.Call, params: tuple[str, ...]) -> dict[str, tuple[int, cst.BaseExpression]]:
    """Parameter -> (index in ``call.args``, the expression passed)."""
    out: dict[str, tuple[int, cst.BaseExpression]] = {}
    for i, (name, arg) in enumerate(zip(params, call.args, strict=False)):
        if arg.keyword is not None or arg.star:
            break
        out[name] = (i, arg.value)
    for i, arg in enumerate(call.args):
        if arg.keyword is not None and arg.keyword.value in params:
            out[arg.keyword.value] = (i, arg.value)
    return out


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
