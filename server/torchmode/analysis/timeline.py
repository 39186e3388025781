"""The mode timeline: short labels an editor shows inline (LSP inlay hints) where the modes
of the models, or the grad mode, change or matter.

    validate(model)  model: eval                   after a call that leaves a model in a mode
    for batch in loader:  model: train|eval        at a loop head that trains or evaluates
    out = model(x)  model: eval, no_grad           at a forward without gradients or in eval

A label is definite only where every path agrees: where paths disagree it lists the modes
(``train|eval``), and where some path holds a mode the analysis cannot name (as the function
was entered, or not known) there is no label at all. Each label comes with the lines that set
it, for the hint's tooltip. Positions are in code points of the analysed text; the adapters
convert them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import libcst as cst

from torchmode.engine import events as ev
from torchmode.engine.blocks import block_statements
from torchmode.engine.context import RuleContext
from torchmode.engine.function_flow import FunctionFlow
from torchmode.engine.values import GradVal, Mode, ModeVal, Origin, Snapshot
from torchmode.findings import Position

if TYPE_CHECKING:
    from torchmode.analysis.driver import Analysis

# A loop head names a few models at most: a hint is a glance, the hover has the rest.
MAX_MODELS = 3
_MEMO = "timeline"
_HEADER_LINES = 20  # how far a loop header's colon is looked for after its expression


@dataclass(frozen=True, slots=True)
class Hint:
    position: Position  # where the label goes, in code points of the analysed text
    label: str  # "model: eval, no_grad"
    tooltip: tuple[str, ...]  # one line per value: where it was set
    kind: str  # "call" | "loop" | "forward": what the label is attached to

    @property
    def title(self) -> str:
        """What the label is about, to head its tooltip."""
        return _TITLES[self.kind]


_TITLES = {
    "call": "After this call",
    "loop": "At the start of each iteration",
    "forward": "During this forward pass",
}


@dataclass(frozen=True, slots=True)
class _Part:
    """One label of a hint ("model: eval" or "no_grad") and its tooltip lines."""

    key: str | None  # the model, or None for the grad mode
    label: str
    tooltip: tuple[str, ...]


def timeline(analysis: Analysis, lines: tuple[int, int] | None = None) -> list[Hint]:
    """The hints of the analysed text, in text order: all of them, or those of the top-level
    statements that overlap ``lines`` (first and last, 0-based), which is what an editor asks
    for (the visible lines). Positions cost a code generation per statement, so each top-level
    statement's hints are computed once per analysis, when first asked for."""
    ctx = analysis.context
    if ctx is None:
        return []
    done = ctx.memo.get(_MEMO)
    if not isinstance(done, dict):
        done = ctx.memo[_MEMO] = {}
    wanted = [
        chunk
        for chunk in ctx.chunks
        if lines is None
        or (chunk.start_line <= lines[1] and chunk.start_line + chunk.text.count("\n") >= lines[0])
    ]
    missing = {id(chunk) for chunk in wanted if id(chunk) not in done}
    if missing:
        done.update(_timeline(ctx, missing))
    return sorted(
        (hint for chunk in wanted for hint in done[id(chunk)]), key=lambda hint: hint.position
    )


def _timeline(ctx: RuleContext, chunks: set[int]) -> dict[int, list[Hint]]:
    """The hints of the top-level statements ``chunks`` (by id), by statement."""
    hints: dict[int, dict[Position, Hint]] = {chunk: {} for chunk in chunks}
    for flow in ctx.flow.all_flows():
        if flow.info is not None and id(flow.info.chunk) not in chunks:
            continue  # a function of a statement not asked for
        loop_parts = _loop_heads(ctx, flow, hints)
        for event in flow.events:
            if event.via:
                continue  # recorded again from a call: the call's own hint says what it left
            place = _chunk_id(ctx, event.node, hints)
            if place is None:
                continue
            if isinstance(event, ev.CallEffect):
                _add(place, _call_hint(ctx, event))
            elif isinstance(event, ev.Forward):
                enclosing = loop_parts.get(id(event.loops[-1]), ()) if event.loops else ()
                _add(place, _forward_hint(ctx, event, enclosing))
    return {chunk: list(found.values()) for chunk, found in hints.items()}


def _chunk_id(
    ctx: RuleContext, node: cst.CSTNode, hints: dict[int, dict[Position, Hint]]
) -> dict[Position, Hint] | None:
    """Where the hints of ``node``'s top-level statement go (None: not asked for)."""
    try:
        return hints.get(id(ctx.chunk_of(node)))
    except KeyError:
        return None


def _add(hints: dict[Position, Hint], hint: Hint | None) -> None:
    if hint is None:
        return
    there = hints.get(hint.position)
    if there is None:
        hints[hint.position] = hint
    elif not set(hint.label.split(", ")) <= set(there.label.split(", ")):
        # two events at one place (a forward that also applies a summary): one hint
        hints[hint.position] = Hint(
            hint.position,
            f"{there.label}, {hint.label}",
            there.tooltip + hint.tooltip,
            there.kind,
        )


