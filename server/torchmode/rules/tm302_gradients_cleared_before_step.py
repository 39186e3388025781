"""TM302 gradients-cleared-before-step."""

from __future__ import annotations

from collections.abc import Iterator
from functools import partial

import libcst as cst

from torchmode.engine import events as ev
from torchmode.engine.blocks import block_statements
from torchmode.engine.context import RuleContext
from torchmode.engine.function_flow import FunctionFlow
from torchmode.engine.statements import StatementIndex
from torchmode.engine.values import GradsState, Origin
from torchmode.findings import Finding, Fix, Position, Range, Related, Severity, TextEdit
from torchmode.rules import common, periodic_clear, repeated_calls
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
runs after `loss.backward()` and before `optimizer.step()`, on every path; and gradient
accumulation undone by its own clear: `zero_grad()` before `backward()` at every iteration (or
every call of a per-batch hook such as Lightning's `training_step`), while `step()` runs only
every N iterations (`if (i + 1) % n == 0:`).

## Why is this bad?
`zero_grad()` throws away the gradients `backward()` just computed. With the default
`set_to_none=True` the step skips every parameter; with zeros, plain SGD leaves them unchanged
and momentum or weight decay keep moving them without any signal. The model does not learn,
and nothing crashes. With accumulation, each clear throws away what the iterations before it
accumulated: every step uses one micro-batch's gradients instead of N.

## Example
```python
loss.backward()
optimizer.zero_grad()
optimizer.step()
```
```python
optimizer.zero_grad()
(loss / accum_steps).backward()
if (i + 1) % accum_steps == 0:
    optimizer.step()
```

## Use instead
```python
optimizer.zero_grad()
loss.backward()
optimizer.step()
```
```python
(loss / accum_steps).backward()
if (i + 1) % accum_steps == 0:
    optimizer.step()
    optimizer.zero_grad()
```

## Fix
Moves the `zero_grad()` line before the `backward()` line; with accumulation, after the
`step()` (safe).
""",
    invalid=examples.INVALID,
    valid=examples.VALID,
)


def check(ctx: RuleContext) -> Iterator[Finding]:
    yield from _cleared_between(ctx)
    yield from _accumulation_cleared(ctx)
    yield from periodic_clear.findings(ctx, RULE.code, RULE.default_severity)


def _steps_after(
    ctx: RuleContext, state: GradsState
) -> Iterator[tuple[FunctionFlow, ev.Step, Origin]]:
    """The steps of the file's own code whose gradients, on every path, were last ``state``
    by one call (a ``zero_grad()`` or a ``backward()``) of the same function."""
    for flow, step in ctx.events(ev.Step):
        if step.via or step.closure or not step.grads:
            continue
        if not all(v.state is state for v in step.grads):
            continue
        origins = {v.origin for v in step.grads}
        origin = next(iter(origins))
        if len(origins) == 1 and origin is not None and origin.via is None:
            yield flow, step, origin


def _cleared_between(ctx: RuleContext) -> Iterator[Finding]:
    seen: set[int] = set()
    for flow, step, origin in _steps_after(ctx, GradsState.CLEARED):
        if id(origin.node) in seen:
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


def _accumulation_cleared(ctx: RuleContext) -> Iterator[Finding]:
    """``zero_grad(); backward(); if (i + 1) % n == 0: step()`` in one block: the step is meant
    to use N iterations' gradients, the clear leaves it one."""
    seen: set[int] = set()
    for flow, step, origin in _steps_after(ctx, GradsState.FRESH):
        chunk = ctx.chunk_of(step.node)
        if ctx.chunk_of(origin.node) is not chunk:
            continue
        index = ctx.index(chunk)
        step_stmt = index.statement_of(step.node)
        back_stmt = index.statement_of(origin.node)
        if step_stmt is None or back_stmt is None:
            continue
        guard = _periodic_guard(index, step_stmt, back_stmt)
        if guard is None:
            continue
        clear = _clear_before(ctx, flow, step.optimizer, index, back_stmt)
        if clear is None or id(clear.node) in seen:
            continue
        seen.add(id(clear.node))
        zero = clear.node
        condition = " ".join(ctx.code(guard.test).split())
        yield Finding(
            RULE.code,
            f"`{step.optimizer}` is cleared every iteration but steps every few "
            f"(line {ctx.line_of(step.node)}): no accumulation",
            ctx.range_of(zero),
            RULE.default_severity,
            (
                Related(ctx.range_of(origin.node), "only this iteration's gradients"),
                Related(ctx.range_of(step.node), "the step sees one iteration's gradients"),
            ),
            subject=step.optimizer,
            details=(
                f"{common.where(ctx, zero)} runs before every `backward()`, while "
                f"{common.where(ctx, step.node)} steps only when `{condition}`: the gradients "
                "the iterations in between accumulated are thrown away before the step uses "
                "them (clear after the step, under its condition, instead)"
            ),
            fix_builder=partial(_accumulation_fix, ctx, zero, step_stmt),
        )


def _periodic_guard(
    index: StatementIndex, step_stmt: cst.CSTNode, back_stmt: cst.CSTNode
) -> cst.If | None:
    """The ``if i % n == 0:`` whose body holds the step, in the block of ``backward()`` and
    after it."""
    block = index.block.get(id(back_stmt))
    current = step_stmt
    parent = index.parent_of(current)
    while parent is not None and not isinstance(parent, cst.FunctionDef | cst.ClassDef):
        if (
            isinstance(parent, cst.If)
            and any(s is current for s in block_statements(parent.body))
            and index.block.get(id(parent)) is block
            and periodic_clear.remainder_test(parent.test)
        ):
            assert block is not None
            order = [id(s) for s in block]
            if order.index(id(parent)) > order.index(id(back_stmt)):
                return parent
            return None
        current, parent = parent, index.parent_of(parent)
    return None


def _clear_before(
    ctx: RuleContext,
    flow: FunctionFlow,
    optimizer: str,
    index: StatementIndex,
    back_stmt: cst.CSTNode,
) -> ev.Clear | None:
    """The clear of ``optimizer``'s gradients that runs, unconditionally, in the block of
    ``backward()`` before it."""
    block = index.block.get(id(back_stmt))
    for event in flow.events_of(ev.Clear):
        if (
            not isinstance(event, ev.Clear)
            or event.via
            or not repeated_calls.clears(ctx, event.key, optimizer)
        ):
            continue
        if ctx.chunk_of(event.node) is not index.chunk:
            continue
        stmt = index.statement_of(event.node)
        if stmt is None or index.block.get(id(stmt)) is not block:
            continue
        assert block is not None
        order = [id(s) for s in block]
        if order.index(id(stmt)) < order.index(id(back_stmt)):
            return event
    return None


def _accumulation_fix(
    ctx: RuleContext, zero: cst.CSTNode, step_stmt: cst.CSTNode
) -> tuple[Fix, ...]:
    index = ctx.index(ctx.chunk_of(zero))
    zero_stmt = index.statement_of(zero)
    if not isinstance(zero_stmt, cst.SimpleStatementLine) or len(zero_stmt.body) != 1:
        return ()
    if not index.starts_line(zero_stmt):
        return ()
    zr = index.range_of(zero_stmt)
    if zr.start.line != zr.end.line:
        return ()
    code = ctx.code(zero_stmt.body[0])
    insert = index.insert_after(step_stmt, code)
    if insert is None:
        return ()
    delete = TextEdit(Range(Position(zr.start.line, 0), Position(zr.start.line + 1, 0)), "")
    return (Fix(f"Move `{code}` after `step()`", (insert, delete)),)


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
