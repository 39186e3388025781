"""TM301 for a one-batch function that other files call in a loop.

``GAN.step(batch)`` runs backward() and ``self.discriminator.optimizer.step()`` once, with no
loop of its own, and nothing in it clears that optimizer's gradients; ``train.py`` calls it for
each batch (``for batch in loader: gan.step(batch)``) and clears nothing either. The gradients
of every call then add up, as in a training loop without ``zero_grad()``. The finding is the
function's (the fix goes there), naming the loop that repeats it; the engine finds those loops
(FileFlow.repeated: calls made inside a loop of another file of the project, known only where
that file says what the object is: ``gan = GAN(...)``).

Silent when a caller's loop may clear the gradients itself (a ``zero_grad()`` there, or the
objects handed to something out of sight), when what the step updates changes with each
iteration (``for agent in agents: agent.update()``), or when the optimizer is built in the
function (a fresh one per call).
"""

from __future__ import annotations

from collections.abc import Iterator

import libcst as cst

from torchmode.engine import events as ev
from torchmode.engine.callers import RepeatedCall
from torchmode.engine.context import RuleContext
from torchmode.engine.facts import FunctionInfo
from torchmode.engine.function_flow import FunctionFlow
from torchmode.engine.names import is_within, key_of
from torchmode.findings import Finding, Fix, Range, Related, Severity
from torchmode.rules import common


def clears(ctx: RuleContext, key: str | None, optimizer: str) -> bool:
    """Whether clearing ``key`` (an optimizer, a module; None: parameters' ``.grad``) clears
    the gradients ``optimizer`` steps with (yes when what it covers is not known)."""
    if key is None or key == optimizer:
        return True
    facts = ctx.facts
    if facts.is_optimizer_key(key):
        return False  # another optimizer's zero_grad()
    cover = facts.covered_by(optimizer)
    return not cover or any(is_within(key, c) or is_within(c, key) for c in cover)


def spelling(step: ev.Step) -> str:
    """The optimizer as the function containing the step names it."""
    node = step.node
    if isinstance(node, cst.Call) and isinstance(node.func, cst.Attribute):
        receiver = key_of(node.func.value)
        if node.func.attr.value == "step" and receiver is not None:
            if node.args and not receiver.endswith(("optimizer", "opt")):
                inner = key_of(node.args[0].value)  # scaler.step(optimizer)
                if inner is not None:
                    return inner
            return receiver
    return step.optimizer


def check(ctx: RuleContext, code: str, severity: Severity) -> Iterator[Finding]:
    file_flow = ctx.flow
    for flow in file_flow.flows.values():
        calls = file_flow.repeated.get(id(flow))
        info = flow.info
        if not calls or info is None or info.name.startswith("test_"):
            continue
        if any(c.may_clear or _others_clear(ctx, info, c.also_calls) for c in calls):
            # a loop that clears around its call: the function leaves clearing to its callers,
            # and a loop that does not is theirs to fix
            continue
        for step in flow.events_of(ev.Step):
            assert isinstance(step, ev.Step)
            if step.via or step.loops or step.closure:
                continue
            if any(
                isinstance(e, ev.Clear) and clears(ctx, e.key, step.optimizer) for e in flow.events
            ):
                continue
            backwards = _backwards_before(ctx, flow, step)
            if not backwards:
                continue
            repeating = [c for c in calls if _repeats(ctx, info, step.optimizer, c)]
            if repeating:
                # a caller of the project's own code rather than of its tests, if any
                repeating.sort(key=lambda c: _in_tests(c.site.path))
                yield _finding(ctx, code, severity, flow, step, backwards, repeating[0])


def _in_tests(path: str) -> bool:
    parts = path.replace("\\", "/").split("/")
    return any(p in ("test", "tests") or p.startswith("test_") for p in parts)


def _repeats(ctx: RuleContext, info: FunctionInfo, optimizer: str, call: RepeatedCall) -> bool:
    """``call`` runs the function again and again with the same optimizer."""
    root = optimizer.split(".", 1)[0].split("[", 1)[0]
    if root in ctx.flow.locals_of(info):
        return False  # built in the function: a fresh optimizer at each call
    if root in ("self", "cls") and info.cls is not None:
        return not call.receiver_varies
    if root not in info.params:
        return True  # the file's own optimizer, the same at every call
    if call.unpacked:
        return False
    params = info.params[1:] if info.cls is not None else info.params
    keywords = dict(call.keywords)
    if root in keywords:
        return not keywords[root]
    index = params.index(root) if root in params else -1
    return 0 <= index < len(call.positional) and not call.positional[index]


