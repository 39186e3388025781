"""Values taken item by item: the elements a function's tuple returns (``loss, n =
helper(...)``), and loops over every entry of a dict of modules (``for k in self.models:
self.models[k].eval()``). Methods of the interpreter in all but name."""

from __future__ import annotations

from typing import TYPE_CHECKING

import libcst as cst

from torchmode.engine.names import key_of
from torchmode.engine.values import State, graphless

if TYPE_CHECKING:
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


def plain_items(self: Interpreter, call: cst.BaseExpression, count: int) -> list[bool] | None:
    """For ``a, b, c = helper(...)`` with a function of this file: which elements it returns
    are plain values (``n.sum().item()``, a count) whatever the caller passes: no graph, no
    module, nothing of its arguments."""
    if type(call) is not cst.Call:
        return None
    callee = self.file.resolve_callee(call, self.info)
    flow = self.file.flow_of(callee) if callee is not None else None
    items = flow.returned_items if flow is not None else None
    if items is None or len(items) != count:
        return None
    return [graphless(t) and not t.lossy and not t.sources for t in items]


def entries_iterated(self: Interpreter, stmt: cst.For | cst.While) -> tuple[str, str, bool] | None:
    """``for k in models`` / ``models.keys()`` (keys), ``for m in models.values()``
    (values), ``for k, m in models.items()`` (the value): the loop variable, the container
    and whether it stands for an entry itself."""
    if type(stmt) is not cst.For:
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
