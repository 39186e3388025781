"""How a call binds: the caller's names, literal flags and values for a callee's parameters, and
the function a name holds when a factory built it (``step = make_step(model, opt)``)."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import TYPE_CHECKING

import libcst as cst

from torchmode.engine.blocks import returned_values
from torchmode.engine.facts import FunctionInfo
from torchmode.engine.names import key_of, literal_bool
from torchmode.engine.values import Taint

if TYPE_CHECKING:
    from torchmode.engine.interpreter import Interpreter


def literal_arguments(self: Interpreter, call: cst.Call, callee: FunctionInfo) -> dict[str, bool]:
    params = list(callee.params)
    if callee.cls is not None and params and params[0] in {"self", "cls"}:
        params = params[1:]
    out: dict[str, bool] = {}
    positional = [a for a in call.args if a.keyword is None]
    for name, arg in zip(params, positional, strict=False):
        flag = literal_bool(arg.value)
        if flag is not None and not arg.star:
            out[name] = flag
    for arg in call.args:
        if arg.keyword is not None:
            flag = literal_bool(arg.value)
            if flag is not None:
                out[arg.keyword.value] = flag
    return out


def bound_taints(
    self: Interpreter, call: cst.Call, callee: FunctionInfo, args: list[Taint]
) -> dict[str, Taint]:
    params = list(callee.params)
    if callee.cls is not None and params and params[0] in {"self", "cls"}:
        params = params[1:]
    out: dict[str, Taint] = {}
    positional = [(a, t) for a, t in zip(call.args, args, strict=False) if a.keyword is None]
    for name, (arg, taint) in zip(params, positional, strict=False):
        if not arg.star:
            out[name] = taint
    for arg, taint in zip(call.args, args, strict=False):
        if arg.keyword is not None:
            out[arg.keyword.value] = taint
    return out


def resolve_closure(
    self: Interpreter, call: cst.Call
) -> tuple[FunctionInfo, dict[str, str | None]] | None:
    """``step = make_step(model, opt)`` (or ``self.step = self._make_step()``) and then
    ``step(x, y)``: the function ``make_step`` defines and returns, with the names it takes from
    ``make_step`` bound to what that call passed (its other locals: unknown)."""
    facts = self.facts
    if not facts.call_assigned:
        return None
    name = key_of(call.func)
    if name is None:
        return None
    scope = self.info
    factory_call = None
    if "." in name:
        if scope is not None and scope.cls is not None and name.startswith("self."):
            factory_call = facts.call_assigned.get((id(scope.cls.node), name))
    else:
        while (
            factory_call := facts.call_assigned.get((id(scope.node) if scope else 0, name))
        ) is None:
            if scope is None:
                break
            scope = scope.outer
    if factory_call is None:
        return None
    factory = self.file.resolve_callee(factory_call, scope)
    if factory is None:
        return None
    returned = returned_values(factory.node)
    names = {v.value for v in returned if type(v) is cst.Name}
    if len(names) != 1 or len(returned) != sum(type(v) is cst.Name for v in returned):
        return None
    inner = self.file.nested_functions().get((id(factory), names.pop()))
    if inner is None:
        return None
    free: dict[str, str | None] = dict.fromkeys(self.file.locals_of(factory))
    free.update(bind(self, factory_call, factory))
    return inner, free


def bind(
    self: Interpreter, call: cst.Call, callee: FunctionInfo, self_key: str | None = None
) -> dict[str, str | None]:
    """Callee parameter (and ``self``) -> the caller's access path for it."""
    params = list(callee.params)
    mapping: dict[str, str | None] = {}
    is_method = callee.cls is not None and params and params[0] in {"self", "cls"}
    if is_method:
        func = call.func
        receiver = func.value if type(func) is cst.Attribute else None
        if self_key is not None:  # predictor = Predictor(...): __init__ on ``predictor``
            mapping[params[0]] = self_key
        elif callee.name == "__call__":  # predictor(image)
            mapping[params[0]] = key_of(func)
        elif type(receiver) is cst.Call:  # super().method()
            mapping[params[0]] = "self"
        else:
            mapping[params[0]] = key_of(receiver) if receiver is not None else None
        params = params[1:]
    mapping.update(bind_arguments(call, params))
    for name in callee.params:
        mapping.setdefault(name, None)
    return mapping


def bind_arguments(call: cst.Call, params: Sequence[str]) -> dict[str, str | None]:
    """Parameter -> the caller's access path for the argument passed to it (positional
    arguments past a ``*args`` are not placed)."""
    positional = [a for a in call.args if a.keyword is None and not a.star]
    mapping = {name: key_of(arg.value) for name, arg in zip(params, positional, strict=False)}
    for arg in call.args:
        if arg.keyword is not None and arg.keyword.value in params:
            mapping[arg.keyword.value] = key_of(arg.value)
    return mapping


def displayed_arguments(
    call: cst.Call, callee: FunctionInfo
) -> tuple[dict[str, list[str]], dict[str, str]]:
    """The callee's parameters given a list or tuple display of names (``[encoder, decoder]``,
    ``None`` elements left out) and those given a plain string literal (``"eval"``)."""
    params = list(callee.params)
    if callee.cls is not None and params and params[0] in {"self", "cls"}:
        params = params[1:]
    given = [(name, arg) for name, arg in zip(params, _positional(call), strict=False)]
    given += [(a.keyword.value, a) for a in call.args if a.keyword is not None]
    spread: dict[str, list[str]] = {}
    strings: dict[str, str] = {}
    for name, arg in given:
        value = arg.value
        if type(value) is cst.List or type(value) is cst.Tuple:
            names = spread_names(value)
            if names:
                spread[name] = names
        elif type(value) is cst.SimpleString and not value.prefix.strip("rRuU"):
            strings[name] = value.evaluated_value  # type: ignore[assignment]
    return spread, strings


def spread_names(display: cst.List | cst.Tuple) -> list[str] | None:
    """``[encoder, decoder, None]``: the names, when every element is one (or None)."""
    names: list[str] = []
    for el in display.elements:
        if type(el) is cst.StarredElement:
            return None
        if type(el.value) is cst.Name and el.value.value == "None":
            continue
        key = key_of(el.value)
        if key is None:
            return None
        names.append(key)
    return names


def _positional(call: cst.Call) -> list[cst.Arg]:
    out: list[cst.Arg] = []
    for arg in call.args:
        if arg.star:
            break  # past *args, positions are not known
        if arg.keyword is None:
            out.append(arg)
    return out


_COMPARISON = re.compile(r"""^(\w+)\s*(==|!=)\s*(?:'([^'\\]*)'|"([^"\\]*)")$""")
_COMPARISON_REVERSED = re.compile(r"""^(?:'([^'\\]*)'|"([^"\\]*)")\s*(==|!=)\s*(\w+)$""")


def string_comparison(text: str, strings: dict[str, str]) -> bool | None:
    """The value of a guard ``mode == "eval"`` (or ``"eval" != mode``) when ``mode`` is given
    the string literal ``strings[mode]``; None when it is not such a comparison."""
    found = _COMPARISON.match(text)
    if found is not None:
        name, op, single, double = found.groups()
    else:
        found = _COMPARISON_REVERSED.match(text)
        if found is None:
            return None
        single, double, op, name = found.groups()
    if name not in strings:
        return None
    literal = single if single is not None else double
    return (strings[name] == literal) == (op == "==")
