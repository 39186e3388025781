"""TM101 eval-mode-leaks-into-training."""

from __future__ import annotations

import re
from collections.abc import Iterator

import libcst as cst

from torchmode.engine import events as ev
from torchmode.engine.blocks import block_statements
from torchmode.engine.context import RuleContext
from torchmode.engine.function_flow import FunctionFlow
from torchmode.engine.names import is_within
from torchmode.engine.training import serves_input_attack
from torchmode.engine.values import GradsState, Mode, ModeVal, Origin
from torchmode.findings import Finding, Fix, Position, Range, Related, Severity
from torchmode.knowledge.costs import cost_note
from torchmode.rules import common, wording
from torchmode.rules.base import Rule
from torchmode.rules.examples import tm101 as examples

RULE = Rule(
    code="TM101",
    name="eval-mode-leaks-into-training",
    summary="An `eval()` reaches a training step of the same model with no `train()` in between.",
    default_severity=Severity.WARNING,
    docs="""\
## What it does
Finds a `model.eval()` — written directly, or done by a function you call, such as
`validate(model)` — that is still in force when the same model is trained again
(`loss.backward()` or `optimizer.step()`), on some path through the code, because no
`model.train()` runs in between. In a class whose training and evaluation methods are run in
turns from elsewhere (a base class's epoch loop calling `_train()` and `_test()`), an evaluation
method that leaves `self.model` in eval mode while no method of the class ever calls
`self.model.train()` is reported too: after the first evaluation, every training runs in eval
mode. A `backward()` in eval mode whose only optimizer steps nearby are of an optimizer built
over plain tensors (`SGD([delta])`: an attack optimizing its input perturbation) does not
train the model and is not reported.

## Why is this bad?
`eval()` switches Dropout off and makes BatchNorm use its running statistics. Training in that
state silently trains a different model: no dropout regularisation, BatchNorm statistics
frozen. Nothing crashes; the run just ends worse. The classic form is validation every N steps
inside the training loop, with `model.train()` only at the start of the epoch: after the
first validation, the rest of the epoch trains in eval mode. {cost}

## Example
```python
for epoch in range(epochs):
    model.train()
    for step, (x, y) in enumerate(loader):
        optimizer.zero_grad()
        loss = criterion(model(x), y)
        loss.backward()
        optimizer.step()
        if step % 100 == 0:
            validate(model, val_loader)   # calls model.eval() and returns
```

## Use instead
```python
        if step % 100 == 0:
            validate(model, val_loader)
            model.train()
```
or restore the mode inside the evaluation function
(`was_training = model.training; model.eval(); ...; model.train(was_training)`).

## Fix
Inserts `model.train()` after the evaluation block (safe), or at the start of a class's
training method; when a path skips that place
(a `continue`, a branch, an evaluating helper called again), at the start of the training
iteration or after the enclosing block instead; as a last resort, right before the training
step (unsafe: the forward pass of that step may already have run in eval mode). A fix is
offered only if the fixed code no longer has the finding: with an `eval()` between two steps
of one iteration no single place works, and none is offered.

## Options
None. A model whose class is defined in the file and has no mode-dependent layers is reported
as a hint.
""".replace("{cost}", cost_note("TM101")),
    invalid=examples.INVALID,
    valid=examples.VALID,
)


def check(ctx: RuleContext) -> Iterator[Finding]:
    best: dict[int, tuple[int, Finding, str, Origin]] = {}
    for flow, event in ctx.events(ev.Train):
        for key, modes in event.models.items():
            if event.kind == "backward" and not _stepped(ctx, flow, event, key):
                continue  # gradients for saliency maps or adversarial inputs: not training
            protocol = _protocol(ctx, flow, key, modes)
            for value in modes | frozenset(protocol):
                if value.mode is not Mode.EVAL or value.origin is None:
                    continue
                if value.origin.caller is not None:
                    # a caller in another file passed it in eval mode: that file's analysis
                    # sees this function train it, and reports it where the eval() is
                    continue
                if _mode_chosen_by_branch(ctx, value.origin):
                    continue  # ``if first_task: net.train() else: net.eval()``: on purpose
                depth = len(event.via) + len(value.origin.chain())
                previous = best.get(id(value.origin.node))
                # the modes are a set (memory order): of two evaluations as close to the
                # training, the first in the source, so that every analysis names the same
                if (
                    previous is None
                    or depth < previous[0]
                    or (depth == previous[0] and _earlier(ctx, value.origin, previous[3]))
                ):
                    finding = _finding(ctx, event, key, value.origin, protocol.get(value))
                    best[id(value.origin.node)] = (depth, finding, key, value.origin)
    # Two eval() inside one helper reach the training through the same call: one finding
    # there per model, naming the first of them in the source (not in memory order).
    chosen: dict[tuple[Range, str], tuple[tuple[int, Position], Finding]] = {}
    for depth, finding, key, origin in best.values():
        rank = (depth, ctx.range_of(origin.node).start)
        place = (finding.range, key)
        if place not in chosen or rank < chosen[place][0]:
            chosen[place] = (rank, finding)
    for _, finding in chosen.values():
        yield finding


