"""A run-time guard for what static analysis can only suspect.

    from torchmode.runtime import guard

    handle = guard(model, optimizer)  # or: with guard(model, optimizer): ...
    ...                               # train as usual
    handle.remove()

It warns (``TorchmodeWarning``; ``strict=True`` raises ``TorchmodeError`` instead) when

- ``optimizer.step()`` runs while a mode-sensitive layer (Dropout, BatchNorm...) whose
  parameters this optimizer trains is in eval mode — the whole model left in ``eval()``, or a
  submodule; frozen parts (``requires_grad_(False)``) kept in eval on purpose are fine;
- an eval-mode forward records an autograd graph that is never backpropagated (evaluation
  without ``no_grad()``): reported at the next eval-mode forward, so saliency maps and
  adversarial examples, which backpropagate through eval-mode forwards, are fine;
- gradients accumulate across steps: ``step()`` applies gradients that the previous step
  already used and that nothing cleared since (``zero_grad()`` after ``step()``, ``(i + 1) % k``
  accumulation, and a backward() for the input's gradient cleared before the step, as in
  adversarial training, are fine);
- gradients are cleared between ``backward()`` and ``step()``: the step sees none.

Only public hooks are used (optimizer step pre/post hooks, a module forward hook, autograd
node and tensor hooks, the global module and parameter registration hooks). Modules and
parameter groups are looked at again when they change (a layer swapped in, a param group
added after ``guard()``). When nothing is wrong the cost is a few attribute checks per step and
forward plus two tensor hooks per parameter group. Each kind of warning is issued once.
Importing this module does not import torch; the hooks use the caller's torch lazily.
"""

from __future__ import annotations

import os
import sys
import warnings
import weakref
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from types import FrameType
from typing import Any

from torchmode.knowledge.layers import instance_is_mode_sensitive


class TorchmodeWarning(UserWarning):
    """A PyTorch training/evaluation mistake seen at run time."""


class TorchmodeError(RuntimeError):
    """The same, raised by a ``strict=True`` guard."""


STEP_IN_EVAL = "step-in-eval-mode"
EVAL_RECORDS_GRAPH = "evaluation-records-graph"
GRADIENTS_NOT_CLEARED = "gradients-not-cleared"
CLEARED_BEFORE_STEP = "gradients-cleared-before-step"

_THIS_FILE = os.path.abspath(__file__)


def _user_stacklevel() -> int:
    """The stacklevel of the first frame outside torch and torchmode, so that the warning
    points at the user's ``optimizer.step()`` or ``model(x)`` line."""
    torch_dir = os.path.dirname(os.path.abspath(sys.modules["torch"].__file__ or "")) + os.sep
    frame: FrameType | None = sys._getframe(1)
    level = 1
    while frame is not None:
        filename = os.path.abspath(frame.f_code.co_filename)
        if filename != _THIS_FILE and not filename.startswith(torch_dir):
            return level
        frame, level = frame.f_back, level + 1
    return 1


def _tensors(value: Any) -> Iterator[Any]:
    import torch

    if isinstance(value, torch.Tensor):
        yield value
    elif isinstance(value, tuple | list):
        for item in value:
            yield from _tensors(item)
    elif isinstance(value, dict):
        for item in value.values():
            yield from _tensors(item)


def _smallest(parameters: Iterable[Any]) -> Any:
    # the probe's gradient is inspected (`.any()`) once or twice per step: keep that cheap
    return min(parameters, key=lambda p: p.numel(), default=None)


@dataclass
class _SensitiveLayer:
    path: str  # "" for the model itself
    module: Any
    parameters: list[Any]  # its own, or for parameter-less layers (Dropout) its parent's


@dataclass
class _Probe:
    """One parameter per parameter group (its smallest), watched for gradients that outlive
    a step or vanish before it."""

    parameter: Any
    # weakref to the .grad tensor that holds the gradients the last step used, as long as
    # nothing is seen clearing them (set to None, zeroed, replaced); backward() adding into
    # them does not clear them. Only a step that finds them still there is reported.
    used: Callable[[], Any] | None = None
    backward_since_step: bool = False  # backward() added into .grad since the last step
    handles: list[Any] = field(default_factory=list)


