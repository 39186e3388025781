"""Values taken item by item: the elements a function's tuple returns (``loss, n =
helper(...)``), and loops over every entry of a dict of modules (``for k in self.models:
self.models[k].eval()``). Methods of the interpreter in all but name."""

from __future__ import annotations

from typing import TYPE_CHECKING

import libcst as cst

from torchmode.engine.names import key_of
from torchmode.engine.values import NO_TAINT, State, Taint, graphless

DETACHED_LOSS = Taint(lossy=True)

if TYPE_CHECKING:
    from torchmode.engine.facts import FunctionInfo
    from torchmode.engine.interpreter import Interpreter


def return_items(self: Interpreter, value: cst.BaseExpression | None, state: State) -> None:
    """``return loss, correct.item()``: what each element is, joined over the returns."""
    if not self.items_known:
        return
    if type(value) is not cst.Tuple or any(type(el) is cst.StarredElement for el in value.elements):
        self.items_known = False
        return
    items = tuple(self.peek_expr(el.value, state) for el in value.elements)
    known = self.returned_items
    if known is None:
        self.returned_items = items
    elif len(known) == len(items):
        self.returned_items = tuple(a.join(b) for a, b in zip(known, items, strict=True))
    else:
        self.items_known = False


def plain_items(
    self: Interpreter, call: cst.BaseExpression, count: int
) -> list[Taint | None] | None:
    """For ``a, b, c = helper(...)`` with a function of this file: which elements it returns
    are plain values (``n.sum().item()``, a count) whatever the caller passes: no graph, no
    module, nothing of its arguments (their taint: nothing, or a detached loss), or None."""
    if type(call) is not cst.Call:
        return None
    callee = self.file.resolve_callee(call, self.info) or _own_forward(self, call)
    flow = self.file.flow_of(callee) if callee is not None else None
    items = flow.returned_items if flow is not None else None
    if items is None or len(items) != count:
        return None
    # a loss detached inside (``per_sample.detach().tolist()``) stays a loss, without a graph
    return [
        (DETACHED_LOSS if t.lossy else NO_TAINT) if graphless(t) and not t.sources else None
        for t in items
    ]


def entries_iterated(
    self: Interpreter, stmt: cst.For | cst.While | cst.CompFor
) -> tuple[str, str, bool] | None:
    """``for k in models`` / ``models.keys()`` (keys), ``for m in models.values()``
    (values), ``for k, m in models.items()`` (the value): the loop variable, the container
    and whether it stands for an entry itself. A comprehension's ``for`` clause reads the
    same (``[models[k].eval() for k in models]``)."""
    if not isinstance(stmt, (cst.For, cst.CompFor)):
        return None
    it, method = stmt.iter, None
    if type(it) is cst.Call and type(it.func) is cst.Attribute and not it.args:
        method = it.func.attr.value
        it = it.func.value
    container = key_of(it)
    if container is None:
        return None
    target = stmt.target
    if method in (None, "keys") and type(target) is cst.Name:
        return target.value, container, False
    if method == "values" and type(target) is cst.Name:
        return target.value, container, True
    if (
        method == "items"
        and type(target) is cst.Tuple
        and len(target.elements) == 2
        and type(target.elements[1].value) is cst.Name
    ):
        return target.elements[1].value.value, container, True
    return None


def every_entry(self: Interpreter, node: cst.BaseExpression) -> str | None:
    """``models[k]`` (``k`` one of its keys in turn) or ``m`` (one of its values in turn)
    inside a loop over every entry of ``models``: the container itself, whose entries all
    get what is done to each."""
    if type(node) is cst.Name:
        found = self.loop_values.get(node.value)
        if found is None and self.info is not None:
            # for m in models: m.eval(), ``models`` a parameter: what is switched is an
            # element (a dict's key, a string, has no eval()), each element of what the caller
            # passes (``set_mode("eval", [encoder, decoder])``)
            container = self.loop_keys.get(node.value)
            if container is not None and container in self.info.params:
                found = container
        return found
    if type(node) is cst.Subscript and len(node.slice) == 1:
        index = node.slice[0].slice
        if type(index) is cst.Index and type(index.value) is cst.Name:
            container = key_of(node.value)
            if container is not None and self.loop_keys.get(index.value.value) == container:
                return container
    return None


def _own_forward(self: Interpreter, call: cst.Call) -> FunctionInfo | None:
    """``loss, info = flow(x)`` with ``flow`` a module of a class of this file: its
    ``forward()``, whose returned elements say which carry a graph (a dict of logged floats
    does not)."""
    key = key_of(call.func)
    cls_name = self.facts.class_of_alias(key) if key is not None else None
    cls = self.facts.classes.get(cls_name) if cls_name is not None else None
    if cls is None:
        return None
    return self.facts.method(cls, "forward")
