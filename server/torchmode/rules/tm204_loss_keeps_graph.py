"""TM204 loss-keeps-graph."""

from __future__ import annotations

import re
from collections.abc import Iterator
from functools import partial
from typing import cast

import libcst as cst

from torchmode.engine import events as ev
from torchmode.engine.blocks import block_statements, nested_blocks
from torchmode.engine.chunks import Chunk, code_of, split_lines
from torchmode.engine.context import RuleContext
from torchmode.engine.facts import FunctionInfo
from torchmode.engine.names import key_of, root_of
from torchmode.engine.walk import names_in
from torchmode.findings import Finding, Fix, Range, Related, Severity, TextEdit
from torchmode.knowledge.costs import cost_note
from torchmode.rules import common, wording
from torchmode.rules.base import Rule
from torchmode.rules.examples import tm204 as examples

RULE = Rule(
    code="TM204",
    name="loss-keeps-graph",
    summary="A loss tensor is accumulated across iterations with its autograd graph.",
    default_severity=Severity.WARNING,
    docs="""\
## What it does
Finds a loss tensor added to a running total (`total += loss`, `total = total + loss`) or
appended to a list (`losses.append(loss)`) across loop iterations while it still carries its
autograd graph — not `.item()`, not `.detach()`, not computed under `no_grad`. Handing the loss
to a method of the file that adds what it is given to an attribute (`meter.update(loss)`, whose
`update()` does `self.sum += val`) counts as accumulating it; the finding is at the argument.
A total local to a function that calls `backward()` after the loop on a loss computed from it,
and does not return it (a loss per replayed task or per layer, summed into one step's loss; the
query losses of a MAML meta-batch, even when each is also backpropagated in the loop), is not
reported: its graphs are that step's and are gone when the function returns.

## Why is this bad?
The running total keeps every iteration's graph alive. In evaluation (no `backward()`), that
is every batch's activations: memory grows until it runs out. In training, `backward()`
frees the activations, but every step's autograd graph, node by node, stays reachable from the
total: memory still grows with every step (35 KB per step for a 31-layer MLP on the CPU, about
400 bytes per node of the step's graph). {cost}

## Example
```python
total_loss = 0
for x, y in loader:
    loss = criterion(model(x), y)
    loss.backward()
    optimizer.step()
    total_loss += loss
```

## Use instead
```python
    total_loss += loss.item()
```

## Fix
Appends `.item()` (or `.detach()` where the total is used as a tensor later, and for lists) —
safe.

## Options
Reported as a warning where no `backward()` runs in the loop (evaluation), and in a training
loop when the value added is the loss that loop's `backward()` is called on, or the loss a step
helper called in the loop backpropagated and returned; as info for other loss-like values in a
training loop (a helper's result may be a plain number). A method of a class of another file
of the project (an `AverageMeter` in `utils.py`) is read from that file.
""".replace("{cost}", cost_note("TM204")),
    invalid=examples.INVALID,
    valid=examples.VALID,
)


