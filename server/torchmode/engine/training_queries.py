"""Whether a statement trains (a backward pass, an optimizer step, a call to a function that
trains), under which of the function's flags, and which function a call runs: questions the
interpreter and the rules ask of a file's analysis (``FileFlow``), answers cached per node."""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import TYPE_CHECKING

import libcst as cst

from torchmode.engine.blocks import block_statements, header_expressions, nested_blocks
from torchmode.engine.facts import FunctionInfo
from torchmode.engine.function_flow import FunctionFlow
from torchmode.engine.names import key_of, literal_bool
from torchmode.engine.values import Guard
from torchmode.engine.walk import calls_in

if TYPE_CHECKING:
    from torchmode.engine.flow import FileFlow


def contains_training(self: FileFlow, node: cst.CSTNode, scope: FunctionInfo | None) -> bool:
    cached = self.training_cache.get(id(node))
    if cached is not None:
        if self.active:
            self.active[-1].deps.extend(cached[1])
            self.active[-1].externals.extend(cached[2])
        return cached[0]
    probe = DepProbe()
    self.active.append(probe)
    try:
        result = _contains_training(self, node, scope)
    finally:
        self.active.pop()
    # an answer that met a function still being analysed (recursion) is not final: asked
    # again once that analysis is done (as a reused analysis would be), it may differ
    if all(dep is not None for _, dep in probe.deps):
        self.training_cache[id(node)] = (result, probe.deps, probe.externals)
    if self.active:
        self.active[-1].deps.extend(probe.deps)
        self.active[-1].externals.extend(probe.externals)
    return result


def _contains_training(self: FileFlow, node: cst.CSTNode, scope: FunctionInfo | None) -> bool:
    result = False
    stack: list[cst.CSTNode] = [node]
    while stack and not result:
        current = stack.pop()
        if type(current) is cst.SimpleStatementLine:
            for small in current.body:
                for call in calls_in(small):
                    if self.is_training_call(call, scope):
                        result = True
                        break
        elif type(current) is cst.FunctionDef:
            if current is node:
                stack.extend(block_statements(current.body))
        elif type(current) is cst.ClassDef:
            continue
        else:
            header = header_expressions(current)
            for expr in header:
                if any(self.is_training_call(c, scope) for c in calls_in(expr)):
                    result = True
            stack.extend(nested_blocks(current))
    return result


def tests_a_parameter(self: FileFlow, info: FunctionInfo) -> bool:
    """Whether the text around ``info`` has ``if NAME:`` on one of its parameters: a
    cheap look before ``training_guards`` walks a loop for each forward pass in it."""
    found = self.parameter_tests.get(id(info))
    if found is None:
        params = [re.escape(p) for p in info.params if p not in ("self", "cls")]
        found = bool(params) and (
            re.search(rf"\bif\s+(?:not\s+)?(?:{'|'.join(params)})\s*:", info.chunk.text) is not None
        )
        self.parameter_tests[id(info)] = found
    return found


def parameter_test(test: cst.BaseExpression) -> tuple[str, bool]:
    """``NAME`` -> (NAME, True), ``not NAME`` -> (NAME, False); ("", True) otherwise."""
    if type(test) is cst.UnaryOperation and type(test.operator) is cst.Not:
        name, polarity = parameter_test(test.expression)
        return name, not polarity
    return (test.value, True) if type(test) is cst.Name else ("", True)


def training_guards(self: FileFlow, node: cst.CSTNode, scope: FunctionInfo) -> tuple[Guard, ...]:
    """Per training call inside ``node`` (``contains_training``), a condition on one of
    the function's parameters that must hold for it to run (``if training:`` ->
    ``("training", True)``); empty when some training call runs whatever the parameters
    are. A call passing the contrary constant (``training=False``) runs no training
    step there."""
    params = set(scope.params)
    found: list[Guard] = []
    stack: list[tuple[cst.CSTNode, Guard | None]] = [(node, None)]
    while stack:
        current, guard = stack.pop()
        if type(current) is cst.SimpleStatementLine:
            calls = [c for small in current.body for c in calls_in(small)]
        elif type(current) is cst.FunctionDef:
            if current is node:
                stack.extend((s, guard) for s in block_statements(current.body))
            continue
        elif type(current) is cst.ClassDef:
            continue
        else:
            calls = [c for expr in header_expressions(current) for c in calls_in(expr)]
            if type(current) is cst.If and not calls:
                test = current.test
                own = guard
                if guard is None:
                    # ``if training:`` or ``if not cross_valid:`` on a parameter
                    name, polarity = parameter_test(test)
                    own = (name, polarity) if name in params else None
                stack.extend((s, own) for s in block_statements(current.body))
                orelse = current.orelse
                contrary = (own[0], not own[1]) if own is not None and guard is None else guard
                if type(orelse) is cst.If:
                    stack.append((orelse, contrary))
                elif orelse is not None:
                    stack.extend((s, contrary) for s in block_statements(orelse.body))
                continue
            stack.extend((s, guard) for s in nested_blocks(current))
        if any(self.is_training_call(c, scope) for c in calls):
            if guard is None:
                return ()
            found.append(guard)
    return tuple(found)


