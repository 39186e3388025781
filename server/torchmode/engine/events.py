"""What the flow analysis observed, with the abstract state at that point. Rules read these.

Events are recorded in the function where they are observed. An event inside a function whose
outcome depends on the caller (a model's mode "as on entry") is recorded again in every caller
that calls it, with the caller's state substituted and the call site in ``via``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol

import libcst as cst

from torchmode.engine.values import (
    CallerSite,
    GradsVal,
    GradVal,
    Guard,
    Mode,
    ModeVal,
    Origin,
    Taint,
)

if TYPE_CHECKING:
    from torchmode.engine.function_flow import FunctionFlow

Loops = tuple[cst.CSTNode, ...]
ModelModes = dict[str, frozenset[ModeVal]]


class CallerTerms(Protocol):
    """How a called function's names and states read at one call to it (calls.py)."""

    @property
    def call(self) -> cst.Call: ...
    @property
    def loops(self) -> Loops: ...
    @property
    def evaluates(self) -> bool:
        """The call is made where the caller evaluates (or names an evaluation helper)."""
        ...

    def key(self, key: str) -> str | None:
        """The caller's name for the callee's ``key`` (None: the callee's own local)."""
        ...

    def modes(self, key: str, values: frozenset[ModeVal]) -> frozenset[ModeVal]: ...
    def grad(self, values: frozenset[GradVal]) -> frozenset[GradVal]: ...
    def rules_out(self, guard: Guard) -> bool:
        """A constant argument makes the callee's condition ``guard`` false at this call."""
        ...

    def returns_graph_of(self, key: str) -> bool:
        """The callee returns a value that carries an autograd graph (perhaps from the module
        it calls ``key``): it computes for its caller (a piece of a loss), which decides."""
        ...

    @property
    def callee_trains(self) -> bool:
        """The callee takes a training step of its own."""
        ...

    def trained(self, optimizer: str, models: ModelModes) -> tuple[ModelModes, str] | None:
        """Which of ``models`` (the callee's names) a step of ``optimizer`` (the caller's
        name, "" for none) trains, in the caller's names, and the optimizer left for the
        caller's own callers to decide ("" when decided); None: none of them."""
        ...

    def cleared(self, key: str | None) -> None:
        """The callee cleared the gradients of ``key`` (the caller's name; None: of
        parameters directly)."""
        ...


def _as_entered(modes: frozenset[ModeVal]) -> bool:
    return any(v.mode is Mode.INPUT for v in modes)


def _entry_grad(grad: frozenset[GradVal]) -> bool:
    return any(g.enabled is None for g in grad)


@dataclass(eq=False)
class Event:
    node: cst.CSTNode  # where it happens (in ``site``)
    site: FunctionFlow  # the function containing ``node``
    via: tuple[cst.Call, ...]  # call sites from the observing function down to ``site``
    loops: Loops  # loops of the observing function around it
    site_loops: Loops = ()  # loops of ``site`` around ``node``

    def __post_init__(self) -> None:
        if not self.via and not self.site_loops:
            self.site_loops = self.loops

    @property
    def anchor(self) -> cst.CSTNode:
        """The node in the observing function: the outermost call site, or the node itself."""
        return self.via[0] if self.via else self.node

    def depends_on_caller(self) -> bool:
        """Whether every caller must record this event again, in its own terms."""
        return False

    def in_caller(self, at: CallerTerms) -> Event | None:
        """This event as a caller records it at one call to its function (None: it is not
        the caller's to record)."""
        return None


