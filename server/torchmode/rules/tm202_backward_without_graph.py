"""TM202 backward-without-graph: `.backward()` on a value computed with gradients disabled."""

from torchmode.findings import Severity
from torchmode.rules.base import Rule

RULE = Rule(
    code="TM202",
    name="backward-without-graph",
    summary="`.backward()` on a value computed with gradients disabled.",
    default_severity=Severity.ERROR,
)


def check(ctx):
    return ()
