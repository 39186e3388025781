"""TM102 evaluation-in-train-mode."""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator

import libcst as cst

from torchmode.engine import events as ev
from torchmode.engine.context import RuleContext
from torchmode.engine.function_flow import FunctionFlow
from torchmode.engine.names import literal_bool
from torchmode.engine.statements import StatementIndex
from torchmode.engine.values import Mode, ModeVal, Origin
from torchmode.engine.walk import names_in
from torchmode.findings import Finding, Fix, Related, Severity, TextEdit
from torchmode.knowledge.costs import cost_note
from torchmode.rules import common, sampling, wording
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
named like `evaluate`/`validate`/`test`/`predict`, with no training step around them; a
Hugging Face `model.generate(...)` is such a forward pass (it turns gradients off, never
Dropout); so is a forward pass over a loop on evaluation data, or on a batch drawn from it
with `next()` (`next(iter(val_loader))` every N iterations of a training loop) that nothing
backpropagates, or, in a script or function that trains nothing, a forward pass of a model
whose trained weights it loaded first from a file (`netG.load_state_dict(torch.load(path))`, then
`netG(noise)`: sampling or predicting from a checkpoint) — where
the model is in train mode: `model.train()` ran before it (directly or in a function you call)
and no `model.eval()` since, or the model was just built (a new module is in train mode). A
function that nothing in its file calls is checked in the modes its callers in the other
files of the project pass (`eval_net(net, loader)` in `eval.py`, called by `train.py` in the
middle of training), when every caller is known. A library's test function that nothing
calls is checked in the mode the same file's training function leaves the model in, when that
function calls `model.train()` itself and nothing in the file calls `eval()`.

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
whose layers are not known, as info; and so is a generator the file trains, run on random
noise only (`generator(fixed_z)` to save samples): many GANs are trained and sampled in train
mode only, on purpose.
""".replace("{cost}", cost_note("TM102")),
    invalid=examples.INVALID,
    valid=examples.VALID,
)


def check(ctx: RuleContext) -> Iterator[Finding]:
    best: dict[tuple[int, int, str], tuple[int, Finding]] = {}
    for flow, event in ctx.events(ev.Forward):
        if not common.is_evaluation(ctx, flow, event) or common.skip_framework(ctx, event):
            continue
        info = event.site.info
        eval_name = info is not None and bool(
            ctx.flow.evaluation_name(info.name)
            # predict(), sample(), generate() that train nothing: inference
            or (not event.site.trains and ctx.flow.inference_name(info.name))
        )
        confirmed = (
            common.grad_off(event)
            or eval_name
            or event.over_eval_data
            or _runs_loaded_weights(ctx, event)
        )
        library = None if confirmed else _library_entry_modes(ctx, flow, event)
        if not confirmed and library is None:
            continue  # not known to evaluate
        shared = _trained_in_same_mode(ctx, flow, event)
        if shared is not None:
            _keep_shallowest(best, event, _shared_finding(ctx, flow, event, shared))
            continue
        modes = event.modes
        if any(v.mode is Mode.INPUT for v in modes) and (
            flow.called or common.entered_by_base(ctx, flow, event.key)
        ):
            continue  # each caller decides, with its own state
        # the modes other functions of the file leave the model in, on entry here
        entry = (
            library
            or _class_entry_modes(ctx, flow, event)
            or _library_entry_modes(ctx, flow, event)
        )
        if entry is not None:
            modes = entry[0]
        # in source order: the message names the first, and a set's order is not stable
        trains = sorted((v for v in modes if v.mode is Mode.TRAIN), key=lambda v: _order(ctx, v))
        if not trains or len(trains) != len(modes):
            continue
        explicit_here = entry is None and all(
            v.origin is not None
            and not v.origin.constructed
            and v.origin.via is None
            and v.origin.caller is None
            and not event.via
            for v in trains
        )
        if explicit_here and (
            not event.site.trains
            or _inside_training_step(ctx, event)
            or all(_switched_just_before(ctx, event, v.origin) for v in trains)
        ):
            # train() right there, on purpose: BatchNorm recalibration, MC dropout, a second
            # model used in train mode inside the training step
            continue
        if (
            not event.via
            and all(v.origin is not None and v.origin.caller is None for v in trains)
            and _switched_both_ways(flow, event.key)
            and _inside_training_step(ctx, event)
        ):
            # a mean teacher that the function puts in eval mode to validate and back in train
            # mode after: the mode its pseudo-labels are made in is chosen, from the first step
            continue
        if _feeds_failing_backward(flow, event):
            continue  # the real mistake is the no_grad around training (TM202 reports it)
        constructed = all(v.origin is not None and v.origin.constructed for v in trains)
        if (
            constructed
            and common.shape_check(ctx, event)
            and (not _loads_weights(event) or common.output_discarded(ctx, event))
        ):
            # built right there and run once on made-up input (a model file's ``test()``
            # printing the output size): random weights, whose outputs mean nothing in
            # either mode; with weights loaded somewhere in the code around it, an output
            # nothing reads still evaluates nothing
            continue
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
        left_by = entry[1] if entry is not None and len(entry[1]) == 1 else None
        finding = _finding(ctx, flow, event, trains, constructed, left_by)
        if finding is not None:
            _keep_shallowest(best, event, finding)
    for _, finding in best.values():
        yield finding


_LOADS = re.compile(r"\bload\w*\s*\(|\bfrom_pretrained\s*\(|\brestore\w*\s*\(")


def _runs_loaded_weights(ctx: RuleContext, event: ev.Forward) -> bool:
    """Inference: the function (or script, or notebook) loads trained weights into this very
    model (``netG.load_state_dict(torch.load(path))``) before running it, and trains nothing.
    A script that samples from or predicts with a checkpoint marks its evaluation no other way
    (no ``no_grad``, no evaluation loader, no ``eval()``: the very mistake); fine-tuning from
    a checkpoint trains, and a mode set on purpose after loading (MC dropout's ``train()``) is
    an explicit switch the check leaves alone."""
    if event.site.trains or event.via or "load_state_dict" not in ctx.source:
        return False
    pattern = re.compile(rf"(?<![\w.]){re.escape(event.key)}(?:\.module)?\.load_state_dict\s*\(")
    info = event.site.info
    # 0-based lines; a statement's start needs no position of the whole chunk
    first = ctx.index(info.chunk).start_of(info.node).line if info is not None else 0
    last = ctx.line_of(event.node) - 1  # the loading comes first
    before = ctx.lines[first:last]
    # weights read from a file (``torch.load``, a checkpoint loader): another module's
    # ``state_dict()`` copied in (a demonstration that two layers compute the same) is not
    # a trained model
    return any(pattern.search(line) for line in before) and any(
        _FROM_FILE.search(line) for line in before
    )


_FROM_FILE = re.compile(r"\bload(?!_state_dict)\w*\s*\(")


def _loads_weights(event: ev.Forward) -> bool:
    """Whether the function that runs the forward loads weights anywhere (a checkpoint, a
    pretrained model): then its outputs are a trained model's."""
    info = event.site.info
    return info is None or _LOADS.search(info.chunk.text) is not None


def _keep_shallowest(
    best: dict[tuple[int, int, str], tuple[int, Finding]], event: ev.Forward, finding: Finding
) -> None:
    """One finding per evaluation: the one seen through the fewest calls."""
    key = (id(event.site), id(event.region), event.key)
    depth = len(event.via)
    if key not in best or depth < best[key][0]:
        best[key] = (depth, finding)


def _trained_in_same_mode(
    ctx: RuleContext, flow: FunctionFlow, event: ev.Forward
) -> ev.Train | None:
    """A training step of the same model in this function, before the evaluation or in the
    loop around it, that saw the very same mode values: nothing switched the model between
    training and evaluating it, so whatever mode the caller set, one of the two runs in the
    wrong mode. Only for modes this function does not know (as entered, unknown)."""
    if not event.modes or any(v.mode in (Mode.TRAIN, Mode.EVAL) for v in event.modes):
        return None
    if _own_switch(ctx, event.key):
        return None
    at = ctx.range_of(event.anchor).start
    loop = event.loops[-1] if event.loops else None
    for e in flow.events:
        if (
            not isinstance(e, ev.Train)
            or e.kind != "step"
            or e.models.get(event.key) != event.modes
        ):
            continue
        if ctx.range_of(e.anchor).start < at or (
            loop is not None and any(lp is loop for lp in e.loops)
        ):
            return e
    return None


_SWITCH_CALL = re.compile(r"\.(\w*(?:eval|train)\w*)\s*\(")


def _own_switch(ctx: RuleContext, key: str) -> bool:
    """``net.to_eval()``, ``model.set_eval_mode()``: a mode switch of the project's own, whose
    effect this file does not see. The file is searched once per analysis (a keystroke's
    analysis asks for every evaluation of a big module)."""
    memo = ctx.memo
    found = memo.get(("own switch", key))
    if found is None:
        starts = memo.get("own switches")
        if starts is None:
            starts = memo["own switches"] = [
                m.start()
                for m in _SWITCH_CALL.finditer(ctx.source)
                if m.group(1) not in ("eval", "train")
            ]
        source, size = ctx.source, len(key)
        found = memo[("own switch", key)] = any(
            at >= size
            and source.startswith(key, at - size)
            and (at == size or not _receiver_char(source[at - size - 1]))
            for at in starts  # type: ignore[attr-defined]
        )
    return bool(found)


def _receiver_char(char: str) -> bool:
    """Part of a longer receiver (``self.net`` is not ``net``)."""
    return char == "." or char.isalnum() or char == "_"


def _class_entry_modes(
    ctx: RuleContext, flow: FunctionFlow, event: ev.Forward
) -> tuple[frozenset[ModeVal], tuple[str, ...]] | None:
    """``self.model`` on entry to a method nothing in the file calls (``sample()`` after
    ``fit()``, called by a harness): the modes the class's training methods leave it in, and
    their names, when no method of the class ever switches it to eval mode."""
    info = flow.info
    if info is None or info.cls is None or flow.called or not event.key.startswith("self."):
        return None
    if not all(v.mode is Mode.INPUT for v in event.modes):
        return None
    left: set[ModeVal] = set()
    names: set[str] = set()
    for other in ctx.flow.all_flows():
        if other is flow or other.info is None or other.info.cls is not info.cls:
            continue
        if any(
            isinstance(e, ev.ModeSwitch)
            and e.key == event.key
            and any(v.mode is not Mode.TRAIN for v in e.modes)
            for e in other.events
        ):
            return None
        if event.key not in common.trained_in(other, None):
            continue  # a target network or a fixed transform is built, not trained, here
        leaves = {v for v in other.exit_modes.get(event.key, ()) if v.mode is not Mode.INPUT}
        if leaves:
            left |= leaves
            names.add(other.info.name)
    if left and all(v.mode is Mode.TRAIN for v in left):
        return frozenset(left), tuple(sorted(names))
    return None


# a word of a function's name that says it evaluates (``dnn_test_model``, ``run_eval_pass``)
_EVALUATION_WORD = re.compile(
    r"(?:^|_)(?:test|eval|evaluate|evaluation|valid|validate|validation|predict|inference)(?:_|$)"
)


def _library_entry_modes(
    ctx: RuleContext, flow: FunctionFlow, event: ev.Forward
) -> tuple[frozenset[ModeVal], tuple[str, ...]] | None:
    """A library's evaluation function that nothing in the project calls, given the model
    that a training function of the same file leaves in train mode (``train_model(model)``
    calls ``model.train()`` and returns; ``test_model(model)`` runs it over the test data):
    the modes that function leaves its model in, and its name, when nothing in the file ever
    switches a model to eval mode. A file whose training function sets the mode itself leaves
    the mode to each function, and its evaluation function does not set it."""
    info = flow.info
    if info is None or info.cls is not None or info.outer is not None or flow.called:
        return None
    if event.via or not event.iterated or event.site.trains:
        return None  # a pass over data, in the function itself
    if not _EVALUATION_WORD.search(info.name):
        return None
    root = event.key.split(".", 1)[0]
    if root not in info.params or not all(v.mode is Mode.INPUT for v in event.modes):
        return None
    suffix = event.key[len(root) :]
    left: set[ModeVal] = set()
    names: set[str] = set()
    for other in ctx.flow.all_flows():
        if any(
            isinstance(e, ev.ModeSwitch) and any(v.mode is not Mode.TRAIN for v in e.modes)
            for e in other.events
        ):
            return None
        oinfo = other.info
        if other is flow or oinfo is None or oinfo.cls is not None or oinfo.outer is not None:
            continue
        trained = common.trained_in(other, None)
        for key, vals in other.exit_modes.items():
            head = key.split(".", 1)[0]
            if head not in oinfo.params or key[len(head) :] != suffix or key not in trained:
                continue
            if vals and all(v.mode is Mode.TRAIN and v.origin is not None for v in vals):
                left |= vals
                names.add(oinfo.name)
    return (frozenset(left), tuple(sorted(names))) if left else None


def _order(
    ctx: RuleContext, value: ModeVal
) -> tuple[int, list[tuple[int, int]], tuple[str, int, int]]:
    """Source order of the call sites leading to the origin, then of the origin itself (for
    a caller in another file: its file and lines)."""
    origin = value.origin
    if origin is None:
        return (1, [], ("", 0, 0))
    places = [ctx.range_of(node).start for node in origin.chain()]
    site = origin.caller
    there = (site.path, site.line, site.set_line or 0) if site is not None else ("", 0, 0)
    return (0, [(p.line, p.character) for p in places], there)


def _inside_training_step(ctx: RuleContext, event: ev.Forward) -> bool:
    """A single no-grad forward inside a loop that trains (not a pass over another loader),
    or one repeated there on the step's own input (a teacher's noisy draws for uncertainty)."""
    loops = event.site_loops
    info = event.site.info
    step = next(
        (i for i in reversed(range(len(loops))) if ctx.flow.contains_training(loops[i], info)),
        None,
    )
    if step is None:
        return False
    if step == len(loops) - 1 and not event.iterated:
        return True
    # what lies between the step and the forward must only repeat it on one input, and the
    # model is not the one trained there (a loop of validation batches drawn inside the step,
    # `for _ in range(eval_iters): x, y = get_batch("val")`, runs the trained model)
    if event.key in common.trained_in(event.site, loops[step]):
        return False
    return any(_repeats_one_input(s, event.node) for s in _statements_of(loops[step]))


def _statements_of(loop: cst.CSTNode) -> list[cst.CSTNode]:
    body = getattr(loop, "body", None)
    return list(getattr(body, "body", ()))


def _switched_both_ways(flow: FunctionFlow, key: str) -> bool:
    """The function switches ``key`` to eval mode and back to train mode itself."""
    seen: set[Mode] = set()
    for e in flow.events:
        if isinstance(e, ev.ModeSwitch) and e.key == key:
            seen.update(v.mode for v in e.modes)
    return Mode.EVAL in seen and Mode.TRAIN in seen


def _switched_just_before(ctx: RuleContext, event: ev.Forward, origin: Origin | None) -> bool:
    """The ``train()`` comes before the forward in the same block (or a block around it) and
    nothing in that block trains, before the forward or after it, and the forward is repeated on
    one input: the switch was made for this evaluation (MC dropout's repeated passes in a
    notebook that trained the model cells above), not left over from a training loop or put
    there by mistake."""
    if origin is None:
        return False
    call = event.node
    chunk = ctx.chunk_of(call)
    index = ctx.index(chunk)
    stmt = index.statement_of(call)
    switch_chunk = ctx.chunk_of(origin.node)
    switch = ctx.index(switch_chunk).statement_of(origin.node)
    if stmt is None or switch is None:
        return False
    scope = event.site.info
    for current in (stmt, *index.ancestors(stmt)):
        if isinstance(current, cst.FunctionDef | cst.ClassDef):
            return False
        before = ctx.siblings_before(current, chunk)
        at = next((i for i, s in enumerate(before) if s is switch), None)
        if at is not None:
            # training after the evaluation in that block means the switch was made for it, and
            # the evaluation was put in between (validating last epoch's weights first)
            between = [*before[at + 1 :], current]
            after = [s for s, _ in ctx.siblings_after(current, chunk)]
            if any(ctx.flow.contains_training(s, scope) for s in (*between, *after)):
                return False
            return _repeats_one_input(current, call)
    return False


_COMPREHENSIONS = (cst.ListComp, cst.SetComp, cst.GeneratorExp, cst.DictComp)


def _repeats_one_input(top: cst.CSTNode, call: cst.CSTNode) -> bool:
    """Inside ``top``, the forward sits in a loop that feeds it the same input every time
    (``[net(grid) for _ in range(50)]``): MC dropout's repeated draws. A loop over batches
    (``for x, y in valid_loader: model(x)``) evaluates with dropout on by mistake."""
    path = _path_to(top, call)
    if path is None:
        return False
    loops: list[cst.CSTNode] = []
    for node in path:
        if isinstance(node, cst.For | cst.While):
            loops.append(node)
        elif isinstance(node, _COMPREHENSIONS):
            clause: cst.CompFor | None = node.for_in
            while clause is not None:
                loops.append(clause)
                clause = clause.inner_for_in
    if not loops:
        return False
    if not isinstance(call, cst.Call):
        return False
    inputs = {name for arg in call.args for name in names_in(arg.value)}
    for loop in loops:
        if isinstance(loop, cst.For | cst.CompFor) and inputs & set(names_in(loop.target)):
            return False
    return True


def _path_to(top: cst.CSTNode, target: cst.CSTNode) -> list[cst.CSTNode] | None:
    """The nodes from ``top`` down to ``target`` (both included), or None when it is not in
    ``top``."""
    stack: list[tuple[cst.CSTNode, list[cst.CSTNode]]] = [(top, [top])]
    while stack:
        node, path = stack.pop()
        if node is target:
            return path
        stack.extend((child, [*path, child]) for child in node.children)
    return None


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
    left_by: tuple[str] | None = None,
) -> Finding | None:
    key = event.key
    here = common.built_sensitivity(ctx, (v.origin for v in trains)) if constructed else None
    if here is not None:
        verdict, note = here  # the module built here, whatever else the name holds
    else:
        verdict, note = common.sensitivity_note(ctx, key, (v.origin for v in trains))
    severity = Severity.WARNING
    if verdict is False:
        severity = Severity.HINT
    elif constructed and verdict is None:
        severity = Severity.INFO
    origin = trains[0].origin
    if origin is None:
        return None
    evaluates = f"`{key}` evaluates in train mode on line {ctx.line_of(event.node)}"
    site = origin.caller
    if site is not None:
        # its callers in other files passed it in train mode
        others = len({v.origin.caller for v in trains if v.origin is not None}) - 1
        summary = f"{evaluates}: passed in train mode at {common.elsewhere(site)}"
        set_there = common.set_there(site)
        how = "built in train mode" if site.constructed else "in train mode"
        why = f"it is {common.called_from(site)} {how}" + (f" ({set_there})" if set_there else "")
        if others:
            why += f", as by {others} other call{'s' if others > 1 else ''}"
        why += f", and nothing calls `{key}.eval()` in `{event.site.name}`"
    elif left_by is not None and not constructed:
        # another function of the file leaves it so: the train() is not in this one
        line = ctx.line_of(origin.node)
        summary = f"{evaluates}, as `{left_by[0]}()` leaves it on line {line}"
        why = (
            f"`{left_by[0]}()` leaves it in train mode ({common.describe_origin(ctx, origin)}) "
            f"and `{event.site.name}` does not call `{key}.eval()`"
        )
    elif constructed:
        summary = f"{evaluates}: built on line {ctx.line_of(origin.node)}, never switched"
        why = f"it was built on line {ctx.line_of(origin.node)} and never switched"
        if origin.via is not None:
            why += f" (by {common.where(ctx, origin.outermost)})"
    else:
        summary = (
            f"{evaluates} after {wording.brief(ctx, origin.outermost, key)} on line "
            f"{ctx.line_of(origin.outermost)}"
        )
        why = (
            f"{common.describe_origin(ctx, origin)} set train mode and nothing calls "
            f"`{key}.eval()` since"
        )
    details = (
        f"{common.where(ctx, event.node)} runs in train mode: {why} — Dropout stays active and "
        f"BatchNorm updates its running statistics with evaluation data{note}"
    )
    if site is not None:
        where = common.elsewhere(site)
        related = [Related(ctx.range_of(origin.node), f"called in train mode from {where}")]
        built = "built in train mode here" if site.constructed else "train mode set here"
        related += common.caller_related(site, f"`{key}` passed in train mode here", built)
    else:
        related = common.origin_related(ctx, origin, "train mode set here")
    return _evaluation_finding(ctx, flow, event, summary, details, severity, related)


