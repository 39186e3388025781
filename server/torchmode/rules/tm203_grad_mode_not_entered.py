"""TM203 grad-mode-not-entered."""

from __future__ import annotations

from collections.abc import Iterator

from torchmode.engine import events as ev
from torchmode.engine.context import RuleContext
from torchmode.findings import Finding, Fix, Range, Severity, TextEdit
from torchmode.rules.base import Rule
from torchmode.rules.examples import tm203 as examples

RULE = Rule(
    code="TM203",
    name="grad-mode-not-entered",
    summary="`with torch.no_grad:` without `()`, or `torch.no_grad()` that is never entered.",
    default_severity=Severity.ERROR,
    docs="""\
## What it does
Finds `with torch.no_grad:`, `with torch.inference_mode:`, `with torch.enable_grad:` and
`with torch.set_grad_enabled:` — the class named instead of an instance of it.

Also finds `torch.no_grad()`, `torch.inference_mode()` or `torch.enable_grad()` written as
a statement of its own.

## Why is this bad?
A class is not a context manager: the `with` statement raises `TypeError` as soon as it runs
(often only at the first evaluation, after an epoch of training). A context manager that is
built on a line of its own is never entered: gradients stay on, and the evaluation that follows
records its graphs (`torch.set_grad_enabled(False)` on its own line does switch them off, and
is not reported).

## Example
```python
with torch.no_grad:
    preds = model(x)
```

## Use instead
```python
with torch.no_grad():
    preds = model(x)
```

## Fix
Adds `()` (safe). `set_grad_enabled` needs an argument, so it gets no automatic fix; nor does a
context manager never entered (which statements it should cover is the author's choice).
""",
    invalid=examples.INVALID,
    valid=examples.VALID,
)


def check(ctx: RuleContext) -> Iterator[Finding]:
    seen: set[int] = set()
    for _, event in ctx.events(ev.Syntax):
        if event.via or id(event.node) in seen:
            continue
        if event.kind == "grad-context-not-entered":
            seen.add(id(event.node))
            yield _never_entered(ctx, event)
            continue
        if event.kind != "grad-context-not-called":
            continue
        seen.add(id(event.node))
        node = event.node
        name = ctx.short(node)
        r = ctx.range_of(node)
        needs_argument = event.detail.endswith("set_grad_enabled")

        def fixes(r: Range = r, name: str = name) -> tuple[Fix, ...]:
            return (Fix(f"Call it: `{name}()`", (TextEdit(Range(r.end, r.end), "()"),)),)

        if needs_argument:
            advice = (
                f'`{name}` needs the mode: `with {name}(mode):` (e.g. `phase == "train"`), '
                "or `torch.no_grad()` to turn gradients off"
            )
        else:
            advice = f"write `with {name}():`"
        yield Finding(
            RULE.code,
            f"`with {name}:` raises TypeError: `{name.rsplit('.', 1)[-1]}` is not called",
            r,
            RULE.default_severity,
            subject=name,
            details=(
                f"`{name}` is a class, not a context manager ('type' object does not support "
                f"the context manager protocol) — {advice}"
            ),
            fix_builder=None if needs_argument else fixes,
        )


def _never_entered(ctx: RuleContext, event: ev.Syntax) -> Finding:
    name = ctx.short(event.node)
    return Finding(
        RULE.code,
        f"`{name}` on a line of its own does nothing",
        ctx.range_of(event.node),
        Severity.WARNING,
        subject=name,
        details=(
            "The context manager is never entered, so gradients stay as they were — put the "
            f"code it should cover in `with {name}:` (or call `torch.set_grad_enabled(False)`, "
            "which does take effect)"
        ),
    )
