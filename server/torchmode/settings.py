"""Settings shared by the CLI, the language server and pyproject.toml's [tool.torchmode]."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal

from torchmode.findings import Severity

if TYPE_CHECKING:
    from torchmode.engine.project import ProjectContext

NoGradStyle = Literal["no_grad", "inference_mode"]


@dataclass(frozen=True)
class Settings:
    select: frozenset[str] | None = None  # None: every rule; codes or prefixes ("TM1")
    ignore: frozenset[str] = frozenset()
    severity: dict[str, Severity] = field(default_factory=dict)
    fix_no_grad_with: NoGradStyle = "no_grad"
    # The least level a rule may give a finding for it to be reported. A rule lowers the level
    # of findings it is less sure of (a model without Dropout or BatchNorm: a hint); measured on
    # real training code, only warnings and errors are right often enough to be on by default.
    min_severity: Severity = Severity.WARNING
    # the file's place in its project, to read what the functions it imports from other files
    # of the project do (None: the file is analysed alone)
    project: ProjectContext | None = field(default=None, compare=False)

    def enabled(self, code: str) -> bool:
        if any(code.startswith(p) for p in self.ignore):
            return False
        return self.select is None or any(code.startswith(p) for p in self.select)

    def severity_of(self, code: str, default: Severity) -> Severity:
        return self.severity.get(code, default)

    def reports(self, level: Severity) -> bool:
        return level.rank <= self.min_severity.rank


DEFAULT_SETTINGS = Settings()
