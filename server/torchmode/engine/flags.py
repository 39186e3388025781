"""Literal booleans held by names and attributes (``self.is_test = False``, ``State.flags``):
what a called function may rebind, so that a caller stops trusting what it knew of them."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

import libcst as cst

from torchmode.engine.blocks import block_statements, header_expressions, nested_blocks
from torchmode.engine.names import key_of
from torchmode.engine.walk import calls_in

if TYPE_CHECKING:
    from torchmode.engine.facts import FunctionInfo


def assigned_keys(info: FunctionInfo, known: dict[int, frozenset[str]]) -> frozenset[str]:
    """The names and attributes (``self.is_test``, ``mode``) ``info`` assigns or augments,
    in its own names, with those the methods of its class it calls on ``self`` assign;
    ``known``: what was found so far, by id of a function of the same analysis."""
    found = known.get(id(info))
    if found is not None:
        return found
    keys: set[str] = set()
    seen: set[int] = set()
    pending = [info]
    while pending:
        current = pending.pop()
        if id(current.node) in seen:
            continue
        seen.add(id(current.node))
        for node in _parts(current.node):
            if isinstance(node, cst.Call):
                method = _self_method(node, current)
                if method is not None:
                    pending.append(method)
            else:
                keys.update(_target_keys(node))
    found = known[id(info)] = frozenset(keys)
    return found


def _parts(function: cst.FunctionDef) -> Iterator[cst.CSTNode]:
    """The function's assignment targets and calls (nested functions and classes left out)."""
    stack: list[cst.CSTNode] = list(block_statements(function.body))
    while stack:
        stmt = stack.pop()
        if isinstance(stmt, cst.FunctionDef | cst.ClassDef):
            continue
        if isinstance(stmt, cst.SimpleStatementLine):
            for small in stmt.body:
                if isinstance(small, cst.Assign):
                    yield from (t.target for t in small.targets)
                elif isinstance(small, cst.AugAssign | cst.AnnAssign):
                    yield small.target
                value = getattr(small, "value", None)
                if isinstance(value, cst.BaseExpression):
                    yield from calls_in(value)
            continue
        for header in header_expressions(stmt):
            yield from calls_in(header)
        if isinstance(stmt, cst.For):
            yield stmt.target
        stack.extend(nested_blocks(stmt))


def _target_keys(target: cst.CSTNode) -> Iterator[str]:
    if isinstance(target, cst.Tuple | cst.List):
        for element in target.elements:
            yield from _target_keys(element.value)
        return
    if isinstance(target, cst.StarredElement):
        yield from _target_keys(target.value)
        return
    if isinstance(target, cst.BaseExpression):
        key = key_of(target)
        if key is not None:
            yield key


def _self_method(call: cst.Call, caller: FunctionInfo) -> FunctionInfo | None:
    """``self.reset()`` in a method: that method of the class, when the class defines it."""
    func = call.func
    if caller.cls is None or not isinstance(func, cst.Attribute):
        return None
    if not (isinstance(func.value, cst.Name) and func.value.value == "self"):
        return None
    return caller.cls.methods.get(func.attr.value)