def check(ctx: RuleContext) -> Iterator[Finding]:
    seen: set[tuple[int, str]] = set()
    for flow, event in ctx.events(ev.Accumulate):
        if common.module_internals(ctx, event.site.info) and not event.site.trains:
            # a model summing its own loss terms (auxiliary losses over layers); a model's own
            # fit() method with its training loop is training code like any other
            continue
        target, loops = event.target, event.site_loops
        if not loops and event.via and event.observed_target:
            # ``self.total += loss`` in a method the caller runs in its loop
            target, loops = event.observed_target, event.loops
        step_method = False
        if not loops:
            method = _step_method(ctx, flow, event)
            if method is None:
                continue
            # each call is one training step: the calls are the iterations
            loops, step_method = (method,), True
        value = event.value
        if not (value.graph and value.lossy):
            continue
        if event.grad and all(g.enabled is False for g in event.grad):
            continue
        # the loop it accumulates across: the outermost one that does not reset the total
        loop = next((lp for lp in loops if not _assigned_in(lp, target)), None)
        if loop is None:
            continue  # a per-iteration value (``loss += reg``), not a running total
        if _is_backpropagated(ctx, event.site, event.target):
            continue  # the total is the loss itself: built up, then backward()
        trains = ctx.flow.contains_training(
            loop, (flow if loops is event.loops else event.site).info
        )
        if not trains and all(g.enabled is None for g in event.grad) and flow.called:
            continue  # each caller decides, with its own grad mode
        if _dies_with_the_step(ctx, event, loop):
            # one step's loss terms, kept until its backward(), freed on return; also when
            # each term is backpropagated in the loop as well (a MAML meta-batch, whose
            # query losses the meta-update after the loop differentiates again)
            continue
        if _over_models(ctx, loop):
            # one loss per model (an agent's critic, each with its own optimizer): as many
            # graphs as models, not one more per training step
            continue
        if not trains and _within_backpropagated_call(ctx, event):
            continue  # a loss helper's terms, part of the loss its caller backpropagates
        key = (id(event.node), event.target)
        if key in seen:
            continue
        seen.add(key)
        if not trains:
            severity = Severity.WARNING
            why = "every iteration's activations stay in memory"
        elif (loops is event.site_loops or step_method) and _backpropagated_in(ctx, event, loop):
            # the loss this very iteration backpropagates: it certainly has a graph, and each
            # step's whole graph stays alive through the total
            severity = Severity.WARNING
            why = "every step's autograd graph stays alive and memory grows with each step"
        elif _unpacked_with_graph(ctx, event):
            # loss terms a helper of this file returns one by one, each computed from a forward
            # pass with gradients on: no plain number among them
            severity = Severity.WARNING
            why = "every step's autograd graph stays alive and memory grows with each step"
        else:
            # a value named or computed like a loss that may be a plain number (a helper's
            # ``.item()`` in a returned tuple)
            severity = Severity.INFO
            why = "every step's autograd graph stays alive"
        added = wording.brief(ctx, event.value_node or event.node)
        summary = f"`{event.target}` accumulates {added} with its autograd graph"
        related: tuple[Related, ...] = ()
        through = ""
        if event.inner is not None:
            # ``meter.update(loss)``: the statement that keeps it is in the method called
            inner_line = ctx.line_of(event.inner)
            through = f" (`{ctx.short(event.inner)}` keeps it)"
            related = (Related(ctx.range_of(event.inner), "accumulated here"),)
            summary += f" in `{event.inner_function}()` on line {inner_line}"
        elif event.inner_elsewhere:
            through = f" ({event.inner_elsewhere} keeps it)"
            summary += f" in `{event.inner_function}()`"
        yield Finding(
            RULE.code,
            summary,
            ctx.range_of(event.node),
            severity,
            related,
            subject=event.target,
            details=(
                f"At {common.where(ctx, event.node)}{through} {why} (add `.item()` or `.detach()`)"
            ),
            fix_builder=partial(_fixes, ctx, event),
        )


def _runs_in(loops: tuple[cst.CSTNode, ...], loop: cst.CSTNode) -> bool:
    """Does an event with these loops around it run in every iteration of ``loop``? A step
    method's definition (``_step_method``) stands for its calls: what runs outside its own
    loops runs at each."""
    if isinstance(loop, cst.FunctionDef):
        return not loops
    return loop in loops


def _step_method(ctx: RuleContext, flow: object, event: ev.Accumulate) -> cst.FunctionDef | None:
    """A method that takes one whole training step itself (``backward()`` and an optimizer's
    or a DeepSpeed engine's ``step()`` in its own body, outside any loop) and that nothing in
    this file calls (a base class of another file, or a framework, runs it once per batch),
    adding to an attribute
    of ``self``: every call adds one more step's value, so the attribute is a running total
    across the steps. Its definition stands for the loop those calls make."""
    site = event.site
    info = site.info
    if event.via or flow is not site or info is None or info.cls is None or site.called:
        return None
    if not event.target.startswith("self."):
        return None
    own = [e for e in site.events if not e.via and not e.site_loops]
    if not any(isinstance(e, ev.Backward) for e in own):
        return None
    # an optimizer's step(), or a library engine's (``model_engine.step()``: DeepSpeed)
    if not any(
        isinstance(e, ev.Step) or (isinstance(e, ev.Train) and e.kind == "step") for e in own
    ):
        return None
    return info.node


