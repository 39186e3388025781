"""A file's summary (summary_types.py) read off its analysis: the modes its functions leave
their parameters in and train them in, the grad mode they leave, decorators and context managers
that turn gradients off, its model classes, its calls into other files, its meters."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import libcst as cst

from torchmode.engine import events as ev
from torchmode.engine.accumulation import Accumulator, KeptArgument, kept_arguments
from torchmode.engine.calls_out import calls_out, line_of, repeated_calls, short
from torchmode.engine.facts import ClassInfo, Facts, FunctionInfo
from torchmode.engine.flow import FileFlow
from torchmode.engine.forward_helpers import runs_given
from torchmode.engine.function_flow import FunctionFlow
from torchmode.engine.held_arguments import Kept, constructor_keeps
from torchmode.engine.names import is_within, root_of
from torchmode.engine.overrides import subclasses_of
from torchmode.engine.summary_types import ExternalFunction, FileSummary, Inside, ParamEffect
from torchmode.engine.training import serves_input_attack
from torchmode.engine.values import Mode, ModeVal
from torchmode.engine.walk import children
from torchmode.engine.wrappers import is_context_manager, turns_grad_off, yield_statement

if TYPE_CHECKING:
    from torchmode.engine.project_files import Buffer, Stamp


def summary_of(
    file_flow: FileFlow, path: Path, buffer: Buffer | None, text: str, root: str
) -> tuple[FileSummary, tuple[tuple[str, Stamp | None], ...]]:
    """The summary of the file ``file_flow`` analysed (``text``), and the stamps of the files
    it imports; ``buffer``: what is kept of it as an open document. The analysis of a file
    being checked records no calls into other files: its summary then leaves the callers of
    the functions it calls unknown (callers.py)."""
    facts = file_flow.facts
    imported = facts.project_files()
    module_classes = {
        name: facts.class_sensitivity(name) for name in facts.classes if facts.class_is_module(name)
    }
    # re-exported (``from .unet_model import UNet`` or ``import *`` in a package's __init__)
    if facts.project is not None:
        for module in facts.imports.star_modules:
            for name, verdict in facts.project.module_classes_of(module).items():
                module_classes.setdefault(name, verdict)
    for local, full in facts.imports.names.items():
        if local not in module_classes and not local.startswith("*"):
            qualified = facts.project_class(full)
            if qualified is not None and facts.project is not None:
                module_classes[local] = facts.project.class_sensitivity(qualified)
    out: dict[str, ExternalFunction] = {}
    for name, info in file_flow.facts.functions.items():
        if info.cls is not None or info.outer is not None:
            continue
        found = _function_summary(file_flow, info, f"{path.stem}.{name}", buffer)
        if found is not None:
            out[name] = found
    if buffer is not None:
        buffer.settle()
    calls = calls_out(file_flow, text, path, root)
    accumulators = _accumulators(file_flow, path)
    subclasses = subclasses_of(file_flow, path, root)
    repeated = repeated_calls(file_flow, path, root) if file_flow.collect_calls else {}
    summary = FileSummary(
        out,
        module_classes,
        True,
        *calls,
        accumulators,
        subclasses,
        repeated=repeated,
        methods=_wrapper_methods(file_flow, path, buffer),
        held_modules={name: _held_modules(facts, name) for name in _plain_classes(facts)},
        constructor_children=_constructor_children(facts),
    )
    return summary, imported


def _function_summary(
    file_flow: FileFlow,
    info: FunctionInfo,
    qualified: str,
    buffer: Buffer | None,
    own: bool = False,
) -> ExternalFunction | None:
    """What a function does to what it is given (None: nothing other files need); ``own``: a
    method, whose effects on the attributes of ``self`` count too (wrapper classes)."""
    facts = file_flow.facts
    flow = file_flow.flow_of(info)
    if flow is None:
        return None
    params = tuple(info.params)
    exit_modes = tuple(
        effect
        for key, vals in flow.exit_modes.items()
        if (effect := _effect(key, vals, params, own=own)) is not None
    )
    trains: list[ParamEffect] = []
    # with steps of its own, it trains what they update (the gradients of a model its
    # optimizers leave out are a by-product); without, what its caller's step updates
    steps = any(True for _ in flow.events_of(ev.Step))
    for event in flow.events_of(ev.Train):
        assert isinstance(event, ev.Train)
        for key, vals in event.models.items():
            effect = _effect(key, vals, params, allow_input=True, own=own)
            if effect is None or effect in trains:
                continue
            if event.kind == "backward" and serves_input_attack(facts, event):
                continue  # an attack's backward() for its input perturbation
            if not steps or event.kind == "step" or _stepped(flow, facts, key):
                trains.append(effect)
    exit_grad = None
    if flow.exit_grad:
        enabled = {g.enabled for g in flow.exit_grad}
        if len(enabled) == 1:
            exit_grad = next(iter(enabled))
    if own:
        # a method's decorators, context managers and forward passes are not read yet
        returned = flow.returns
        if exit_modes or trains or returned.graph:
            exit_modes = _by_sensitivity(facts, exit_modes)
            trains_in_order = _by_sensitivity(facts, tuple(trains))
            return ExternalFunction(
                qualified,
                params,
                exit_modes,
                trains_in_order,
                steps=steps,
                returns_graph=returned.graph,
                returns_loss=returned.graph and returned.lossy,
            )
        return None
    grad_off = (
        buffer.turns_grad_off(info.node, facts)
        if buffer is not None
        else turns_grad_off(info.node, facts.imports)
    )
    inside, context_exit = _context_effects(info.node, flow, facts, params)
    runs = runs_given(info, flow, facts)
    forwards = tuple(ParamEffect(param, suffix, Mode.INPUT) for param, suffix in runs)
    clears = _cleared_params(flow, params)
    if (
        exit_modes
        or trains
        or clears
        or exit_grad is not None
        or grad_off
        or inside is not None
        or forwards
        or flow.returns_fresh
        or flow.returns.graph
    ):
        return ExternalFunction(
            qualified,
            params,
            exit_modes,
            tuple(trains),
            exit_grad,
            grad_off,
            inside,
            context_exit,
            steps,
            forwards,
            clears,
            flow.returns_fresh,
            flow.returns_class,
            flow.returns.graph,
            flow.returns.graph and flow.returns.lossy,
        )
    return None


def _by_sensitivity(facts: Facts, effects: tuple[ParamEffect, ...]) -> tuple[ParamEffect, ...]:
    """A method's effects on attributes of ``self`` in a fixed order, those with layers that
    depend on the mode first: a caller's finding names the first of the modules one call
    switches (``self.img_enc`` with its Dropout rather than a GRU beside it)."""
    rank = {True: 0, None: 1, False: 2}

    def key(effect: ParamEffect) -> tuple[int, str, str]:
        found = facts.mode_sensitivity(effect.param + effect.suffix)
        return rank[found], effect.param, effect.suffix

    return tuple(sorted(effects, key=key))


def _wrapper_methods(
    file_flow: FileFlow, path: Path, buffer: Buffer | None
) -> dict[str, dict[str, ExternalFunction]]:
    """The methods of the file's plain classes (a ``VSE`` object holding ``self.img_enc``) and
    module classes (a trainer module holding the model and its optimizer) that switch the
    modes of, or train, attributes of ``self``, or return a value with its graph: what a call
    ``model.val_start()`` or ``trainer.train_step(x, y)`` on an instance does, in another
    file."""
    facts = file_flow.facts
    out: dict[str, dict[str, ExternalFunction]] = {}
    modules = [name for name in facts.classes if facts.class_is_module(name)]
    for name in (*_plain_classes(facts), *modules):
        for method, info in facts.classes[name].methods.items():
            if not info.params or info.params[0] != "self" or info.node.decorators:
                continue
            if method.startswith("__") or method == "forward":
                # ``__init__``: its modules are built there, not switched; a call to
                # ``forward`` (or to the instance) is a forward pass, read as one
                continue
            found = _function_summary(file_flow, info, f"{path.stem}.{name}.{method}", buffer, True)
            if found is not None:
                out.setdefault(name, {})[method] = found
    return out


def _plain_classes(facts: Facts) -> list[str]:
    """The file's classes that are no modules, by their bases (a base of unknown kind leaves
    that open: ``LightningModule``)."""
    return [
        name
        for name, cls in facts.classes.items()
        if not facts.class_is_module(name) and _plain_bases(facts, cls)
    ]


def _constructor_children(facts: Facts) -> dict[str, Kept]:
    """Per nn.Module class of the file, the constructor arguments it keeps as children."""
    out: dict[str, Kept] = {}
    for name, cls in facts.classes.items():
        if facts.class_is_module(name) and (kept := constructor_keeps(cls.node)) is not None:
            out[name] = kept
    return out


def _held_modules(facts: Facts, cls: str) -> dict[str, tuple[str, bool | None]]:
    """The modules the plain class ``cls`` keeps as attributes of ``self`` (built in its
    methods: ``self.img_enc = EncoderImage(...)``), with their sensitivity to the mode."""
    out: dict[str, tuple[str, bool | None]] = {}
    for attr in sorted(_self_attributes(facts.classes[cls].node)):
        key = "self." + attr
        if key in facts.module_keys:
            out[attr] = (facts.module_class.get(key, ""), facts.mode_sensitivity(key))
    return out


def _self_attributes(node: cst.CSTNode) -> set[str]:
    """The attributes of ``self`` a class's code assigns (``self.img_enc = ...``)."""
    found: set[str] = set()
    stack: list[cst.CSTNode] = [node]
    while stack:
        current = stack.pop()
        if type(current) is cst.AssignTarget or type(current) is cst.AnnAssign:
            target = current.target
            if (
                type(target) is cst.Attribute
                and type(target.value) is cst.Name
                and target.value.value == "self"
            ):
                found.add(target.attr.value)
            continue
        stack.extend(children(current))
    return found


