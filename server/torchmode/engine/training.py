"""The PyTorch calls that matter: mode switches, forward passes, backward and optimizer steps,
clearing gradients."""

from __future__ import annotations

from typing import TYPE_CHECKING

import libcst as cst

from torchmode.engine import events as ev
from torchmode.engine import torch_api as api
from torchmode.engine.drawn import names_evaluation_data
from torchmode.engine.held_arguments import held_here
from torchmode.engine.names import is_within, key_of, literal_bool
from torchmode.engine.training_queries import parameter_test
from torchmode.engine.values import (
    CLEAN,
    INPUT_MODE,
    NO_TAINT,
    OTHER_GRADS,
    UNKNOWN_MODE,
    CallerSite,
    GradsState,
    GradsVal,
    GradVal,
    Guard,
    Mode,
    ModeVal,
    Origin,
    State,
    Taint,
)
from torchmode.engine.walk import children

if TYPE_CHECKING:
    from torchmode.engine.facts import Facts
    from torchmode.engine.interpreter import Interpreter


# -- the PyTorch calls that matter ----------------------------------------------------
def mode_switch(
    self: Interpreter, call: cst.Call, method: str, key: str, state: State, entries: bool = False
) -> bool:
    """``entries``: ``key`` holds modules (a dict of them), each switched in turn."""
    if entries:
        given = self.info is not None and key in self.info.params
        if not given and not any(is_within(k, key) for k in self.facts.module_keys):
            return False
    elif not self.is_module_key(key):
        return False
    if call.args:
        arg = call.args[0]
        if len(call.args) != 1 or (arg.keyword is not None and arg.keyword.value != "mode"):
            return False
        if method == "eval":
            # a TypeError (TM103); analyse the rest as the evaluation it was meant to be
            self.record(
                ev.Syntax(call, self.flow, (), self.loop_nodes(), kind="eval-with-argument")
            )
            call_origin = self.origin(call)
            self.set_mode(key, frozenset({ModeVal(Mode.EVAL, call_origin)}), state)
            return True
    origin = self.origin(call)
    values: frozenset[ModeVal]
    if method == "eval":
        values = frozenset({ModeVal(Mode.EVAL, origin)})
    else:
        values = self.train_argument(call, origin, state)
    self.set_mode(key, values, state)
    switched = state.module_key(key)
    self.record(ev.ModeSwitch(call, self.flow, (), self.loop_nodes(), key=switched, modes=values))
    return True


def train_argument(
    self: Interpreter, call: cst.Call, origin: Origin, state: State
) -> frozenset[ModeVal]:
    if not call.args:
        return frozenset({ModeVal(Mode.TRAIN, origin)})
    arg = call.args[0].value
    flag = literal_bool(arg)
    if flag is not None:
        return frozenset({ModeVal(Mode.TRAIN if flag else Mode.EVAL, origin)})
    taint = self.peek_taint(arg, state) if key_of(arg) else NO_TAINT
    if type(arg) is cst.Attribute and arg.attr.value == "training":
        k = key_of(arg.value)
        if k is not None:
            return state.modes.get(state.module_key(k), self.default_mode)
    if taint.snapshot_of is not None:
        return INPUT_MODE
    polarity = True
    inner = arg
    if type(arg) is cst.UnaryOperation and type(arg.operator) is cst.Not:
        polarity = False
        inner = arg.expression
    text = self.guard_of(inner)
    if text is None:
        return frozenset({ModeVal(Mode.TRAIN, origin), ModeVal(Mode.EVAL, origin)})
    return frozenset(
        {
            ModeVal(Mode.TRAIN, origin, frozenset({(text, polarity)})),
            ModeVal(Mode.EVAL, origin, frozenset({(text, not polarity)})),
        }
    )


def set_mode(self: Interpreter, key: str, values: frozenset[ModeVal], state: State) -> None:
    key = state.module_key(key)
    _set_one(key, values, state)
    if key.endswith(".module"):
        # DDP(model).module holds every layer: its mode is the wrapper's mode
        state.modes[key[: -len(".module")]] = values
    # the modules a wrapper keeps from its constructor are its children: ``d_net.train()``
    # and ``d_net.s_net.train()`` switch ``s_net`` (``d_net = Distiller(t_net, s_net)``)
    for wrapper, kept in held_here(self).items():
        for attr, child in kept.items():
            if child != key and key in (wrapper, f"{wrapper}.{attr}"):
                _set_one(state.module_key(child), values, state)


