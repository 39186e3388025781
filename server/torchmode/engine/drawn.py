"""Batches drawn from evaluation data with ``next()``: ``j, data = next(enumerate(test_loader))``
inside a training loop, every N iterations, then a forward pass whose loss is only printed.
Such a block evaluates the models it runs, as a ``for`` over the evaluation data would, as long
as nothing computed from that batch is backpropagated (a meta-learning query set drawn from
``val_iter`` and trained on is training)."""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

import libcst as cst

from torchmode.engine import events as ev
from torchmode.engine import torch_api as api
from torchmode.engine.values import Taint

if TYPE_CHECKING:
    from torchmode.engine.interpreter import Interpreter


def names_evaluation_data(node: cst.BaseExpression) -> bool:
    """``val_loader``, ``enumerate(tqdm(self.test_loader))``: evaluation data (the iterable
    itself, or a wrapper's first argument)."""
    while type(node) is cst.Call and node.args:
        node = node.args[0].value
    while type(node) is cst.Subscript:
        node = node.value
    if type(node) is cst.Attribute:
        return bool(api.EVALUATION_DATA.search(node.attr.value))
    return type(node) is cst.Name and bool(api.EVALUATION_DATA.search(node.value))


def passes_evaluation_data(call: cst.Call) -> bool:
    """``accuracy(model, val_loader)``, ``run(net, loader=self.test_loader)``: a call handed
    evaluation data runs what it runs on it to evaluate, whatever it is named."""
    return any(
        type(arg.value) in (cst.Name, cst.Attribute) and names_evaluation_data(arg.value)
        for arg in call.args
        if not arg.star
    )


def draws_evaluation_data(call: cst.Call, receiver: Taint | None, args: list[Taint]) -> bool:
    """``next(iter(val_loader))``, ``next(enumerate(test_loader, 0))``, ``next(val_iter)``,
    ``val_iter.next()`` (Python 2 style): one batch of evaluation data; also
    ``iter(test_loader)``, whose iterator (``data_iter = iter(testloader)``) draws
    evaluation batches with ``next(data_iter)`` (``receiver``, ``args``: what the analysis
    knows of the call's receiver and arguments)."""
    func = call.func
    if type(func) is cst.Name and func.value in ("next", "iter") and call.args:
        return names_evaluation_data(call.args[0].value) or (
            func.value == "next" and bool(args) and bool(args[0].drawn)
        )
    return (
        type(func) is cst.Attribute
        and func.attr.value in ("next", "__next__")
        and not call.args
        and (names_evaluation_data(func.value) or (receiver is not None and bool(receiver.drawn)))
    )


def drawing(self: Interpreter, call: cst.Call, result: Taint) -> Taint:
    """The value ``call`` draws, marked with it; where it is drawn (the statements around it)
    is kept to tell which block evaluates on it."""
    self.drawings[id(call)] = frozenset(id(s) for s in self.stmt_stack)
    return replace(result, drawn=result.drawn | {id(call)})


def drawn_region(
    self: Interpreter, args: list[Taint], region: cst.CSTNode, evaluation: bool
) -> tuple[frozenset[int], cst.CSTNode | None]:
    """For a forward pass given a batch drawn from evaluation data: the drawings, and the
    statement that evaluates on it, if any: the outermost statement around the forward that
    trains nothing and draws the batch itself (``if i % 10 == 0:`` in a training loop), or the
    evaluation region already found (a function or loop that trains nothing). Whether that
    batch reaches a ``backward()`` is only known once the whole function is read
    (``confirm_drawn``)."""
    drawn: frozenset[int] = frozenset()
    for a in args:
        drawn |= a.drawn
    if not drawn:
        return drawn, None
    if evaluation:
        return drawn, region
    stack = self.stmt_stack
    found: cst.CSTNode | None = None
    for parent in reversed(stack[:-1]):
        if self.file.contains_training(parent, self.info) or self.file.switches_to_train(parent):
            break
        if any(id(parent) in self.drawings.get(d, ()) for d in drawn):
            found = parent
    return drawn, found


def confirm_drawn(events: list[ev.Event], trained: frozenset[int]) -> None:
    """A forward pass on a drawn batch evaluates when nothing computed from that batch is
    backpropagated in the same function (``trained``: drawings that reached
    ``torch.autograd.grad()``)."""
    for e in events:
        if isinstance(e, ev.Backward):
            trained |= e.loss.drawn
    for e in events:
        if (
            isinstance(e, ev.Forward)
            and e.drawn_region is not None
            and not e.via
            and not e.drawn & trained
        ):
            if not e.evaluation:
                e.evaluation = True
                e.region = e.drawn_region
                e.region_is_body = False
            e.over_eval_data = True
