"""TM301 gradients-never-cleared."""

from __future__ import annotations

from collections.abc import Iterator

import libcst as cst

from torchmode.engine import events as ev
from torchmode.engine.blocks import block_statements, nested_blocks
from torchmode.engine.chunks import code_of
from torchmode.engine.context import RuleContext
from torchmode.engine.function_flow import FunctionFlow
from torchmode.engine.guards import _guard_names
from torchmode.engine.names import key_of
from torchmode.engine.statements import StatementIndex
from torchmode.engine.walk import calls_in
from torchmode.findings import Finding, Fix, Related, Severity
from torchmode.rules import common, repeated_calls
from torchmode.rules.base import Rule
from torchmode.rules.examples import tm301 as examples

RULE = Rule(
    code="TM301",
    name="gradients-never-cleared",
    summary="A training loop steps an optimizer whose gradients are never cleared in the loop.",
    default_severity=Severity.WARNING,
    docs="""\
## What it does
Finds a loop that calls `backward()` and `optimizer.step()` but never clears that optimizer's
gradients inside the loop: no `optimizer.zero_grad()`, no `model.zero_grad()` of a model it
trains, no `param.grad = None` — directly or in a function the loop calls. Gradient
accumulation (`step()` and `zero_grad()` every k iterations) clears inside the loop and is not
reported.

A one-batch function (`train_step(batch)`, a GAN's `step()`) that runs `backward()` and steps
an optimizer once, clears nothing, and is called in a loop of another file of the project that
clears nothing either (`for batch in loader: gan.step(batch)`) is reported in the function,
naming that loop. It is not when a caller's loop clears around its call (the function leaves
clearing to its callers), when each iteration updates another object (`for agent in agents:
agent.update()`), or when nothing in the project is known to call it in a loop.

## Why is this bad?
`backward()` adds to `.grad`; it never replaces it. Without clearing, every step uses the sum
of all gradients since the start (or since the last clear outside the loop): the effective
learning rate grows with every step and training diverges or stalls.

## Example
```python
optimizer.zero_grad()
for x, y in loader:
    loss = criterion(model(x), y)
    loss.backward()
    optimizer.step()
```

## Use instead
```python
for x, y in loader:
    optimizer.zero_grad()
    loss = criterion(model(x), y)
    loss.backward()
    optimizer.step()
```

## Fix
In a one-batch function: inserts `optimizer.zero_grad()` before the forward pass of the model
it trains that starts its part, else before its `backward()`. In a loop: inserts
`optimizer.zero_grad()` before the `backward()` call, or after `step()` when the step
runs under a condition the `backward()` does not (safe). When another optimizer's part comes
first in the iteration (a GAN's generator and discriminator), the call goes where this
optimizer's part starts, right after the other one's `step()`. Offered only if the fixed code no
longer has the finding: with one optimizer stepped at two loop levels no single place works,
and none is offered.
""",
    invalid=examples.INVALID,
    valid=examples.VALID,
)


def check(ctx: RuleContext) -> Iterator[Finding]:
    best: dict[int, tuple[int, Finding]] = {}
    for flow, step in ctx.events(ev.Step):
        if step.closure or not step.loops:
            continue
        info = step.site.info
        if info is not None and info.name.startswith("test_"):
            # a test or a benchmark of a layer (time, memory) on made-up data: its steps
            # train nothing anybody keeps
            continue
        loop = step.loops[-1]
        inside = _events_by_loop(ctx, flow).get(id(loop), [])
        backwards = [e for e in inside if isinstance(e, ev.Backward)]
        if not backwards or step.optimizer in _assigned_in(flow, loop):
            continue  # no backward, or a new optimizer every iteration: not a training loop
        never = not any(
            isinstance(e, ev.Clear) and repeated_calls.clears(ctx, e.key, step.optimizer)
            for e in inside
        )
        # cleared on some paths only (``if args.amp: optimizer.zero_grad()``); a clear every k
        # iterations (``if i % k == 0: optimizer.zero_grad()``) is gradient accumulation
        clears = [
            e
            for e in inside
            if isinstance(e, ev.Clear) and repeated_calls.clears(ctx, e.key, step.optimizer)
        ]
        # gradients left by a step of this loop (not one before it)
        loop_steps = [
            e.node
            for e in inside
            if isinstance(e, ev.Step) and e.optimizer == step.optimizer and not e.via
        ]
        uncleared = (
            not step.via
            and any(
                o is not None
                and any(o.node is n for n in loop_steps)
                and not _exclusive(ctx, flow, o.node, step.anchor, loop)
                for o in step.dirty
            )
            and not any(_periodic(ctx, e) for e in clears)
            and not any(_same_guard(ctx, flow, e, step, loop) for e in clears)
            and not any(_counter_reset_by_step(ctx, e, step, loop) for e in clears)
        )
        if not (never or uncleared):
            continue
        backward = _last_backward(ctx, step, backwards)
        others = _cleared_by_others(ctx, step, inside) if never else []
        finding = _finding(ctx, flow, step, backward, loop, never, others)
        depth = len(step.via)
        previous = best.get(id(step.node))
        if previous is None or depth < previous[0]:
            best[id(step.node)] = (depth, finding)
    for _, finding in best.values():
        yield finding
    # a one-batch function other files of the project call in a loop
    yield from repeated_calls.check(ctx, RULE.code, RULE.default_severity)