def _protocol(
    ctx: RuleContext, flow: FunctionFlow, key: str, modes: frozenset[ModeVal]
) -> dict[ModeVal, tuple[FunctionFlow, FunctionFlow]]:
    """``self.model`` on entry to a training method nothing in the file calls (``_train()``,
    run by a base class or a harness in turns with ``_test()``): the eval mode an evaluating
    method of the class that nothing here calls either leaves it in, when no method of the class
    ever switches it to train mode. Once that evaluation has run, every later training runs in
    eval mode. Each such mode with (the evaluating method, the training method)."""
    info = flow.info
    if (
        info is None
        or info.cls is None
        or flow.called
        or not key.startswith("self.")
        or not modes
        or any(v.mode is not Mode.INPUT for v in modes)
    ):
        return {}
    left: dict[ModeVal, tuple[FunctionFlow, FunctionFlow]] = {}
    for other in ctx.flow.all_flows():
        if other.info is None or other.info.cls is not info.cls:
            continue
        for e in other.events:
            if (
                isinstance(e, ev.ModeSwitch)
                and (is_within(key, e.key) or is_within(e.key, key))
                and any(v.mode is not Mode.EVAL for v in e.modes)
            ):
                return {}  # the class switches it back to train mode somewhere
        if (
            other is flow
            or other.called
            or not ctx.flow.evaluation_name(other.info.name)
            or key in common.trained_in(other, None)
            or not any(isinstance(e, ev.Forward) and is_within(e.key, key) for e in other.events)
        ):
            continue
        for v in other.exit_modes.get(key, ()):
            if v.mode is Mode.EVAL and v.origin is not None and v.origin.via is None:
                left[v] = (other, flow)
    return left


def _switch_back(ctx: RuleContext, key: str) -> str:
    """What puts ``key`` back in train mode: ``model.img_enc.train()``, or the method of the
    object holding it that does (``model.train_start()``)."""
    method = ctx.facts.held_switch(key)
    return f"{method}()" if method is not None else f"{key}.train()"


def _earlier(ctx: RuleContext, origin: Origin, than: Origin) -> bool:
    return ctx.range_of(origin.outermost).start < ctx.range_of(than.outermost).start