@dataclass(eq=False)
class Forward(Event):
    key: str = ""
    modes: frozenset[ModeVal] = frozenset()
    grad: frozenset[GradVal] = frozenset()
    region: cst.CSTNode | None = None  # the statement to wrap / insert before, in ``site``
    evaluation: bool = False  # no training step around it, or gradients are off
    region_is_body: bool = False  # the region is the whole body of ``site``
    iterated: bool = False  # inside a loop or comprehension within the region
    # inside a loop over evaluation data (``for x, y in val_loader``) within the region
    over_eval_data: bool = False
    # not an evaluation only because of training steps that each run under a condition on a
    # parameter (``if training:``): a call passing the contrary constants evaluates
    training_guards: tuple[Guard, ...] = ()
    # the conditions a call's constants made false to make it an evaluation (a fix keeps the
    # gradients the other calls' training needs: ``set_grad_enabled(training)``)
    ruled_out: tuple[Guard, ...] = ()
    # the module as ``site`` spells it when ``node`` gives it to a helper of another file that
    # runs it (``forward_step(model, b)``); None: ``node`` calls the module itself
    given: str | None = None
    # given an input wrapped in ``Variable(..., volatile=True)`` right at the call, which its
    # author meant to run without autograd (volatile has done nothing since PyTorch 0.4): the
    # statement holding the call, in ``site`` (the extent of that intent)
    volatile: cst.CSTNode | None = None
    # the forward pass itself is in another file of the project, here: ``node`` calls a
    # method that only a subclass there defines (overrides.py)
    elsewhere: CallerSite | None = None
    # a module the function does not receive (a global) run in the mode it was entered in,
    # beside the modes the function set on its parameters before: a caller passing that same
    # module as one of them switched it too (``val(net)``: ``net.eval()``, then ``crnn(x)``)
    param_modes: tuple[tuple[str, frozenset[ModeVal]], ...] = ()
    # given a batch drawn from evaluation data with ``next()`` (the ids of those calls), and
    # the statement that would evaluate on it (drawn.py): an evaluation over evaluation data
    # once nothing from that batch is seen to be backpropagated
    drawn: frozenset[int] = frozenset()
    drawn_region: cst.CSTNode | None = None

    def depends_on_caller(self) -> bool:
        return _as_entered(self.modes) or _entry_grad(self.grad) or bool(self.training_guards)

    def in_caller(self, at: CallerTerms) -> Forward:
        # an evaluation already confirmed by a call further in stays one however its caller
        # is reached (``__main__`` -> main() -> validate()); so does a call whose own inputs
        # say it was meant to run without autograd
        # -- unless the call further in only returned the forward's result, graph and all, to
        # a function that hands it back in turn (``process_batch()`` -> ``predict_poses()``):
        # whether that result is evaluated or trained on is this caller's to say
        # -- and so does one in a loop of a callee that trains elsewhere but not in that loop
        # (``train()`` with its validation loop after each epoch's training), or of a model
        # the callee itself switched to eval mode (``compute_test()``: ``model.eval()``, then
        # ``model(x)``): the callee told its evaluation from training itself, whoever calls it
        switched_here = bool(self.modes) and all(
            v.mode is Mode.EVAL and v.origin is not None and v.origin.caller is None
            for v in self.modes
        )
        confirmed = (bool(self.via) or at.callee_trains or switched_here) and not (
            at.returns_graph_of(self.key)
        )
        evaluation = self.evaluation and (at.evaluates or confirmed or self.volatile is not None)
        guards: tuple[Guard, ...] = ()
        ruled_out = self.ruled_out
        if self.training_guards:
            if all(at.rules_out(g) for g in self.training_guards):
                # ``run_epoch(..., training=False)``: the flag takes every training step away,
                # so the caller runs it to evaluate
                evaluation, ruled_out = True, self.training_guards
            else:
                # handed on (``training=training``): the caller's own callers may decide
                moved = [(at.key(text), polarity) for text, polarity in self.training_guards]
                guards = tuple((text, polarity) for text, polarity in moved if text)
                if len(guards) != len(moved):
                    guards = ()
        return Forward(
            self.node,
            self.site,
            (at.call, *self.via),
            at.loops,
            # a module local to the callee keeps its name: only the grad mode is the caller's
            key=at.key(self.key) or self.key,
            modes=self._modes_in_caller(at),
            grad=at.grad(self.grad),
            region=self.region,
            evaluation=evaluation,
            region_is_body=self.region_is_body,
            iterated=self.iterated,
            over_eval_data=self.over_eval_data,
            training_guards=guards,
            ruled_out=ruled_out,
            given=self.given,
            volatile=self.volatile,
            elsewhere=self.elsewhere,
        )

    def _modes_in_caller(self, at: CallerTerms) -> frozenset[ModeVal]:
        caller_key = at.key(self.key) or self.key
        for param, modes in self.param_modes:
            if at.key(param) == caller_key:
                return at.modes(param, modes)  # the caller passed the module itself
        return at.modes(self.key, self.modes)


