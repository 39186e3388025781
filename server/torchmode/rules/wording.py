"""The short forms of code that a finding's summary quotes.

A summary has about 100 characters for what is wrong, the model or optimizer and the lines
involved (see ``Finding``): it names a call by its function, not by its arguments, and a
model's own ``eval()``/``train()`` without the model's name, which the summary already says.
The details quote the code in full (``common.where``).
"""

from __future__ import annotations

import libcst as cst

from torchmode.engine.context import RuleContext
from torchmode.engine.names import key_of

# Longer callees keep their last parts: `….from_pretrained(...)`
_CALLEE_LIMIT = 20


def brief(ctx: RuleContext, node: cst.CSTNode, subject: str = "") -> str:
    """``node`` as a summary quotes it, in backticks: `validate(...)` for
    ``validate(model, val_loader)``, `eval()` for ``model.eval()`` when ``subject`` is
    ``model``, the code itself when it is short."""
    if isinstance(node, cst.Decorator):
        return f"`@{_unquoted(ctx, node.decorator, subject)}`"
    return f"`{_unquoted(ctx, node, subject)}`"


def _unquoted(ctx: RuleContext, node: cst.CSTNode, subject: str) -> str:
    if not isinstance(node, cst.Call):
        return ctx.short(node, _CALLEE_LIMIT)
    func = node.func
    text = " ".join(ctx.code(node).split())
    if (
        subject
        and isinstance(func, cst.Attribute)
        and func.attr.value in {"eval", "train"}
        and key_of(func.value) == subject
        and text.startswith(subject + ".")
    ):
        # the subject's own mode switch: `train(False)` says more than its receiver would
        text = text[len(subject) + 1 :]
        if len(text) <= _CALLEE_LIMIT:
            return text
        return f"{func.attr.value}(...)"
    if len(text) <= _CALLEE_LIMIT:
        return text
    return _callee(" ".join(ctx.code(func).split())) + ("(...)" if node.args else "()")


def _callee(name: str) -> str:
    """A long dotted name by its last parts: `….from_pretrained`."""
    if len(name) <= _CALLEE_LIMIT:
        return name
    kept = ""
    for part in reversed(name.split(".")):
        candidate = f"{part}.{kept}" if kept else part
        if len(candidate) > _CALLEE_LIMIT - 2:
            break
        kept = candidate
    return "…." + kept if kept else "…" + name[-(_CALLEE_LIMIT - 1) :]