def _finding(
    ctx: RuleContext,
    event: ev.Train,
    key: str,
    origin: Origin,
    protocol: tuple[FunctionFlow, FunctionFlow] | None = None,
) -> Finding:
    anchor = origin.outermost
    step = common.describe_event(ctx, event)
    trains = f"{step} trains it"
    if ctx.range_of(event.anchor).start < ctx.range_of(anchor).start:
        trains += " in the next iteration"  # reached through the loop's back edge
    # the training as the code around the eval() sees it: a helper's step, at its call
    training_line = ctx.line_of(event.via[0] if event.via else event.node)
    summary = (
        f"`{key}` trains in eval mode on line {training_line} after "
        f"{wording.brief(ctx, anchor, key)} on line {ctx.line_of(anchor)}"
    )
    if protocol is not None:
        evaluating, training = (f"`{f.info.name}()`" for f in protocol if f.info is not None)
        details = (
            f"{evaluating} leaves it in eval mode ({common.where(ctx, anchor)}), and "
            f"{training}, which nothing in this file calls, trains it ({step}) while no "
            f"method of the class calls `{key}.train()`: once "
            f"{evaluating} has run, every later {training} trains with Dropout and BatchNorm "
            "as in inference"
        )
    elif origin.constructed:
        details = (
            f"{common.where(ctx, anchor)} returns it in eval mode (transformers calls "
            f"`eval()` when loading) and {trains} without `{key}.train()`: dropout is "
            "off while fine-tuning"
        )
    elif origin.via is None:
        details = (
            f"{trains}, and nothing calls `{_switch_back(ctx, key)}` after "
            f"{common.where(ctx, anchor)}: Dropout and BatchNorm behave as in inference while "
            "training"
        )
    else:
        details = (
            f"{common.where(ctx, anchor)} leaves it in eval mode "
            f"(`{ctx.short(origin.node)}` on line {ctx.line_of(origin.node)}) and {trains} "
            f"without `{_switch_back(ctx, key)}` in between: Dropout and BatchNorm behave as "
            "in inference while training"
        )
    severity = Severity.WARNING
    verdict, note = common.sensitivity_note(ctx, key)
    if verdict is False:
        severity = Severity.HINT
        details += note
    elif verdict is None and _library_model(ctx, key, origin):
        # its layers are out of sight, and many such models have no dropout by default
        # (diffusers' UNets, graph embeddings): whether the mode matters is not known
        severity = Severity.INFO
    related = [
        *common.event_related(ctx, event, "training step here"),
        *(
            common.origin_related(ctx, origin, "eval mode set here")[1:]
            if origin.via is not None
            else []
        ),
    ]
    if origin.via is not None and not origin.constructed:
        related.extend(common.exit_related(ctx, origin.node, key, "eval"))
    loop = _carrying_loop(ctx, event, anchor)
    if loop is not None:
        header = common.loop_header(ctx, loop, anchor)
        related.append(Related(header, f"each iteration of this loop trains `{key}` again"))
    return Finding(
        RULE.code,
        summary,
        ctx.range_of(anchor),
        severity,
        tuple(related),
        subject=key,
        details=details,
        fix_builder=lambda: _fixes(ctx, anchor, key, event, origin, protocol),
        fix_preview=lambda: common.first_candidate(
            _candidates(ctx, anchor, key, event, origin, protocol)
        ),
    )


_DROPOUT_BY_DEFAULT = ("torch.", "torchvision.", "timm.", "transformers.")


def _library_model(ctx: RuleContext, key: str, origin: Origin) -> bool:
    """``key`` was built by an installed package other than those whose models are known to
    hold Dropout or BatchNorm (``torch_geometric.nn.MetaPath2Vec``, a diffusers pipeline)."""
    name = ctx.facts.module_class.get(key) or ctx.facts.built_from.get(key)
    if name is None and origin.constructed and type(origin.node) is cst.Call:
        name = ctx.facts.imports.resolve(origin.node.func)
    if not name or "." not in name or name.startswith((".", *_DROPOUT_BY_DEFAULT)):
        return False
    project = ctx.settings.project
    return project is None or not project.defines(name)


def _carrying_loop(ctx: RuleContext, event: ev.Train, anchor: cst.CSTNode) -> cst.CSTNode | None:
    """The innermost loop around both the training step and the eval: the one whose next
    iteration trains in eval mode (where ``train()`` at the top of the iteration also helps)."""
    around = ctx.flow.chains.get(id(anchor), ())
    for loop in reversed(event.loops):
        if any(stmt is loop for stmt in around):
            return loop
    return None


def _fixes(
    ctx: RuleContext,
    anchor: cst.CSTNode,
    key: str,
    event: ev.Train,
    origin: Origin,
    protocol: tuple[FunctionFlow, FunctionFlow] | None = None,
) -> tuple[Fix, ...]:
    return common.first_that_works(
        ctx,
        RULE.code,
        ctx.range_of(anchor),
        _candidates(ctx, anchor, key, event, origin, protocol),
    )