def _assigned_keys(loop: cst.CSTNode) -> set[str]:
    out: set[str] = set()
    stack: list[cst.CSTNode] = list(block_statements(loop.body))  # type: ignore[attr-defined]
    while stack:
        stmt = stack.pop()
        if type(stmt) is cst.SimpleStatementLine:
            for small in stmt.body:
                if type(small) is cst.Assign:
                    out.update(k for t in small.targets if (k := key_of(t.target)))
        elif type(stmt) not in (cst.FunctionDef, cst.ClassDef):
            stack.extend(nested_blocks(stmt))
    return out


def _periodic(ctx: RuleContext, clear: ev.Clear) -> bool:
    """Is the clear under a condition like ``i % k == 0``?"""
    node = clear.anchor
    index = ctx.index(ctx.chunk_of(node))
    stmt = index.statement_of(node)
    if stmt is None:
        return False
    return any(
        isinstance(parent, cst.If) and "%" in ctx.code(parent.test)
        for parent in index.ancestors(stmt)
    )


def _same_guard(
    ctx: RuleContext, flow: FunctionFlow, clear: ev.Clear, step: ev.Step, loop: cst.CSTNode
) -> bool:
    """Is the clear skipped only when the step is skipped too? ``if enc_opt is not None:``
    around both ``enc_opt.zero_grad()`` and ``enc_opt.step()``, with nothing in the loop
    rebinding the names of the test: every iteration that steps has cleared."""
    clear_tests = _tests_up_to(ctx, clear.anchor, loop)
    step_tests = _tests_up_to(ctx, step.anchor, loop)
    if clear_tests is None or step_tests is None or not clear_tests:
        return False
    if not clear_tests <= step_tests:
        return False
    assigned = _assigned_in(flow, loop)
    return not any(
        name in assigned or name.split(".")[0] in assigned
        for text in clear_tests
        for name in _guard_names(text)
    )


def _counter_reset_by_step(
    ctx: RuleContext, clear: ev.Clear, step: ev.Step, loop: cst.CSTNode
) -> bool:
    """Gradient accumulation with a counter: ``if count == 0: opt.zero_grad()``, and the
    ``if`` that steps sets ``count = 0`` again (``if count == k: opt.step(); count = 0``):
    the iteration after every step clears."""
    tests = _tests_up_to(ctx, clear.anchor, loop)
    if tests is None or len(tests) != 1:
        return False
    test = cst.parse_expression(next(iter(tests)))
    if not (
        type(test) is cst.Comparison
        and type(test.left) is cst.Name
        and len(test.comparisons) == 1
        and type(test.comparisons[0].operator) is cst.Equal
        and type(test.comparisons[0].comparator) is cst.Integer
    ):
        return False
    counter, value = test.left.value, test.comparisons[0].comparator.value
    index = ctx.index(ctx.chunk_of(step.node))
    stmt = index.statement_of(step.node)
    if stmt is None:
        return False
    for parent in index.ancestors(stmt):
        if parent is loop:
            return False
        if isinstance(parent, cst.If):
            return any(_sets(s, counter, value) for s in block_statements(parent.body))
    return False


