"""What one top-level statement contributes to a file's facts, recorded once per parsed chunk
(walking its expressions is the expensive part) and kept with the parse, so that a keystroke
re-reads only the statements it changed; fact_collection.py replays the records into ``Facts``."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field

import libcst as cst

from torchmode.engine import torch_api as api
from torchmode.engine.blocks import nested_blocks
from torchmode.engine.facts import MODULE_EVIDENCE
from torchmode.engine.init_rates import Arguments
from torchmode.engine.library_engines import initialize_outputs, may_initialize
from torchmode.engine.names import dotted, key_of
from torchmode.engine.walk import calls_in, sub_expressions


@dataclass(eq=False)
class ChunkRecord:
    """What one chunk contributes to the facts, recorded once per parsed chunk (the expensive
    part is walking its expressions) and replayed for every analysis that contains it."""

    module: cst.Module
    imports: list[cst.Import | cst.ImportFrom] = field(default_factory=list)
    classes: list[tuple[cst.ClassDef, bool]] = field(default_factory=list)  # (node, top level)
    # (def, class it is a method of, enclosing def, its parameters' names)
    functions: list[
        tuple[cst.FunctionDef, cst.ClassDef | None, cst.FunctionDef | None, list[str]]
    ] = field(default_factory=list)
    assignments: list[
        tuple[str, cst.BaseExpression, cst.ClassDef | None, cst.FunctionDef | None]
    ] = field(default_factory=list)
    # what calls of the evidence methods tell, as (Facts field, receiver): ``model.parameters()``
    # makes ``model`` a module key, ``opt.step()`` a step receiver
    call_facts: list[tuple[str, str]] = field(default_factory=list)
    class_calls: list[tuple[cst.Call, cst.ClassDef]] = field(default_factory=list)  # every one
    # classes whose methods branch on ``self.training`` or pass it on (``F.dropout(...,
    # training=self.training)``): their own code depends on the mode
    training_readers: list[cst.ClassDef] = field(default_factory=list)
    # names handed on as values (``return step_fn``, ``self.val_step = step_fn``): functions
    # of these names are called from places the analysis does not see
    handed_on: set[tuple[int, str]] = field(default_factory=set)
    # names given the first element of what may be ``deepspeed.initialize(...)`` (an engine
    # wrapping the model: library_engines.py), with the call
    engines: list[tuple[str, cst.Call]] = field(default_factory=list)
    frozen: set[str] = field(default_factory=set)
    # assigned values that name a grad-mode API (``ctx = torch.no_grad()``, a dict of them)
    grad_values: set[int] = field(default_factory=set)
    evidence: Evidence | None = None  # the rest, for the imports and classes of one analysis


@dataclass(frozen=True, slots=True)
class Coverage:
    """What an optimizer's construction says about the parameters it trains."""

    owners: frozenset[str]  # ``model`` for ``model.parameters()`` in the arguments
    names: tuple[str, ...]  # every name in the arguments: parameter lists assigned before
    # the parameters are a list of plain names (``[delta]``, ``[w, b]``), no call, no attribute
    tensor_list: bool = False


@dataclass(eq=False, slots=True)
class Evidence:
    """What a record's assignments and class calls are evidence of, given ``env`` (the file's
    imports and classes, see ``_Replay.environment``), in source order; only the assignments
    and calls that are evidence of something are listed."""

    env: tuple[object, ...]
    facts: list[tuple[str, cst.BaseExpression, tuple[object, ...]]] = field(default_factory=list)
    # the assignments whose value constructs an optimizer: key, class, function, arguments
    # (key, class, function, what the optimizer is built over, id of the assigned value)
    ctors: list[tuple[str, cst.ClassDef | None, cst.FunctionDef | None, Coverage, int]] = field(
        default_factory=list
    )
    # ``self.key = name`` in a class: (id of the class, name, key)
    self_aliases: list[tuple[int, str, str]] = field(default_factory=list)
    layers: list[tuple[cst.ClassDef, str]] = field(default_factory=list)  # class calls' layers
    # those built in ``__init__`` from its parameters, as templates (init_rates.py)
    rated: list[tuple[cst.ClassDef, str, Arguments]] = field(default_factory=list)


def record_chunk(module: cst.Module) -> ChunkRecord:
    record = ChunkRecord(module)
    recorder = _Recorder(record)
    for stmt in module.body:
        recorder.statement(stmt, None, None)
    return record


