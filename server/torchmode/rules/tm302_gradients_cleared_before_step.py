"""TM302 gradients-cleared-before-step: `zero_grad()` runs between `backward()` and `step()`."""

from torchmode.findings import Severity
from torchmode.rules.base import Rule

RULE = Rule(
    code="TM302",
    name="gradients-cleared-before-step",
    summary="`zero_grad()` runs between `backward()` and `step()`.",
    default_severity=Severity.ERROR,
)


def check(ctx):
    return ()
