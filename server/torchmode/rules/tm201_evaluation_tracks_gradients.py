"""TM201 evaluation-tracks-gradients."""

from __future__ import annotations

import re
from collections.abc import Iterator

import libcst as cst

from torchmode.engine import events as ev
from torchmode.engine.context import RuleContext
from torchmode.engine.function_flow import FunctionFlow
from torchmode.engine.values import Mode
from torchmode.engine.walk import children as walk_children
from torchmode.engine.walk import names_in
from torchmode.findings import Finding, Fix, Position, Range, Related, Severity, TextEdit
from torchmode.knowledge.costs import cost_note
from torchmode.rules import common, wording
from torchmode.rules.base import Rule
from torchmode.rules.examples import tm201 as examples

RULE = Rule(
    code="TM201",
    name="evaluation-tracks-gradients",
    summary="Evaluation forward passes record autograd graphs (no `no_grad`/`inference_mode`).",
    default_severity=Severity.WARNING,
    docs="""\
## What it does
Finds evaluation code — forward passes of a model in eval mode, or in a function named like
`evaluate`/`validate`/`test`/`predict`, with no training step — that runs with autograd
recording: no `torch.no_grad()`, `torch.inference_mode()`, `set_grad_enabled(False)` or
decorator around it, here or at any call site in the file. A model's own methods are left to
their callers, except one that wraps its inputs in `Variable(..., volatile=True)`: it meant to
run without autograd itself.

Also finds a model run, or one of its own methods called (`policy.act(...)`), with inputs
wrapped in `Variable(..., volatile=True)` at the call, wherever no training step follows in
the same loop (a rollout step that collects experience, say): the author meant that call to
build no graph, and `volatile` has done nothing since PyTorch 0.4.

## Why is this bad?
`model.eval()` does not stop autograd. Every forward pass keeps the activations it needs for a
backward pass that never comes: memory grows by the size of the activations, and large batches
run out of memory. {cost}

## Example
```python
def evaluate(model, loader):
    model.eval()
    for x, y in loader:
        preds = model(x)
```

## Use instead
```python
@torch.no_grad()
def evaluate(model, loader):
    model.eval()
    for x, y in loader:
        preds = model(x)
```

## Fix
Adds `@torch.no_grad()` to a function that only evaluates, or wraps the evaluation loop (the
statement of a call given `volatile=True` inputs) in
`with torch.no_grad():`, re-indenting it (safe; unsafe when the loop holds a multi-line string,
whose content the re-indentation would change). Adds `import torch` when needed. A function
that trains only `if training:` and is called with `training=False` gets
`with torch.set_grad_enabled(training):` around the forward pass instead, so that its
training calls keep their gradients.

## Options
`fix-no-grad-with = "inference_mode"` uses `torch.inference_mode()` instead (faster, but its
tensors can never be used in autograd later).
""".replace("{cost}", cost_note("TM201")),
    invalid=examples.INVALID,
    valid=examples.VALID,
)


def check(ctx: RuleContext) -> Iterator[Finding]:
    best: dict[tuple[int, int], tuple[int, Finding]] = {}
    for flow, event in ctx.events(ev.Forward):
        if not event.evaluation:
            continue
        if common.skip_framework(ctx, event) and not _volatile_model_method(ctx, event):
            continue
        if event.key in ctx.facts.frozen or event.key in ctx.facts.parameter_free:
            continue  # nothing of it records a graph (for an input that needs none)
        if any(g.enabled is False for g in event.grad):
            continue  # off on some path (``set_grad_enabled(phase == "train")``): not certain
        if any(g.enabled is None for g in event.grad) and (
            flow.called or common.entered_by_base(ctx, flow, event.key)
        ):
            continue  # each caller decides, with its own grad mode; uncalled: on by default
        if event.grad and all(
            g.enabled is True and g.origin is not None and g.origin.caller is None
            for g in event.grad
        ):
            continue  # enable_grad() / set_grad_enabled(True) right there: on purpose
        modes = event.modes
        eval_mode = bool(modes) and all(v.mode is Mode.EVAL for v in modes)
        info = event.site.info
        eval_name = info is not None and ctx.flow.evaluation_name(info.name)
        evaluates = eval_mode or eval_name or event.over_eval_data
        # else ``Variable(x, volatile=True)`` at the call: its author meant no graph for it
        # (a rollout step's ``policy.act(...)``), whatever the rest of the code does
        volatile = None if evaluates else event.volatile
        if not evaluates and volatile is None:
            continue
        if eval_name and not eval_mode and not event.over_eval_data and _result_trains(ctx, event):
            continue  # a helper named ``evaluate`` computing a loss term the caller trains on
        if volatile is None and common.acting(ctx, flow, event):
            continue  # choosing actions in an environment: the graph goes with each step
        if common.shape_check(ctx, event):
            continue
        if _input_made_to_need_grad(ctx, event):
            continue  # gradients with respect to the input are part of what it computes
        # one finding per evaluation: a whole evaluating function is one, whatever its forwards
        key = (id(event.site), 0 if event.region_is_body else id(event.region))
        if volatile is not None:
            key = (id(event.site), id(volatile))
        depth = len(event.via)
        if key in best and best[key][0] <= depth:
            continue
        best[key] = (
            depth,
            _finding(ctx, flow, event) if volatile is None else _volatile(ctx, event, volatile),
        )
    for _, finding in best.values():
        yield finding


