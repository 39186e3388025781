"""What the flow analysis observed, with the abstract state at that point. Rules read these.

Events are recorded in the function where they are observed. An event inside a function whose
outcome depends on the caller (a model's mode "as on entry") is recorded again in every caller
that calls it, with the caller's state substituted and the call site in ``via``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import libcst as cst

from torchmode.engine.values import GradsVal, GradVal, ModeVal, Origin, Taint

if TYPE_CHECKING:
    from torchmode.engine.flow import FunctionFlow

Loops = tuple[cst.CSTNode, ...]


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


@dataclass(eq=False)
class Train(Event):
    kind: str = "backward"  # "backward" | "step"
    models: dict[str, frozenset[ModeVal]] = field(default_factory=dict)
    # a step of an optimizer the function was given: ``models`` are the modules it might train
    # (those it was given), and the caller's optimizer decides which it does
    optimizer: str = ""


@dataclass(eq=False)
class Backward(Event):
    loss: Taint = field(default_factory=Taint)


@dataclass(eq=False)
class Step(Event):
    optimizer: str = ""
    grads: frozenset[GradsVal] = frozenset()
    closure: bool = False
    dirty: frozenset[Origin | None] = frozenset()  # earlier steps whose gradients remain


@dataclass(eq=False)
class Clear(Event):
    key: str | None = None  # optimizer or module cleared; None: parameters' .grad directly


@dataclass(eq=False)
class Accumulate(Event):
    target: str = ""  # as written in ``site``
    observed_target: str = ""  # as the observing function names it (copies only)
    value: Taint = field(default_factory=Taint)
    grad: frozenset[GradVal] = frozenset()
    kind: str = "+="  # "+=" | "append"
    value_node: cst.CSTNode | None = None


@dataclass(eq=False)
class ModeSwitch(Event):
    key: str = ""
    modes: frozenset[ModeVal] = frozenset()


@dataclass(eq=False)
class Syntax(Event):
    kind: str = ""  # "uncalled-mode-switch" | "eval-with-argument" | "grad-context-not-called"
    detail: str = ""