def _unpacked_with_graph(ctx: RuleContext, event: ev.Accumulate) -> bool:
    """Is every variable the value adds up (``coarse_loss * 1e3``, ``[coarse_loss, fine_loss]``)
    unpacked, in the function that accumulates it, from a call of a helper of this file whose
    ``return`` gives that element, by itself, an autograd graph (``loss, coarse_loss,
    fine_loss = self.losses(x, y)``)? Then none of them is a plain number (``.item()``), the
    doubt that keeps other loss-like values at info."""
    info = event.site.info
    node = event.value_node
    if info is None or node is None:
        return False
    items = node.elements if isinstance(node, cst.List | cst.Tuple) else [node]
    names: set[str] = set()
    for item in items:
        found = _value_names(item.value if isinstance(item, cst.BaseElement) else item)
        if not found:
            return False
        names |= found
    unpacked = _unpacked_items(ctx, info)
    return all(unpacked.get(name) is True for name in names)


def _unpacked_items(ctx: RuleContext, info: FunctionInfo) -> dict[str, bool]:
    """Name -> whether the element of a same-file helper's returned tuple it is unpacked from
    carries a graph (``a, b = helper(...)``); a name assigned anything else maps to False."""
    out: dict[str, bool] = {}
    for small in _small_statements(info.node):
        if isinstance(small, cst.AugAssign | cst.AnnAssign):
            key = key_of(small.target)
            if key is not None:
                out[key] = False
            continue
        if not isinstance(small, cst.Assign):
            continue
        graphs = _item_graphs(ctx, info, small.value)
        for t in small.targets:
            target = t.target
            elements = target.elements if isinstance(target, cst.Tuple | cst.List) else None
            if elements is None or graphs is None or len(graphs) != len(elements):
                for key in _target_keys(target):
                    out[key] = False
                continue
            for element, graph in zip(elements, graphs, strict=True):
                key = key_of(element.value)
                if key is not None:
                    out[key] = graph and out.get(key, True)
    return out


def _item_graphs(
    ctx: RuleContext, info: FunctionInfo, value: cst.BaseExpression
) -> tuple[bool, ...] | None:
    """Whether each element the called helper of this file returns carries a graph, computed
    from a forward pass with gradients on (None: not such a call, or its elements are not known
    one by one)."""
    if not isinstance(value, cst.Call):
        return None
    callee = ctx.flow.resolve_callee(value, info)
    flow = ctx.flow.flow_of(callee) if callee is not None else None
    items = flow.returned_items if flow is not None else None
    if items is None:
        return None
    return tuple(t.graph and bool(t.models) for t in items)


def _fixes(ctx: RuleContext, event: ev.Accumulate) -> tuple[Fix, ...]:
    node = event.value_node
    if node is None or _holds_the_loss(event):
        return ()
    keeps_items = event.kind in ("append", "[]=")
    # a value handed to a method may be used there as a tensor (``val.cpu()``): detached, it
    # still is one
    passed = bool(event.inner_function)
    method = "detach" if keeps_items or passed or _used_as_tensor(ctx, event.target) else "item"
    r = ctx.range_of(node)
    edits: tuple[TextEdit, ...]
    if isinstance(node, cst.Name | cst.Attribute | cst.Call | cst.Subscript):
        edits = (TextEdit(Range(r.end, r.end), f".{method}()"),)
    else:
        edits = (
            TextEdit(Range(r.start, r.start), "("),
            TextEdit(Range(r.end, r.end), f").{method}()"),
        )
    return (Fix(f"Accumulate `.{method}()` instead of the tensor", edits),)


def _is_backpropagated(ctx: RuleContext, flow: object, target: str) -> bool:
    """The total is the loss itself (built up, then ``total.backward()``), or a list whose
    items are backpropagated one by one (``for loss in losses: loss.backward()``,
    ``loss = losses[i]``)."""
    names = {target} | _item_names(ctx, target)
    return bool(names & _backpropagated_names(ctx, flow))


def _backpropagated_in(ctx: RuleContext, event: ev.Accumulate, loop: cst.CSTNode) -> bool:
    """Is the value added the loss that a ``backward()`` in every iteration of ``loop`` is
    called on (``loss.backward(); total += loss``, ``total += loss * len(y)``)?"""
    node = event.value_node
    if type(node) is cst.Subscript:
        node = node.value  # ``loss_d[0]``: an item of the loss
    names = _value_names(node)
    if not names:
        # ``total += self._backward(loss)``: the helper's return added as it is
        return node is not None and _returns_its_backpropagated(event, loop, node)
    for e in event.site.events:
        if isinstance(e, ev.Backward) and not e.via and _runs_in(e.site_loops, loop):
            words = _WORD.findall(ctx.code(e.node))
            if names & {p for w in words for p in _prefixes(w)}:
                return True
    return _returned_after_backward(ctx, event, loop, names)


