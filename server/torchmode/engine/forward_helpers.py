"""Helpers of another file that run a model they are given once, as given.

``logits, loss = forward_step(model, batch)`` in ``utils.py``: the call is a forward pass of
``model`` in the caller's mode and grad mode, in training (a ``backward()`` follows) as in
validation (under the caller's ``no_grad()``). Whether it evaluates is the caller's to say, so
the summary of the helper says which of its parameters it runs (project.py), and the caller
records a forward pass at the call (calls.py).

The helper's own file often has no evidence that the parameter is a module (it is only
called), so a plain call of a parameter counts too; the caller decides, by its own facts,
whether what it passes there is a module.
"""

from __future__ import annotations

from collections.abc import Iterator

import libcst as cst

from torchmode.engine import events as ev
from torchmode.engine import torch_api as api
from torchmode.engine.facts import Facts, FunctionInfo
from torchmode.engine.function_flow import FunctionFlow
from torchmode.engine.names import root_of
from torchmode.engine.values import Mode
from torchmode.engine.walk import children

# what runs many times, in another grad mode or later: a call in there is not "once, as given"
_NOT_ONCE = (
    cst.For,
    cst.While,
    cst.With,
    cst.FunctionDef,
    cst.ClassDef,
    cst.Lambda,
    cst.ListComp,
    cst.SetComp,
    cst.DictComp,
    cst.GeneratorExp,
)


def runs_given(info: FunctionInfo, flow: FunctionFlow, facts: Facts) -> tuple[tuple[str, str], ...]:
    """(parameter, suffix) of what a top-level function that trains nothing runs once, in the
    mode and grad mode it was given: not in a loop or a ``with`` of its own, no decorator,
    nothing switching its mode first. A function named like an evaluation or an inference is
    read in its own file instead (its callers' modes enter it there: callers.py), and so is one
    that loops over data or turns gradients off: an evaluation of its own."""
    if api.EVAL_FUNCTION.match(info.name) or info.node.decorators or flow.trains:
        return ()
    params = [p for p in info.params if p not in {"self", "cls"}]
    out: list[tuple[str, str]] = []
    for event in flow.events_of(ev.Forward):
        assert isinstance(event, ev.Forward)
        if event.loops or any(g.enabled is not None for g in event.grad):
            continue
        if not event.modes or any(v.mode is not Mode.INPUT for v in event.modes):
            continue
        root = root_of(event.key)
        if root in params and (root, event.key[len(root) :]) not in out:
            out.append((root, event.key[len(root) :]))
    for name in _called_once(info.node.body, frozenset(params)):
        if name not in facts.module_keys and (name, "") not in out:
            out.append((name, ""))
    return tuple(out)


def _called_once(body: cst.BaseSuite, params: frozenset[str]) -> Iterator[str]:
    """Parameters called (``model(x)``, ``model.forward(x)``) outside any loop, ``with``,
    comprehension or nested function of the body."""
    stack: list[cst.CSTNode] = [body]
    while stack:
        node = stack.pop()
        if isinstance(node, _NOT_ONCE):
            continue
        if type(node) is cst.Call:
            func = node.func
            if type(func) is cst.Attribute and func.attr.value == "forward":
                func = func.value
            if type(func) is cst.Name and func.value in params:
                yield func.value
        stack.extend(children(node))