def switches_to_train(self: FileFlow, node: cst.CSTNode) -> bool:
    """``model.train()`` or a call to something named like training (``train_one_epoch``):
    a statement that is not pure evaluation, even when its training is not visible."""
    cached = self.train_switch_cache.get(id(node))
    if cached is not None:
        return cached
    result = False
    for stmt in walk_statements([node]):
        exprs: list[cst.CSTNode] = []
        if type(stmt) is cst.SimpleStatementLine:
            exprs = list(stmt.body)
        else:
            exprs = header_expressions(stmt)
        for expr in exprs:
            for call in calls_in(expr):
                func = call.func
                name = (
                    func.attr.value
                    if type(func) is cst.Attribute
                    else (func.value if type(func) is cst.Name else "")
                )
                if name == "train" and type(func) is cst.Attribute:
                    arg = call.args[0].value if call.args else None
                    if arg is None or literal_bool(arg) is not False:
                        result = True
                elif "train" in name.lower() and (name != "train" or type(func) is cst.Name):
                    result = True  # train_one_epoch(...), train(model, loader, ...)
    self.train_switch_cache[id(node)] = result
    return result


def is_training_call(self: FileFlow, call: cst.Call, scope: FunctionInfo | None) -> bool:
    func = call.func
    if type(func) is cst.Attribute:
        method = func.attr.value
        if method in {"backward", "manual_backward"}:
            return True
        if method == "step":
            receiver = key_of(func.value)
            if self.facts.is_optimizer_key(receiver):
                return True
            if call.args and self.facts.is_optimizer_key(key_of(call.args[0].value)):
                return True
    name = self.facts.imports.resolve(func)
    if name in {"torch.autograd.grad", "torch.autograd.backward"}:
        return True
    callee = self.resolve_callee(call, scope)
    if callee is not None:
        flow = self.flow_of(callee)
        return bool(flow and flow.trains)
    return False


def resolve_callee(
    self: FileFlow, call: cst.Call, scope: FunctionInfo | None
) -> FunctionInfo | None:
    func = call.func
    facts = self.facts
    if type(func) is cst.Name and func.value in facts.instances:
        cls = facts.classes.get(facts.instances[func.value])
        if cls is not None and not facts.class_is_module(cls.name):
            return facts.method(cls, "__call__")  # predictor(image)
    if type(func) is cst.Name:
        scope_fn = scope
        nested = self.nested_functions()
        while scope_fn is not None:  # a function defined inside this one (or around it)
            info = nested.get((id(scope_fn), func.value))
            if info is not None:
                return info
            scope_fn = scope_fn.outer
        return facts.functions.get(func.value)
    if type(func) is cst.Attribute:
        receiver = func.value
        name = func.attr.value
        if type(receiver) is cst.Name and receiver.value == "self" and scope and scope.cls:
            return facts.dispatched(scope.cls, name)
        if (
            type(receiver) is cst.Call
            and type(receiver.func) is cst.Name
            and receiver.func.value == "super"
            and scope
            and scope.cls
        ):
            for base in scope.cls.bases:
                cls = facts.classes.get(base.rsplit(".", 1)[-1])
                if cls is not None:
                    return facts.method(cls, name)
            return None
        key = key_of(receiver)
        if key is not None and key in facts.instances:
            cls = facts.classes.get(facts.instances[key])
            if cls is not None:
                return facts.method(cls, name)
    return None


class DepProbe:
    """Collects the function analyses a cached answer depended on."""

    def __init__(self) -> None:
        self.deps: list[tuple[int, FunctionFlow | None]] = []
        self.externals: list[tuple[str, object]] = []


def walk_statements(stmts: Iterable[cst.CSTNode]) -> Iterable[cst.CSTNode]:
    stack = list(stmts)
    while stack:
        stmt = stack.pop()
        yield stmt
        if type(stmt) not in (cst.FunctionDef, cst.ClassDef, cst.SimpleStatementLine):
            stack.extend(nested_blocks(stmt))
