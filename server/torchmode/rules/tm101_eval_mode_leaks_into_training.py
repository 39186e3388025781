"""TM101 eval-mode-leaks-into-training: An `eval()` reaches a training step of the same model with no `train()` in between."""

from torchmode.findings import Severity
from torchmode.rules.base import Rule

RULE = Rule(
    code="TM101",
    name="eval-mode-leaks-into-training",
    summary="An `eval()` reaches a training step of the same model with no `train()` in between.",
    default_severity=Severity.WARNING,
)
