"""TM302's mirror image of undone accumulation: the clear runs every few iterations
(``if it % n == 0: optimizer.zero_grad()``) while the optimizer steps at every one.

Between two clears each ``backward()`` adds to the gradients the previous steps already used,
so every step applies the running sum of up to N iterations' gradients: the accumulation
half of gradient accumulation without its other half, the step under the same condition.

Reported only when nothing else clears those gradients in the iteration and the step runs on
every path through it: under no condition, or under an ``if``/``else`` that steps on both
sides (``scaler.step(opt)`` with mixed precision, ``opt.step()`` without). The iteration is
the innermost loop holding both the clear and the step, else the function's body (a
per-batch function an outer loop, a framework's engine, calls).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from itertools import pairwise

import libcst as cst

from torchmode.engine import events as ev
from torchmode.engine.blocks import block_statements
from torchmode.engine.chunks import code_of
from torchmode.engine.context import RuleContext
from torchmode.engine.function_flow import FunctionFlow
from torchmode.engine.names import key_of
from torchmode.engine.statements import StatementIndex
from torchmode.engine.walk import sub_expressions
from torchmode.findings import Finding, Related, Severity
from torchmode.rules import common, repeated_calls

_Scope = cst.FunctionDef | cst.For | cst.While


def findings(ctx: RuleContext, code: str, severity: Severity) -> Iterator[Finding]:
    seen: set[int] = set()
    for flow, step in ctx.events(ev.Step):
        if step.via or step.closure:
            continue
        found = _periodic_clear(ctx, flow, step)
        if found is None or id(found[0].node) in seen:
            continue
        clear, guard, backward, scope = found
        seen.add(id(clear.node))
        every = "call" if isinstance(scope, cst.FunctionDef) else "iteration"
        yield _finding(ctx, code, severity, step, clear, guard, backward, every)


def _periodic_clear(
    ctx: RuleContext, flow: FunctionFlow, step: ev.Step
) -> tuple[ev.Clear, cst.If, ev.Backward, _Scope] | None:
    """The one clear of ``step``'s optimizer in its iteration, under a remainder test the
    step is not under, and the ``backward()`` of that iteration; None unless the step runs
    on every path through the iteration."""
    clears = [
        e
        for e in flow.events_of(ev.Clear)
        if isinstance(e, ev.Clear) and repeated_calls.clears(ctx, e.key, step.optimizer)
    ]
    if not clears:
        return None  # checked before building the statement index, which costs more
    chunk = ctx.chunk_of(step.node)
    index = ctx.index(chunk)
    step_stmt = index.statement_of(step.node)
    if step_stmt is None:
        return None
    found: tuple[ev.Clear, cst.If] | None = None
    scope: _Scope | None = None
    for clear in clears:
        if ctx.chunk_of(clear.anchor) is not chunk:
            return None
        clear_stmt = index.statement_of(clear.anchor)
        if clear_stmt is None:
            return None
        shared = _scope(index, step_stmt, clear_stmt)
        if shared is None:
            return None
        if not _holds(index, shared, clear_stmt):
            continue  # before the loop: once, not per iteration
        guard = _periodic_guard(index, clear_stmt, shared)
        if clear.via or guard is None or found is not None:
            return None  # a helper's clear, one under another condition, or two clears
        if _in_batch_loop(ctx, flow, index, clear_stmt, shared):
            return None  # cleared within a loop of backward() passes the step is after
        if not _same_binding(index, step.optimizer, step_stmt, clear_stmt, shared):
            return None
        found, scope = (clear, guard), shared
    if found is None or scope is None:
        return None
    backward = _backward_in(ctx, flow, index, scope, step_stmt)
    if backward is None or not _every_path_steps(ctx, flow, index, step, step_stmt, scope):
        return None
    if isinstance(scope, cst.FunctionDef) and _cleared_by_caller(ctx, step, found[0]):
        return None
    return found[0], found[1], backward, scope


def _scope(index: StatementIndex, a: cst.CSTNode, b: cst.CSTNode) -> _Scope | None:
    """The innermost loop, or else the function, around both statements."""
    around_b = index.ancestors(b)
    for parent in index.ancestors(a):
        if isinstance(parent, cst.ClassDef):
            return None
        if isinstance(parent, _Scope) and any(parent is p for p in around_b):
            return parent
    return None


def _in_batch_loop(
    ctx: RuleContext,
    flow: FunctionFlow,
    index: StatementIndex,
    stmt: cst.CSTNode,
    scope: cst.CSTNode,
) -> bool:
    return any(
        isinstance(parent, cst.For | cst.While) and _has_backward(ctx, flow, index, parent)
        for parent in _path(index, stmt, scope)[1:]
    )


def _cleared_by_caller(ctx: RuleContext, step: ev.Step, clear: ev.Clear) -> bool:
    """Whether a function of this file that calls the step's function clears that optimizer
    itself (then the clear every few calls is not the only one)."""
    for caller, seen in ctx.events(ev.Step):
        if not seen.via or seen.node is not step.node:
            continue
        for other in caller.events_of(ev.Clear):
            if (
                isinstance(other, ev.Clear)
                and other.node is not clear.node
                and repeated_calls.clears(ctx, other.key, seen.optimizer)
            ):
                return True
    return False


def _holds(index: StatementIndex, scope: cst.CSTNode, stmt: cst.CSTNode) -> bool:
    return any(parent is scope for parent in index.ancestors(stmt))


def _path(index: StatementIndex, stmt: cst.CSTNode, scope: cst.CSTNode) -> list[cst.CSTNode]:
    """``stmt`` and the statements around it below ``scope``, innermost first."""
    path = [stmt]
    for parent in index.ancestors(stmt):
        if parent is scope:
            break
        path.append(parent)
    return path


def _periodic_guard(
    index: StatementIndex, clear_stmt: cst.CSTNode, scope: cst.CSTNode
) -> cst.If | None:
    """The ``if i % n == k:`` whose body holds the clear, below ``scope``."""
    path = _path(index, clear_stmt, scope)
    for child, parent in pairwise(path):
        if (
            isinstance(parent, cst.If)
            and any(s is child for s in block_statements(parent.body))
            and remainder_test(parent.test)
        ):
            return parent
    return None


def remainder_test(test: cst.BaseExpression) -> bool:
    """A remainder of a counter in the test (``it % n == 1``, ``(step + 1) % n == 0``,
    ``not i % n``; not ``"%s" % x``)."""
    stack: list[cst.CSTNode] = [test]
    while stack:
        node = stack.pop()
        if (
            type(node) is cst.BinaryOperation
            and type(node.operator) is cst.Modulo
            and not isinstance(node.left, cst.BaseString)
        ):
            return True
        stack.extend(sub_expressions(node))
    return False


def _every_path_steps(
    ctx: RuleContext,
    flow: FunctionFlow,
    index: StatementIndex,
    step: ev.Step,
    step_stmt: cst.CSTNode,
    scope: cst.CSTNode,
) -> bool:
    """Whether each statement around the step below ``scope`` runs it on every path: a
    ``with``, the body of a ``try``, a ``for`` over something other than batches (no
    ``backward()`` in it: a loop over the optimizers), an ``if`` whose other branch steps
    the same optimizer."""
    steps = [
        index.statement_of(e.node)
        for e in flow.events_of(ev.Step)
        if isinstance(e, ev.Step) and not e.via and e.optimizer == step.optimizer
    ]
    path = _path(index, step_stmt, scope)
    for child, parent in pairwise(path):
        if isinstance(parent, cst.With):
            continue
        if isinstance(parent, cst.Try):
            if not any(s is child for s in block_statements(parent.body)):
                return False
        elif isinstance(parent, cst.For):
            if parent.orelse is not None or _has_backward(ctx, flow, index, parent):
                return False
        elif isinstance(parent, cst.If):
            if not _both_branches_step(index, parent, child, steps):
                return False
        else:
            return False
    return True


def _both_branches_step(
    index: StatementIndex,
    branch: cst.If,
    child: cst.CSTNode,
    steps: list[cst.CSTNode | None],
) -> bool:
    """``if amp: scaler.step(opt) else: opt.step()``: the other side of ``branch`` (an
    ``if``/``else``, not an ``elif`` chain) steps too, as one of its own statements."""
    if not isinstance(branch.orelse, cst.Else):
        return False
    in_body = any(s is child for s in block_statements(branch.body))
    other = block_statements(branch.orelse.body if in_body else branch.body)
    return any(s is o for s in steps for o in other)


def _has_backward(
    ctx: RuleContext, flow: FunctionFlow, index: StatementIndex, loop: cst.CSTNode
) -> bool:
    for e in flow.events_of(ev.Backward):
        if ctx.chunk_of(e.anchor) is not index.chunk:
            continue
        stmt = index.statement_of(e.anchor)
        if stmt is not None and _holds(index, loop, stmt):
            return True
    return False


def _backward_in(
    ctx: RuleContext,
    flow: FunctionFlow,
    index: StatementIndex,
    scope: cst.CSTNode,
    step_stmt: cst.CSTNode,
) -> ev.Backward | None:
    """The last ``backward()`` of the iteration before the step."""
    step_at = index.start_of(step_stmt)
    found: ev.Backward | None = None
    for e in flow.events_of(ev.Backward):
        if not isinstance(e, ev.Backward) or ctx.chunk_of(e.anchor) is not index.chunk:
            continue
        stmt = index.statement_of(e.anchor)
        if stmt is None or not _holds(index, scope, stmt) or index.start_of(stmt) >= step_at:
            continue
        found = e
    return found


def _same_binding(
    index: StatementIndex,
    optimizer: str,
    step_stmt: cst.CSTNode,
    clear_stmt: cst.CSTNode,
    scope: cst.CSTNode,
) -> bool:
    """The name the optimizer is known by at both places stands for the same one: bound by
    no loop below ``scope``, or by loops over the same collection (``for model, opt in
    zip(models, optimizers)`` at the clear, ``for opt, scaler in zip(optimizers, scalers)``
    at the step)."""
    return _loop_source(index, optimizer, step_stmt, scope) == _loop_source(
        index, optimizer, clear_stmt, scope
    )


def _loop_source(
    index: StatementIndex, name: str, stmt: cst.CSTNode, scope: cst.CSTNode
) -> str | None:
    """The code of the collection a ``for`` below ``scope`` around ``stmt`` takes ``name``
    from; "" when no such loop binds it, None when one binds it from something else."""
    for parent in _path(index, stmt, scope)[1:]:
        if not isinstance(parent, cst.For):
            continue
        source = _element_source(parent.target, parent.iter, name)
        if source is not None:
            return source
    return ""


def _element_source(target: cst.BaseExpression, it: cst.BaseExpression, name: str) -> str | None:
    """``for name in X`` -> X; ``for a, name in zip(X, Y)`` -> Y; ``for i, name in
    enumerate(X)`` -> X; "?" for a loop that binds ``name`` otherwise; None: not bound."""
    if key_of(target) == name:
        return _code(it)
    if not isinstance(target, cst.Tuple | cst.List):
        return None
    keys = [key_of(e.value) for e in target.elements]
    if name not in keys:
        return None
    position = keys.index(name)
    if isinstance(it, cst.Call) and isinstance(it.func, cst.Name):
        args = [a.value for a in it.args if a.keyword is None and not a.star]
        if it.func.value == "zip" and len(args) == len(keys):
            return _code(args[position])
        if it.func.value == "enumerate" and args and position == 1:
            return _code(args[0])
    return "?"


def _code(node: cst.CSTNode) -> str:
    return " ".join(code_of(node).split())


def _finding(
    ctx: RuleContext,
    code: str,
    severity: Severity,
    step: ev.Step,
    clear: ev.Clear,
    guard: cst.If,
    backward: ev.Backward,
    every: str,
) -> Finding:
    optimizer = step.optimizer
    # the test as one line (a backslash continuation folded)
    condition = " ".join(re.sub(r"\\\s*\n", " ", ctx.code(guard.test)).split())
    step_line, clear_line = ctx.line_of(step.node), ctx.line_of(clear.anchor)
    return Finding(
        code,
        f"`{optimizer}` steps on every {every} (line {step_line}) but is cleared only every few "
        f"(line {clear_line})",
        ctx.range_of(step.node),
        severity,
        (
            Related(ctx.range_of(clear.anchor), f"cleared only when `{condition}`"),
            Related(ctx.range_of(backward.anchor), "adds to the gradients earlier steps used"),
        ),
        subject=optimizer,
        details=(
            f"{common.where(ctx, clear.anchor)} runs only when `{condition}`, while "
            f"{common.where(ctx, step.node)} runs every {every}: each "
            f"{common.where(ctx, backward.anchor)} adds this {every}'s gradients to those "
            "the previous steps already applied, and the step applies their running sum "
            "again (step under the clear's condition to accumulate, or clear every "
            f"{every})"
        ),
    )
