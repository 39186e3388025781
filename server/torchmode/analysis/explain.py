"""``torchmode explain PATH:LINE``: what the analysis knows at one line, in plain words.

Each model's mode and the grad mode before the line's statement, as every function that
reaches it sees them (the function itself, and each caller through the call chain that leads
there), what happened on the line (forward passes, training steps, mode switches, gradients
cleared), the findings there, and for an evaluation that was not reported, what held the rules
back. Users ask "why is (or isn't) this reported?"; so does whoever tunes the rules.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

import libcst as cst

from torchmode.analysis.driver import Analysis
from torchmode.analysis.hover import grad_phrase, mode_phrase
from torchmode.engine import events as ev
from torchmode.engine.blocks import block_statements, nested_blocks
from torchmode.engine.chunks import Chunk
from torchmode.engine.context import RuleContext
from torchmode.engine.function_flow import FunctionFlow
from torchmode.engine.values import CallerSite, Mode, ModeVal, Snapshot
from torchmode.findings import Finding

MAX_MODELS = 6


def explain(analysis: Analysis, line: int, path: str = "") -> str:
    """The explanation of 0-based ``line`` of the analysed text."""
    where = f"{path}:{line + 1}" if path else f"line {line + 1}"
    lines = analysis.source.splitlines()
    text = lines[line].strip() if line < len(lines) else ""
    out = [f"{where}: {text}" if text else where]
    problem = analysis.syntax_error
    if problem is not None:
        out.append(f"  (the file was analysed in part: {problem.message})")
    ctx = analysis.context
    if ctx is None:
        if problem is None:
            out.append(
                "  Nothing here for torchmode: the file names no training or evaluation call."
            )
        return "\n".join(out) + "\n"
    findings = [f for f in analysis.findings if _touches(f, line)]
    stmt = _statement_at(ctx, line)
    if stmt is None:
        out.append("  No statement of the analysed code starts on or spans this line.")
    else:
        chunk, node = stmt
        out.extend(_states(ctx, chunk, node))
        out.extend(_happenings(ctx, line, findings))
    out.extend(_findings(findings, line))
    return "\n".join(out) + "\n"


def _touches(finding: Finding, line: int) -> bool:
    return finding.range.start.line == line or any(
        r.range.start.line == line for r in finding.related if r.path is None
    )


def _statement_at(ctx: RuleContext, line: int) -> tuple[Chunk, cst.CSTNode] | None:
    """The innermost statement that some function's analysis has a state for and whose lines
    include ``line``."""
    known = {key for flow in ctx.flow.all_flows() for key in flow.states}
    best: tuple[Chunk, cst.CSTNode] | None = None
    best_span = 0
    for chunk in ctx.chunks:
        for stmt in _all_statements(chunk.statements):
            if id(stmt) not in known:
                continue
            r = ctx.range_of(stmt, chunk)
            if r.start.line <= line <= r.end.line:
                span = r.end.line - r.start.line
                if best is None or span <= best_span:
                    best, best_span = (chunk, stmt), span
    return best


def _all_statements(stmts: Iterable[cst.CSTNode]) -> Iterator[cst.CSTNode]:
    for stmt in stmts:
        yield stmt
        if type(stmt) is cst.FunctionDef or type(stmt) is cst.ClassDef:
            yield from _all_statements(block_statements(stmt.body))
        else:
            yield from _all_statements(nested_blocks(stmt))


def _states(ctx: RuleContext, chunk: Chunk, stmt: cst.CSTNode) -> list[str]:
    out = []
    for flow in ctx.flow.all_flows():
        state = flow.states.get(id(stmt))
        if state is None:
            continue
        out.append(f"  Before this statement, in {_function(flow)}:")
        out.extend(f"    {line}" for line in _state_lines(ctx, flow, state))
    return out


def _state_lines(ctx: RuleContext, flow: FunctionFlow, state: Snapshot) -> list[str]:
    models = sorted(k for k in state.modes if k in ctx.facts.module_keys)
    lines = [f"{_capital(mode_phrase(ctx, flow, k, state))}." for k in models[:MAX_MODELS]]
    if len(models) > MAX_MODELS:
        lines.append(f"(and {len(models) - MAX_MODELS} more modules)")
    if not models:
        lines.append("No model's mode is known here.")
    lines.append(grad_phrase(ctx, flow, state.grad))
    return lines


def _happenings(ctx: RuleContext, line: int, findings: list[Finding]) -> list[str]:
    """What the analysis recorded on the line, as each function that reaches it sees it."""
    out: list[str] = []
    for flow in ctx.flow.all_flows():
        for event in flow.events:
            if ctx.range_of(event.node).start.line != line:
                continue
            description = _event(ctx, event)
            if description is None:
                continue
            seen = _function(flow)
            if event.via:
                chain = " -> ".join(f"`{ctx.short(c)}` (line {ctx.line_of(c)})" for c in event.via)
                seen += f", through {chain}"
            out.append(f"  {description} — as seen from {seen}")
            out.extend(f"    {line}" for line in _entered_from(event))
            held = _held_back(event, findings)
            if held:
                out.append(f"    {held}")
    if not out:
        out.append("  No forward pass, training step, mode switch or gradient operation here.")
    return out


def _event(ctx: RuleContext, e: ev.Event) -> str | None:
    if isinstance(e, ev.Forward):
        kind = "evaluation" if e.evaluation else "forward pass (training, or not known to evaluate)"
        return f"{_capital(kind)} of `{e.key}`: {_modes(e.modes)}, {_grad(e)}"
    if isinstance(e, ev.Train):
        models = ", ".join(f"`{k}` {_modes(v)}" for k, v in sorted(e.models.items()))
        return f"Training step ({e.kind}) of {models or 'no known model'}"
    if isinstance(e, ev.Step):
        return f"`{e.optimizer}.step()`"
    if isinstance(e, ev.Clear):
        return f"Gradients cleared ({f'`{e.key}`' if e.key else 'parameters directly'})"
    if isinstance(e, ev.Backward):
        return "backward()"
    if isinstance(e, ev.ModeSwitch):
        return f"`{e.key}` switched: {_modes(e.modes)}"
    if isinstance(e, ev.Accumulate):
        graph = "with its autograd graph" if e.value.graph else "without a graph"
        return f"`{e.target}` accumulated ({e.kind}) {graph}"
    return None


def _entered_from(e: ev.Event) -> list[str]:
    """The calls in other files of the project that decided the modes and the grad mode this
    event sees, with where those files set them."""
    if not isinstance(e, ev.Forward):
        return []
    found: list[tuple[CallerSite, str]] = [
        (v.origin.caller, f"{_mode_name(v)} mode")
        for v in e.modes
        if v.origin is not None and v.origin.caller is not None
    ]
    found += [
        (g.origin.caller, f"gradients {'on' if g.enabled else 'off'}")
        for g in e.grad
        if g.origin is not None and g.origin.caller is not None and g.enabled is not None
    ]
    calls: dict[tuple[str, int, str], tuple[set[str], set[str]]] = {}
    for site, what in found:
        states, settings = calls.setdefault((site.path, site.line, site.call), (set(), set()))
        states.add(what)
        if site.set_line is not None:
            settings.add(f"`{site.set_code}` at {site.path}:{site.set_line}")
    return [
        f"entered from {path}:{line} (`{call}`): {', '.join(sorted(states))}"
        + (f", set by {', '.join(sorted(settings))}" if settings else "")
        for (path, line, call), (states, settings) in sorted(calls.items())
    ]


def _modes(values: frozenset[ModeVal]) -> str:
    names = sorted({_mode_name(v) for v in values})
    return "mode " + ("|".join(names) if names else "not known")


def _mode_name(v: ModeVal) -> str:
    return "as on entry" if v.mode is Mode.INPUT else v.mode.value


def _grad(e: ev.Forward) -> str:
    states = {g.enabled for g in e.grad}
    if states == {False}:
        return "gradients off"
    if states == {True}:
        return "gradients on"
    if states == {None}:
        return "gradients as the caller left them"
    return "gradients on or off depending on the path"


def _held_back(e: ev.Event, findings: list[Finding]) -> str:
    """For a forward pass no rule reported here: the condition that held the rules back."""
    if not isinstance(e, ev.Forward) or any(f.code in {"TM102", "TM201"} for f in findings):
        return ""
    if not e.evaluation:
        return (
            "Not reported: TM102 and TM201 look at evaluations only, and no evaluation is seen "
            "here (a training step follows it, or nothing marks it as one)."
        )
    held = []
    if all(g.enabled is False for g in e.grad):
        held.append("TM201: gradients are off")
    if e.modes and all(v.mode is Mode.EVAL for v in e.modes):
        held.append("TM102: the model is in eval mode")
    elif any(v.mode in {Mode.INPUT, Mode.UNKNOWN} for v in e.modes) or not e.modes:
        held.append("TM102: the model's mode is not known on every path")
    return ("Not reported: " + "; ".join(held) + ".") if held else ""


def _findings(findings: list[Finding], line: int) -> list[str]:
    if not findings:
        return ["  No finding on this line."]
    out = ["  Findings:"]
    for f in findings:
        at = "" if f.range.start.line == line else f" (reported on line {f.range.start.line + 1})"
        out.append(f"    {f.code}{at}: {f.message}")
    return out


def _function(flow: FunctionFlow) -> str:
    return "the module's top level" if flow.info is None else f"`{flow.name}()`"


def _capital(text: str) -> str:
    return text[:1].upper() + text[1:]