def _others_clear(ctx: RuleContext, info: FunctionInfo, names: tuple[str, ...]) -> bool:
    """Whether one of these other methods of the function's class may clear gradients."""
    if not names:
        return False
    cls = info.cls
    if cls is None:
        return True
    for name in names:
        method = ctx.facts.method(cls, name)
        if method is None and name in _MODULE_METHODS and ctx.facts.class_is_module(cls.name):
            continue
        flow = ctx.flow.flow_of(method) if method is not None else None
        if flow is None or flow.events_of(ev.Clear):
            return True
    return False


# nn.Module's own methods that leave gradients alone (``model.train()`` in the loop)
_MODULE_METHODS = frozenset(
    {"train", "eval", "to", "cuda", "cpu", "forward", "parameters", "state_dict", "modules"}
)


def _backwards_before(ctx: RuleContext, flow: FunctionFlow, step: ev.Step) -> list[ev.Backward]:
    """The backward() calls of the function before ``step`` since the last step of another
    optimizer (the gradients this one uses), in order."""
    at = ctx.range_of(step.node).start
    since = max(
        (
            start
            for e in flow.events_of(ev.Step)
            if not e.via
            and isinstance(e, ev.Step)
            and e.optimizer != step.optimizer
            and (start := ctx.range_of(e.node).start) < at
        ),
        default=None,
    )
    out = {
        id(e): e
        for e in flow.events_of(ev.Backward)
        if isinstance(e, ev.Backward)
        and ctx.range_of(e.anchor).start < at
        and (since is None or ctx.range_of(e.anchor).start > since)
    }
    return sorted(out.values(), key=lambda e: ctx.range_of(e.anchor).start)


def _finding(
    ctx: RuleContext,
    code: str,
    severity: Severity,
    flow: FunctionFlow,
    step: ev.Step,
    backwards: list[ev.Backward],
    call: RepeatedCall,
) -> Finding:
    optimizer = step.optimizer
    assert flow.info is not None
    name = flow.info.qualname
    site = call.site
    loop_at = common.elsewhere(site, call.loop_line)
    # the calling file by its name: its folders are in the details
    caller = f"{site.path.replace(chr(92), '/').rsplit('/', 1)[-1]}:{site.line}"
    summary = (
        f"`{optimizer}` steps on line {ctx.line_of(step.node)} but `{name}()` never clears "
        f"its gradients, and {caller} calls it in a loop"
    )
    first = backwards[0]
    details = (
        f"{common.where(ctx, first.anchor)} adds to the gradients the previous call left, so "
        f"every {common.where(ctx, step.node)} uses their running sum: `{site.call}` runs once "
        f"per iteration of `{call.loop_code}` at {loop_at}, which clears nothing either"
    )
    related = [
        *common.event_related(ctx, first, "gradients accumulate here, call after call"),
        *common.caller_related(site, "called here, once per iteration"),
    ]
    if call.loop_span is not None and site.file:
        related.append(
            Related(
                Range.of(*call.loop_span),
                f"each iteration of this loop adds to `{optimizer}`'s gradients again",
                site.file,
            )
        )
    at = ctx.range_of(step.node)
    return Finding(
        code,
        summary,
        at,
        severity,
        tuple(related),
        subject=optimizer,
        details=details,
        fix_builder=lambda: common.first_that_works(
            ctx, code, at, _candidates(ctx, flow, step, first)
        ),
        fix_preview=lambda: common.first_candidate(_candidates(ctx, flow, step, first)),
    )


def _candidates(
    ctx: RuleContext, flow: FunctionFlow, step: ev.Step, first: ev.Backward
) -> Iterator[Fix | None]:
    """``zero_grad()`` where this optimizer's part of the function starts: before the first
    forward pass of a model it trains that feeds the first backward(), else before that
    backward()."""
    call = f"{spelling(step)}.zero_grad()"
    index = ctx.index(ctx.chunk_of(step.node))
    back_stmt = index.statement_of(first.anchor)
    if back_stmt is None:
        return
    block = index.parent_of(back_stmt)
    cover = ctx.facts.covered_by(step.optimizer, flow.info)
    back_at = ctx.range_of(first.anchor).start
    forwards = sorted(
        (
            (ctx.range_of(e.node).start, stmt)
            for e in flow.events_of(ev.Forward)
            if isinstance(e, ev.Forward)
            and not e.via
            and any(is_within(e.key, c) for c in cover)
            and (stmt := index.statement_of(e.node)) is not None
            and index.parent_of(stmt) is block
        ),
        key=lambda pair: pair[0],
    )
    since = [ctx.range_of(b.anchor).start for b in flow.events_of(ev.Backward)]
    for start, stmt in forwards:
        # the first of its forwards after any earlier backward() (another model's part)
        if start < back_at and not any(start < b < back_at for b in since):
            edit = index.insert_before(stmt, call)
            if edit is not None:
                yield Fix(f"Call `{call}` before this forward pass", (edit,))
            break
    edit = index.insert_before(back_stmt, call)
    yield Fix(f"Call `{call}` before `backward()`", (edit,)) if edit is not None else None
