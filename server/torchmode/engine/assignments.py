"""Assignments in the interpreter: what a name, an attribute or a subscript is bound to — a
module built or handed over (its mode and origin follow it), an alias of another, a loss or a
tensor with its graph, an optimizer, a loader — and what a rebinding forgets."""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

import libcst as cst

from torchmode.engine import events as ev
from torchmode.engine import held_arguments
from torchmode.engine import torch_api as api
from torchmode.engine.blocks import returned_values
from torchmode.engine.chunks import code_of
from torchmode.engine.names import is_within, key_of, literal_bool
from torchmode.engine.values import (
    GRAD_SNAPSHOT,
    UNKNOWN_MODE,
    GradsState,
    GradsVal,
    Mode,
    ModeVal,
    State,
    Taint,
)
from torchmode.engine.walk import children, names_in

if TYPE_CHECKING:
    from torchmode.engine.interpreter import Interpreter


def assign(
    self: Interpreter,
    target: cst.BaseExpression,
    value_node: cst.BaseExpression,
    value: Taint,
    state: State,
    loop_target: bool = False,
    element: bool = False,
) -> None:
    """``element``: the target receives one element of ``value_node``, not all of it."""
    if type(value_node) is cst.Call and not (loop_target or element):
        back = handed_back(self, value_node, target)
        if back is not None:
            # ``G, D = fit(G, D, loader)``, every return of fit() giving back its parameters:
            # each target is the argument it was given, in the mode the call left it in
            for el_target, arg in back:
                if arg is not None:
                    self.assign(el_target, arg, self.peek_taint(arg, state), state)
                else:
                    self.assign(el_target, value_node, value, state, element=True)
            return
    if type(target) is cst.Tuple or type(target) is cst.List:
        values = (
            [el.value for el in value_node.elements]
            if (type(value_node) is cst.Tuple or type(value_node) is cst.List)
            and len(value_node.elements) == len(target.elements)
            else None
        )
        plain = self.plain_items(value_node, len(target.elements)) if values is None else None
        items = self.call_items.get(id(value_node)) if values is None else None
        if items is not None and len(items) != len(target.elements):
            items = None
        for i, el in enumerate(target.elements):
            sub_value = value
            if values is not None:
                sub_value = self.peek_taint(values[i], state)
                if value.drawn and key_of(values[i]) is None:
                    # ``x, y = x.cuda(), y.cuda()``: still the batch drawn from evaluation data
                    sub_value = replace(sub_value, drawn=_drawn_in(values[i], state))
            elif items is not None:
                sub_value = items[i]
            elif plain is not None and (plain_value := plain[i]) is not None:
                sub_value = plain_value
            if values is not None:
                self.assign(el.value, values[i], sub_value, state)
            else:
                self.assign(el.value, value_node, sub_value, state, element=True)
        return
    if type(target) is cst.StarredElement:
        self.assign(target.value, value_node, value, state, element=element)
        return
    if type(target) is cst.Subscript and _varying_index(target):
        container = key_of(target.value)
        if container is not None:
            # losses[step] = loss: one more item per iteration, like append()
            self.accumulation(target, container, value, value_node, "[]=", state)
    if (
        type(target) is cst.Attribute
        and target.attr.value == "grad"
        and type(value_node) is cst.Name
        and value_node.value == "None"
    ):
        self.record(ev.Clear(target, self.flow, (), self.loop_nodes(), key=None))
        state.dirty.clear()
    elif type(target) is cst.Attribute and target.attr.value == "grad":
        # p.grad = g: gradients written by hand (PCGrad, gradient surgery) for the step
        for opt in list(state.grads):
            state.grads[opt] = frozenset({GradsVal(GradsState.FRESH, self.origin(target))})
    key = key_of(target)
    if key is None:
        return
    if value.snapshot_of == GRAD_SNAPSHOT:
        self.grad_saved[key] = state.grad  # prev = torch.is_grad_enabled()
    # ``opt_g, opt_d = optimizers``: each is one of them, not an alias of the list
    source = key_of(value_node) if not (loop_target or element) else None
    if source is not None and source != key and self.facts.is_optimizer_key(source):
        self.aliases[key] = self.aliases.get(source, source)
    else:
        self.aliases.pop(key, None)
    self.strip_guards(key, state)
    # a constant at a module's (or notebook's) top level is a setting its user edits
    # (``DEBUG = False``): both of its branches are code that runs; in a function, program logic
    in_function = self.info is not None and not (loop_target or element)
    set_flag(key, literal_bool(value_node) if in_function else None, state)
    cover = self.facts.cover_at.get(id(value_node))
    if cover is not None and not (loop_target or element):
        state.covers[key] = cover
    else:
        state.covers.pop(key, None)
    if loop_target:
        # items of a data loader or a list: whatever they carry, they are data, not the
        # result of an unknown computation
        value = Taint(
            value.models, value.graph, value.lossy, None, None, value.sources, drawn=value.drawn
        )
    state.vars[key] = Taint(
        value.models,
        value.graph,
        value.lossy or "loss" in key.rsplit(".", 1)[-1].lower(),
        value.no_grad_origin,
        value.snapshot_of,
        value.sources,
        target,
        value.opaque,
        value.maybe_no_grad,
        value.drawn,
    )
    if key in self.facts.module_keys or any(
        is_within(k, key) for k in list(state.modes) if k != key
    ):
        self.rebind_module(key, value_node, state, whole=not (loop_target or element))
    else:
        self.unalias(key, state)
    self.construct(key, value_node, state)


