"""TM301 gradients-never-cleared: A training loop steps an optimizer whose gradients are never cleared."""

from torchmode.findings import Severity
from torchmode.rules.base import Rule

RULE = Rule(
    code="TM301",
    name="gradients-never-cleared",
    summary="A training loop steps an optimizer whose gradients are never cleared.",
    default_severity=Severity.WARNING,
)


def check(ctx):
    return ()
