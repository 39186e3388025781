"""Hover: what a PyTorch call does and does not do, plus the live state at that line.

"Here `model` is in eval mode (set on line 42); gradients are not recorded (inside
`torch.no_grad()` from line 40)". On a rule code in a ``# noqa:`` comment: the rule's docs.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

import libcst as cst

from torchmode.analysis import noqa
from torchmode.engine.chunks import Chunk, split_lines
from torchmode.engine.context import RuleContext
from torchmode.engine.function_flow import FunctionFlow
from torchmode.engine.names import key_of
from torchmode.engine.values import GradVal, Mode, ModeVal, Snapshot
from torchmode.findings import Position
from torchmode.knowledge.claims import api_doc
from torchmode.knowledge.layers import mode_sensitivity
from torchmode.rules import RULES

if TYPE_CHECKING:
    from torchmode.analysis.driver import Analysis

_WORD = re.compile(r"[A-Za-z_][A-Za-z_0-9]*")
_MODULE_METHODS = {"train", "eval", "requires_grad_"}
_TENSOR_METHODS = {"backward", "detach", "item"}
_GRAD_FUNCTIONS = {"no_grad", "inference_mode", "enable_grad", "set_grad_enabled"}
MAX_STATE_LINES = 5


def hover_at(analysis: Analysis, position: Position) -> str | None:
    lines = [line.rstrip("\r\n") for line in split_lines(analysis.source)]
    if position.line >= len(lines):
        return None
    text = lines[position.line]
    rule_docs = _noqa_hover(text, position.character)
    if rule_docs is not None:
        return rule_docs
    ctx = analysis.context
    if ctx is None:
        return None
    word = _word_at(text, position.character)
    if word is None:
        return None
    name, _ = word
    if name not in _MODULE_METHODS | _TENSOR_METHODS | _GRAD_FUNCTIONS | {"zero_grad", "step"}:
        return None
    chunk = _chunk_at(ctx, position.line)
    if chunk is None:
        return None
    found = _node_at(chunk, position, name)
    if found is None:
        return None
    node, attribute = found
    return _describe(ctx, chunk, node, attribute, name)


def _noqa_hover(text: str, character: int) -> str | None:
    for start, end, code in noqa.codes_named(text):
        if start <= character <= end:
            rule = RULES.get(code)
            if rule is None:
                return None
            return (
                f"**{rule.code} {rule.name}** — {rule.summary}\n\n{rule.docs}\n\n[Docs]({rule.url})"
            )
    return None


def _word_at(text: str, character: int) -> tuple[str, int] | None:
    for match in _WORD.finditer(text):
        if match.start() <= character <= match.end():
            return match.group(), match.start()
    return None


def _chunk_at(ctx: RuleContext, line: int) -> Chunk | None:
    found = None
    for chunk in ctx.chunks:
        if chunk.start_line <= line:
            found = chunk
        else:
            break
    return found


def _node_at(
    chunk: Chunk, position: Position, name: str
) -> tuple[cst.Name, cst.Attribute | None] | None:
    chunk.range_of(chunk.module)  # computes the chunk's positions once
    positions = chunk._positions
    assert positions is not None
    target: cst.Name | None = None
    for node in positions:
        if isinstance(node, cst.Name) and node.value == name:
            r = chunk.range_of(node)
            if r.start <= position <= r.end:
                target = node
                break
    if target is None:
        return None
    for node in positions:
        if isinstance(node, cst.Attribute) and node.attr is target:
            return target, node
    return target, None


def _describe(
    ctx: RuleContext,
    chunk: Chunk,
    name: cst.Name,
    attribute: cst.Attribute | None,
    word: str,
) -> str | None:
    receiver = key_of(attribute.value) if attribute is not None else None
    qualified = ctx.facts.imports.resolve(attribute or name)
    key: str | None
    if word in _GRAD_FUNCTIONS:
        if qualified is None or not qualified.endswith(word) or not qualified.startswith("torch"):
            return None
        key = word
    elif word == "zero_grad":
        key = "module.zero_grad" if receiver in ctx.facts.module_keys else "optimizer.zero_grad"
    elif word == "step":
        if not ctx.facts.is_optimizer_key(receiver):
            return None
        key = "step"
    elif attribute is None:
        return None
    elif word in _MODULE_METHODS and receiver not in ctx.facts.module_keys:
        if word != "requires_grad_":
            return None
        key = word
    else:
        key = word
    doc = api_doc(key)
    if doc is None:
        return None
    stmt_state = _state_at(ctx, chunk, attribute or name)
    live = _live_state(ctx, key, receiver, stmt_state) if stmt_state else []
    if not live:
        return doc
    return doc + "\n\n---\n" + "\n".join(f"- {line}" for line in live[:MAX_STATE_LINES])


def _state_at(
    ctx: RuleContext, chunk: Chunk, node: cst.CSTNode
) -> tuple[FunctionFlow, Snapshot] | None:
    index = ctx.index(chunk)
    stmt = index.statement_of(node)
    if stmt is None:
        return None
    for flow in ctx.flow.all_flows():
        state = flow.states.get(id(stmt))
        if state is not None:
            return flow, state
    return None


def _live_state(
    ctx: RuleContext, key: str, receiver: str | None, found: tuple[FunctionFlow, Snapshot]
) -> list[str]:
    flow, state = found
    out: list[str] = []
    facts = ctx.facts
    if key in {"train", "eval", "module.zero_grad", "requires_grad_"} and receiver:
        out.append(f"Before this line {mode_phrase(ctx, flow, receiver, state)}.")
        if key == "eval":
            sensitive = _sensitive_layers(ctx, receiver)
            if sensitive:
                out.append(f"`{receiver}` has {sensitive}: they behave differently in eval mode.")
            elif facts.mode_sensitivity(receiver) is False:
                out.append(
                    f"`{receiver}` has no Dropout, BatchNorm or other mode-dependent layers: "
                    "eval() changes nothing in its outputs today."
                )
    elif key == "optimizer.zero_grad" or key == "step":
        if receiver:
            cover = sorted(facts.covered_by(receiver, flow.info))
            if cover:
                out.append(
                    f"`{receiver}` updates the parameters of "
                    + ", ".join(f"`{c}`" for c in cover)
                    + "."
                )
    else:
        for model in sorted(k for k in state.modes if k in facts.module_keys)[:3]:
            out.append(f"Here {mode_phrase(ctx, flow, model, state)}.")
    out.append(grad_phrase(ctx, flow, state.grad))
    return out


def mode_phrase(ctx: RuleContext, flow: FunctionFlow, key: str, state: Snapshot) -> str:
    values = state.modes.get(key)
    if values is None:
        parent = key
        while "." in parent and values is None:
            parent = parent.rsplit(".", 1)[0]
            values = state.modes.get(parent)
    if values is None:
        if flow.info is not None and key.split(".")[0] in [*flow.info.params, "self"]:
            return f"`{key}` is in whatever mode it had when `{flow.name}()` was called"
        return f"the mode of `{key}` is not known here"
    described = [_mode_value(ctx, flow, v) for v in sorted(values, key=_order)]
    if len(described) == 1:
        return f"`{key}` is {described[0]}"
    return f"`{key}` is, depending on the path, " + " or ".join(described)


def _order(v: ModeVal) -> tuple[str, int]:
    return (v.mode.value, id(v.origin) if v.origin else 0)


def _mode_value(ctx: RuleContext, flow: FunctionFlow, v: ModeVal) -> str:
    if v.mode is Mode.INPUT:
        return f"in the mode it had when `{flow.name}()` was called"
    if v.mode is Mode.UNKNOWN or v.origin is None:
        return "in a mode not known here"
    line = ctx.line_of(v.origin.outermost)
    if v.origin.constructed:
        how = "built" if v.mode is Mode.TRAIN else "loaded in eval mode"
        return f"in {v.mode.value} mode ({how} on line {line})"
    return f"in {v.mode.value} mode (set on line {line})"


def grad_phrase(ctx: RuleContext, flow: FunctionFlow, grad: frozenset[GradVal]) -> str:
    values = list(grad)
    if all(g.enabled is False for g in values):
        origin = values[0].origin if values else None
        if origin is None:  # turned off where no line can be named (a caller, a decorator)
            return "Gradients are not recorded here."
        where = f"`{ctx.short(origin.outermost)}` on line {ctx.line_of(origin.outermost)}"
        return f"Gradients are not recorded here ({where})."
    if all(g.enabled is True for g in values):
        return "Gradients are recorded here (autograd is on)."
    if all(g.enabled is None for g in values):
        return f"Gradients are recorded unless the caller of `{flow.name}()` turned them off."
    return "Gradients may or may not be recorded here, depending on the path."


def _sensitive_layers(ctx: RuleContext, key: str) -> str:
    cls_name = ctx.facts.module_class.get(key)
    cls = ctx.facts.classes.get(cls_name or "")
    if cls is None:
        return ""
    names = sorted(
        {
            layer.rsplit(".", 1)[-1]
            for layer in cls.layers
            if layer.startswith("torch.nn.") and mode_sensitivity(layer.rsplit(".", 1)[-1])
        }
    )
    return ", ".join(f"`{n}`" for n in names)