def _plain_bases(facts: Facts, cls: ClassInfo, seen: frozenset[str] = frozenset()) -> bool:
    """Whether every base of ``cls`` is ``object`` or a plain class of the file."""
    for base in cls.bases:
        if base == "object":
            continue
        found = facts.classes.get(base)
        if found is None or base in seen or not _plain_bases(facts, found, seen | {base}):
            return False
    return True


def _accumulators(file_flow: FileFlow, path: Path) -> dict[str, dict[str, Accumulator]]:
    """The methods of the file's plain classes (meters, loggers; not models) that add an
    argument to an attribute of their object."""
    facts = file_flow.facts
    out: dict[str, dict[str, Accumulator]] = {}
    for name, cls in facts.classes.items():
        if facts.class_is_module(name):
            continue
        for method, info in cls.methods.items():
            params = tuple(info.params)
            if not params or params[0] != "self":
                continue
            flow = file_flow.flow_of(info)
            kept = tuple(
                KeptArgument(
                    param,
                    e.target,
                    e.kind,
                    e.value.lossy,
                    short(e.node),
                    line_of(file_flow, e.node) or 0,
                )
                for param, e in (kept_arguments(flow) if flow is not None else ())
                if e.target.startswith("self.")
            )
            if kept:
                out.setdefault(name, {})[method] = Accumulator(params[1:], kept, path.name)
    return out


