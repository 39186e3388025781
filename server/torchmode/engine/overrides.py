"""A base class's ``self.method()`` whose one definition is a subclass's in another file.

``class Trainer`` in ``trainer.py`` switches ``self.model`` to eval mode in ``test()`` and calls
``self.evaluate(loader)``, which it leaves to its subclasses (a stub, or nothing at all);
``class SegTrainer(Trainer)`` in ``seg.py`` writes ``evaluate()``, running ``self.model`` over
the loader. The evaluation is entered at the call in ``trainer.py``: there ``self.model`` is
known to be a module, and its mode, and there a ``no_grad()`` belongs (``evaluate()`` may be
called from a validation already under one). ``seg.py`` knows nothing of ``self.model``: its
summary says which attributes of ``self`` each method of such a subclass calls, with gradients
as the method was entered and nothing trained (``Subclass``), and ``trainer.py``, which alone
knows which of them are modules, records a forward pass of each at the call.

Only the one definition among the subclasses of the files that import the base's file counts
(as for the subclasses of the file itself: ``Facts.dispatched``); two subclasses defining it
differently leave the call as it was.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

import libcst as cst

from torchmode.engine.chunks import code_of
from torchmode.engine.facts import ClassInfo, FunctionInfo, is_stub
from torchmode.engine.function_flow import FunctionFlow, def_chain
from torchmode.engine.names import key_of
from torchmode.engine.summary_types import ParamEffect, Subclass
from torchmode.engine.values import CallerSite, Mode, ModeVal, State
from torchmode.engine.walk import children

if TYPE_CHECKING:
    from torchmode.engine.flow import FileFlow
    from torchmode.engine.interpreter import Interpreter

# What a subclass's method runs: each attribute of ``self`` it calls, and where
Runs = tuple[tuple[ParamEffect, CallerSite], ...]

# a ``with`` or a nested scope: the calls in it run later, or in another grad mode
_ELSEWHERE = (cst.FunctionDef, cst.ClassDef, cst.Lambda)


# -- the subclass's file: its summary ------------------------------------------------------
def subclasses_of(file_flow: FileFlow, path: Path, root: str) -> tuple[Subclass, ...]:
    """The file's classes whose bases include a class of another file of the project."""
    facts = file_flow.facts
    project = facts.project
    if project is None:
        return ()
    relative = os.path.relpath(path, root) if path.is_absolute() else str(path)
    real = os.path.realpath(path)
    out: list[Subclass] = []
    for name, cls in facts.classes.items():
        bases: list[tuple[str, str]] = []
        for base in cls.bases:
            if "." not in base.lstrip("."):
                continue  # a class of this file, or a builtin
            target = project.function_file(base)
            if target is not None and target != real:
                bases.append((target, base.rsplit(".", 1)[-1]))
        if not bases:
            continue
        methods = tuple(m for m, info in cls.methods.items() if not is_stub(info.node))
        runs: dict[str, Runs] = {}
        for method in methods:
            info = cls.methods[method]
            flow = file_flow.flow_of(info)
            if flow is not None and not flow.trains:
                found = _runs(info, flow, cls, relative, real)
                if found:
                    runs[method] = found
        out.append(Subclass(name, tuple(bases), methods, runs))
    return tuple(out)


def _runs(info: FunctionInfo, flow: FunctionFlow, cls: ClassInfo, relative: str, real: str) -> Runs:
    """The attributes of ``self`` the method calls like modules (``self.model(x)``,
    ``self.net.forward(x)``), where gradients are as the method was entered; each with the
    mode the method switches it to (one ``eval()`` and no ``train()``: EVAL; none: INPUT)."""
    calls: dict[str, tuple[cst.Call, tuple[cst.CSTNode, ...]]] = {}
    switches: dict[str, set[str]] = {}
    for statements, call in _calls(info.node.body):
        stmt = statements[-1]
        func = call.func
        if type(func) is not cst.Attribute:
            continue
        if func.attr.value in {"eval", "train"}:
            target = key_of(func.value)
            if target is not None and target.startswith("self."):
                switches.setdefault(target, set()).add(func.attr.value)
            continue
        key = key_of(func.value) if func.attr.value == "forward" else key_of(func)
        if key is None or not key.startswith("self.") or key in calls:
            continue
        if key.split(".")[1] in cls.methods:
            continue  # a method of its own, not a module
        snapshot = flow.states.get(id(stmt))
        if snapshot is None or any(g.enabled is not None for g in snapshot.grad):
            continue  # gradients set here, not by the caller
        calls[key] = call, statements
    out: list[tuple[ParamEffect, CallerSite]] = []
    outer = def_chain(info)
    for key, (call, statements) in calls.items():
        switched = switches.get(key, set())
        if "train" in switched:
            continue  # it trains, or its mode is its own: not the caller's evaluation
        mode = Mode.EVAL if switched else Mode.INPUT
        # the positions of its statement alone, not of the whole class the method is in
        r = info.chunk.range_in(call, (*outer, *statements))
        span = (r.start.line, r.start.character, r.end.line, r.end.character)
        code = " ".join(code_of(call).split())
        code = code if len(code) <= 40 else code[:39] + "…"
        place = CallerSite(relative, r.start.line + 1, code, file=real, span=span)
        out.append((ParamEffect("self", key[len("self") :], mode), place))
    return tuple(out)


def _calls(body: cst.BaseSuite) -> list[tuple[tuple[cst.CSTNode, ...], cst.Call]]:
    """Every call of ``body`` with the statements holding it (the outermost first, the
    innermost last), in source order; nested functions, classes and lambdas left out."""
    out: list[tuple[tuple[cst.CSTNode, ...], cst.Call]] = []
    stack: list[tuple[cst.CSTNode, tuple[cst.CSTNode, ...]]] = [(body, ())]
    while stack:
        node, statements = stack.pop()
        if isinstance(node, _ELSEWHERE):
            continue
        if isinstance(node, cst.BaseStatement):
            statements = (*statements, node)
        if type(node) is cst.Call and statements:
            out.append((statements, node))
        stack.extend((child, statements) for child in reversed(children(node)))
    return out


# -- the base's file: the call -------------------------------------------------------------
def runs_of(subclasses: tuple[Subclass, ...], method: str) -> Runs:
    """What ``method`` runs when exactly one of ``subclasses`` defines it (else nothing)."""
    defining = [sub for sub in subclasses if method in sub.methods]
    return defining[0].runs.get(method, ()) if len(defining) == 1 else ()


def apply_override(
    it: Interpreter, call: cst.Call, callee: FunctionInfo | None, state: State
) -> None:
    """``self.method(...)`` in a method of a class whose own ``method`` is missing or a stub:
    a forward pass of each module of ``self`` the one subclass defining it elsewhere runs."""
    func = call.func
    info = it.info
    if (
        type(func) is not cst.Attribute
        or type(func.value) is not cst.Name
        or func.value.value != "self"
        or info is None
        or info.cls is None
        or (callee is not None and not is_stub(callee.node))
    ):
        return
    for effect, place in it.file.override(info.cls, func.attr.value):
        key = "self" + effect.suffix
        if not it.is_module_key(key):
            continue
        if effect.mode is not Mode.INPUT:
            it.set_mode(key, frozenset({ModeVal(effect.mode, it.origin(call))}), state)
        it.forward(call, key, [], state, given=key, elsewhere=place)