def _shared_finding(
    ctx: RuleContext, flow: FunctionFlow, event: ev.Forward, train: ev.Train
) -> Finding:
    key = event.key
    verdict, note = common.sensitivity_note(ctx, key)
    severity = {True: Severity.WARNING, None: Severity.INFO, False: Severity.HINT}[verdict]
    summary = (
        f"`{key}` evaluates on line {ctx.line_of(event.node)} in the same mode it trains in on "
        f"line {ctx.line_of(train.anchor)}"
    )
    details = (
        f"{common.where(ctx, event.node)} runs in the mode it was trained in at "
        f"{common.where(ctx, train.anchor)}: nothing calls `{key}.eval()` in between, so "
        "whichever mode the caller sets, training or evaluation runs in the wrong one — "
        "Dropout stays active and BatchNorm updates its running statistics with evaluation "
        f"data{note}"
    )
    related = [Related(ctx.range_of(train.anchor), "trained here in the same mode")]
    return _evaluation_finding(ctx, flow, event, summary, details, severity, related)


def _evaluation_finding(
    ctx: RuleContext,
    flow: FunctionFlow,
    event: ev.Forward,
    summary: str,
    details: str,
    severity: Severity,
    related: Iterable[Related],
) -> Finding:
    """The finding at the evaluating forward, with the calls that led to it first."""
    if severity is Severity.WARNING and _samples_a_trained_generator(ctx, event):
        severity = Severity.INFO
        details += (
            ". It samples from random noise, though: a generator trained and sampled only in "
            "train mode, as many GANs are, is run the way it was trained; call "
            f"`{event.key}.eval()` first only if its samples are meant to use what BatchNorm "
            "learnt"
        )
    called = [
        Related(ctx.range_of(call), f"evaluation called here: {ctx.short(call)}")
        for call in event.via
    ]
    return Finding(
        RULE.code,
        summary,
        ctx.range_of(event.node),
        severity,
        (*called, *related),
        subject=event.key,
        details=details,
        fix_builder=lambda: _fixes(ctx, flow, event),
        fix_preview=lambda: common.first_candidate(_candidates(ctx, flow, event)),
    )