class _Recorder:
    def __init__(self, record: ChunkRecord) -> None:
        self.record = record
        self.func: cst.FunctionDef | None = None

    def statement(
        self, stmt: cst.CSTNode, cls: cst.ClassDef | None, func: cst.FunctionDef | None
    ) -> None:
        record = self.record
        if type(stmt) is cst.SimpleStatementLine:
            for small in stmt.body:
                self.small_statement(small, cls)
            return
        if type(stmt) is cst.FunctionDef:
            params = [p.name.value for p in _all_params(stmt.params)]
            record.functions.append((stmt, cls if func is None else None, func, params))
            for dec in stmt.decorators:
                self.expression(dec.decorator, cls)
            outer, self.func = self.func, stmt
            for child in _body(stmt):
                self.statement(child, cls, stmt)
            self.func = outer
            return
        if type(stmt) is cst.ClassDef:
            record.classes.append((stmt, func is None and cls is None))
            for child in _body(stmt):
                self.statement(child, stmt, None)
            return
        # compound statements: headers, then bodies
        if type(stmt) is cst.If or type(stmt) is cst.While:
            self.expression(stmt.test, cls)
            if cls is not None and _reads_training(stmt.test):
                record.training_readers.append(cls)
        elif type(stmt) is cst.For:
            self.expression(stmt.iter, cls)
            self.freeze_loop(stmt)
        elif type(stmt) is cst.With:
            for item in stmt.items:
                self.expression(item.item, cls)
        for child in nested_blocks(stmt):
            self.statement(child, cls, func)

    def small_statement(self, small: cst.BaseSmallStatement, cls: cst.ClassDef | None) -> None:
        if type(small) is cst.Import or type(small) is cst.ImportFrom:
            self.record.imports.append(small)
            return
        if type(small) is cst.Assign:
            if any(
                dotted(n).rsplit(".", 1)[-1] in _GRAD_API_NAMES  # type: ignore[union-attr]
                for n in attribute_chains(small.value)
            ):
                self.record.grad_values.add(id(small.value))
            if type(small.value) is cst.Name:
                self.record.handed_on.add((id(self.func) if self.func else 0, small.value.value))
            for target in small.targets:
                key = key_of(target.target)
                if key is not None:
                    self.record.assignments.append((key, small.value, cls, self.func))
                elif type(target.target) is cst.Tuple:
                    self.tuple_assignment(target.target, small.value, cls)
            self.expression(small.value, cls)
        elif type(small) is cst.AnnAssign and small.value is not None:
            key = key_of(small.target)
            if key is not None:
                self.record.assignments.append((key, small.value, cls, self.func))
            self.expression(small.value, cls)
        elif type(small) in (cst.Expr, cst.AugAssign, cst.Return, cst.Assert):
            if type(small) is cst.Return and small.value is not None:
                returned = small.value
                items = returned.elements if type(returned) is cst.Tuple else ()
                for node in (returned, *(el.value for el in items)):
                    if type(node) is cst.Name:
                        self.record.handed_on.add((id(self.func) if self.func else 0, node.value))
            value = getattr(small, "value", None) or getattr(small, "test", None)
            if value is not None:
                self.expression(value, cls)

    def tuple_assignment(
        self, target: cst.Tuple, value: cst.BaseExpression, cls: cst.ClassDef | None
    ) -> None:
        # ``model, optimizer = accelerator.prepare(model, optimizer)`` keeps what they are.
        if type(value) is not cst.Call:
            return
        if may_initialize(value):
            # ``engine, optimizer, _, _ = deepspeed.initialize(model=net, ...)``: each element
            # wraps the argument of its name, whatever the order of the keywords
            for position, given, wrapped in initialize_outputs(target, value):
                if position == 0:
                    self.record.engines.append((given, value))
                if wrapped is not None and given != key_of(wrapped):
                    self.record.assignments.append((given, wrapped, cls, self.func))
            return
        name = dotted(value.func)
        if name is None or name.rsplit(".", 1)[-1] not in _HANDS_BACK:
            # ``class_loss, box_loss = detection_losses(model, batch)``: what an unknown call
            # returns is not its arguments (the project's own functions are read by the
            # interpreter, which knows what they hand back)
            return
        arg_keys = [key_of(a.value) for a in value.args]
        for el, arg_key in zip(target.elements, arg_keys, strict=False):
            key = key_of(el.value)
            if key is not None and arg_key is not None and key != arg_key:
                self.record.assignments.append(
                    (key, cst.Name(arg_key) if arg_key.isidentifier() else value, cls, self.func)
                )

    def expression(self, node: cst.BaseExpression, cls: cst.ClassDef | None) -> None:
        # filtered here, once per parsed chunk, rather than on every replay
        for call in calls_in(node):
            if cls is not None:
                self.record.class_calls.append((call, cls))
                if any(_reads_training(arg.value) for arg in call.args):
                    self.record.training_readers.append(cls)
            func = call.func
            if type(func) is cst.Attribute and func.attr.value in _EVIDENCE_METHODS:
                fact = _call_fact(call, func)
                if fact is not None:
                    self.record.call_facts.append(fact)

    def freeze_loop(self, loop: cst.For) -> None:
        """``for p in backbone.parameters(): p.requires_grad = False`` freezes ``backbone``."""
        owners = [
            key_of(c.func.value)
            for c in calls_in(loop.iter)
            if type(c.func) is cst.Attribute and c.func.attr.value in MODULE_EVIDENCE
        ]
        owners = [o for o in owners if o]
        if not owners:
            return
        stack: list[cst.CSTNode] = list(_body(loop))
        while stack:
            stmt = stack.pop()
            if type(stmt) is not cst.SimpleStatementLine:
                if type(stmt) not in (cst.FunctionDef, cst.ClassDef):
                    stack.extend(nested_blocks(stmt))
                continue
            for small in stmt.body:
                if _freezes(small):
                    self.record.frozen.update(o for o in owners if o)


