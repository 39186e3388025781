"""Guards and conditions: ``if training:``-style tests that decide a mode, and saved modes
restored (``was_training = model.training ... model.train(was_training)``)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import libcst as cst

from torchmode.engine.chunks import code_of
from torchmode.engine.names import key_of
from torchmode.engine.values import (
    GradVal,
    Guard,
    Mode,
    ModeVal,
    State,
)
from torchmode.engine.walk import calls_in

if TYPE_CHECKING:
    from torchmode.engine.interpreter import Interpreter


# -- conditions ------------------------------------------------------------------------
def guard_of(self: Interpreter, test: cst.BaseExpression) -> str | None:
    """A branch condition that later branches can be correlated with (no calls in it)."""
    if any(True for _ in calls_in(test)):
        return None
    if type(test) is cst.UnaryOperation and type(test.operator) is cst.Not:
        return None
    cache = self.file.cache
    return cache.code_text(test) if cache is not None else code_of(test).strip()


def is_grad_presence_check(test: cst.BaseExpression) -> bool:
    """``if p.grad is not None:``, true or not, leaves no gradient behind either way."""
    return (
        type(test) is cst.Comparison
        and type(test.left) is cst.Attribute
        and test.left.attr.value == "grad"
        and len(test.comparisons) == 1
        and type(test.comparisons[0].operator) is cst.IsNot
        and type(test.comparisons[0].comparator) is cst.Name
        and test.comparisons[0].comparator.value == "None"
    )


def known_flag(test: cst.BaseExpression, state: State) -> bool | None:
    """``if self.is_test:`` (or ``if not self.is_test:``) after ``self.is_test = False`` on
    every path here: the test's value."""
    if not state.flags:
        return None
    negated = type(test) is cst.UnaryOperation and type(test.operator) is cst.Not
    if negated:
        test = test.expression  # type: ignore[attr-defined]
    if type(test) is not cst.Name and type(test) is not cst.Attribute:
        return None
    key = key_of(test)
    flag = state.flags.get(key) if key is not None else None
    return None if flag is None else flag != negated


def is_module_check(self: Interpreter, test: cst.BaseExpression) -> bool:
    if not (
        type(test) is cst.Call
        and type(test.func) is cst.Name
        and test.func.value == "isinstance"
        and len(test.args) == 2
    ):
        return False
    key = key_of(test.args[0].value)
    kind = self.facts.imports.resolve(test.args[1].value) or code_of(test.args[1].value)
    return key in self.facts.module_keys and kind.endswith("Module")


def refine(self: Interpreter, state: State, guard: str | None, polarity: bool) -> State:
    out = state.copy()
    if guard is None:
        return out
    contrary = (guard, not polarity)
    for key, vals in state.modes.items():
        kept = frozenset(v for v in vals if contrary not in v.guards)
        if kept:
            out.modes[key] = kept
    kept_grad = frozenset(g for g in state.grad if contrary not in g.guards)
    if kept_grad:
        out.grad = kept_grad
    return out


def tag(self: Interpreter, out: State, before: State, guard: Guard) -> None:
    if not out.reachable:
        return
    for key, vals in out.modes.items():
        old = before.modes.get(key, frozenset())
        if vals != old:
            # every value on this path holds under the branch condition
            out.modes[key] = frozenset(ModeVal(v.mode, v.origin, v.guards | {guard}) for v in vals)
    if out.grad != before.grad:
        out.grad = frozenset(GradVal(g.enabled, g.origin, g.guards | {guard}) for g in out.grad)


def strip_guards(self: Interpreter, name: str, state: State) -> None:
    def touches(guards: frozenset[Guard]) -> bool:
        return any(name in _guard_names(text) for text, _ in guards)

    # called on every assignment, and few values hold a condition: those are looked at
    touched = [
        key
        for key, vals in state.modes.items()
        if any(v.guards and touches(v.guards) for v in vals)
    ]
    for key in touched:
        state.modes[key] = frozenset(
            ModeVal(v.mode, v.origin) if v.guards and touches(v.guards) else v
            for v in state.modes[key]
        )
    if any(g.guards and touches(g.guards) for g in state.grad):
        state.grad = frozenset(
            GradVal(g.enabled, g.origin) if g.guards and touches(g.guards) else g
            for g in state.grad
        )


def snapshot_test(
    self: Interpreter, test: cst.BaseExpression, state: State
) -> tuple[str, bool] | None:
    polarity = True
    if type(test) is cst.UnaryOperation and type(test.operator) is cst.Not:
        polarity = False
        test = test.expression
    if type(test) is cst.Name:
        taint = state.vars.get(test.value)
        if taint is not None and taint.snapshot_of is not None:
            return taint.snapshot_of, polarity
    return None


def mode_tested(
    self: Interpreter, test: cst.BaseExpression, state: State, guard: str | None, branch: bool
) -> None:
    """``if model.training:`` (or ``not model.training``) on the ``branch`` path: the module
    is in the mode the test says there. Its entry mode gets the condition as a guard, so a
    caller that switched it (``model.eval()`` before the call) takes only the branch that
    mode runs; a mode set here that contradicts the test is not on this path."""
    polarity = branch
    if type(test) is cst.UnaryOperation and type(test.operator) is cst.Not:
        polarity = not polarity
        test = test.expression
        guard = self.guard_of(test)
    if type(test) is not cst.Attribute or test.attr.value != "training" or guard is None:
        return
    key = key_of(test.value)
    if key is None or not self.is_module_key(key):
        return
    vals = self.mode_of(key, state)
    if not any(v.mode is Mode.INPUT for v in vals):
        return
    contrary = Mode.EVAL if polarity else Mode.TRAIN
    kept = frozenset(v for v in vals if v.mode is not contrary) or vals
    state.modes[state.module_key(key)] = frozenset(
        ModeVal(v.mode, v.origin, v.guards | {(guard, polarity)}) if v.mode is Mode.INPUT else v
        for v in kept
    )


def restore_snapshot(self: Interpreter, out: State, key: str, mode: Mode, before: State) -> None:
    """In ``if was_training: model.train()``, train mode on that path is the entry mode."""
    if not out.reachable:
        return
    vals = out.modes.get(key)
    if vals is None:
        return
    out.modes[key] = frozenset(ModeVal(Mode.INPUT) if v.mode is mode else v for v in vals)


_GUARD_NAME_CACHE: dict[str, frozenset[str]] = {}


def _guard_names(text: str) -> frozenset[str]:
    cached = _GUARD_NAME_CACHE.get(text)
    if cached is None:
        import re

        cached = frozenset(re.findall(r"[A-Za-z_]\w*", text))
        if len(_GUARD_NAME_CACHE) > 10000:
            _GUARD_NAME_CACHE.clear()
        _GUARD_NAME_CACHE[text] = cached
    return cached
