"""Settings shared by the CLI, the language server and pyproject.toml's [tool.torchmode]."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from torchmode.findings import Severity

NoGradStyle = Literal["no_grad", "inference_mode"]


@dataclass(frozen=True)
class Settings:
    select: frozenset[str] | None = None  # None: every rule; codes or prefixes ("TM1")
    ignore: frozenset[str] = frozenset()
    severity: dict[str, Severity] = field(default_factory=dict)
    fix_no_grad_with: NoGradStyle = "no_grad"

    def enabled(self, code: str) -> bool:
        if any(code.startswith(p) for p in self.ignore):
            return False
        return self.select is None or any(code.startswith(p) for p in self.select)

    def severity_of(self, code: str, default: Severity) -> Severity:
        return self.severity.get(code, default)


DEFAULT_SETTINGS = Settings()