def _cleared_params(flow: FunctionFlow, params: tuple[str, ...]) -> tuple[tuple[str, str], ...]:
    """What it was given whose gradients it clears (``optimizer.zero_grad()`` where
    ``optimizer`` is a parameter), as (parameter, suffix), in source order."""
    out: list[tuple[str, str]] = []
    for event in flow.events_of(ev.Clear):
        assert isinstance(event, ev.Clear)
        key = event.key
        if key is None:
            continue
        root = root_of(key)
        if root in params and root not in {"self", "cls"} and (root, key[len(root) :]) not in out:
            out.append((root, key[len(root) :]))
    return tuple(out)


def _stepped(flow: FunctionFlow, facts: Facts, key: str) -> bool:
    """A step in ``flow`` of an optimizer that may update ``key`` (what TM101 asks of a
    backward() in the file itself: an optimizer over other modules trains nothing of it)."""
    for event in flow.events_of(ev.Step):
        assert isinstance(event, ev.Step)
        cover = facts.covered_by(event.optimizer, event.site.info)
        if not cover or any(is_within(key, c) for c in cover):
            return True
    return False


def _context_effects(
    node: cst.FunctionDef, flow: FunctionFlow, facts: Facts, params: tuple[str, ...]
) -> tuple[Inside | None, tuple[ParamEffect, ...]]:
    if not is_context_manager(node, facts.imports):
        return None, ()
    stmt = yield_statement(node)
    state = flow.states.get(id(stmt)) if stmt is not None else None
    if state is None:
        return None, ()
    modes = tuple(
        effect
        for key, vals in state.modes.items()
        if (effect := _effect(key, vals, params)) is not None
    )
    enabled = {g.enabled for g in state.grad}
    grad = next(iter(enabled)) if len(enabled) == 1 else None
    after = tuple(
        effect
        for key, vals in flow.exit_modes.items()
        if (effect := _effect(key, vals, params, allow_input=True)) is not None
    )
    return Inside(modes, grad), after


def _effect(
    key: str,
    vals: frozenset[ModeVal],
    params: tuple[str, ...],
    allow_input: bool = False,
    own: bool = False,
) -> ParamEffect | None:
    """``key``'s mode as an effect on a parameter (``own``: an attribute of ``self`` too)."""
    root = root_of(key)
    if root not in params or root == "cls" or (root == "self" and not (own and key != root)):
        return None
    modes = {v.mode for v in vals}
    if len(modes) != 1:
        return None
    mode = next(iter(modes))
    if mode in (Mode.TRAIN, Mode.EVAL) or (allow_input and mode is Mode.INPUT):
        return ParamEffect(root, key[len(root) :], mode)
    return None