def _set_one(key: str, values: frozenset[ModeVal], state: State) -> None:
    for k in list(state.modes):
        if k != key and is_within(k, key):
            state.modes[k] = values
    state.modes[key] = values


def mode_of(self: Interpreter, key: str, state: State) -> frozenset[ModeVal]:
    key = state.module_key(key)
    if key in state.modes:
        return state.modes[key]
    parent = key
    while "." in parent or parent.endswith("]"):
        # self.models["G"].encoder -> self.models["G"] -> self.models -> self
        parent = parent[: max(parent.rfind("."), parent.rfind("["))]
        if parent in state.modes:
            return state.modes[parent]
    if self.info is not None and not self._summary_key(key):
        return UNKNOWN_MODE
    return self.default_mode


def forward(
    self: Interpreter,
    call: cst.Call,
    key: str,
    args: list[Taint],
    state: State,
    given: str | None = None,
    volatile: bool = False,
    elsewhere: CallerSite | None = None,
) -> Taint:
    """``volatile``: an input is wrapped in ``Variable(..., volatile=True)`` at the call;
    ``elsewhere``: the forward pass the call runs in another file of the project."""
    region, evaluation, is_body = self.region_of_forward(state)
    drawn, drawn_region = self.drawn_region(args, region, evaluation)
    guards: tuple[Guard, ...] = ()
    if not evaluation and self.info is not None and self.file.tests_a_parameter(self.info):
        scope = self.loops[-1].node if self.loops else self.info.node
        guards = self.file.training_guards(scope, self.info)
    self.record(
        ev.Forward(
            call,
            self.flow,
            (),
            self.loop_nodes(),
            key=key,
            modes=self.mode_of(key, state),
            grad=state.grad,
            param_modes=_param_modes(self, key, state),
            region=region,
            evaluation=evaluation,
            region_is_body=is_body,
            iterated=self.iterated,
            over_eval_data=self.over_eval_data,
            training_guards=guards,
            given=given,
            volatile=self.stmt_stack[-1] if volatile else None,
            elsewhere=elsewhere,
            drawn=drawn,
            drawn_region=drawn_region,
        )
    )
    enabled = any(g.enabled is not False for g in state.grad)
    no_grad_origin = None
    if not enabled:
        origins = {g.origin for g in state.grad}
        no_grad_origin = next(iter(origins)) if len(origins) == 1 else None
    # only a forward that autograd records can train the module through this value
    models = frozenset({key}) if enabled else frozenset()
    sources: frozenset[str] = frozenset()
    for a in args:
        models |= a.models
        sources |= a.sources
    # off on some path, not by a branch condition: a global switch left off
    maybe_off = next((g.origin for g in state.grad if g.enabled is False and not g.guards), None)
    return Taint(
        models,
        enabled,
        False,
        no_grad_origin,
        sources=sources,
        maybe_no_grad=maybe_off if enabled else None,
        drawn=drawn,
    )


def _param_modes(
    self: Interpreter, key: str, state: State
) -> tuple[tuple[str, frozenset[ModeVal]], ...]:
    """For a forward of a module the function does not receive, in the mode it was entered
    in: the modes the function set on its parameters so far (see ev.Forward.param_modes)."""
    info = self.info
    if info is None or info.receives(key) or key.startswith("self."):
        return ()
    if not any(v.mode is Mode.INPUT for v in self.mode_of(key, state)):
        return ()
    out = []
    for param in info.params:
        modes = state.modes.get(param)
        if param not in {"self", "cls"} and modes and all(v.mode is not Mode.INPUT for v in modes):
            out.append((param, modes))
    return tuple(out)


def volatile_inputs(self: Interpreter, call: cst.Call) -> bool:
    """Whether an argument of ``call`` is built by ``Variable(..., volatile=True)`` right
    there (``net(Variable(x, volatile=True).cuda())``)."""
    stack: list[cst.CSTNode] = [a.value for a in call.args]
    while stack:
        node = stack.pop()
        if type(node) is cst.Lambda:
            continue
        if (
            type(node) is cst.Call
            and self.facts.imports.resolve(node.func) in api.VARIABLE
            and any(
                a.keyword is not None
                and a.keyword.value == "volatile"
                and literal_bool(a.value) is True
                for a in node.args
            )
        ):
            return True
        stack.extend(children(node))
    return False