def handed_back(
    self: Interpreter, call: cst.Call, target: cst.BaseExpression
) -> list[tuple[cst.BaseExpression, cst.BaseExpression | None]] | None:
    """The targets of ``target = call`` (a name, or a tuple of names) each with the argument
    the called function of the file hands back to it unchanged (None: something else), when
    it hands back at least one; None when the function is not known to."""
    callee = self.file.resolve_callee(call, self.info)
    if callee is None or callee.cls is not None or callee.outer is not None:
        return None
    back = returned_parameters(callee.node, tuple(callee.params))
    if back is None:
        return None
    targets: list[cst.BaseExpression]
    if type(target) is cst.Tuple or type(target) is cst.List:
        if any(type(el) is not cst.Element for el in target.elements):
            return None  # a starred target
        targets = [el.value for el in target.elements]
    else:
        targets = [target]
    if len(targets) != len(back):
        return None
    args = _arguments_by_parameter(call, callee.params)
    out = [(t, args.get(p) if p is not None else None) for t, p in zip(targets, back, strict=True)]
    return out if any(arg is not None for _, arg in out) else None


def returned_parameters(fn: cst.FunctionDef, params: tuple[str, ...]) -> list[str | None] | None:
    """Per element of what every ``return`` of ``fn`` gives (one, or each of a tuple of as many
    in every return), the parameter it is in each of them (``return G, D``), None where not;
    None when no element is a parameter the function never assigns."""
    values = returned_values(fn)
    if not values or any(v is None for v in values):
        return None
    shapes: list[list[cst.BaseExpression]] = []
    for v in values:
        assert v is not None
        shapes.append([el.value for el in v.elements] if type(v) is cst.Tuple else [v])
    if len({len(shape) for shape in shapes}) != 1:
        return None
    kept = set(params) - _assigned_names(fn)
    out: list[str | None] = []
    for items in zip(*shapes, strict=True):
        names = {item.value if type(item) is cst.Name else None for item in items}
        name = next(iter(names)) if len(names) == 1 else None
        out.append(name if name in kept else None)
    return out if any(name is not None for name in out) else None


def _assigned_names(fn: cst.FunctionDef) -> set[str]:
    """Every name ``fn``'s own code binds: assignments, loop and ``with`` targets, walrus,
    ``global``/``nonlocal`` and nested definitions (a parameter given something else)."""
    found: set[str] = set()
    stack: list[cst.CSTNode] = [fn.body]
    while stack:
        node = stack.pop()
        if isinstance(node, (cst.AssignTarget, cst.AnnAssign, cst.AugAssign, cst.For)):
            found.update(_bound(node.target))
        elif type(node) is cst.AsName:
            found.update(_bound(node.name))
        elif type(node) is cst.NamedExpr:
            found.update(_bound(node.target))
        elif type(node) is cst.Global or type(node) is cst.Nonlocal:
            found.update(n.name.value for n in node.names)
        elif type(node) is cst.FunctionDef or type(node) is cst.ClassDef:
            found.add(node.name.value)
            continue
        stack.extend(children(node))
    return found


def _bound(target: cst.BaseExpression) -> list[str]:
    """The names a target binds (``G``, ``G, D``, ``*rest``), not an attribute's owner."""
    if type(target) is cst.Name:
        return [target.value]
    if type(target) is cst.Tuple or type(target) is cst.List:
        return [name for el in target.elements for name in _bound(el.value)]
    if type(target) is cst.StarredElement:
        return _bound(target.value)
    return []


def _arguments_by_parameter(call: cst.Call, params: list[str]) -> dict[str, cst.BaseExpression]:
    """The plain names and attributes passed to each parameter (``fit(G, D)``: G, D); none
    when a ``*args`` or ``**kwargs`` is passed (what goes where is not known)."""
    if any(arg.star for arg in call.args):
        return {}
    positional = [a for a in call.args if a.keyword is None]
    given = {p: a.value for p, a in zip(params, positional, strict=False)}
    given.update({a.keyword.value: a.value for a in call.args if a.keyword is not None})
    return {p: v for p, v in given.items() if key_of(v) is not None}


