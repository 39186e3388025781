"""TM204 loss-keeps-graph: A loss tensor is accumulated across iterations with its autograd graph."""

from torchmode.findings import Severity
from torchmode.rules.base import Rule

RULE = Rule(
    code="TM204",
    name="loss-keeps-graph",
    summary="A loss tensor is accumulated across iterations with its autograd graph.",
    default_severity=Severity.WARNING,
)


def check(ctx):
    return ()