def generation(
    self: Interpreter, call: cst.Call, key: str, args: list[Taint], state: State
) -> Taint:
    """``model.generate(...)``, Hugging Face's ``GenerationMixin.generate``: forward passes of
    the model in whatever mode it is in (it never switches it), under the ``torch.no_grad()``
    that decorates it."""
    entered = state.grad
    state.grad = frozenset({GradVal(False, self.origin(call))})
    try:
        return self.forward(call, key, args, state)
    finally:
        state.grad = entered


def region_of_forward(self: Interpreter, state: State) -> tuple[cst.CSTNode, bool, bool]:
    """The statement an evaluation fix acts on, and whether this forward is evaluation."""
    stack = self.stmt_stack
    root = stack[-1]
    i = len(stack) - 1
    while i > 0:
        parent = stack[i - 1]
        if not isinstance(parent, COMPOUND_REGION):
            break
        if self.file.contains_training(parent, self.info) or self.file.switches_to_train(parent):
            break
        root = parent
        i -= 1
    innermost_loop = self.loops[-1].node if self.loops else None
    if innermost_loop is not None:
        evaluation = not self.file.contains_training(innermost_loop, self.info)
    elif self.info is not None:
        evaluation = not self.file.contains_training(self.info.node, self.info)
    else:
        evaluation = not self.file.module_trains()
    # iterating inside the evaluation region (over a dev loader): an evaluation pass, not a
    # single sample (GAN samples, pseudo-labels) taken inside a training loop
    self.iterated = self.comprehensions > 0 or any(
        lc.node is s for lc in self.loops for s in stack[i:]
    )
    self.over_eval_data = self.iterated and any(
        type(s) is cst.For and names_evaluation_data(s.iter)
        for lc in self.loops
        for s in stack[i:]
        if lc.node is s
    )
    return root, evaluation, i == 0


def training_step(self: Interpreter, call: cst.Call, kind: str, loss: Taint, state: State) -> None:
    self.flow.trains = True
    models = {k for k in loss.models if self.is_module_key(k)}
    if kind == "backward":
        self.record(ev.Backward(call, self.flow, (), self.loop_nodes(), loss=loss))
        # every optimizer's gradients are fresh (one value shared: a file may have dozens)
        fresh = frozenset({GradsVal(GradsState.FRESH, self.origin(call))})
        state.grads.update(dict.fromkeys(self.file.optimizer_keys(), fresh))
    self.record_training(call, kind, models, state)


def record_training(
    self: Interpreter, call: cst.Call, kind: str, models: set[str], state: State
) -> None:
    trained = {k: self.mode_of(k, state) for k in models if k not in self.facts.frozen}
    if trained:
        self.record(
            ev.Train(
                call,
                self.flow,
                (),
                self.loop_nodes(),
                kind=kind,
                models=trained,
                guards=parameter_guards(self),
            )
        )


def parameter_guards(self: Interpreter) -> tuple[Guard, ...]:
    """The conditions on the function's own parameters around the statement being run
    (``if not cross_valid:`` -> ``("cross_valid", False)``): a call passing the contrary
    constant (``run_epoch(..., cross_valid=True)``) does not run it."""
    if self.info is None:
        return ()
    params = set(self.info.params)
    found: list[Guard] = []
    stack = self.stmt_stack
    for i, stmt in enumerate(stack[:-1]):
        if type(stmt) is not cst.If:
            continue
        name, polarity = parameter_test(stmt.test)
        if name not in params:
            continue
        inner = stack[i + 1]
        if any(s is inner for s in stmt.body.body):
            found.append((name, polarity))
        elif type(stmt.orelse) is cst.Else and any(s is inner for s in stmt.orelse.body.body):
            found.append((name, not polarity))
    return tuple(found)