# -- after a call ------------------------------------------------------------------------------


def _call_hint(ctx: RuleContext, event: ev.CallEffect) -> Hint | None:
    """What a call of the file's (or project's) function left, where it changed something:
    ``validate(model)  model: eval``."""
    parts: list[_Part] = []
    for key in _distinct_keys(event.after):
        after = event.after[key]
        if _modes(after) == _modes(event.before.get(key, frozenset())):
            continue  # left as it was (a helper that puts the mode back)
        part = _mode_part(ctx, key, after)
        if part is not None:
            parts.append(part)
    if event.grad_after is not None and _grad_kind(event.grad_after) != _grad_kind(
        event.grad_before
    ):
        part = _grad_part(ctx, event.grad_after)
        if part is not None:
            parts.append(part)
    if not parts:
        return None
    return _hint(_safe_range_end(ctx, event.node), parts, "call")


# -- at a loop head ----------------------------------------------------------------------------


def _loop_heads(
    ctx: RuleContext, flow: FunctionFlow, hints: dict[int, dict[Position, Hint]]
) -> dict[int, tuple[_Part, ...]]:
    """The modes at the head of each loop of ``flow`` that something happens in (a forward, a
    training step, a mode switch, a call that does one of these): each iteration starts in
    them, the previous iteration's switches included. Returns the parts shown, by id(loop)."""
    loops: dict[int, tuple[cst.CSTNode, cst.CSTNode]] = {}  # id(loop) -> (loop, an anchor in it)
    for event in flow.events:
        if isinstance(event, ev.Syntax):
            continue
        for loop in event.loops:
            loops.setdefault(id(loop), (loop, event.anchor))
    shown: dict[int, tuple[_Part, ...]] = {}
    for loop, anchor in loops.values():
        place = _chunk_id(ctx, anchor, hints)
        if place is None or not isinstance(loop, cst.For | cst.While):
            continue
        body = block_statements(loop.body)
        state = flow.states.get(id(body[0])) if body else None
        if state is None:
            continue  # the body is never reached
        parts = tuple(_models_part(ctx, state))
        position = _loop_header_end(ctx, loop, anchor)
        if not parts or position is None:
            continue
        shown[id(loop)] = parts
        _add(place, _hint(position, list(parts), "loop"))
    return shown


def _models_part(ctx: RuleContext, state: Snapshot) -> list[_Part]:
    models = {key: v for key, v in state.modes.items() if key in ctx.facts.module_keys}
    keys = _distinct_keys(models)
    parts = [part for key in keys if (part := _mode_part(ctx, key, state.modes[key]))]
    return parts[:MAX_MODELS]


def _loop_header_end(
    ctx: RuleContext, loop: cst.For | cst.While, anchor: cst.CSTNode
) -> Position | None:
    """Just after the colon of the loop's header (before a comment on that line)."""
    last = loop.iter if isinstance(loop, cst.For) else loop.test
    chain = ctx.flow.chains.get(id(anchor), ())
    try:
        chunk = ctx.chunk_of(anchor)
        upto = next((i for i, stmt in enumerate(chain) if stmt is loop), None)
        end = (
            chunk.range_in(last, chain[: upto + 1]) if upto is not None else chunk.range_of(last)
        ).end
    except KeyError:
        return None
    return _after_colon(ctx.lines, end) or end


def _after_colon(lines: list[str], start: Position) -> Position | None:
    """Just after the colon that ends a header at ``start``, past what may stand between: the
    closing parentheses of the expression, line breaks, comments inside them."""
    line, at = start.line, start.character
    while line < len(lines) and line < start.line + _HEADER_LINES:
        text = lines[line]
        while at < len(text) and text[at] in " \t)\\":
            at += 1
        if at < len(text) and text[at] == ":":
            return Position(line, at + 1)
        if at < len(text) and text[at] != "#":
            return None
        line, at = line + 1, 0
    return None


# -- at a forward ------------------------------------------------------------------------------


def _forward_hint(ctx: RuleContext, event: ev.Forward, enclosing: tuple[_Part, ...]) -> Hint | None:
    """A forward that runs without gradients or in eval mode, or that evaluates: its model's
    mode (unless the loop head just above says the same) and the grad mode."""
    grad = _grad_part(ctx, event.grad) if _grad_kind(event.grad) in {"off", "mixed"} else None
    mode = _mode_part(ctx, event.key, event.modes)
    in_eval = any(v.mode is Mode.EVAL for v in event.modes)
    if mode is not None and not (event.evaluation or in_eval or grad is not None):
        mode = None  # a training forward in train mode: the usual case, nothing to say
    if mode is not None and any(p.key == mode.key and p.label == mode.label for p in enclosing):
        mode = None
    parts = [part for part in (mode, grad) if part is not None]
    if not parts:
        return None
    return _hint(_safe_range_end(ctx, event.node), parts, "forward")


# -- labels --------------------------------------------------------------------------------------