def set_flag(key: str, flag: bool | None, state: State) -> None:
    """``key`` now holds the literal ``flag`` (None: something else); what was known of the
    attributes under it (``self.cfg.test`` when ``self.cfg`` is rebound) is forgotten."""
    if state.flags:
        for known in [k for k in state.flags if is_within(k, key)]:
            del state.flags[known]
    if flag is not None:
        state.flags[key] = flag


def construct(self: Interpreter, key: str, value_node: cst.BaseExpression, state: State) -> None:
    """``predictor = Predictor(cfg)``: what ``__init__`` does to ``self.*`` now holds for
    ``predictor.*`` (its model built in train mode, for instance)."""
    if type(value_node) is not cst.Call or type(value_node.func) is not cst.Name:
        return
    cls = self.facts.classes.get(value_node.func.value)
    if cls is None:
        return
    init = self.facts.method(cls, "__init__")
    if init is not None:
        self.apply_summary(value_node, init, [], state, self_key=key)


_SWITCHES = frozenset({"eval", "train"})


def rebind_module(
    self: Interpreter, key: str, value_node: cst.BaseExpression, state: State, whole: bool = True
) -> None:
    """``key = value_node``; ``whole``: the value itself, not one of its items."""
    self.rebind_to(key, value_node, state, whole)
    held = held_arguments.kept_by(self, value_node) if whole else {}
    if held:
        self.held_arguments[key] = held
    else:
        self.held_arguments.pop(key, None)
    switch = _last_switch(value_node)
    if switch is not None and key in state.modes:
        # ``G = Generator().eval()``: eval() and train() return the module they switched, so
        # the name holds it in the mode the last of them set
        method = switch.func.attr.value  # type: ignore[attr-defined]
        origin = self.origin(switch)
        if method == "eval":
            values = frozenset({ModeVal(Mode.EVAL, origin)})
        else:
            values = self.train_argument(switch, origin, state)
        self.set_mode(key, values, state)


def _last_switch(value: cst.BaseExpression) -> cst.Call | None:
    """The outermost ``eval()``/``train(...)`` of a chain of calls that return the module
    (``Net().to(device).eval()``)."""
    while type(value) is cst.Call and type(value.func) is cst.Attribute:
        method = value.func.attr.value
        if method in _SWITCHES:
            return value
        if method not in api.MODULE_IDENTITY_METHODS:
            return None
        value = value.func.value
    return None


def rebind_to(
    self: Interpreter, key: str, value_node: cst.BaseExpression, state: State, whole: bool = True
) -> None:
    base = value_node
    switched: Mode | None = None  # the last ``eval()``/``train()`` of the chain, if any
    while (
        type(base) is cst.Call
        and type(base.func) is cst.Attribute
        and (
            base.func.attr.value in api.MODULE_IDENTITY_METHODS or base.func.attr.value in _SWITCHES
        )
    ):
        switched = switched or _chained_mode(base)
        base = base.func.value
    if (
        type(base) is cst.Call
        and base.args
        and self.facts.imports.resolve(base.func) in api.MODULE_WRAPPERS
    ):
        base = base.args[0].value  # model = DataParallel(model): its layers, in its mode
    same = key_of(base)
    if same == key:
        return  # model = model.to(device): the same module
    target = state.module_key(same) if same is not None else None
    self.unalias(key, state)
    for k in list(state.modes):
        if k != key and is_within(k, key):
            del state.modes[k]
    if whole and target is not None and "." in target and "." not in key:
        # model = self.model: one module under two names; model.eval() switches the
        # attribute, which is what callers and the class's other methods see
        state.aliases[key] = target
        state.modes.pop(key, None)
    elif type(base) is cst.Call and self.is_construction(base):
        name = self.facts.imports.resolve(base.func) or code_of(base.func)
        if switched is not None:
            # ``Net().eval()``, ``Net().cuda().eval()``: switched as it is built
            state.modes[key] = frozenset({ModeVal(switched, self.origin(value_node))})
            return
        if not name.endswith("from_pretrained"):
            mode = Mode.TRAIN
        elif self.own_loader(name):
            state.modes[key] = UNKNOWN_MODE
            return
        else:
            mode = Mode.EVAL  # Hugging Face's from_pretrained() returns it in eval mode
        state.modes[key] = frozenset({ModeVal(mode, self.origin(value_node, constructed=True))})
    elif target is not None and target in self.facts.module_keys:
        state.modes[key] = state.modes.get(target, self.default_mode)
    elif type(base) is cst.Call and self.builds_module(base):
        origin = self.origin(value_node, constructed=True)
        state.modes[key] = frozenset({ModeVal(Mode.TRAIN, origin)})
    else:
        state.modes[key] = UNKNOWN_MODE