@dataclass(eq=False)
class Train(Event):
    kind: str = "backward"  # "backward" | "step"
    models: dict[str, frozenset[ModeVal]] = field(default_factory=dict)
    # a step of an optimizer the function was given: ``models`` are the modules it might train
    # (those it was given), and the caller's optimizer decides which it does
    optimizer: str = ""
    # conditions on the function's parameters it runs under (``if not cross_valid:``): a
    # call passing the contrary constant takes no training step here
    guards: tuple[Guard, ...] = ()

    def depends_on_caller(self) -> bool:
        return (
            bool(self.optimizer)
            or bool(self.guards)
            or any(_as_entered(v) for v in self.models.values())
        )

    def in_caller(self, at: CallerTerms) -> Train | None:
        if any(at.rules_out(g) for g in self.guards):
            return None  # ``run_epoch(..., cross_valid=True)`` skips the step
        optimizer = at.key(self.optimizer) if self.optimizer else ""
        if optimizer is None:
            return None
        trained = at.trained(optimizer, self.models)
        if trained is None:
            return None
        models, left = trained
        return Train(
            self.node,
            self.site,
            (at.call, *self.via),
            at.loops,
            kind=self.kind,
            models=models,
            optimizer=left,
            guards=self._guards_in_caller(at),
        )

    def _guards_in_caller(self, at: CallerTerms) -> tuple[Guard, ...]:
        """Handed on (``cross_valid=cross_valid``): the caller's own callers may decide."""
        moved = [(at.key(text), polarity) for text, polarity in self.guards]
        guards = tuple((text, polarity) for text, polarity in moved if text)
        return guards if len(guards) == len(moved) else ()


@dataclass(eq=False)
class Backward(Event):
    loss: Taint = field(default_factory=Taint)

    def depends_on_caller(self) -> bool:
        return True

    def in_caller(self, at: CallerTerms) -> Backward:
        return Backward(self.node, self.site, (at.call, *self.via), at.loops, loss=self.loss)


@dataclass(eq=False)
class Step(Event):
    optimizer: str = ""
    grads: frozenset[GradsVal] = frozenset()
    closure: bool = False
    dirty: frozenset[Origin | None] = frozenset()  # earlier steps whose gradients remain

    def depends_on_caller(self) -> bool:
        return True

    def in_caller(self, at: CallerTerms) -> Step | None:
        optimizer = at.key(self.optimizer)
        if optimizer is None:
            return None
        return Step(
            self.node,
            self.site,
            (at.call, *self.via),
            at.loops,
            optimizer=optimizer,
            grads=self.grads,
            closure=self.closure,
        )


@dataclass(eq=False)
class Clear(Event):
    key: str | None = None  # optimizer or module cleared; None: parameters' .grad directly

    def depends_on_caller(self) -> bool:
        return True

    def in_caller(self, at: CallerTerms) -> Clear:
        key = at.key(self.key) if self.key else None
        at.cleared(key)
        return Clear(self.node, self.site, (at.call, *self.via), at.loops, key=key)