def _candidates(
    ctx: RuleContext,
    anchor: cst.CSTNode,
    key: str,
    event: ev.Train,
    origin: Origin,
    protocol: tuple[FunctionFlow, FunctionFlow] | None = None,
) -> Iterator[Fix | None]:
    """Places for ``train()``, best first; the first that removes the finding is offered."""
    loaded = origin.constructed
    chunk = ctx.chunk_of(anchor)
    index = ctx.index(chunk)
    stmt = index.statement_of(anchor)
    if stmt is None:
        return
    # ``trainer.eval()``, the trainer's own method that switches ``key``: its ``train()`` may
    # be the training loop itself, so the module is named
    spelled = key if origin.via is not None else _spelling(anchor, key)
    code = f"{spelled}.train()"
    if spelled == key and (method := ctx.facts.held_switch(key)) is not None:
        code = f"{method}()"  # ``model.train_start()`` of the object holding it
    if protocol is not None and (training := protocol[1].info) is not None:
        # 0. the training method sets its own mode, whatever ran before it
        first = common.first_statement(training.node)
        if first is not None:
            own = ctx.index(training.chunk)
            edit = own.insert_before(first, code)
            title = f"Call `{code}` at the start of `{training.name}()`"
            yield Fix(title, (edit,), safe=True) if edit is not None else None
    after = f"Call `{code}` after loading" if loaded else f"Call `{code}` after the evaluation"
    # 1. after the last statement of the evaluation in the eval()'s own block
    last, last_chunk = stmt, chunk
    for sibling, sibling_chunk in ctx.siblings_after(stmt, chunk):
        if isinstance(sibling, cst.FunctionDef | cst.ClassDef):
            continue
        if ctx.flow.contains_training(sibling, None):
            break
        if _mentions(ctx, sibling, spelled):
            last, last_chunk = sibling, sibling_chunk
    if last is not stmt or not _is_plain_eval(stmt):
        edit = ctx.index(last_chunk).insert_after(last, code, indent=index.indent_of(stmt))
        yield Fix(after, (edit,), safe=True) if edit is not None else None
    # 2. at the start of the training iteration, when nothing evaluates after the eval() in its
    # block and the training step comes before it in the iteration
    yield _at_iteration_start(ctx, anchor, event, code)
    # 3. after the block around the evaluation that a `continue` or a branch leaves early
    for ancestor in index.ancestors(stmt):
        if isinstance(ancestor, cst.FunctionDef | cst.ClassDef) or ctx.flow.contains_training(
            ancestor, None
        ):
            break
        edit = index.insert_after(ancestor, code)
        yield Fix(after, (edit,), safe=True) if edit is not None else None
    # 4. right before the training step (a helper that evaluates, called twice in a row)
    step_index = ctx.index(ctx.chunk_of(event.anchor))
    step_stmt = step_index.statement_of(event.anchor)
    if step_stmt is not None:
        edit = step_index.insert_before(step_stmt, code)
        title = f"Call `{code}` before the training step"
        # unsafe: a forward pass before the step may already have run in eval mode
        yield Fix(title, (edit,), safe=False) if edit is not None else None


def _at_iteration_start(
    ctx: RuleContext, anchor: cst.CSTNode, event: ev.Train, code: str
) -> Fix | None:
    if event.via or not event.loops:
        return None
    if ctx.range_of(anchor).start < ctx.range_of(event.node).start:
        return None  # the eval() comes before the training step in the same iteration
    loop = event.loops[-1]
    body = loop.body  # type: ignore[attr-defined]
    if not isinstance(body, cst.IndentedBlock) or not body.body:
        return None
    edit = ctx.index(ctx.chunk_of(event.node)).insert_before(body.body[0], code)
    if edit is None:
        return None
    return Fix(f"Call `{code}` at the start of each training iteration", (edit,), safe=True)


def _stepped(ctx: RuleContext, flow: object, event: ev.Train, key: str) -> bool:
    """Is there an optimizer step that could update ``key`` as a whole where this backward()
    runs? When the optimizers only train parts of it (``model.classifier`` of an eval-mode
    ``model`` with a frozen backbone), their steps decide, with those parts' modes."""
    if event.kind == "backward" and serves_input_attack(ctx.facts, event):
        return False
    for f in (flow, event.site):
        for e in f.events:  # type: ignore[attr-defined]
            if isinstance(e, ev.Step) and _may_follow(ctx, event, e):
                cover = ctx.facts.covered_by(e.optimizer, e.site.info)
                if not cover or any(is_within(key, c) for c in cover):
                    return True
    return False