def _returned_after_backward(
    ctx: RuleContext, event: ev.Accumulate, loop: cst.CSTNode, names: set[str]
) -> bool:
    """``loss_d = self.update_d(x)`` in the loop, where ``update_d`` calls ``loss.backward()``
    and returns that ``loss``: the value added is a loss backpropagated this iteration."""
    calls = {
        id(e.via[0]): e
        for e in event.site.events
        if isinstance(e, ev.Backward) and e.via and _runs_in(e.loops, loop) and len(e.via) == 1
    }
    if not calls:
        return False
    stack = list(block_statements(loop.body))  # type: ignore[attr-defined]
    while stack:
        stmt = stack.pop()
        if isinstance(stmt, cst.SimpleStatementLine):
            for small in stmt.body:
                if not isinstance(small, cst.Assign) or id(small.value) not in calls:
                    continue
                if not any(key_of(t.target) in names for t in small.targets):
                    continue
                if _returns_loss(calls[id(small.value)]):
                    return True
        elif not isinstance(stmt, cst.FunctionDef | cst.ClassDef):
            stack.extend(nested_blocks(stmt))
    return False


def _returns_its_backpropagated(event: ev.Accumulate, loop: cst.CSTNode, call: cst.CSTNode) -> bool:
    """Is ``call`` a call, in every iteration of ``loop``, of a helper that calls
    ``loss.backward()`` and returns that ``loss``?"""
    return any(
        isinstance(e, ev.Backward)
        and len(e.via) == 1
        and e.via[0] is call
        and _runs_in(e.loops, loop)
        and _returns_loss(e)
        for e in event.site.events
    )


def _returns_loss(backward: ev.Backward) -> bool:
    """Does the function of ``backward`` (one call below) return the loss it backpropagates?"""
    info = backward.site.info
    loss = _receiver(backward.node)
    return info is not None and loss is not None and loss in _returned(info.node)


def _dies_with_the_step(ctx: RuleContext, event: ev.Accumulate, loop: cst.CSTNode) -> bool:
    """The total is a local of a function that calls ``backward()`` after the loop, outside
    it, on a loss computed from the total, and does not return the total: the loop gathers
    the terms of one training step (a loss per replayed task, per feature layer), whose graphs
    that backward() needs anyway and which are gone when the function returns. (A total of
    an evaluation loop that the backward() after it does not use is still reported.)"""
    info = event.site.info
    target = event.target
    if info is None or not target.isidentifier() or info.receives(target):
        return False
    if _returns(info.node, target) or _declared_global(info.node, target):
        return False
    if not _assigned_in(info.node, target):
        return False  # a module-level total the function adds to
    around = ctx.flow.chains.get(id(event.node), ())
    derived = _derived_from(info.node, target)
    return any(
        isinstance(e, ev.Backward)
        and not e.via
        and e.site is event.site
        and _after_loop(around, loop, ctx.flow.chains.get(id(e.node), ()))
        and bool(derived & set(names_in(e.node)))
        for e in event.site.events
    )


def _over_models(ctx: RuleContext, loop: cst.CSTNode) -> bool:
    """The loop runs over models, not over steps: it steps an optimizer its variable picks
    (``for i in range(n_agents): ... opts[i].step()``) and no other known optimizer."""
    if not isinstance(loop, cst.For) or not isinstance(loop.target, cst.Name):
        return False
    name = loop.target.value
    picked = False
    for node in _calls_in(loop):
        func = node.func
        if not (isinstance(func, cst.Attribute) and func.attr.value == "step"):
            continue
        receiver = func.value
        if (
            isinstance(receiver, cst.Subscript)
            and len(receiver.slice) == 1
            and isinstance(receiver.slice[0].slice, cst.Index)
            and key_of(receiver.slice[0].slice.value) == name
        ):
            picked = True
        elif ctx.facts.is_optimizer_key(key_of(receiver)):
            return False  # a shared optimizer steps every iteration too
    return picked