# the libraries' calls that hand back their arguments wrapped, in order: accelerate's
# ``prepare``, Lightning Fabric's ``setup``, apex's ``amp.initialize``, IPEX's ``optimize``
_HANDS_BACK = frozenset({"prepare", "setup", "initialize", "optimize"})

_STATEFUL_HELPER = re.compile(r"sched|scaler", re.IGNORECASE)


def _stateful_helper(receiver: str) -> bool:
    """``optimizer``, ``lr_scheduler``, ``scaler``: objects with a ``load_state_dict()`` of
    their own, which says nothing about them being modules."""
    last = receiver.rsplit(".", 1)[-1]
    return bool(api.OPTIMIZER_KEY.search(last) or _STATEFUL_HELPER.search(last))


def _call_fact(call: cst.Call, func: cst.Attribute) -> tuple[str, str] | None:
    method = func.attr.value
    receiver = key_of(func.value)
    if receiver is None:
        return None
    if method in MODULE_EVIDENCE:
        if method == "load_state_dict" and _stateful_helper(receiver):
            return None  # a checkpoint restores optimizers, schedulers and scalers too
        return ("module_keys", receiver)
    if method in {"eval", "train"}:
        return ("module_keys", receiver) if _looks_like_mode_switch(call) else None
    if method == "zero_grad":
        return ("zero_receivers", receiver)
    if method == "step":
        return ("step_receivers", receiver)
    if method == "requires_grad_" and call.args:
        arg = call.args[0].value
        if type(arg) is cst.Name and arg.value == "False":
            return ("frozen", receiver)
    return None


def _looks_like_mode_switch(call: cst.Call) -> bool:
    if not call.args:
        return True
    if len(call.args) != 1:
        return False
    arg = call.args[0]
    return arg.keyword is None or arg.keyword.value == "mode"


_EVIDENCE_METHODS = MODULE_EVIDENCE | {"eval", "train", "zero_grad", "step", "requires_grad_"}


_GRAD_API_NAMES = frozenset({"no_grad", "inference_mode", "enable_grad", "set_grad_enabled"})


def _reads_training(node: cst.BaseExpression) -> bool:
    """``self.training``, ``not self.training``, ``self.training and p > 0``."""
    if type(node) is cst.Attribute:
        return (
            node.attr.value == "training"
            and type(node.value) is cst.Name
            and node.value.value == "self"
        )
    if type(node) is cst.UnaryOperation:
        return _reads_training(node.expression)
    if type(node) is cst.BooleanOperation:
        return _reads_training(node.left) or _reads_training(node.right)
    return False


def _freezes(small: cst.BaseSmallStatement) -> bool:
    """``p.requires_grad = False`` or ``p.requires_grad_(False)``."""
    if type(small) is cst.Assign:
        return (
            type(small.value) is cst.Name
            and small.value.value == "False"
            and any(
                type(t.target) is cst.Attribute and t.target.attr.value == "requires_grad"
                for t in small.targets
            )
        )
    if type(small) is cst.Expr and type(small.value) is cst.Call:
        call = small.value
        return (
            type(call.func) is cst.Attribute
            and call.func.attr.value == "requires_grad_"
            and bool(call.args)
            and type(call.args[0].value) is cst.Name
            and call.args[0].value.value == "False"
        )
    return False


def attribute_chains(node: cst.CSTNode) -> Iterator[cst.BaseExpression]:
    """Every name or attribute chain in an expression (``torch.no_grad`` in a dict literal)."""
    stack = [node]
    while stack:
        current = stack.pop()
        if (type(current) is cst.Name or type(current) is cst.Attribute) and dotted(
            current
        ) is not None:
            yield current
            continue
        stack.extend(sub_expressions(current))


def _all_params(params: cst.Parameters) -> list[cst.Param]:
    out = [*params.posonly_params, *params.params]
    if type(params.star_arg) is cst.Param:
        out.append(params.star_arg)
    out.extend(params.kwonly_params)
    if params.star_kwarg is not None:
        out.append(params.star_kwarg)
    return out


def _body(stmt: cst.FunctionDef | cst.ClassDef | cst.For) -> list[cst.BaseStatement]:
    body = stmt.body
    if type(body) is cst.IndentedBlock:
        return list(body.body)
    assert type(body) is cst.SimpleStatementSuite  # a suite is one of the two
    return [cst.SimpleStatementLine(body=list(body.body))]