def _samples_a_trained_generator(ctx: RuleContext, event: ev.Forward) -> bool:
    """A forward on random noise only, of a model some function of the file trains."""
    if not any(event.key in common.trained_in(f, None) for f in ctx.flow.all_flows()):
        return False
    return sampling.samples_noise(ctx, event)


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
    spelled = event.given or common.module_spelling(event.node)
    if spelled is None:
        return
    index = ctx.index(ctx.chunk_of(event.region))
    own = index.statement_of(event.node)
    switch = _train_call_just_before(ctx, index, own, spelled) if own is not None else None
    if switch is not None:
        # ``model.train()`` right before the forward in an evaluation loop (copied from the
        # training loop): make that call the eval() rather than add one after it
        yield Fix(
            f"Call `{spelled}.eval()` instead of `train()` before the evaluation",
            (TextEdit(index.range_of(switch), f"{spelled}.eval()"),),
        )
    first = _first_statement(event, spelled)
    if first is not None:
        # eval() where people put it: at the top of the evaluating function
        yield _eval_before(ctx, event, index, first, spelled)
    yield _eval_before(ctx, event, index, event.region, spelled)
    # the evaluation block itself switches back to train mode before the forward (it calls a
    # helper that restores the mode): eval() right before the forward's own statement
    if own is not None and own is not event.region:
        yield _eval_before(ctx, event, index, own, spelled)