def optimizer_step(
    self: Interpreter, call: cst.Call, receiver_key: str | None, state: State
) -> None:
    optimizer = self.aliases.get(receiver_key, receiver_key) if receiver_key else None
    if not self.facts.is_optimizer_key(optimizer):
        if call.args and self.facts.is_optimizer_key(key_of(call.args[0].value)):
            optimizer = key_of(call.args[0].value)  # scaler.step(optimizer)
        else:
            return
    assert optimizer is not None
    self.flow.trains = True
    closure = bool(call.args) and optimizer == receiver_key
    self.record(
        ev.Step(
            call,
            self.flow,
            (),
            self.loop_nodes(),
            optimizer=optimizer,
            grads=state.grads.get(optimizer, OTHER_GRADS),
            closure=closure,
            dirty=state.dirty.get(optimizer, CLEAN),
        )
    )
    state.grads[optimizer] = OTHER_GRADS
    state.dirty[optimizer] = frozenset({self.origin(call)})
    reaching = state.covers.get(optimizer)
    covered = set(reaching) if reaching else self.facts.covered_by(optimizer, self.info)
    if covered or not self._given(optimizer):
        self.record_training(call, "step", covered, state)
        return
    given = {k for k in self.facts.module_keys if self._given(k)}
    given |= {k for k in state.modes if self._given(k)}
    # the models as given, not their parts (``model``, not ``model.features``)
    given = {k for k in given if not any(o != k and is_within(k, o) for o in given)}
    trained = {
        k: self.mode_of(k, state)
        for k in given
        if k not in self.facts.frozen and not _forwarded_without_grad(self, k)
    }
    if trained:
        self.record(
            ev.Train(
                call,
                self.flow,
                (),
                self.loop_nodes(),
                kind="step",
                models=trained,
                optimizer=optimizer,
                guards=parameter_guards(self),
            )
        )


def _forwarded_without_grad(self: Interpreter, key: str) -> bool:
    """Does this function run ``key`` only with gradients off (a distillation teacher:
    ``with torch.no_grad(): teacher(x)``)? A step of an optimizer given from outside, whose
    parameters are not known here, cannot train a module that got no gradients here."""
    forwards = [e for e in self.recorded.values() if isinstance(e, ev.Forward) and e.key == key]
    return bool(forwards) and all(
        e.grad and all(g.enabled is False for g in e.grad) for e in forwards
    )


def clear(self: Interpreter, call: cst.Call, key: str, state: State) -> None:
    key = self.aliases.get(key, key)
    if key in self.loop_targets:
        members = self.loop_targets[key]
        if members is None:
            # for opt in optimizers: opt.zero_grad() -- clears them all, whichever they are
            self.record(ev.Clear(call, self.flow, (), self.loop_nodes(), key=None))
            state.dirty.clear()
            return
        for member in members:  # for opt in (opt_g, opt_d): opt.zero_grad()
            self.clear_one(call, member, state)
        return
    self.clear_one(call, key, state)


def engine_step(self: Interpreter, call: cst.Call, key: str, state: State) -> None:
    """``engine.step()`` on a DeepSpeed engine (library_engines.py): its optimizer updates the
    model it wraps, then the engine clears the gradients itself; no ``Step`` of an optimizer
    of the file, so no rule asks for a ``zero_grad()`` beside it."""
    self.flow.trains = True
    self.record_training(call, "step", {key}, state)
    _cleared(self, call, key, state)


def clear_one(self: Interpreter, call: cst.Call, key: str, state: State) -> None:
    self.record(ev.Clear(call, self.flow, (), self.loop_nodes(), key=key))
    _cleared(self, call, key, state)


def _cleared(self: Interpreter, call: cst.Call, key: str, state: State) -> None:
    """The gradients ``key`` (an optimizer, or a model) holds are cleared at ``call``."""
    if self.facts.is_optimizer_key(key):
        targets = [key]
    else:
        # model.zero_grad(): the optimizers over its parameters, and any optimizer whose
        # parameters are not known (built by a helper such as configure_optimizers())
        targets = self.facts.optimizers_covering(key, self.info) + [
            opt for opt in state.dirty if self.facts.may_cover(opt, key, self.info)
        ]
    for opt in targets:
        state.dirty[opt] = CLEAN
        old = state.grads.get(opt, OTHER_GRADS)
        state.grads[opt] = frozenset(
            GradsVal(GradsState.CLEARED, self.origin(call))
            if v.state is not GradsState.OTHER
            else v
            for v in old
        )


COMPOUND_REGION = (cst.With, cst.For, cst.While)


def serves_input_attack(facts: Facts, event: ev.Train) -> bool:
    """Every optimizer stepped next to this backward() (in its function, within its innermost
    loop) was built over plain tensors (``SGD([delta])``): the backward() serves an attack
    optimizing the input perturbation, and the model's gradients it leaves are not trained."""
    inner = event.site_loops[-1] if event.site_loops else None
    steps = [
        e
        for e in event.site.events
        if isinstance(e, ev.Step) and not e.via and (inner is None or inner in e.site_loops)
    ]
    return bool(steps) and all(facts.trains_only_tensors(e.optimizer, e.site.info) for e in steps)
