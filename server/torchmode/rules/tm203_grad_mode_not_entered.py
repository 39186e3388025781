"""TM203 grad-mode-not-entered: `with torch.no_grad:` without `()`."""

from torchmode.findings import Severity
from torchmode.rules.base import Rule

RULE = Rule(
    code="TM203",
    name="grad-mode-not-entered",
    summary="`with torch.no_grad:` without `()`.",
    default_severity=Severity.ERROR,
)


def check(ctx):
    return ()
