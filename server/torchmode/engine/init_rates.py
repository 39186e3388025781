"""Layers of a project class configured by its constructor's parameters.

``self.drop = nn.Dropout(p_drop)`` in ``__init__``: whether the class depends on the mode is the
instance's business (``Block(8, 0.0)`` has no active Dropout, ``Block(8, 0.1)`` has). The class
keeps such a call as a template whose parameter arguments are ``InitParam`` markers; an instance
built from literal arguments binds them and the layer is judged again with those values.
"""

from __future__ import annotations

from dataclasses import dataclass

import libcst as cst

from torchmode.knowledge.layers import UNKNOWN, construction_sensitivity

Arguments = tuple[tuple[object, ...], dict[str, object]]


@dataclass(frozen=True, slots=True)
class InitParam:
    """An argument of a layer's construction that is the ``__init__`` parameter ``name``."""

    name: str


def init_def(cls: cst.ClassDef) -> cst.FunctionDef | None:
    for stmt in cls.body.body:
        if type(stmt) is cst.FunctionDef and stmt.name.value == "__init__":
            return stmt
    return None


def _parameters(init: cst.FunctionDef) -> list[cst.Param]:
    """``__init__``'s named parameters after ``self``."""
    params = [*init.params.posonly_params, *init.params.params]
    return [*params[1:], *init.params.kwonly_params]


def template(call: cst.Call, arguments: Arguments, cls: cst.ClassDef) -> Arguments | None:
    """``nn.Dropout(p_drop)`` in ``cls.__init__`` as ``((InitParam("p_drop"),), {})``; None
    when no argument is a bare parameter of ``__init__`` (the call is judged as written)."""
    init = init_def(cls)
    if init is None:
        return None
    names = {p.name.value for p in _parameters(init)}
    args, kwargs = list(arguments[0]), dict(arguments[1])
    rated = False
    positional = 0
    for arg in call.args:
        value = arg.value
        marker = (
            InitParam(value.value) if type(value) is cst.Name and value.value in names else None
        )
        if arg.keyword is None:
            if marker is not None:
                args[positional] = marker
            positional += 1
        elif marker is not None:
            kwargs[arg.keyword.value] = marker
        rated = rated or marker is not None
    if not rated or not _within(call, init):
        return None  # a call in another method names that method's own variables
    used = {a.name for a in (*args, *kwargs.values()) if isinstance(a, InitParam)}
    if used & _rebound(init):
        return None  # ``dropout = dropout or 0.1``: not the caller's value any more
    return tuple(args), kwargs


_ASSIGNING = (cst.AssignTarget, cst.AugAssign, cst.AnnAssign, cst.NamedExpr)


def _rebound(init: cst.FunctionDef) -> set[str]:
    """The names ``__init__`` assigns to (its parameters among them, if reassigned)."""
    out: set[str] = set()
    stack: list[cst.CSTNode] = [init.body]
    while stack:
        node = stack.pop()
        target = None
        if isinstance(node, _ASSIGNING):
            target = node.target
        if type(target) is cst.Name:
            out.add(target.value)
        elif type(target) is cst.Tuple:
            out.update(e.value.value for e in target.elements if type(e.value) is cst.Name)
        stack.extend(node.children)
    return out


def _within(node: cst.CSTNode, scope: cst.FunctionDef) -> bool:
    stack: list[cst.CSTNode] = [scope.body]
    while stack:
        current = stack.pop()
        if current is node:
            return True
        stack.extend(current.children)
    return False


def bind(call: cst.Call, cls: cst.ClassDef) -> dict[str, object] | None:
    """The literal value of each ``__init__`` parameter in ``Block(8, 0.0)`` (``UNKNOWN`` where
    not a literal), defaults included; None when the call unpacks arguments."""
    init = init_def(cls)
    arguments = literal_arguments(call)
    if init is None or arguments is None:
        return None
    params = _parameters(init)
    bound = {
        p.name.value: literal(p.default, UNKNOWN) if p.default is not None else UNKNOWN
        for p in params
    }
    positional = [p.name.value for p in [*init.params.posonly_params, *init.params.params][1:]]
    args, kwargs = arguments
    if len(args) > len(positional):
        return None  # ``*args`` in the signature: not followed
    bound.update(zip(positional, args, strict=False))
    for name, value in kwargs.items():
        if name not in bound:
            return None  # ``**kwargs`` in the signature: not followed
        bound[name] = value
    return bound


def rated_sensitivity(
    layer: str, templates: list[Arguments], bound: dict[str, object]
) -> bool | None:
    """Whether the ``layer`` calls of these templates build a mode-dependent layer once the
    instance's arguments are bound."""
    verdicts = set()
    for args, kwargs in templates:
        values = tuple(_value(a, bound) for a in args)
        named = {k: _value(v, bound) for k, v in kwargs.items()}
        verdicts.add(construction_sensitivity(layer, values, named))
    if True in verdicts:
        return True
    return False if verdicts == {False} else None


def _value(argument: object, bound: dict[str, object]) -> object:
    return bound.get(argument.name, UNKNOWN) if isinstance(argument, InitParam) else argument


def literal_arguments(call: cst.Call) -> tuple[tuple[object, ...], dict[str, object]] | None:
    """A call's positional and keyword arguments as literals (``UNKNOWN`` where not one);
    None when it unpacks ``*args`` or ``**kwargs``."""
    args: list[object] = []
    kwargs: dict[str, object] = {}
    for arg in call.args:
        if arg.star:
            return None
        value = literal(arg.value, UNKNOWN)
        if arg.keyword is None:
            args.append(value)
        else:
            kwargs[arg.keyword.value] = value
    return tuple(args), kwargs


def literal(node: cst.BaseExpression, unknown: object) -> object:
    if type(node) is cst.Integer or type(node) is cst.Float:
        try:
            return int(node.value) if type(node) is cst.Integer else float(node.value)
        except ValueError:
            return unknown
    if type(node) is cst.Name and node.value in {"True", "False", "None"}:
        return {"True": True, "False": False, "None": None}[node.value]
    if type(node) is cst.SimpleString:
        return node.evaluated_value
    return unknown