_CALLERS_SHOWN = 3  # calls from other files shown as related places (the message counts them all)
_SUMMARY_LIMIT = 100  # what a Problems panel or a terminal line shows of it
_VOLATILE = re.compile(r"\bvolatile\s*=\s*True\b")


def _result_trains(ctx: RuleContext, event: ev.Forward) -> bool:
    """The function called at the innermost call site returns what its forward computed, and
    the caller backpropagates a value derived from that result (SAC's ``evaluate(state)``
    sampling an action and its log-probability for the policy loss): a step of training, not
    an evaluation, whatever the helper's name."""
    if not event.via:
        return False
    call = event.via[-1]
    for flow, other in ctx.events(ev.Forward):
        if other.node is event.node and other.via == (call,) and flow.info is not None:
            return _backpropagates_result(flow, call)
    return False


def _backpropagates_result(flow: FunctionFlow, call: cst.Call) -> bool:
    """Whether a ``backward()`` of ``flow`` (made in the function itself) reads a name bound,
    directly or through later assignments, to the result of ``call``."""
    assert flow.info is not None
    assignments = [n for n in _nodes(flow.info.node) if type(n) in _ASSIGNS]
    start = next((i for i, a in enumerate(assignments) if _holds(a, call)), None)
    if start is None:
        return False
    derived = _targets(assignments[start])
    for _ in range(2):  # twice: a loop may bind a name before the line that derives it
        for a in assignments[start + 1 :] + assignments[:start]:
            value = getattr(a, "value", None)
            if value is not None and _names(value) & derived:
                derived |= _targets(a)
    return any(
        isinstance(e, ev.Backward) and not e.via and _names(e.node) & derived for e in flow.events
    )


_ASSIGNS = (cst.Assign, cst.AugAssign, cst.AnnAssign)


def _nodes(root: cst.CSTNode) -> Iterator[cst.CSTNode]:
    """Every node under ``root`` in source order, not entering nested functions or classes."""
    stack = [root]
    while stack:
        node = stack.pop()
        yield node
        if node is not root and type(node) in (cst.FunctionDef, cst.ClassDef, cst.Lambda):
            continue
        stack.extend(reversed(list(walk_children(node))))


def _holds(node: cst.CSTNode, call: cst.Call) -> bool:
    value = getattr(node, "value", None)
    return value is not None and any(n is call for n in _nodes(value))


def _targets(node: cst.CSTNode) -> set[str]:
    """The plain names an assignment binds (``a, b = ...``); an attribute or item bound
    (``self.x = ...``) names no new value here."""
    if type(node) is cst.Assign:
        return set().union(*(_bound(t.target) for t in node.targets))
    target = getattr(node, "target", None)
    return _bound(target) if target is not None else set()


def _bound(target: cst.BaseExpression) -> set[str]:
    if type(target) is cst.Name:
        return {target.value}
    if type(target) in (cst.Tuple, cst.List):
        return set().union(*(_bound(e.value) for e in target.elements))  # type: ignore[attr-defined]
    if type(target) is cst.StarredElement:
        return _bound(target.value)  # type: ignore[attr-defined]
    return set()


def _names(node: cst.CSTNode) -> set[str]:
    return set(names_in(node))


def _volatile_model_method(ctx: RuleContext, event: ev.Forward) -> bool:
    """A model's own method (``predict``) that wraps its inputs in ``Variable(...,
    volatile=True)``: the method itself meant to run without autograd, which that has not done
    since PyTorch 0.4, so it is not left to its callers."""
    info = event.site.info
    region = event.region
    return (
        region is not None
        and common.module_internals(ctx, info)
        and not common.in_framework_hook(info)
        and not common.framework_class(ctx, info)
        and _VOLATILE.search(ctx.code(region)) is not None
    )