@dataclass(eq=False)
class Accumulate(Event):
    target: str = ""  # as written in ``site``
    observed_target: str = ""  # as the observing function names it (copies only)
    value: Taint = field(default_factory=Taint)
    grad: frozenset[GradVal] = frozenset()
    kind: str = "+="  # "+=" | "append" | "[]=" (an item stored at an index that varies)
    value_node: cst.CSTNode | None = None
    # an argument passed to a function that adds it to an attribute (``meter.update(loss)``,
    # ``self.sum += val`` inside): that function's accumulating statement, and its name
    inner: cst.CSTNode | None = None
    inner_function: str = ""
    inner_elsewhere: str = ""  # that statement, in another file: its code and place

    def depends_on_caller(self) -> bool:
        # the caller decides the grad mode; an attribute outlives the call, so the caller's
        # loop is the one it accumulates across
        return _entry_grad(self.grad) or self.target.startswith("self.")

    def in_caller(self, at: CallerTerms) -> Accumulate:
        return Accumulate(
            self.node,
            self.site,
            (at.call, *self.via),
            at.loops,
            site_loops=self.site_loops,
            target=self.target,
            observed_target=at.key(self.observed_target or self.target) or "",
            value=self.value,
            grad=at.grad(self.grad),
            kind=self.kind,
            value_node=self.value_node,
            inner=self.inner,
            inner_function=self.inner_function,
            inner_elsewhere=self.inner_elsewhere,
        )


@dataclass(eq=False)
class ModeSwitch(Event):
    key: str = ""
    modes: frozenset[ModeVal] = frozenset()


@dataclass(eq=False)
class CallEffect(Event):
    """A call to a function of the file or the project whose summary sets modes or the grad
    mode, with what the caller's state held for them just before and just after it: the mode
    timeline an editor shows (analysis/timeline.py) says what such a call leaves. No rule reads
    it; it is the caller's own, never recorded again further out."""

    before: ModelModes = field(default_factory=dict)
    after: ModelModes = field(default_factory=dict)  # the keys the summary sets, only
    grad_before: frozenset[GradVal] = frozenset()
    grad_after: frozenset[GradVal] | None = None  # None: the summary leaves the grad mode


# An argument of a call: the caller's access path for it and the modes it holds (None: an
# expression with no access path, whose mode nothing here knows)
PassedArg = tuple[str | None, frozenset[ModeVal] | None]


@dataclass(eq=False)
class ProjectCall(Event):
    """A call to a function of another file of the project (``target``: that file's real path;
    ``name``: the function), with what it is given: the modes of its arguments and the grad
    mode. Recorded only in a file read for another's sake (project.py), where it tells that
    other file how its function is entered."""

    target: str = ""
    name: str = ""
    positional: tuple[PassedArg, ...] = ()
    keywords: tuple[tuple[str, PassedArg], ...] = ()
    unpacked: bool = False  # ``*args`` or ``**kwargs``: what binds to what is not known
    grad: frozenset[GradVal] = frozenset()
    evaluates: bool = False  # made where the caller evaluates

    def depends_on_caller(self) -> bool:
        passed = [*self.positional, *(arg for _, arg in self.keywords)]
        return _entry_grad(self.grad) or any(
            modes is not None and _as_entered(modes) for _, modes in passed
        )

    def in_caller(self, at: CallerTerms) -> ProjectCall:
        def moved(arg: PassedArg) -> PassedArg:
            key, modes = arg
            if key is None or modes is None:
                return arg
            return at.key(key), at.modes(key, modes)

        return ProjectCall(
            self.node,
            self.site,
            (at.call, *self.via),
            at.loops,
            target=self.target,
            name=self.name,
            positional=tuple(moved(arg) for arg in self.positional),
            keywords=tuple((name, moved(arg)) for name, arg in self.keywords),
            unpacked=self.unpacked,
            grad=at.grad(self.grad),
            evaluates=self.evaluates or at.evaluates,
        )


@dataclass(eq=False)
class Syntax(Event):
    kind: str = ""  # "uncalled-mode-switch" | "eval-with-argument" | "grad-context-not-called"
    detail: str = ""
