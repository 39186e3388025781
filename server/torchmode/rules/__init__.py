"""The rule catalogue: TM1xx module mode, TM2xx autograd, TM3xx optimizer.

Each rule is a module with ``RULE`` (code, name, docs, examples) and ``check(ctx)``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from types import ModuleType
from typing import TYPE_CHECKING

from torchmode.rules import (
    base,
    tm101_eval_mode_leaks_into_training,
    tm102_evaluation_in_train_mode,
    tm103_mode_switch_not_called,
    tm201_evaluation_tracks_gradients,
    tm202_backward_without_graph,
    tm203_grad_mode_not_entered,
    tm204_loss_keeps_graph,
    tm301_gradients_never_cleared,
    tm302_gradients_cleared_before_step,
)

if TYPE_CHECKING:
    from torchmode.engine.context import RuleContext
    from torchmode.findings import Finding

_MODULES: tuple[ModuleType, ...] = (
    tm101_eval_mode_leaks_into_training,
    tm102_evaluation_in_train_mode,
    tm103_mode_switch_not_called,
    tm201_evaluation_tracks_gradients,
    tm202_backward_without_graph,
    tm203_grad_mode_not_entered,
    tm204_loss_keeps_graph,
    tm301_gradients_never_cleared,
    tm302_gradients_cleared_before_step,
)

RULES: dict[str, base.Rule] = {m.RULE.code: m.RULE for m in _MODULES}
RULES_BY_NAME: dict[str, base.Rule] = {r.name: r for r in RULES.values()}


def lookup(code_or_name: str) -> base.Rule | None:
    key = code_or_name.strip()
    return RULES.get(key.upper()) or RULES_BY_NAME.get(key.lower())


def checks() -> dict[str, Callable[[RuleContext], Iterable[Finding]]]:
    """Each rule's check, by code, in catalogue order."""
    return {m.RULE.code: m.check for m in _MODULES}