def _finding(ctx: RuleContext, flow: FunctionFlow, event: ev.Forward) -> Finding:
    key = event.key
    called = f" (called from line {ctx.line_of(event.via[0])})" if event.via else ""
    summary = (
        f"Evaluation of `{key}` on line {ctx.line_of(event.node)}{called} runs with gradients on"
    )
    if len(summary) > _SUMMARY_LIMIT:
        # a long name (``self.networks["generator"]``): the call is among the related places
        summary = f"Evaluation of `{key}` on line {ctx.line_of(event.node)} runs with gradients on"
    context = " (called with gradients on)" if event.via else ""
    callers = sorted(
        {g.origin.caller for g in event.grad if g.origin is not None and g.origin.caller},
        key=lambda site: (site.path, site.line),
    )
    if callers:
        others = len(callers) - 1
        more = f" and {others} other call{'s' if others > 1 else ''}" if others else ""
        site = callers[0]
        context = f" (called from {common.elsewhere(site)}{more} with gradients on)"
    wrap = "`torch.no_grad()`"
    flags = set(event.ruled_out)
    if len(flags) == 1:
        # ``run_epoch(..., training=False)``: its other calls train through the same lines
        ((flag, polarity),) = flags
        condition = flag if polarity else f"not {flag}"
        wrap = f"`torch.set_grad_enabled({condition})` (this call's `{flag}` trains nothing)"
    runs = ""
    ran = event.elsewhere
    if ran is not None:
        # a method only a subclass in another file defines: the forward pass is there
        runs = f" (it runs `{ran.call}` at {common.elsewhere(ran)})"
    details = (
        f"{common.where(ctx, event.node)}{runs} records autograd graphs{context}: wrap it in "
        f"{wrap} — `eval()` alone does not stop autograd, and every batch's "
        "activations are kept for a backward pass that never comes"
    )
    region = event.region
    if region is not None and _VOLATILE.search(ctx.code(region)):
        details += " (`Variable(..., volatile=True)` has done nothing since PyTorch 0.4)"
    related = tuple(
        Related(ctx.range_of(call), f"evaluation called here: {ctx.short(call)}")
        for call in event.via
    ) + tuple(
        place
        for site in callers[:_CALLERS_SHOWN]
        for place in common.caller_related(site, "called here with gradients on")
    )
    if ran is not None:
        related += tuple(common.caller_related(ran, "the forward pass it runs"))
    return Finding(
        RULE.code,
        summary,
        ctx.range_of(event.node),
        RULE.default_severity,
        related,
        subject=key,
        details=details,
        fix_builder=lambda: _fixes(ctx, event),
    )


def _volatile(ctx: RuleContext, event: ev.Forward, statement: cst.CSTNode) -> Finding:
    """A forward pass given ``Variable(..., volatile=True)`` where nothing else says it
    evaluates: the author meant that call, and only it, to run without autograd."""
    call = event.node
    line = ctx.line_of(call)
    quoted = wording.brief(ctx, call)
    summary = f"{quoted} on line {line} runs with gradients on: `volatile=True` does nothing"
    if len(summary) > _SUMMARY_LIMIT:
        summary = (
            f"A forward pass on line {line} runs with gradients on: `volatile=True` does nothing"
        )
    context = " (called with gradients on)" if event.via else ""
    details = (
        f"{common.where(ctx, call)} records an autograd graph{context} that its "
        "`Variable(..., volatile=True)` inputs were meant to prevent: wrap it in "
        "`torch.no_grad()` (and drop `volatile`, which has only warned since PyTorch 0.4)"
    )
    related = tuple(
        Related(ctx.range_of(via), f"called here with gradients on: {ctx.short(via)}")
        for via in event.via
    )
    return Finding(
        RULE.code,
        summary,
        ctx.range_of(call),
        RULE.default_severity,
        related,
        subject=event.key,
        details=details,
        fix_builder=lambda: _fixes(ctx, event, statement),
    )