def _calls_in(loop: cst.For) -> Iterator[cst.Call]:
    """The calls of the loop's body, not those of functions or classes defined in it."""
    stack: list[cst.CSTNode] = [loop.body]
    while stack:
        node = stack.pop()
        if isinstance(node, cst.FunctionDef | cst.ClassDef | cst.Lambda):
            continue
        if isinstance(node, cst.Call):
            yield node
        stack.extend(node.children)


def _within_backpropagated_call(ctx: RuleContext, event: ev.Accumulate) -> bool:
    """Is ``event``, as some caller sees it, inside a call whose result that caller
    backpropagates (``_caller_backpropagates``)? Then so is it for that caller's own callers
    (``train()`` -> ``run_epoch()`` -> ``process_batch()``): their ``via`` ends the same."""
    key = ("tm204-backpropagated-calls",)
    chains = cast("set[tuple[int, ...]] | None", ctx.memo.get(key))
    if chains is None:
        chains = {
            tuple(map(id, e.via))
            for flow, e in ctx.events(ev.Accumulate)
            if _caller_backpropagates(ctx, flow, e)
        }
        ctx.memo[key] = chains
    via = tuple(map(id, event.via))
    return any(via[i:] in chains for i in range(len(via)))


def _caller_backpropagates(ctx: RuleContext, flow: object, event: ev.Accumulate) -> bool:
    """The total is a local of a helper (``terms = []`` in ``compute_losses()``) whose loop
    gathers one call's loss terms, and the function seen here calls ``backward()`` on what
    that call returned (``losses = helper(batch)``, then ``losses["loss"].backward()``): the
    terms are that step's, needed by its backward and gone when the helper returns."""
    info, function = event.site.info, getattr(flow, "info", None)
    target = event.target
    if not event.via or info is None or function is None or event.site is flow:
        return False
    if not target.isidentifier() or info.receives(target) or _declared_global(info.node, target):
        return False
    if not _assigned_in(info.node, target):
        return False  # a module-level total the helper adds to
    call = event.via[0]
    stmt = ctx.index(ctx.chunk_of(call)).statement_of(call)
    if not isinstance(stmt, cst.SimpleStatementLine):
        return False
    results: set[str] = set()
    for small in stmt.body:
        if isinstance(small, cst.Assign) and small.value is call:
            results |= {root_of(k) for t in small.targets for k in _target_keys(t.target)}
    derived: set[str] = set()
    for name in results:
        derived |= _derived_from(function.node, name)
    return bool(derived) and any(
        isinstance(e, ev.Backward)
        and not e.via
        and e.site is flow
        and bool(derived & set(names_in(e.node)))
        for e in flow.events  # type: ignore[attr-defined]
    )


def _derived_from(function: cst.FunctionDef, name: str) -> set[str]:
    """``name`` and the locals assigned from it, directly or through others (``loss_total =
    rnt * loss_cur + (1 - rnt) * loss_replay`` after ``loss_replay[i] = ... reconL_r[i]``),
    whatever the order of the statements."""
    flows: list[tuple[set[str], set[str]]] = []
    for small in _small_statements(function):
        if isinstance(small, cst.Assign):
            targets = [t.target for t in small.targets]
        elif isinstance(small, cst.AugAssign | cst.AnnAssign):
            targets = [small.target]
        else:
            continue
        if small.value is None:
            continue
        assigned = {root_of(k) for t in targets for k in _target_keys(t)}
        flows.append((assigned, set(names_in(small.value))))
    derived = {name}
    grown = True
    while grown:
        grown = False
        for assigned, used in flows:
            if used & derived and not assigned <= derived:
                derived |= assigned
                grown = True
    return derived


def _target_keys(target: cst.BaseExpression) -> Iterator[str]:
    if isinstance(target, cst.Tuple | cst.List):
        for element in target.elements:
            yield from _target_keys(element.value)
        return
    key = key_of(target.value if isinstance(target, cst.Subscript) else target)
    if key is not None:
        yield key