def _sets(stmt: cst.CSTNode, name: str, value: str) -> bool:
    """Is ``stmt`` the line ``name = value`` (an integer literal)?"""
    return type(stmt) is cst.SimpleStatementLine and any(
        type(small) is cst.Assign
        and len(small.targets) == 1
        and type(small.targets[0].target) is cst.Name
        and small.targets[0].target.value == name
        and type(small.value) is cst.Integer
        and small.value.value == value
        for small in stmt.body
    )


def _tests_up_to(ctx: RuleContext, node: cst.CSTNode, loop: cst.CSTNode) -> frozenset[str] | None:
    """The ``if`` tests whose body holds ``node`` inside ``loop`` (None: under an ``else``,
    an ``elif`` or a nested loop, whose conditions are not just these tests)."""
    index = ctx.index(ctx.chunk_of(node))
    child = index.statement_of(node)
    if child is None:
        return None
    tests: set[str] = set()
    for parent in index.ancestors(child):
        if parent is loop:
            return frozenset(tests)
        if isinstance(parent, cst.For | cst.While):
            return None
        if isinstance(parent, cst.If):
            elif_ = not any(s is parent for s in index.block.get(id(parent), []))
            if elif_ or not any(s is child for s in block_statements(parent.body)):
                return None
            if any(True for _ in calls_in(parent.test)):
                return None  # a call may answer differently at the clear and at the step
            tests.add(ctx.code(parent.test))
        child = parent
    return None


def _exclusive(
    ctx: RuleContext, flow: FunctionFlow, earlier: cst.CSTNode, step: cst.CSTNode, loop: cst.CSTNode
) -> bool:
    """Do the two steps run under tests of one value against two different constants
    (``if opt.task == "semantic":`` ... ``if opt.task == "depth":``), with nothing in the loop
    rebinding it? At most one of them runs in an iteration."""
    if ctx.chunk_of(earlier) is not ctx.chunk_of(step):
        return False
    first, second = _tests_up_to(ctx, earlier, loop), _tests_up_to(ctx, step, loop)
    if not first or not second:
        return False
    assigned = _assigned_in(flow, loop)
    for a in filter(None, map(_equality, first)):
        for b in filter(None, map(_equality, second)):
            if a[0] == b[0] and a[1] != b[1]:
                names = _guard_names(a[0])
                return not any(n in assigned or n.split(".")[0] in assigned for n in names)
    return False


def _equality(text: str) -> tuple[str, str] | None:
    """``S == "constant"`` (a string or a number): the tested expression and the constant."""
    try:
        test = cst.parse_expression(text)
    except cst.ParserSyntaxError:
        return None
    if not (
        type(test) is cst.Comparison
        and len(test.comparisons) == 1
        and type(test.comparisons[0].operator) is cst.Equal
    ):
        return None
    constant = test.comparisons[0].comparator
    if isinstance(constant, cst.SimpleString):
        return code_of(test.left).strip(), str(constant.evaluated_value)
    if isinstance(constant, cst.Integer):
        return code_of(test.left).strip(), constant.value
    return None


def _assigned_in(flow: FunctionFlow, loop: cst.CSTNode) -> set[str]:
    """What ``loop``, a loop of ``flow``'s function, assigns (kept with the flow)."""
    known: dict[int, tuple[cst.CSTNode, set[str]]] = flow.derived("tm301-assigned", _no_loops)
    found = known.get(id(loop))
    if found is None or found[0] is not loop:
        found = known[id(loop)] = (loop, _assigned_keys(loop))
    return found[1]


def _no_loops(flow: FunctionFlow) -> dict[int, tuple[cst.CSTNode, set[str]]]:
    return {}


def _last_backward(ctx: RuleContext, step: ev.Step, backwards: list[ev.Backward]) -> ev.Backward:
    """The backward() that feeds this step: the last one before it in the same function."""
    same = [
        b
        for b in backwards
        if b.site is step.site and ctx.chunk_of(b.node) is ctx.chunk_of(step.node)
    ]
    step_at = ctx.range_of(step.node).start
    before = [b for b in same if ctx.range_of(b.node).start < step_at]
    if before:
        return max(before, key=lambda b: ctx.range_of(b.node).start)
    return backwards[0]