def _chained_mode(call: cst.Call) -> Mode | None:
    """The mode ``x.eval()``, ``x.train()`` or ``x.train(False)`` sets (None: another method,
    or a flag not written as a literal)."""
    method = call.func.attr.value  # type: ignore[attr-defined]
    if method == "eval" and not call.args:
        return Mode.EVAL
    if method != "train":
        return None
    if not call.args:
        return Mode.TRAIN
    flag = call.args[0].value
    if type(flag) is cst.Name and flag.value in {"True", "False"}:
        return Mode.TRAIN if flag.value == "True" else Mode.EVAL
    return None


def unalias(self: Interpreter, key: str, state: State) -> None:
    """An assignment ends what aliases said about the name assigned: ``model = other``
    names another module, and after ``self.model = Net()`` a local ``model`` taken from
    the attribute still holds the old module, in the old module's mode."""
    if not state.aliases:
        return
    state.aliases.pop(key, None)
    for name, target in list(state.aliases.items()):
        if target == key or is_within(target, key):
            state.modes[name] = self.mode_of(name, state)
            del state.aliases[name]


def builds_module(self: Interpreter, call: cst.Call) -> bool:
    """``model = build_model()``: a function of this file or of another file of the project
    whose every ``return`` gives a module it built and did not switch (``return Net()``, or
    ``net = VGG(...); net.load_state_dict(...); return net``): train mode, as ``Net()``."""
    callee = self.file.resolve_callee(call, self.info)
    if callee is None:
        qualified = self.facts.imports.resolve(call.func)
        if qualified is None or self.facts.project_builder(qualified) is None:
            return False
        external = self.file.external(qualified)
        return external is not None and external.returns_fresh
    values = returned_values(callee.node)
    if bool(values) and all(type(v) is cst.Call and self.is_construction(v) for v in values):
        return True
    flow = self.file.flow_of(callee)
    return flow is not None and flow.returns_fresh


def returns_fresh_module(self: Interpreter, value: cst.BaseExpression, state: State) -> bool:
    """``return VGG(...)`` or ``return model`` where ``model`` holds a module built here and
    not switched since (loading weights keeps a module's mode; ``from_pretrained`` of Hugging
    Face gives eval mode, a project's own loader a mode not known here: not fresh)."""
    while (
        type(value) is cst.Call
        and type(value.func) is cst.Attribute
        and value.func.attr.value in api.MODULE_IDENTITY_METHODS
    ):
        if _chained_mode(value) is not None:
            return False  # return Net().eval(): switched, not as built
        value = value.func.value  # return model.to(device)
    if type(value) is cst.Call:
        if self.is_construction(value):
            name = self.facts.imports.resolve(value.func) or code_of(value.func)
            self.fresh_classes.add(name)
            return not name.endswith("from_pretrained")
        self.fresh_classes.add("")
        return self.builds_module(value)
    key = key_of(value)
    if key is None or not self.is_module_key(key):
        return False
    self.fresh_classes.add(self.facts.module_class.get(key, ""))
    vals = state.modes.get(state.module_key(key), frozenset())
    return bool(vals) and all(
        v.mode is Mode.TRAIN and v.origin is not None and v.origin.constructed and not v.guards
        for v in vals
    )


def own_loader(self: Interpreter, name: str) -> bool:
    """``GPT.from_pretrained`` where ``GPT`` is the project's class with a loader of its
    own (or one this file cannot see): it returns whatever mode that code leaves."""
    owner = name.rpartition(".")[0]
    cls = self.facts.classes.get(owner)
    if cls is not None:
        return self.facts.method(cls, "from_pretrained") is not None
    return self.facts.project_class(owner) is not None


def is_construction(self: Interpreter, call: cst.Call) -> bool:
    name = self.facts.imports.resolve(call.func) or code_of(call.func)
    if name in self.facts.classes:
        return self.facts.class_is_module(name)
    return (
        bool(api.MODULE_FACTORIES.match(name))
        or (name.endswith(("from_pretrained", "create_model")) and not api.is_pipeline_loader(name))
        or self.facts.project_class(name) is not None
    )


def _varying_index(target: cst.Subscript) -> bool:
    """``log[step]``, ``losses[i - 1]``: an index computed at run time, a new slot per iteration
    (``stats["loss"]``, ``buf[0]`` overwrite one slot)."""
    if len(target.slice) != 1 or type(target.slice[0].slice) is not cst.Index:
        return False
    index = target.slice[0].slice.value
    return not isinstance(
        index, cst.SimpleString | cst.ConcatenatedString | cst.Integer | cst.UnaryOperation
    )


def _drawn_in(node: cst.BaseExpression, state: State) -> frozenset[int]:
    """The batches drawn from evaluation data that the names in ``node`` hold."""
    drawn: frozenset[int] = frozenset()
    for name in names_in(node):
        taint = state.vars.get(name)
        if taint is not None:
            drawn |= taint.drawn
    return drawn