def _after_loop(
    around: tuple[cst.CSTNode, ...], loop: cst.CSTNode, chain: tuple[cst.CSTNode, ...]
) -> bool:
    """Is the statement whose enclosing statements are ``chain`` after ``loop`` (one of
    ``around``), outside it? Read from the tree, not from positions (which would need the
    whole chunk's code)."""
    if loop not in around or loop in chain:
        return False
    depth = around.index(loop)
    for j in range(1, depth + 1):
        if j >= len(chain) or chain[j] is not around[j]:
            parent = around[j - 1]
            siblings: list[cst.CSTNode] = list(
                block_statements(parent.body)
                if isinstance(parent, cst.FunctionDef)
                else nested_blocks(parent)
            )
            if j >= len(chain) or around[j] not in siblings or chain[j] not in siblings:
                return False
            return siblings.index(chain[j]) > siblings.index(around[j])
    return False


def _declared_global(function: cst.FunctionDef, name: str) -> bool:
    return any(
        isinstance(small, cst.Global | cst.Nonlocal)
        and any(n.name.value == name for n in small.names)
        for small in _small_statements(function)
    )


def _returns(function: cst.FunctionDef, name: str) -> bool:
    """``return total`` or ``return total, count``: the caller gets the total itself."""
    for small in _small_statements(function):
        if isinstance(small, cst.Return) and small.value is not None:
            value = small.value
            items = value.elements if isinstance(value, cst.Tuple | cst.List) else [value]
            for item in items:
                node = item.value if isinstance(item, cst.BaseElement) else item
                if type(node) is cst.Name and node.value == name:
                    return True
    return False


def _small_statements(function: cst.FunctionDef) -> Iterator[cst.BaseSmallStatement]:
    """The function's simple statements, nested functions and classes left out."""
    stack: list[cst.CSTNode] = list(block_statements(function.body))
    while stack:
        stmt = stack.pop()
        if isinstance(stmt, cst.SimpleStatementLine):
            yield from stmt.body
        elif not isinstance(stmt, cst.FunctionDef | cst.ClassDef):
            stack.extend(nested_blocks(stmt))


def _receiver(node: cst.CSTNode) -> str | None:
    """``loss`` of ``loss.backward(...)``."""
    if isinstance(node, cst.Call) and isinstance(node.func, cst.Attribute):
        return key_of(node.func.value)
    return None


def _returned(function: cst.FunctionDef) -> set[str]:
    """The names a function's ``return`` statements return, alone or in arithmetic (``return
    loss * world_size``: a product of a tensor that needs gradients records the graph too);
    nested functions, and blocks that turn gradients off, left out."""
    out: set[str] = set()
    stack: list[cst.CSTNode] = list(block_statements(function.body))
    while stack:
        stmt = stack.pop()
        if isinstance(stmt, cst.SimpleStatementLine):
            for small in stmt.body:
                if isinstance(small, cst.Return) and small.value is not None:
                    out |= _value_names(small.value)
        elif isinstance(stmt, cst.With) and any(_NO_GRAD.search(code_of(i)) for i in stmt.items):
            continue
        elif not isinstance(stmt, cst.FunctionDef | cst.ClassDef):
            stack.extend(nested_blocks(stmt))
    return out


_NO_GRAD = re.compile(r"\b(?:no_grad|inference_mode)\b")


def _holds_the_loss(event: ev.Accumulate) -> bool:
    """The value is a dict or an output object whose loss item is backpropagated
    (``output["loss"].backward()``, then ``outputs.append(output)``): ``.detach()`` is not
    one of its methods; the loss inside it is what to detach."""
    names = _value_names(event.value_node)
    for e in event.site.events:
        if not isinstance(e, ev.Backward) or e.via or not isinstance(e.node, cst.Call):
            continue
        call = e.node
        # loss.backward(), scaler.scale(loss).backward(), accelerator.backward(loss)
        losses: list[cst.BaseExpression] = [a.value for a in call.args[:1]]
        if isinstance(call.func, cst.Attribute):
            receiver = call.func.value
            losses.append(receiver)
            if isinstance(receiver, cst.Call):
                losses.extend(a.value for a in receiver.args[:1])
        if any(
            isinstance(loss, cst.Subscript | cst.Attribute) and key_of(loss.value) in names
            for loss in losses
        ):
            return True
    return False