def _events_by_loop(ctx: RuleContext, flow: FunctionFlow) -> dict[int, list[ev.Event]]:
    """id(loop) -> the flow's events inside it, in order (built once per flow, and kept with
    it: a file of many loops would otherwise scan every event once per step)."""
    return flow.derived("tm301-by-loop", _loop_index)


def _loop_index(flow: FunctionFlow) -> dict[int, list[ev.Event]]:
    index: dict[int, list[ev.Event]] = {}
    for e in flow.events:
        for lp in {id(lp) for lp in e.loops}:
            index.setdefault(lp, []).append(e)
    return index


def _clears_by_key(ctx: RuleContext, flow: FunctionFlow) -> dict[str | None, list[ev.Clear]]:
    return flow.derived("tm301-clears", _clear_index)


def _clear_index(flow: FunctionFlow) -> dict[str | None, list[ev.Clear]]:
    index: dict[str | None, list[ev.Clear]] = {}
    for e in flow.events:
        if isinstance(e, ev.Clear):
            index.setdefault(e.key, []).append(e)
    return index


def _cleared_by_others(ctx: RuleContext, step: ev.Step, inside: list[ev.Event]) -> list[ev.Clear]:
    """The clears of other optimizers in the loop that together cover every module this one
    trains (an InfoGAN's ``info_optimizer`` over G and D, cleared by ``D_optimizer`` and
    ``G_optimizer``): its gradients do not pile up across iterations, but its step applies
    what the other losses' backward passes left in them."""
    cover = ctx.facts.optimizer_cover.get(step.optimizer or "", set())
    if not cover:
        return []
    clears = [
        e
        for e in inside
        if isinstance(e, ev.Clear) and e.key is not None and e.key != step.optimizer
    ]
    covered: set[str] = set()
    for e in clears:
        covered |= ctx.facts.optimizer_cover.get(e.key or "", set()) & cover
    return clears if covered == cover else []


def _finding(
    ctx: RuleContext,
    flow: FunctionFlow,
    step: ev.Step,
    backward: ev.Backward,
    loop: cst.CSTNode,
    never: bool,
    others: list[ev.Clear],
) -> Finding:
    optimizer = step.optimizer
    outside = [
        e
        for e in _clears_by_key(ctx, flow).get(optimizer, [])
        if not any(lp is loop for lp in e.loops)
    ]
    where_cleared = (
        f"; the only `{optimizer}.zero_grad()` is outside the loop, on line "
        f"{ctx.line_of(outside[0].anchor)}"
        if outside
        else ""
    )
    steps = f"`{optimizer}` steps on line {ctx.line_of(step.node)}"
    if others:
        names = ", ".join(f"`{e.key}.zero_grad()` on line {ctx.line_of(e.anchor)}" for e in others)
        summary = f"{steps} with the gradients other losses left: it never clears its own"
        details = (
            f"only {names} clear the parameters it updates, before their own losses' "
            f"backward passes; {common.where(ctx, backward.node)} adds to what those left, "
            f"so {common.where(ctx, step.node)} also applies the other losses' gradients"
        )
    elif never:
        summary = f"{steps} but nothing in this loop clears its gradients"
    else:
        summary = f"{steps} but some paths through this loop do not clear its gradients"
    if not others:
        details = (
            f"{common.where(ctx, backward.node)} adds to the previous gradients, so every "
            f"{common.where(ctx, step.node)} uses their running sum{where_cleared}"
        )
    related = [
        # a step inside a function called here: the line the summary names, to go to
        *([Related(ctx.range_of(step.node), "optimizer step here")] if step.via else []),
        *common.event_related(ctx, backward, "gradients accumulate here"),
        *(Related(ctx.range_of(e.anchor), "cleared only here, once") for e in outside[:1]),
        *(Related(ctx.range_of(e.anchor), "cleared here for another loss") for e in others),
        *(
            []
            if others
            else [
                Related(
                    common.loop_header(ctx, loop, step.anchor),
                    f"each iteration of this loop adds to `{optimizer}`'s gradients again",
                )
            ]
        ),
    ]
    return Finding(
        RULE.code,
        summary,
        ctx.range_of(step.anchor),
        RULE.default_severity,
        tuple(related),
        subject=optimizer,
        details=details,
        fix_builder=lambda: _fixes(ctx, step, backward),
        fix_preview=lambda: common.first_candidate(_candidates(ctx, step, backward)),
    )


