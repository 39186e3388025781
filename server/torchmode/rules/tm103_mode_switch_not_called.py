"""TM103 mode-switch-not-called: `model.eval` / `model.train` written without a call, or called with a wrong argument."""

from torchmode.findings import Severity
from torchmode.rules.base import Rule

RULE = Rule(
    code="TM103",
    name="mode-switch-not-called",
    summary="`model.eval` / `model.train` written without a call, or called with a wrong argument.",
    default_severity=Severity.ERROR,
)


def check(ctx):
    return ()
