"""The rule catalogue: TM1xx module mode, TM2xx autograd, TM3xx optimizer."""

from torchmode.rules import base
from torchmode.rules import tm101_eval_mode_leaks_into_training
from torchmode.rules import tm102_evaluation_in_train_mode
from torchmode.rules import tm103_mode_switch_not_called
from torchmode.rules import tm201_evaluation_tracks_gradients
from torchmode.rules import tm202_backward_without_graph
from torchmode.rules import tm203_grad_mode_not_entered
from torchmode.rules import tm204_loss_keeps_graph
from torchmode.rules import tm301_gradients_never_cleared
from torchmode.rules import tm302_gradients_cleared_before_step

RULES: dict[str, base.Rule] = {
    m.RULE.code: m.RULE for m in (tm101_eval_mode_leaks_into_training, tm102_evaluation_in_train_mode, tm103_mode_switch_not_called, tm201_evaluation_tracks_gradients, tm202_backward_without_graph, tm203_grad_mode_not_entered, tm204_loss_keeps_graph, tm301_gradients_never_cleared, tm302_gradients_cleared_before_step)
}
RULES_BY_NAME: dict[str, base.Rule] = {r.name: r for r in RULES.values()}


def lookup(code_or_name: str) -> base.Rule | None:
    key = code_or_name.strip()
    return RULES.get(key.upper()) or RULES_BY_NAME.get(key.lower())
