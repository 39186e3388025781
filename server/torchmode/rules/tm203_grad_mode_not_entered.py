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
    summary="`with torch.no_grad:` (or `inference_mode`, `enable_grad`) without `()`.",
    default_severity=Severity.ERROR,
    docs="""\
## What it does
Finds `with torch.no_grad:`, `with torch.inference_mode:`, `with torch.enable_grad:` and
`with torch.set_grad_enabled:` — the class named instead of an instance of it.

## Why is this bad?
A class is not a context manager: the `with` statement raises `TypeError` as soon as it runs
(often only at the first evaluation, after an epoch of training).

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
Adds `()` (safe). `set_grad_enabled` needs an argument, so it gets no automatic fix.
""",
    invalid=examples.INVALID,
    valid=examples.VALID,
)


def check(ctx: RuleContext) -> Iterator[Finding]:
    seen: set[int] = set()
    for _, event in ctx.events(ev.Syntax):
        if event.kind != "grad-context-not-called" or event.via or id(event.node) in seen:
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
            f"`with {name}:` raises TypeError ('type' object does not support the context "
            f"manager protocol): `{name}` is a class, not a context manager — {advice}",
            r,
            RULE.default_severity,
            subject=name,
            fix_builder=None if needs_argument else fixes,
        )
