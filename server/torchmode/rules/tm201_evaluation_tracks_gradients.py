"""TM201 evaluation-tracks-gradients: Evaluation forward passes record autograd graphs (no `no_grad`/`inference_mode`)."""

from torchmode.findings import Severity
from torchmode.rules.base import Rule

RULE = Rule(
    code="TM201",
    name="evaluation-tracks-gradients",
    summary="Evaluation forward passes record autograd graphs (no `no_grad`/`inference_mode`).",
    default_severity=Severity.WARNING,
)


def check(ctx):
    return ()
