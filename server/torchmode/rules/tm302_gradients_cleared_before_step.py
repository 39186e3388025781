"""TM302 gradients-cleared-before-step."""

from __future__ import annotations

from collections.abc import Iterator
from functools import partial

import libcst as cst

from torchmode.engine import events as ev
from torchmode.engine.context import RuleContext
from torchmode.engine.values import GradsState
from torchmode.findings import Finding, Fix, Position, Range, Related, Severity, TextEdit
from torchmode.rules import common
from torchmode.rules.base import Rule
from torchmode.rules.examples import tm302 as examples

RULE = Rule(
    code="TM302",
    name="gradients-cleared-before-step",
    summary="`zero_grad()` runs between `backward()` and `step()`: the step sees no gradients.",
    default_severity=Severity.WARNING,
    docs="""\
## What it does
Finds `optimizer.zero_grad()` (or `model.zero_grad()` of a model the optimizer trains) that
runs after `loss.backward()` and before `optimizer.step()`, on every path.

## Why is this bad?
`zero_grad()` throws away the gradients `backward()` just computed. With the default
`set_to_none=True` the step skips every parameter; with zeros, plain SGD leaves them unchanged
and momentum or weight decay keep moving them without any signal. The model does not learn,
and nothing crashes.

## Example
```python
loss.backward()
optimizer.zero_grad()
optimizer.step()
```

## Use instead
```python
optimizer.zero_grad()
loss.backward()
optimizer.step()
```

## Fix
Moves the `zero_grad()` line before the `backward()` line (safe).
""",
    invalid=examples.INVALID,
    valid=examples.VALID,
)


def check(ctx: RuleContext) -> Iterator[Finding]:
    seen: set[int] = set()
    for flow, step in ctx.events(ev.Step):
        if step.via or step.closure or not step.grads:
            continue
        if not all(v.state is GradsState.CLEARED for v in step.grads):
            continue
        origins = {v.origin for v in step.grads}
        if len(origins) != 1:
            continue
        origin = next(iter(origins))
        if origin is None or origin.via is not None or id(origin.node) in seen:
            continue
        seen.add(id(origin.node))
        zero = origin.node
        backward = _backward_before(ctx, flow, zero)
        related = [Related(ctx.range_of(step.node), "the step sees no gradients here")]
        if backward is not None:
            related.insert(0, Related(ctx.range_of(backward.node), "gradients computed here"))
        yield Finding(
            RULE.code,
            f"`{step.optimizer}` updates nothing on line {ctx.line_of(step.node)}: "
            f"`zero_grad()` on line {ctx.line_of(zero)} cleared its gradients",
            ctx.range_of(zero),
            RULE.default_severity,
            tuple(related),
            subject=step.optimizer,
            details=(
                f"{common.where(ctx, zero)} clears the gradients that `backward()` just "
                f"computed, before {common.where(ctx, step.node)} uses them: the step updates "
                "nothing (clear before `backward()` instead)"
            ),
            fix_builder=partial(_fixes, ctx, zero, backward),
        )


def _backward_before(ctx: RuleContext, flow: object, zero: cst.CSTNode) -> ev.Backward | None:
    line = ctx.range_of(zero).start
    candidates = [
        e
        for e in flow.events  # type: ignore[attr-defined]
        if isinstance(e, ev.Backward) and not e.via and ctx.chunk_of(e.node) is ctx.chunk_of(zero)
    ]
    before = [e for e in candidates if ctx.range_of(e.node).start < line]
    if not before:
        return None
    return max(before, key=lambda e: ctx.range_of(e.node).start)


def _fixes(ctx: RuleContext, zero: cst.CSTNode, backward: ev.Backward | None) -> tuple[Fix, ...]:
    if backward is None:
        return ()
    index = ctx.index(ctx.chunk_of(zero))
    zero_stmt = index.statement_of(zero)
    back_stmt = index.statement_of(backward.node)
    if zero_stmt is None or back_stmt is None:
        return ()
    if not isinstance(zero_stmt, cst.SimpleStatementLine) or len(zero_stmt.body) != 1:
        return ()
    if not index.starts_line(zero_stmt) or not index.starts_line(back_stmt):
        return ()
    zr = index.range_of(zero_stmt)
    if zr.start.line != zr.end.line:
        return ()
    code = ctx.code(zero_stmt.body[0])
    delete = TextEdit(Range(Position(zr.start.line, 0), Position(zr.start.line + 1, 0)), "")
    if index.parent_of(zero_stmt) is index.parent_of(back_stmt):
        insert = index.insert_before(back_stmt, code)
        title = f"Move `{code}` before `backward()`"
    else:
        # zero_grad() sits with the step under a condition backward() is not under (gradient
        # accumulation): clearing right after the step keeps the accumulation
        step_stmt = _step_after(ctx, index, zero_stmt)
        insert = index.insert_after(step_stmt, code) if step_stmt is not None else None
        title = f"Move `{code}` after `step()`"
    if insert is None:
        return ()
    return (Fix(title, (insert, delete)),)


def _step_after(ctx: RuleContext, index: object, zero_stmt: cst.CSTNode) -> cst.CSTNode | None:
    """The last statement of the zero_grad()'s block that calls ``.step(``."""
    found = None
    for sibling in index.siblings_after(zero_stmt):  # type: ignore[attr-defined]
        if ".step(" in ctx.code(sibling):
            found = sibling
    return found