def _value_names(node: cst.CSTNode | None) -> set[str]:
    """The variables an arithmetic expression adds up (``e / len(loader)``: ``e``); what a call
    returns is left out (it may be a plain number)."""
    if type(node) is cst.Name or type(node) is cst.Attribute:
        key = key_of(node)
        return {key} if key is not None else set()
    if type(node) is cst.BinaryOperation:
        return _value_names(node.left) | _value_names(node.right)
    if type(node) is cst.UnaryOperation:
        return _value_names(node.expression)
    return set()


def _prefixes(chain: str) -> set[str]:
    parts = chain.split(".")  # self.loss.backward: self, self.loss, ...
    return {".".join(parts[: i + 1]) for i in range(len(parts))}


def _backpropagated_names(ctx: RuleContext, flow: object) -> set[str]:
    key = ("tm204-backward-names", id(flow))
    memoised = ctx.memo.get(key)
    if memoised is not None:
        return cast("set[str]", memoised)  # what this function stored under its own key
    names: set[str] = set()
    for e in flow.events:  # type: ignore[attr-defined]
        if isinstance(e, ev.Backward):
            for chain in _WORD.findall(ctx.code(e.node)):
                names.update(_prefixes(chain))
    ctx.memo[key] = names
    return names


def _item_names(ctx: RuleContext, container: str) -> set[str]:
    """The names ``container``'s items are bound to (``for x in xs``, ``x = xs[i]``)."""
    memoised = ctx.memo.get("tm204-items")
    if memoised is not None:
        index = cast("dict[str, set[str]]", memoised)  # what this function stored under its key
    else:
        # the file's index, merged once per analysis from the chunks' (kept per parsed chunk)
        index = {}
        ctx.memo["tm204-items"] = index
        for chunk in ctx.chunks:
            own = ctx.of_text(chunk, "tm204-items", _items_index)
            for found, names in own.items():
                index.setdefault(found, set()).update(names)
    return index.get(container, set())


def _items_index(chunk: Chunk) -> dict[str, set[str]]:
    """Container -> the names its items are bound to, in one top-level statement (a regex over
    the lines that can bind an item: a search per container would cost more)."""
    index: dict[str, set[str]] = {}
    for line in split_lines(chunk.text):
        if "for" in line or "[" in line:
            for match in _ITEM.finditer(line):
                found = match.group(2) or match.group(4)
                index.setdefault(found, set()).add(match.group(1) or match.group(3))
    return index


_WORD = re.compile(r"[A-Za-z_]\w*(?:\.[A-Za-z_]\w*)*")
_ITEM = re.compile(r"for\s+(\w+)\s+in\s+([\w.]+)\b|(\w+)\s*=\s*([\w.]+)\[")


_TENSOR_USE = (".item()", ".cpu()", ".detach()", ".numpy()", ".tolist()", ".backward(", ".to(")


def _used_as_tensor(ctx: RuleContext, target: str) -> bool:
    """Is the total read as a tensor anywhere (``(total / n).item()``)? Then ``.detach()``, which
    keeps it a tensor; ``.item()`` only where every read works with a float."""
    name = re.compile(rf"(?<![\w.]){re.escape(target)}(?!\w)")
    return any(any(use in line for use in _TENSOR_USE) and name.search(line) for line in ctx.lines)


def _assigned_in(loop: cst.CSTNode, key: str) -> bool:
    stack = list(block_statements(loop.body))  # type: ignore[attr-defined]
    while stack:
        stmt = stack.pop()
        if isinstance(stmt, cst.SimpleStatementLine):
            for small in stmt.body:
                targets: list[cst.BaseExpression] = []
                if isinstance(small, cst.Assign):
                    targets = [t.target for t in small.targets]
                    if any(_is_self_sum(small.value, key) for _ in targets):
                        continue  # ``total = total + loss`` is the accumulation itself
                elif isinstance(small, cst.AnnAssign):
                    targets = [small.target]
                for t in targets:
                    bound = key_of(t)
                    # ``meter = Meter()`` starts ``meter.sum`` afresh as well
                    if bound is not None and (key == bound or key.startswith(bound + ".")):
                        return True
        elif isinstance(stmt, cst.FunctionDef | cst.ClassDef):
            continue
        else:
            stack.extend(nested_blocks(stmt))
    return False


def _is_self_sum(value: cst.BaseExpression, key: str) -> bool:
    return isinstance(value, cst.BinaryOperation) and key_of(value.left) == key
