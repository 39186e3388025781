"""TM102 evaluation-in-train-mode."""

from __future__ import annotations

from collections.abc import Iterator

import libcst as cst

from torchmode.engine import events as ev
from torchmode.engine import torch_api as api
from torchmode.engine.context import RuleContext
from torchmode.engine.function_flow import FunctionFlow
from torchmode.engine.statements import StatementIndex
from torchmode.engine.values import Mode, ModeVal
from torchmode.findings import Finding, Fix, Related, Severity
from torchmode.knowledge.costs import cost_note
from torchmode.rules import common
from torchmode.rules.base import Rule
from torchmode.rules.examples import tm102 as examples

RULE = Rule(
    code="TM102",
    name="evaluation-in-train-mode",
    summary="Evaluation runs while the model is still in train mode.",
    default_severity=Severity.WARNING,
    docs="""\
## What it does
Finds evaluation code — forward passes under `no_grad`/`inference_mode`, or in a function
named like `evaluate`/`validate`/`test`/`predict`, with no training step around them — where
the model is in train mode: `model.train()` ran before it (directly or in a function you call)
and no `model.eval()` since, or the model was just built (a new module is in train mode).

## Why is this bad?
`torch.no_grad()` does not switch Dropout or BatchNorm: in train mode, Dropout still drops
activations at random, so metrics are noisy and pessimistic, and every evaluation batch
overwrites BatchNorm's running statistics with the evaluation data. {cost}

## Example
```python
def test(model, loader):
    correct = 0
    with torch.no_grad():
        for x, y in loader:
            correct += (model(x).argmax(1) == y).sum().item()
    return correct

for epoch in range(epochs):
    train(model, train_loader)   # calls model.train()
    test(model, test_loader)
```

## Use instead
```python
def test(model, loader):
    model.eval()
    ...
```

## Fix
Inserts `model.eval()` before the evaluation (and `model.train()` after it when the same
function goes on training) — safe. When a helper called inside the evaluation switches back
to train mode, the `eval()` goes right before the evaluating statement. Offered only if the
fixed code no longer has the finding.

## Options
A model known to have no mode-dependent layers is reported as a hint; a freshly built model
whose layers are not known, as info.
""".replace("{cost}", cost_note("TM102")),
    invalid=examples.INVALID,
    valid=examples.VALID,
)


def check(ctx: RuleContext) -> Iterator[Finding]:
    best: dict[tuple[int, int, str], tuple[int, Finding]] = {}
    for flow, event in ctx.events(ev.Forward):
        if not common.is_evaluation(ctx, flow, event) or common.skip_framework(ctx, event):
            continue
        modes = event.modes
        if any(v.mode is Mode.INPUT for v in modes) and flow.called:
            continue  # each caller decides, with its own state
        # in source order: the message names the first, and a set's order is not stable
        trains = sorted((v for v in modes if v.mode is Mode.TRAIN), key=lambda v: _order(ctx, v))
        if not trains or len(trains) != len(modes):
            continue
        info = event.site.info
        eval_name = info is not None and bool(api.EVALUATION_FUNCTION.match(info.name))
        if not (common.grad_off(event) or eval_name or event.over_eval_data):
            continue
        explicit_here = all(
            v.origin is not None
            and not v.origin.constructed
            and v.origin.via is None
            and not event.via
            for v in trains
        )
        if explicit_here and (not event.site.trains or _inside_training_step(ctx, event)):
            # train() right there, on purpose: BatchNorm recalibration, MC dropout, a second
            # model used in train mode inside the training step
            continue
        if _feeds_failing_backward(flow, event):
            continue  # the real mistake is the no_grad around training (TM202 reports it)
        constructed = all(v.origin is not None and v.origin.constructed for v in trains)
        if (
            constructed
            and flow.trains
            and event.key not in common.trained_in(flow, None)
            and ctx.facts.mode_sensitivity(event.key, own_code=False) is not True
        ):
            # a teacher or target network built beside the trained model; one whose own
            # code branches on ``self.training`` (NoisyNet layers) is used in train mode on
            # purpose, its Dropout or BatchNorm would not be
            continue
        finding = _finding(ctx, flow, event, trains, constructed)
        if finding is None:
            continue
        key = (id(event.site), id(event.region), event.key)
        depth = len(event.via)
        if key not in best or depth < best[key][0]:
            best[key] = (depth, finding)
    for _, finding in best.values():
        yield finding


def _order(ctx: RuleContext, value: ModeVal) -> tuple[int, list[tuple[int, int]]]:
    """Source order of the call sites leading to the origin, then of the origin itself."""
    origin = value.origin
    if origin is None:
        return (1, [])
    places = [ctx.range_of(node).start for node in origin.chain()]
    return (0, [(p.line, p.character) for p in places])


def _inside_training_step(ctx: RuleContext, event: ev.Forward) -> bool:
    """A single no-grad forward inside a loop that trains (not a pass over another loader)."""
    if event.iterated or not event.site_loops:
        return False
    return ctx.flow.contains_training(event.site_loops[-1], event.site.info)


