"""Modules an nn.Module keeps from its constructor's arguments (``Distiller(t_net, s_net)``
keeping ``self.s_net = s_net``): they are its children, so ``d_net.train()`` switches them."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING

import libcst as cst

from torchmode.engine import torch_api as api
from torchmode.engine.blocks import block_statements
from torchmode.engine.names import dotted, key_of
from torchmode.engine.walk import children

if TYPE_CHECKING:
    from torchmode.engine.interpreter import Interpreter

# a class's constructor parameters (after ``self``), and each one kept as ``self.<attr>``
Kept = tuple[tuple[str, ...], tuple[tuple[str, str], ...]]


def constructor_keeps(node: cst.ClassDef) -> Kept | None:
    """The parameters ``__init__`` assigns as they are to attributes of ``self``
    (``self.s_net = s_net``); None when it keeps none."""
    init = next(
        (
            s
            for s in block_statements(node.body)
            if type(s) is cst.FunctionDef and s.name.value == "__init__"
        ),
        None,
    )
    if init is None:
        return None
    params = tuple(p.name.value for p in (*init.params.posonly_params, *init.params.params))[1:]
    names = set(params) | {p.name.value for p in init.params.kwonly_params}
    kept: list[tuple[str, str]] = []
    stack: list[cst.CSTNode] = list(block_statements(init.body))
    while stack:
        current = stack.pop()
        if type(current) is cst.FunctionDef or type(current) is cst.ClassDef:
            continue
        if type(current) is cst.Assign and type(current.value) is cst.Name:
            name = current.value.value
            for target in current.targets:
                attr = _self_attribute(target.target)
                if attr is not None and name in names:
                    kept.append((name, attr))
            continue
        stack.extend(children(current))
    return (params, tuple(sorted(set(kept)))) if kept else None


def _self_attribute(target: cst.BaseExpression) -> str | None:
    if (
        type(target) is cst.Attribute
        and type(target.value) is cst.Name
        and target.value.value == "self"
    ):
        return target.attr.value
    return None


def kept_by(self: Interpreter, call: cst.BaseExpression) -> dict[str, str]:
    """``d_net = Distiller(t_net, s_net)``: the modules the new module keeps, by attribute
    (``{"t_net": "t_net", "s_net": "s_net"}``), for a module class of the file or of another
    file of the project."""
    if type(call) is not cst.Call or any(a.star for a in call.args):
        return {}
    wrapped = _wrapped_module(self, call)
    if wrapped is not None:
        key = key_of(wrapped)
        return {"module": key} if key is not None and self.is_module_key(key) else {}
    kept = _class_keeps(self, call.func)
    if kept is None:
        return {}
    params, attrs = kept
    positional = [a for a in call.args if a.keyword is None]
    bound = {p: key_of(a.value) for p, a in zip(params, positional, strict=False)}
    bound.update({a.keyword.value: key_of(a.value) for a in call.args if a.keyword is not None})
    out: dict[str, str] = {}
    for param, attr in attrs:
        key = bound.get(param)
        if key is not None and self.is_module_key(key):
            out[attr] = key
    return out


def _class_keeps(self: Interpreter, func: cst.BaseExpression) -> Kept | None:
    facts = self.facts
    if type(func) is cst.Name and func.value in facts.classes:
        if not facts.class_is_module(func.value):
            return None
        return constructor_keeps(facts.classes[func.value].node)
    full = facts.imports.resolve(func) or dotted(func)
    qualified = facts.project_class(full) if full else None
    if qualified is None or facts.project is None:
        return None
    return facts.project.constructor_children(qualified)


def _wrapped_module(self: Interpreter, call: cst.Call) -> cst.BaseExpression | None:
    """``DataParallel(net)``, ``DistributedDataParallel(module=net, ...)``: the module the
    wrapper runs (as its ``.module``), whose mode ``wrapper.train()`` sets."""
    name = self.facts.imports.resolve(call.func) or dotted(call.func)
    if name not in api.MODULE_WRAPPERS:
        return None
    for arg in call.args:
        if arg.keyword is not None and arg.keyword.value == "module":
            return arg.value
    positional = [a for a in call.args if a.keyword is None]
    return positional[0].value if positional else None


def held_here(self: Interpreter) -> dict[str, dict[str, str]]:
    """What the modules this code can switch keep: those built at the module's top level
    (the name a function is given them by is, in a script, most often the same), those its
    class's ``__init__`` wraps, then those the function built itself."""
    if self.info is None:
        return self.held_arguments
    file = self.file
    if file.module_held is None:
        file.module_held = {}
        for chunk in file.chunks:
            for value_key, value in _top_level_assignments(chunk.statements):
                kept = kept_by(self, value)
                if kept:
                    file.module_held[value_key] = kept
    wrapped = _class_wrapped(self)
    if not file.module_held and not wrapped:
        return self.held_arguments
    return {**file.module_held, **wrapped, **self.held_arguments}


def _class_wrapped(self: Interpreter) -> dict[str, dict[str, str]]:
    """``self.student = student`` and ``self.par_student = DataParallel(student)`` in the
    class's ``__init__``: one module under two attributes, so that ``self.par_student.train()``
    in any method switches ``self.student``."""
    cls = self.info.cls if self.info is not None else None
    if cls is None:
        return {}
    memo = self.file.class_wrapped
    found = memo.get(id(cls.node))
    if found is None:
        found = memo[id(cls.node)] = _wrapped_in_init(self, cls.node)
    return found


def _wrapped_in_init(self: Interpreter, node: cst.ClassDef) -> dict[str, dict[str, str]]:
    init = next(
        (
            s
            for s in block_statements(node.body)
            if type(s) is cst.FunctionDef and s.name.value == "__init__"
        ),
        None,
    )
    if init is None:
        return {}
    kept_as: dict[str, str] = {}  # local name -> the attribute of self it is kept as
    wrappers: list[tuple[str, cst.BaseExpression]] = []
    for stmt in block_statements(init.body):
        if type(stmt) is not cst.SimpleStatementLine:
            continue
        for small in stmt.body:
            if type(small) is not cst.Assign or len(small.targets) != 1:
                continue
            attr = _self_attribute(small.targets[0].target)
            if attr is None:
                continue
            if type(small.value) is cst.Name:
                kept_as[small.value.value] = f"self.{attr}"
            elif type(small.value) is cst.Call:
                inner = _wrapped_module(self, small.value)
                if inner is not None:
                    wrappers.append((f"self.{attr}", inner))
    out: dict[str, dict[str, str]] = {}
    for wrapper, inner in wrappers:
        key = key_of(inner)
        child = kept_as.get(key, key) if key is not None else None
        if child is not None and child.startswith("self.") and child != wrapper:
            out[wrapper] = {"module": child}
    return out


def _top_level_assignments(
    stmts: Sequence[cst.BaseStatement],
) -> Iterator[tuple[str, cst.BaseExpression]]:
    """``name = Call(...)`` at the top level, or in a top-level ``if`` (``__main__``)."""
    for stmt in stmts:
        if type(stmt) is cst.If:
            yield from _top_level_assignments(block_statements(stmt.body))
            continue
        if type(stmt) is not cst.SimpleStatementLine:
            continue
        for small in stmt.body:
            if type(small) is cst.Assign and len(small.targets) == 1:
                key = key_of(small.targets[0].target)
                if key is not None and type(small.value) is cst.Call:
                    yield key, small.value
