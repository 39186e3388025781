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
- gradients accumulate across steps: a step whose gradients were already used by the previous
  step and never cleared (``zero_grad()`` after ``step()`` and ``(i + 1) % k`` accumulation
  are fine);
- gradients are cleared between ``backward()`` and ``step()``: the step sees none.

Only public hooks are used (optimizer step pre/post hooks, a module forward hook, autograd
node and tensor hooks). When nothing is wrong the cost is a few attribute checks per step and
forward plus two tensor hooks per parameter group. Each kind of warning is issued once.
Importing this module does not import torch; the hooks use the caller's torch lazily.
"""

from __future__ import annotations

import os
import sys
import warnings
import weakref
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
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
    frame, level = sys._getframe(1), 1
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


def _smallest(parameters: Iterator[Any]) -> Any:
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
    stepped_grad: Callable[[], Any] | None = None  # weakref to .grad right after the step
    armed: bool = False  # a step used .grad and no clearing has been seen since
    cleared_before_backward: bool = True
    backward_since_step: bool = False  # backward() added into .grad since the last step
    handles: list[Any] = field(default_factory=list)


class GuardHandle:
    """The hooks ``guard`` installed; ``remove()`` takes all of them away."""

    def __init__(self, model: Any, optimizer: Any, strict: bool, name: str) -> None:
        self.model, self.optimizer, self.strict, self.name = model, optimizer, strict, name
        self.reported: set[str] = set()
        self._handles: list[Any] = []
        self._probes: dict[int, _Probe] = {}
        self._layers = self._sensitive_layers()
        self._trained_ids: set[int] = set()
        self._groups_signature: tuple[int, ...] = ()
        self._unused_eval_graph: list[bool] | None = None

    # -- plumbing --------------------------------------------------------------------------

    def _install(self) -> None:
        for index, group in enumerate(self.optimizer.param_groups):
            parameter = _smallest(p for p in group["params"] if p.requires_grad)
            if parameter is not None:
                self._watch(index, parameter)
        self._handles += [
            self.optimizer.register_step_pre_hook(self._before_step),
            self.optimizer.register_step_post_hook(self._after_step),
            self.model.register_forward_hook(self._after_forward),
        ]

    def remove(self) -> None:
        for handle in self._handles:
            handle.remove()
        for probe in self._probes.values():
            for handle in probe.handles:
                handle.remove()
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

    # -- step in eval mode -------------------------------------------------------------------

    def _sensitive_layers(self) -> list[_SensitiveLayer]:
        named = dict(self.model.named_modules())
        found = []
        for path, module in named.items():
            if instance_is_mode_sensitive(module) is not True:
                continue
            owner_path = path
            parameters = list(module.parameters())
            while not parameters and owner_path:
                owner_path = owner_path.rpartition(".")[0]
                parameters = list(named[owner_path].parameters())
            found.append(_SensitiveLayer(path, module, parameters))
        return found

    def _trained(self) -> set[int]:
        groups = self.optimizer.param_groups
        signature = tuple(len(group["params"]) for group in groups)
        if signature != self._groups_signature:
            self._groups_signature = signature
            self._trained_ids = {id(p) for group in groups for p in group["params"]}
        return self._trained_ids

    def _before_step(self, optimizer: Any, args: Any, kwargs: Any) -> None:
        if self._active(STEP_IN_EVAL):
            self._check_modes()
        # args are (optimizer, *step_args); with step(closure) the closure computes the
        # gradients after this hook runs, so they cannot be judged here
        if (args[1] if len(args) > 1 else kwargs.get("closure")) is not None:
            return
        if self._active(GRADIENTS_NOT_CLEARED):
            self._check_stale_gradients()
        if self._active(CLEARED_BEFORE_STEP):
            self._check_cleared_before_step()

    def _check_modes(self) -> None:
        trained = self._trained()
        offending = [
            layer
            for layer in self._layers
            if not layer.module.training
            and any(p.requires_grad and id(p) in trained for p in layer.parameters)
        ]
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

    def _after_step(self, optimizer: Any, args: Any, kwargs: Any) -> None:
        for probe in self._probes.values():
            probe.backward_since_step = False
        if not self._active(GRADIENTS_NOT_CLEARED):
            return
        for index, group in enumerate(optimizer.param_groups):
            probe = self._probes.get(index)
            if probe is None or probe.parameter.grad is None:
                parameter = _smallest(p for p in group["params"] if p.grad is not None)
                if parameter is None:
                    continue
                probe = self._watch(index, parameter)
            probe.stepped_grad = weakref.ref(probe.parameter.grad)
            probe.armed = True

    def _watch(self, index: int, parameter: Any) -> _Probe:
        old = self._probes.pop(index, None)
        for handle in old.handles if old else ():
            handle.remove()
        probe = _Probe(parameter)

        def before_accumulation(grad: Any) -> None:
            # runs before backward() adds into .grad: is the step's gradient still there?
            if probe.armed:
                probe.cleared_before_backward = not self._holds_stepped_grad(probe)

        def after_accumulation(parameter: Any) -> None:
            probe.backward_since_step = True
            if not probe.armed:
                return
            probe.armed = False
            if not probe.cleared_before_backward:
                self._report_accumulation("backward() added to")

        probe.handles = [
            parameter.register_hook(before_accumulation),
            parameter.register_post_accumulate_grad_hook(after_accumulation),
        ]
        self._probes[index] = probe
        return probe

    @staticmethod
    def _holds_stepped_grad(probe: _Probe) -> bool:
        grad = probe.parameter.grad
        return (
            grad is not None
            and probe.stepped_grad is not None
            and grad is probe.stepped_grad()
            and bool(grad.any())  # zero_grad(set_to_none=False) leaves zeros in place
        )

    def _check_stale_gradients(self) -> None:
        for probe in self._probes.values():
            if probe.armed and self._holds_stepped_grad(probe):
                self._report_accumulation("this step reuses")
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
            f"{what} gradients that the previous optimizer.step() already used and that were "
            f"never cleared: each step follows the sum of all gradients so far. Call "
            f"`optimizer.zero_grad()` once per step (before `backward()`, or right after "
            f"`step()`).",
        )


def guard(model: Any, optimizer: Any, strict: bool = False, name: str = "model") -> GuardHandle:
    """Watch ``model`` (an ``nn.Module``) and ``optimizer`` for the mistakes torchmode's rules
    describe; ``name`` is how messages call the model. Returns the handle whose
    ``remove()`` uninstalls every hook; it is also a context manager."""
    handle = GuardHandle(model, optimizer, strict, name)
    handle._install()
    return handle