def _may_follow(ctx: RuleContext, backward: ev.Train, step: ev.Step) -> bool:
    """Whether ``step`` can apply the gradients of ``backward``. Seen directly in one function
    (or script), a backward() inside a loop is stepped by a step in that loop or after it; a
    step only before it (a notebook's training cell, then a Grad-CAM loop that backpropagates
    one logit at a time to read a hook's gradients) updates nothing with them."""
    if step.site is not backward.site or step.via or backward.via or not backward.site_loops:
        return True
    if _cleared_since(ctx, backward, step):
        return False
    outer = backward.site_loops[0]
    if any(loop is outer for loop in step.site_loops):
        return True
    after = {id(s) for s, _ in ctx.siblings_after(outer, ctx.chunk_of(backward.node))}
    index = ctx.index(ctx.chunk_of(step.node))
    stmt = index.statement_of(step.node)
    return stmt is None or any(id(s) in after for s in index.chain_of(stmt))


def _cleared_since(ctx: RuleContext, backward: ev.Train, step: ev.Step) -> bool:
    """The step's optimizer is cleared between ``backward`` and ``step`` and no gradients of
    ``backward`` reach the step (a GAN's generator update backpropagates through the
    discriminator, kept in eval mode as a fixed critic; the discriminator's own update then
    starts with ``zero_grad()``): the step applies none of that backward's gradients."""
    if not step.grads or any(
        v.state is GradsState.OTHER or (v.origin is not None and v.origin.node is backward.node)
        for v in step.grads
    ):
        return False
    start, end = ctx.range_of(backward.node).start, ctx.range_of(step.node).start
    return any(
        isinstance(e, ev.Clear)
        and not e.via
        and e.key in (step.optimizer, None)
        and start < ctx.range_of(e.node).start < end
        for e in step.site.events
    )


def _spelling(anchor: cst.CSTNode, key: str) -> str:
    spelled = common.module_spelling(anchor)
    if (
        isinstance(anchor, cst.Call)
        and isinstance(anchor.func, cst.Attribute)
        and anchor.func.attr.value in {"eval", "train"}
        and spelled
    ):
        return spelled
    return key


def _mentions(ctx: RuleContext, stmt: cst.CSTNode, key: str) -> bool:
    return key in ctx.code(stmt)


def _is_plain_eval(stmt: cst.CSTNode) -> bool:
    return (
        isinstance(stmt, cst.SimpleStatementLine)
        and len(stmt.body) == 1
        and isinstance(stmt.body[0], cst.Expr)
        and isinstance(stmt.body[0].value, cst.Call)
        and isinstance(stmt.body[0].value.func, cst.Attribute)
        and stmt.body[0].value.func.attr.value in {"eval", "train"}
    )


def _mode_chosen_by_branch(ctx: RuleContext, origin: Origin) -> bool:
    """The eval() is one branch of an ``if`` whose other branch calls ``train()`` on the same
    model (``if self.task == 0: net.train() else: net.eval()``): the author picked the mode for
    each case, as a later task that fits only a head over a frozen backbone (its BatchNorm
    statistics kept) does on purpose."""
    node = origin.node  # the eval() itself, also when reached through calls (``via``)
    if not (
        isinstance(node, cst.Call)
        and isinstance(node.func, cst.Attribute)
        and node.func.attr.value == "eval"
    ):
        return False
    spelled = common.module_spelling(node)
    if not spelled:
        return False
    index = ctx.index(ctx.chunk_of(node))
    stmt = index.statement_of(node)
    branch = index.parent_of(stmt) if stmt is not None else None
    if not isinstance(branch, cst.If):
        return False
    outer = index.parent_of(branch)
    while isinstance(outer, cst.If) and outer.orelse is branch:  # up an elif chain
        branch, outer = outer, index.parent_of(outer)
    branches = _branches(branch)
    if not all(len(b) == 1 and _is_plain_eval(b[0]) for b in branches):
        # a branch that also evaluates (``model.eval(); validate()``), or switches twice, is
        # no choice of one mode per case
        return False
    train = re.compile(rf"(?<![\w.]){re.escape(spelled)}\.train\(\s*(?:True)?\s*\)")
    return train.search(ctx.code(branch)) is not None


def _branches(branch: cst.If) -> list[list[cst.BaseStatement]]:
    """The statements of each branch of an ``if``/``elif``/``else``."""
    out = [block_statements(branch.body)]
    rest = branch.orelse
    if isinstance(rest, cst.If):
        out.extend(_branches(rest))
    elif isinstance(rest, cst.Else):
        out.append(block_statements(rest.body))
    return out
