"""TM103 mode-switch-not-called."""

from __future__ import annotations

from collections.abc import Iterator

import libcst as cst

from torchmode.engine import events as ev
from torchmode.engine.context import RuleContext
from torchmode.engine.names import key_of
from torchmode.findings import Finding, Fix, Position, Range, Severity, TextEdit
from torchmode.rules.base import Rule
from torchmode.rules.examples import tm103 as examples

RULE = Rule(
    code="TM103",
    name="mode-switch-not-called",
    summary="`model.eval` / `model.train` written without a call, or `eval()` given an argument.",
    default_severity=Severity.ERROR,
    docs="""\
## What it does
Finds `model.eval` and `model.train` written as a statement without parentheses, and
`model.eval(True)` / `model.eval(False)`.

## Why is this bad?
`model.eval` on its own only looks the method up: the model stays in whatever mode it was in,
silently. `nn.Module.eval()` takes no argument, so `model.eval(False)` raises
`TypeError: Module.eval() takes 1 positional argument but 2 were given` — at the end of the
first epoch, when the evaluation starts.

## Example
```python
model.eval
with torch.no_grad():
    preds = model(x)
```

## Use instead
```python
model.eval()
```

## Fix
Adds the missing `()` (safe). `eval(True)` becomes `eval()` (safe); `eval(False)` becomes
`train()` (unsafe: it guesses the intent).
""",
    invalid=examples.INVALID,
    valid=examples.VALID,
)


def check(ctx: RuleContext) -> Iterator[Finding]:
    seen: set[int] = set()
    for _, event in ctx.events(ev.Syntax):
        if event.via or id(event.node) in seen:
            continue
        seen.add(id(event.node))
        node = event.node
        if event.kind == "uncalled-mode-switch":
            assert isinstance(node, cst.Attribute)
            yield _uncalled(ctx, node)
        elif event.kind == "eval-with-argument":
            assert isinstance(node, cst.Call)
            finding = _eval_argument(ctx, node)
            if finding is not None:
                yield finding


def _uncalled(ctx: RuleContext, node: cst.Attribute) -> Finding:
    name = ctx.short(node)
    method = node.attr.value
    r = ctx.range_of(node)

    def fixes() -> tuple[Fix, ...]:
        edit = TextEdit(Range(r.end, r.end), "()")
        return (Fix(f"Call it: `{name}()`", (edit,), safe=True),)

    return Finding(
        RULE.code,
        f"`{name}` without `()` does nothing",
        r,
        RULE.default_severity,
        subject=key_of(node.value) or ctx.short(node.value),
        details=f"The model's mode is not changed (call `{name}()` to switch to {method} mode)",
        fix_builder=fixes,
    )


def _eval_argument(ctx: RuleContext, call: cst.Call) -> Finding | None:
    arg = call.args[0].value
    if not (isinstance(arg, cst.Name) and arg.value in {"True", "False"}):
        return None
    func = call.func
    assert isinstance(func, cst.Attribute)
    receiver = key_of(func.value) or ctx.short(func.value)
    r = ctx.range_of(call)
    flag = arg.value == "True"

    def fixes() -> tuple[Fix, ...]:
        start = ctx.range_of(func.attr, ctx.chunk_of(call)).start
        end = r.end
        if flag:
            text, safe = "eval()", True
        else:
            text, safe = "train()", False
        edit = TextEdit(Range(Position(start.line, start.character), end), text)
        return (Fix(f"Replace with `{receiver}.{text}`", (edit,), safe=safe),)

    return Finding(
        RULE.code,
        f"`{ctx.short(call)}` raises TypeError: `eval()` takes no argument",
        r,
        RULE.default_severity,
        subject=receiver,
        details=(f"Use `{receiver}.eval()`, or `{receiver}.train(False)` / `{receiver}.train()`"),
        fix_builder=fixes,
    )