def _train_call_just_before(
    ctx: RuleContext, index: StatementIndex, stmt: cst.CSTNode, spelled: str
) -> cst.Call | None:
    """The ``spelled.train()`` (or ``train(True)``) call that is the whole statement right
    before ``stmt`` in its block."""
    block = index.block.get(id(stmt), [])
    at = next((i for i, s in enumerate(block) if s is stmt), 0)
    if at == 0:
        return None
    previous = block[at - 1]
    if type(previous) is not cst.SimpleStatementLine or len(previous.body) != 1:
        return None
    small = previous.body[0]
    if type(small) is not cst.Expr or type(small.value) is not cst.Call:
        return None
    call = small.value
    func = call.func
    if type(func) is not cst.Attribute or func.attr.value != "train":
        return None
    if ctx.code(func.value) != spelled:
        return None
    if call.args and not (len(call.args) == 1 and literal_bool(call.args[0].value) is True):
        return None
    return call


def _first_statement(event: ev.Forward, spelled: str) -> cst.BaseStatement | None:
    """The first statement (after the docstring) of a function that evaluates a model it
    receives or holds, and trains nothing."""
    info = event.site.info
    if info is None or event.site.trains:
        return None
    root = spelled.split(".", 1)[0].split("[", 1)[0]
    if root != "self" and root not in info.params:
        return None
    return common.first_statement(info.node)


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
