"""TM202 backward-without-graph."""

from __future__ import annotations

from collections.abc import Iterator

from torchmode.engine import events as ev
from torchmode.engine.context import RuleContext
from torchmode.findings import Finding, Related, Severity
from torchmode.rules import common
from torchmode.rules.base import Rule
from torchmode.rules.examples import tm202 as examples

RULE = Rule(
    code="TM202",
    name="backward-without-graph",
    summary="`.backward()` on a value computed with gradients disabled.",
    default_severity=Severity.ERROR,
    docs="""\
## What it does
Finds `loss.backward()` where the loss was computed entirely inside `torch.no_grad()`,
`torch.inference_mode()` or after `torch.set_grad_enabled(False)` — on every path.

## Why is this bad?
Nothing was recorded, so there is nothing to differentiate: `backward()` raises
`RuntimeError: element 0 of tensors does not require grad and does not have a grad_fn`.

## Example
```python
with torch.no_grad():
    outputs = model(inputs)
loss = criterion(outputs, targets)
loss.backward()
```

## Use instead
```python
outputs = model(inputs)
loss = criterion(outputs, targets)
loss.backward()
```

## Fix
None automatic: which statements should leave the `no_grad` block is a decision about the
code's intent (often only the forward pass of a frozen teacher belongs inside it).
""",
    invalid=examples.INVALID,
    valid=examples.VALID,
)


def check(ctx: RuleContext) -> Iterator[Finding]:
    for _, event in ctx.events(ev.Backward):
        if event.via:
            continue
        loss = event.loss
        origin = loss.no_grad_origin
        if origin is None or loss.graph:
            maybe = loss.maybe_no_grad
            if maybe is not None:
                yield Finding(
                    RULE.code,
                    f"`{ctx.short(event.node)}` may raise RuntimeError: gradients may still be "
                    f"off from line {ctx.line_of(maybe.outermost)}",
                    ctx.range_of(event.node),
                    Severity.WARNING,
                    tuple(common.origin_related(ctx, maybe, "gradients turned off here")),
                    subject=ctx.short(event.node),
                    details=(
                        "On some path gradients are still off from "
                        f"{common.where(ctx, maybe.outermost)}, which nothing turns back on "
                        "(element 0 of tensors does not require grad)"
                    ),
                )
            continue
        yield Finding(
            RULE.code,
            f"`{ctx.short(event.node)}` raises RuntimeError: gradients were turned off on line "
            f"{ctx.line_of(origin.outermost)}",
            ctx.range_of(event.node),
            RULE.default_severity,
            (Related(ctx.range_of(origin.outermost), "gradients disabled here"),),
            subject=ctx.short(event.node),
            details=(
                "The value was computed with gradients disabled by "
                f"{common.where(ctx, origin.outermost)} (element 0 of tensors does not require "
                "grad and does not have a grad_fn)"
            ),
        )