def _fixes(
    ctx: RuleContext, event: ev.Forward, statement: cst.CSTNode | None = None
) -> tuple[Fix, ...]:
    """``statement``: wrap only it (a call given volatile inputs), not the evaluation around."""
    region = event.region if statement is None else statement
    if region is None:
        return ()
    style = ctx.settings.fix_no_grad_with
    code, extra = common.grad_context_code(ctx, style)
    if event.ruled_out:
        # the same lines train when other calls pass the flag: gradients off only when it
        # says so
        flags = set(event.ruled_out)
        if len(flags) != 1:
            return ()
        ((flag, polarity),) = flags
        code, extra = common.grad_context_code(ctx, "set_grad_enabled")
        code = f"{code[:-2]}({flag if polarity else 'not ' + flag})"
    info = event.site.info
    chunk = ctx.chunk_of(region)
    index = ctx.index(chunk)
    whole_function = (
        statement is None
        and not event.ruled_out
        and info is not None
        and event.region_is_body
        and not event.site.trains
        and (ctx.flow.inference_name(info.name) or _evals_itself(event))
    )
    if whole_function and info is not None:
        edit = index.insert_before(info.node, f"@{code}")
        if edit is not None:
            return (Fix(f"Decorate `{info.name}` with `@{code}`", _merged(extra, edit)),)
    indent = index.indent_of(region)
    if indent is None or not index.starts_line(region):
        return ()
    r = index.range_of(region)
    unit = chunk.module.default_indent  # the chunk's own indentation (tabs stay tabs)
    lines = [index.text_line(n) for n in range(r.start.line, r.end.line + 1)]
    body = [(unit + line if line.strip() else line) for line in lines]
    nl = chunk.module.default_newline
    text = f"{indent}with {code}:{nl}" + nl.join(body)
    end = Position(r.end.line, len(lines[-1]))
    edit = TextEdit(Range(Position(r.start.line, 0), end), text)
    safe = '"""' not in "".join(lines) and "'''" not in "".join(lines)
    what = "the evaluation" if statement is None else wording.brief(ctx, event.node)
    return (Fix(f"Wrap {what} in `with {code}:`", _merged(extra, edit), safe=safe),)


def _merged(extra: list[TextEdit], edit: TextEdit) -> tuple[TextEdit, ...]:
    """``import torch`` and a decorator inserted at the same place: one edit, import first
    (two insertions at one position have no defined order)."""
    same = [e for e in extra if e.range == edit.range]
    if not same:
        return (*extra, edit)
    others = [e for e in extra if e.range != edit.range]
    combined = TextEdit(edit.range, "".join(e.new_text for e in same) + edit.new_text)
    return (*others, combined)


def _evals_itself(event: ev.Forward) -> bool:
    return any(
        v.mode is Mode.EVAL and v.origin is not None and v.origin.via is None for v in event.modes
    )


def _input_made_to_need_grad(ctx: RuleContext, event: ev.Forward) -> bool:
    """An input of the forward is made to require gradients just before it, in its block or
    the blocks around it (``images.requires_grad = True``, ``x.requires_grad_()``): the
    evaluation differentiates with respect to its input (a saliency map, an input-gradient
    penalty measured by a criterion kept in another file), so it needs autograd on."""
    call = event.node
    if not isinstance(call, cst.Call):
        return False
    names = {a.value.value for a in call.args if isinstance(a.value, cst.Name)}
    if not names:
        return False
    chunk = ctx.chunk_of(call)
    index = ctx.index(chunk)
    stmt = index.statement_of(call)
    if stmt is None:
        return False
    for current in (stmt, *index.ancestors(stmt)):
        if isinstance(current, cst.FunctionDef | cst.ClassDef):
            break
        for before in ctx.siblings_before(current, chunk):
            if isinstance(before, cst.SimpleStatementLine) and any(
                _sets_requires_grad(small, names) for small in before.body
            ):
                return True
    return False


def _sets_requires_grad(small: cst.BaseSmallStatement, names: set[str]) -> bool:
    """``x.requires_grad = True``, ``x.requires_grad_()`` / ``requires_grad_(True)`` as a
    statement, or ``x = x.requires_grad_()``, for one of ``names``."""
    if isinstance(small, cst.Assign):
        for target in small.targets:
            t = target.target
            if (
                isinstance(t, cst.Attribute)
                and t.attr.value == "requires_grad"
                and isinstance(t.value, cst.Name)
                and t.value.value in names
                and isinstance(small.value, cst.Name)
                and small.value.value == "True"
            ):
                return True
        bound = {t.target.value for t in small.targets if isinstance(t.target, cst.Name)}
        return bool(bound & names) and _requires_grad_call(small.value) is not None
    if isinstance(small, cst.Expr):
        receiver = _requires_grad_call(small.value)
        return isinstance(receiver, cst.Name) and receiver.value in names
    return False


def _requires_grad_call(node: cst.BaseExpression) -> cst.BaseExpression | None:
    """The receiver of ``receiver.requires_grad_()`` / ``requires_grad_(True)``."""
    if not (
        isinstance(node, cst.Call)
        and isinstance(node.func, cst.Attribute)
        and node.func.attr.value == "requires_grad_"
    ):
        return None
    if node.args and not (
        isinstance(node.args[0].value, cst.Name) and node.args[0].value.value == "True"
    ):
        return None  # requires_grad_(False) turns it off
    return node.func.value