class GuardHandle:
    """The hooks ``guard`` installed; ``remove()`` takes all of them away."""

    def __init__(self, model: Any, optimizer: Any, strict: bool, name: str) -> None:
        self.model, self.optimizer, self.strict, self.name = model, optimizer, strict, name
        self.reported: set[str] = set()
        self._handles: list[Any] = []
        self._probes: dict[int, _Probe] = {}
        # what the model and the optimizer were when last looked at; registering a module or
        # a parameter on one of the model's modules sets _modules_changed, a change in the
        # number of parameter groups or of their parameters changes the signature
        self._modules_changed = True
        self._module_ids: set[int] = set()
        self._model_parameter_ids: set[int] = set()
        self._layers: list[_SensitiveLayer] = []
        self._groups_signature: tuple[int, ...] | None = None
        self._trained_ids: set[int] = set()
        self._closure_step = False  # inside step(closure): the closure's backward is the step's
        self._unused_eval_graph: list[bool] | None = None

    # -- plumbing --------------------------------------------------------------------------

    def _install(self) -> None:
        from torch.nn.modules import module as torch_module

        self._refresh()
        this = weakref.ref(self)  # the global hooks must not keep the model alive

        def registered(module: Any, name: str, value: Any) -> None:
            handle = this()
            if handle is not None and id(module) in handle._module_ids:
                handle._modules_changed = True  # looked at again at the next forward or step

        global_handles = [
            torch_module.register_module_module_registration_hook(registered),
            torch_module.register_module_parameter_registration_hook(registered),
        ]
        # a guard never removed goes with its model and optimizer
        weakref.finalize(self, _remove_all, global_handles)
        self._handles += [
            *global_handles,
            self.optimizer.register_step_pre_hook(self._before_step),
            self.optimizer.register_step_post_hook(self._after_step),
            self.model.register_forward_hook(self._after_forward),
        ]

    def remove(self) -> None:
        _remove_all(self._handles)
        for probe in self._probes.values():
            _remove_all(probe.handles)
        self._handles, self._probes = [], {}

    def __enter__(self) -> GuardHandle:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.remove()

    def _report(self, kind: str, message: str) -> None:
        if self.strict:
            raise TorchmodeError(f"[{kind}] {message}")
        if kind not in self.reported:
            self.reported.add(kind)
            warnings.warn(f"[{kind}] {message}", TorchmodeWarning, stacklevel=_user_stacklevel())

    def _active(self, kind: str) -> bool:
        return self.strict or kind not in self.reported

    def _path(self, path: str) -> str:
        return f"{self.name}.{path}" if path else self.name

    # -- the model and the optimizer as they are now -------------------------------------

    def _refresh(self) -> None:
        """Catch up with layers swapped in and parameter groups added since the last look; a
        flag and one length per parameter group when nothing changed."""
        if self._modules_changed:
            self._resolve_modules()
        signature = tuple(len(group["params"]) for group in self.optimizer.param_groups)
        if signature != self._groups_signature:
            self._resolve_groups(signature)

    def _resolve_modules(self) -> None:
        self._modules_changed = False
        named = dict(self.model.named_modules())
        self._module_ids = {id(module) for module in named.values()}
        self._model_parameter_ids = {id(p) for p in self.model.parameters()}
        self._layers = []
        for path, module in named.items():
            if instance_is_mode_sensitive(module) is not True:
                continue
            owner_path = path
            parameters = list(module.parameters())
            while not parameters and owner_path:
                owner_path = owner_path.rpartition(".")[0]
                parameters = list(named[owner_path].parameters())
            self._layers.append(_SensitiveLayer(path, module, parameters))
        self._groups_signature = None  # probes prefer the model's parameters: choose again

    def _resolve_groups(self, signature: tuple[int, ...]) -> None:
        groups = self.optimizer.param_groups
        self._groups_signature = signature
        self._trained_ids = {id(p) for group in groups for p in group["params"]}
        for index in [index for index in self._probes if index >= len(groups)]:
            _remove_all(self._probes.pop(index).handles)
        for index, group in enumerate(groups):
            probe = self._probes.get(index)
            candidates = self._candidates(group, lambda p: p.requires_grad)
            if probe is not None and any(p is probe.parameter for p in candidates):
                continue  # still a good choice: keep what it has seen
            parameter = _smallest(candidates)
            if parameter is not None:
                self._watch(index, parameter)

    def _candidates(self, group: dict[str, Any], usable: Callable[[Any], bool]) -> list[Any]:
        """The group's usable parameters; those of the model only, if it has any (a layer
        swapped out leaves its parameters in the optimizer, where no backward reaches them)."""
        usable_parameters = [p for p in group["params"] if usable(p)]
        in_model = [p for p in usable_parameters if id(p) in self._model_parameter_ids]
        return in_model or usable_parameters

    # -- step in eval mode -------------------------------------------------------------------

    def _before_step(self, optimizer: Any, args: Any, kwargs: Any) -> None:
        self._refresh()
        if self._active(STEP_IN_EVAL):
            self._check_modes()
        # args are (optimizer, *step_args); with step(closure) the closure computes the
        # gradients after this hook runs, so they are judged by the backward in the closure
        self._closure_step = (args[1] if len(args) > 1 else kwargs.get("closure")) is not None
        if self._closure_step:
            return
        if self._active(GRADIENTS_NOT_CLEARED):
            self._check_stale_gradients()
        if self._active(CLEARED_BEFORE_STEP):
            self._check_cleared_before_step()

    def _offending_layers(self) -> list[_SensitiveLayer]:
        trained = self._trained_ids
        return [
            layer
            for layer in self._layers
            if not layer.module.training
            and any(p.requires_grad and id(p) in trained for p in layer.parameters)
        ]

    def _check_modes(self) -> None:
        offending = self._offending_layers()
        if not offending:
            return
        # before reporting, make sure of the layers: one deleted (`del model.drop`) is not
        # seen by the registration hooks
        self._resolve_modules()
        self._resolve_groups(tuple(len(group["params"]) for group in self.optimizer.param_groups))
        offending = self._offending_layers()
        if not offending:
            return
        names = ", ".join(
            f"`{self._path(layer.path)}` ({type(layer.module).__name__})" for layer in offending[:4]
        ) + (", ..." if len(offending) > 4 else "")
        if not self.model.training:
            message = (
                f"optimizer.step() runs while `{self.name}` is in eval mode, so its "
                f"mode-sensitive layers {names} behave as in evaluation while they are "
                f"trained. Call `{self.name}.train()` after evaluating."
            )
        else:
            message = (
                f"optimizer.step() runs while {names} "
                f"{'is' if len(offending) == 1 else 'are'} in eval mode although this "
                f"optimizer trains their parameters: they behave as in evaluation while they "
                f"are trained. Call `.train()` on them, or freeze them with "
                f"`requires_grad_(False)` if eval mode is intended."
            )
        self._report(STEP_IN_EVAL, message)

    # -- evaluation without no_grad ----------------------------------------------------------

    def _after_forward(self, module: Any, args: Any, output: Any) -> None:
        self._refresh()  # before backward(), so that a new group's probe sees it
        if module.training or not self._active(EVAL_RECORDS_GRAPH):
            return
        import torch

        if not torch.is_grad_enabled():
            return
        nodes = [t.grad_fn for t in _tensors(output) if t.grad_fn is not None]
        if not nodes:
            return
        previous = self._unused_eval_graph
        if previous is not None and previous[0]:
            self._report(
                EVAL_RECORDS_GRAPH,
                f"`{self.name}` runs in eval mode with autograd recording, and the graph of "
                f"its previous eval-mode forward was never backpropagated: evaluation "
                f"without `torch.no_grad()` keeps every activation alive. Wrap the "
                f"evaluation in `with torch.no_grad():` (or `torch.inference_mode()`).",
            )
        unused = [True]  # a list so that the node hooks can clear it; holds no tensor

        def used(grad_outputs: Any) -> None:
            unused[0] = False

        for node in nodes:
            node.register_prehook(used)
        self._unused_eval_graph = unused

    # -- gradients never cleared ---------------------------------------------------------------
    #
    # A step marks the gradients it used (probe.used); clearing them (zero_grad(), with or
    # without set_to_none, model.zero_grad(), p.grad = None, p.grad.zero_()) unmarks them,
    # seen by the probe's tensor hook just before a backward() adds into .grad. A backward()
    # that adds into marked gradients is not yet a mistake: the input-gradient backward of
    # adversarial training does so, and zero_grad() follows before the step. Only a step that
    # finds marked gradients still in .grad is reported (or a backward() inside step(closure),
    # whose gradients the step takes as they are).

    def _after_step(self, optimizer: Any, args: Any, kwargs: Any) -> None:
        self._closure_step = False
        for probe in self._probes.values():
            probe.backward_since_step = False
        if not self._active(GRADIENTS_NOT_CLEARED):
            return
        for index, group in enumerate(optimizer.param_groups):
            existing = self._probes.get(index)
            if existing is not None and existing.parameter.grad is not None:
                probe = existing
            else:
                candidates = self._candidates(group, lambda p: p.grad is not None)
                parameter = _smallest(candidates)
                if parameter is None:
                    continue
                probe = self._watch(index, parameter)
            probe.used = weakref.ref(probe.parameter.grad)

    def _watch(self, index: int, parameter: Any) -> _Probe:
        old = self._probes.pop(index, None)
        if old is not None:
            _remove_all(old.handles)
        probe = _Probe(parameter)
        # a post-accumulate-grad hook is not seen by the garbage collector: the one below
        # holds weak references only, or a guard never removed would keep its model alive
        this, probe_ref = weakref.ref(self), weakref.ref(probe)

        def before_accumulation(grad: Any) -> None:
            # runs before backward() adds into .grad (and for autograd.grad(), which adds
            # nothing): have the gradients the last step used been cleared since?
            if probe.used is not None and not self._holds_used_gradients(probe):
                probe.used = None

        def after_accumulation(parameter: Any) -> None:
            handle, watched = this(), probe_ref()
            if handle is None or watched is None:
                return
            watched.backward_since_step = True
            if watched.used is None:
                return
            # backward() added into them: still there (with create_graph=True .grad is a new
            # tensor holding the sum)
            watched.used = weakref.ref(parameter.grad)
            if handle._closure_step:
                handle._report_accumulation("backward() in the closure of optimizer.step() adds to")

        probe.handles = [
            parameter.register_hook(before_accumulation),
            parameter.register_post_accumulate_grad_hook(after_accumulation),
        ]
        self._probes[index] = probe
        return probe

    @staticmethod
    def _holds_used_gradients(probe: _Probe) -> bool:
        grad = probe.parameter.grad
        return (
            grad is not None
            and probe.used is not None
            and grad is probe.used()
            and bool(grad.any())  # zero_grad(set_to_none=False) leaves zeros in place
        )

    def _check_stale_gradients(self) -> None:
        for probe in self._probes.values():
            if probe.used is not None and self._holds_used_gradients(probe):
                self._report_accumulation(
                    "optimizer.step() applies what backward() added to"
                    if probe.backward_since_step
                    else "optimizer.step() reuses"
                )
                return

    def _check_cleared_before_step(self) -> None:
        for probe in self._probes.values():
            grad = probe.parameter.grad
            if probe.backward_since_step and (grad is None or not grad.any()):
                self._report(
                    CLEARED_BEFORE_STEP,
                    "optimizer.step() runs after the gradients of the last backward() were "
                    "cleared: the step has nothing to apply (plain SGD leaves the parameters "
                    "unchanged). Move `optimizer.zero_grad()` before `backward()` or after "
                    "`step()`.",
                )
                return

    def _report_accumulation(self, what: str) -> None:
        self._report(
            GRADIENTS_NOT_CLEARED,
            f"{what} the gradients that the previous optimizer.step() already used and that "
            f"were never cleared: each step follows the sum of all gradients so far. Call "
            f"`optimizer.zero_grad()` once per step (before `backward()`, or right after "
            f"`step()`).",
        )


def _remove_all(handles: Iterable[Any]) -> None:
    for handle in handles:
        handle.remove()  # RemovableHandle.remove() is idempotent


def guard(model: Any, optimizer: Any, strict: bool = False, name: str = "model") -> GuardHandle:
    """Watch ``model`` (an ``nn.Module``) and ``optimizer`` for the mistakes torchmode's rules
    describe; ``name`` is how messages call the model. Returns the handle whose
    ``remove()`` uninstalls every hook; it is also a context manager."""
    handle = GuardHandle(model, optimizer, strict, name)
    handle._install()
    return handle
