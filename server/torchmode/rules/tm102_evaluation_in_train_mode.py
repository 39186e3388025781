"""TM102 evaluation-in-train-mode: Evaluation runs while the model may still be in train mode."""

from torchmode.findings import Severity
from torchmode.rules.base import Rule

RULE = Rule(
    code="TM102",
    name="evaluation-in-train-mode",
    summary="Evaluation runs while the model may still be in train mode.",
    default_severity=Severity.WARNING,
)


def check(ctx):
    return ()