def _hint(position: Position | None, parts: list[_Part], kind: str) -> Hint | None:
    if position is None:
        return None
    label = ", ".join(part.label for part in parts)
    tooltip = tuple(line for part in parts for line in part.tooltip)
    return Hint(position, label, tooltip, kind)


def _modes(values: frozenset[ModeVal]) -> frozenset[Mode]:
    return frozenset(v.mode for v in values)


def mode_label(values: frozenset[ModeVal]) -> str | None:
    """``train``, ``eval``, ``train|eval`` where paths disagree; None where some path holds a
    mode not known here (as on entry, unknown): no label is better than one a path contradicts."""
    modes = _modes(values)
    if not modes or not modes <= {Mode.TRAIN, Mode.EVAL}:
        return None
    return "|".join(mode.value for mode in (Mode.TRAIN, Mode.EVAL) if mode in modes)


def _mode_part(ctx: RuleContext, key: str, values: frozenset[ModeVal]) -> _Part | None:
    label = mode_label(values)
    if label is None:
        return None
    lines = tuple(
        f"`{key}`: {_mode_origin(ctx, v)}" for v in sorted(values, key=lambda v: _order(ctx, v))
    )
    return _Part(key, f"{key}: {label}", lines)


def _order(ctx: RuleContext, v: ModeVal) -> tuple[int, str]:
    line = _line(ctx, v.origin.outermost) if v.origin is not None else None
    return (line or 0, v.mode.value)


def _mode_origin(ctx: RuleContext, v: ModeVal) -> str:
    if v.origin is None:
        return f"{v.mode.value}"
    if v.origin.constructed:
        how = "built in train mode" if v.mode is Mode.TRAIN else "loaded in eval mode"
        return f"{how} {_where(ctx, v.origin)}"
    return f"set to {v.mode.value} {_where(ctx, v.origin)}"


def _grad_kind(values: frozenset[GradVal]) -> str:
    enabled = {g.enabled for g in values}
    if not enabled or None in enabled:
        return "caller"  # as the caller left it, on some path: nothing definite to say
    if enabled == {False}:
        return "off"
    if enabled == {True}:
        return "on"
    return "mixed"


def _grad_part(ctx: RuleContext, values: frozenset[GradVal]) -> _Part | None:
    kind = _grad_kind(values)
    if kind == "caller":
        return None
    ordered = sorted(values, key=lambda g: (g.enabled is not False, _grad_line(ctx, g)))
    lines = tuple(_grad_origin(ctx, g) for g in ordered)
    if kind == "on":
        return _Part(None, "grad", lines)
    off = [g for g in values if g.enabled is False]
    name = (
        "inference_mode"
        if off and all(g.origin and "inference_mode" in _code(ctx, g.origin.node) for g in off)
        else "no_grad"
    )
    return _Part(None, name if kind == "off" else f"grad|{name}", lines)


def _grad_line(ctx: RuleContext, g: GradVal) -> int:
    return (_line(ctx, g.origin.outermost) or 0) if g.origin is not None else 0


def _grad_origin(ctx: RuleContext, g: GradVal) -> str:
    state = "gradients off" if g.enabled is False else "gradients on"
    if g.origin is None:
        return f"{state} (as the function is called)"
    return f"{state}: {_where(ctx, g.origin, by=False)}"


def _where(ctx: RuleContext, origin: Origin, by: bool = True) -> str:
    """``on line 12 by `model.eval()` (in a call: , through `validate(model)` on line 40)``."""
    chain = origin.chain()
    inner = chain[-1]
    line = _line(ctx, inner)
    text = f"`{_short(ctx, inner)}`"
    if line is not None:
        text = f"on line {line} by {text}" if by else f"{text} on line {line}"
    elif by:
        text = f"by {text}"
    if len(chain) > 1:
        outer = chain[0]
        outer_line = _line(ctx, outer)
        text += f", through `{_short(ctx, outer)}`"
        if outer_line is not None:
            text += f" on line {outer_line}"
    return text


def _line(ctx: RuleContext, node: cst.CSTNode) -> int | None:
    """1-based; None for a node no analysis placed (nothing to name)."""
    try:
        return ctx.line_of(node)
    except KeyError:
        return None


def _safe_range_end(ctx: RuleContext, node: cst.CSTNode) -> Position | None:
    try:
        return ctx.range_of(node).end
    except KeyError:
        return None


def _short(ctx: RuleContext, node: cst.CSTNode) -> str:
    return ctx.short(node).replace("`", "'")


def _code(ctx: RuleContext, node: cst.CSTNode) -> str:
    return ctx.code(node)


def _distinct_keys(modes: dict[str, frozenset[ModeVal]]) -> list[str]:
    """The keys to name, one per distinct set of values: a sub-module switched with its model
    (``model.encoder`` with ``model``), or a second name for one module (``model`` for
    ``self.model``), would only repeat it; the shortest name is kept."""
    seen: set[frozenset[ModeVal]] = set()
    out = []
    for key in sorted(modes, key=lambda k: (len(k), k)):
        values = modes[key]
        if values in seen:
            continue
        seen.add(values)
        out.append(key)
    return sorted(out)