def _feeds_failing_backward(flow: FunctionFlow, event: ev.Forward) -> bool:
    disabled_by = {g.origin for g in event.grad if g.enabled is False and g.origin is not None}
    return any(
        isinstance(e, ev.Backward)
        and not e.loss.graph
        and e.loss.no_grad_origin is not None
        and e.loss.no_grad_origin in disabled_by
        for e in flow.events
    )


def _finding(
    ctx: RuleContext,
    flow: FunctionFlow,
    event: ev.Forward,
    trains: list[ModeVal],
    constructed: bool,
) -> Finding | None:
    key = event.key
    verdict, note = common.sensitivity_note(ctx, key)
    severity = Severity.WARNING
    if verdict is False:
        severity = Severity.HINT
    elif constructed and verdict is None:
        severity = Severity.INFO
    origin = trains[0].origin
    if origin is None:
        return None
    if constructed:
        why = f"it was built on line {ctx.line_of(origin.node)} and never switched"
        if origin.via is not None:
            why += f" (by {common.where(ctx, origin.outermost)})"
    else:
        why = (
            f"{common.describe_origin(ctx, origin)} set train mode and nothing calls "
            f"`{key}.eval()` since"
        )
    message = (
        f"`{key}` evaluates in train mode at {common.where(ctx, event.node)}: {why} — Dropout "
        "stays active and BatchNorm updates its running statistics with evaluation data"
        f"{note}"
    )
    related: list[Related] = [
        Related(ctx.range_of(call), f"evaluation called here: {ctx.short(call)}")
        for call in event.via
    ]
    related.extend(common.origin_related(ctx, origin, "train mode set here"))
    return Finding(
        RULE.code,
        message,
        ctx.range_of(event.node),
        severity,
        tuple(related),
        subject=key,
        fix_builder=lambda: _fixes(ctx, flow, event),
        fix_preview=lambda: common.first_candidate(_candidates(ctx, flow, event)),
    )


def _fixes(ctx: RuleContext, flow: FunctionFlow, event: ev.Forward) -> tuple[Fix, ...]:
    return common.first_that_works(
        ctx, RULE.code, ctx.range_of(event.node), _candidates(ctx, flow, event)
    )


def _candidates(ctx: RuleContext, flow: FunctionFlow, event: ev.Forward) -> Iterator[Fix | None]:
    """Places for ``eval()``, best first; the first that removes the finding is offered."""
    if event.region is None:
        return
    if event.via and event.loops:
        loop = event.loops[-1]
        if ctx.flow.contains_training(loop, flow.info) and not ctx.flow.switches_to_train(loop):
            # an evaluation helper called in the middle of a training loop that never switches
            # back: eval() inside the helper would leave the model in eval mode for the rest of
            # the training (TM101); switch around the call instead
            yield from _around_call(ctx, event)
            return
    spelled = common.module_spelling(event.node)
    if spelled is None:
        return
    index = ctx.index(ctx.chunk_of(event.region))
    yield _eval_before(ctx, event, index, event.region, spelled)
    # the evaluation block itself switches back to train mode before the forward (it calls a
    # helper that restores the mode): eval() right before the forward's own statement
    own = index.statement_of(event.node)
    if own is not None and own is not event.region:
        yield _eval_before(ctx, event, index, own, spelled)


def _eval_before(
    ctx: RuleContext, event: ev.Forward, index: StatementIndex, stmt: cst.CSTNode, spelled: str
) -> Fix | None:
    before = index.insert_before(stmt, f"{spelled}.eval()")
    if before is None:
        return None
    edits = [before]
    if _trains_after(ctx, event, stmt):
        after = index.insert_after(stmt, f"{spelled}.train()")
        if after is None:
            return None
        edits.append(after)
    return Fix(f"Call `{spelled}.eval()` before the evaluation", tuple(edits))


def _around_call(ctx: RuleContext, event: ev.Forward) -> tuple[Fix, ...]:
    call = event.via[0]
    index = ctx.index(ctx.chunk_of(call))
    stmt = index.statement_of(call)
    if stmt is None:
        return ()
    before = index.insert_before(stmt, f"{event.key}.eval()")
    after = index.insert_after(stmt, f"{event.key}.train()")
    if before is None or after is None:
        return ()
    return (
        Fix(
            f"Call `{event.key}.eval()` before the evaluation and `train()` after", (before, after)
        ),
    )


def _trains_after(ctx: RuleContext, event: ev.Forward, region: cst.CSTNode) -> bool:
    """Would training run in eval mode after the evaluation: it sits in a loop that trains and
    never switches back to train mode (an epoch loop starting with model.train() does)."""
    for loop in reversed(event.site_loops):
        if ctx.flow.contains_training(loop, event.site.info):
            return not ctx.flow.switches_to_train(loop)
    return False