def _fixes(ctx: RuleContext, step: ev.Step, backward: ev.Backward) -> tuple[Fix, ...]:
    return common.first_that_works(
        ctx, RULE.code, ctx.range_of(step.anchor), _candidates(ctx, step, backward)
    )


def _candidates(ctx: RuleContext, step: ev.Step, backward: ev.Backward) -> Iterator[Fix | None]:
    """Places for ``zero_grad()``, best first; the first that removes the finding is offered
    (none does when one optimizer steps at two loop levels, say)."""
    if backward.site is not step.site:
        return
    spelled = repeated_calls.spelling(step)
    code = f"{spelled}.zero_grad()"
    index = ctx.index(ctx.chunk_of(step.node))
    back_stmt = index.statement_of(backward.node)
    step_stmt = index.statement_of(step.node)
    if back_stmt is None or step_stmt is None:
        return

    def before() -> Fix | None:
        edit = index.insert_before(back_stmt, code)
        return Fix(f"Call `{code}` before `backward()`", (edit,)) if edit is not None else None

    def after() -> Fix | None:
        edit = index.insert_after(step_stmt, code)
        return Fix(f"Call `{code}` after `step()`", (edit,)) if edit is not None else None

    def after_other_step() -> Fix | None:
        # GAN-style iterations: one optimizer's part after another's; the clearing goes where
        # this part starts (after the other optimizer's step), before its forward passes
        previous = _previous_step(index, step, back_stmt)
        if previous is None:
            return None
        edit = index.insert_after(previous[0], code)
        if edit is None:
            return None
        return Fix(f"Call `{code}` after `{previous[1]}.step()`", (edit,))

    if index.parent_of(back_stmt) is index.parent_of(step_stmt):
        yield after_other_step()
        yield before()
        yield after()
    else:
        # the step runs under a condition the backward() does not (gradient accumulation):
        # clearing right after the step keeps the accumulation
        yield after()
        yield before()


def _previous_step(
    index: StatementIndex, step: ev.Step, back_stmt: cst.CSTNode
) -> tuple[cst.CSTNode, str] | None:
    """The last statement before ``back_stmt``, in its block, that steps another optimizer,
    with no backward() between them but this one's."""
    found: tuple[cst.CSTNode, str] | None = None
    for e in step.site.events:
        if not isinstance(e, ev.Step) or e.optimizer == step.optimizer:
            continue
        stmt = index.statement_of(e.node)
        if stmt is None or index.parent_of(stmt) is not index.parent_of(back_stmt):
            continue
        between = index.siblings_after(stmt)
        if not any(s is back_stmt for s in between):
            continue
        if found is None or any(s is stmt for s in index.siblings_after(found[0])):
            found = (stmt, repeated_calls.spelling(e))
    if found is None:
        return None
    place, adjacent = found[0], True
    for s in index.siblings_after(found[0]):
        if s is back_stmt:
            return place, found[1]
        if _has_backward(step, s, index):
            return None
        adjacent = adjacent and _bookkeeping(s)
        if adjacent:
            place = s  # scaler.update(), scheduler.step(): the rest of the other part
    return None


def _bookkeeping(stmt: cst.CSTNode) -> bool:
    return (
        type(stmt) is cst.SimpleStatementLine
        and len(stmt.body) == 1
        and type(stmt.body[0]) is cst.Expr
        and type(call := stmt.body[0].value) is cst.Call
        and type(call.func) is cst.Attribute
        and call.func.attr.value in ("update", "step", "zero_grad")
    )


def _has_backward(step: ev.Step, stmt: cst.CSTNode, index: StatementIndex) -> bool:
    return any(
        isinstance(e, ev.Backward) and index.statement_of(e.node) is stmt for e in step.site.events
    )
