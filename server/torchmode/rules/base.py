"""What a rule is: its code, stable name, docs and its own examples (which are also tests)."""

from __future__ import annotations

from dataclasses import dataclass, field

from torchmode.findings import Severity

DOCS_URL = "https://github.com/torchmode/torchmode/blob/main/docs/rules.md#{anchor}"


@dataclass(frozen=True)
class Invalid:
    """Code the rule must report: ``lines`` are the 1-based lines of the expected findings;
    ``fixed`` the source after applying every fix of this rule (None: no fix offered)."""

    source: str
    lines: tuple[int, ...]
    fixed: str | None = None
    unsafe: bool = False  # the fix is an unsafe one (applied with --unsafe-fixes)


@dataclass(frozen=True)
class Rule:
    code: str
    name: str
    summary: str
    default_severity: Severity
    docs: str = ""  # Markdown: What it does / Why is this bad? / Example / Use instead / Options
    invalid: tuple[Invalid, ...] = field(default=(), repr=False)
    valid: tuple[str, ...] = field(default=(), repr=False)

    @property
    def anchor(self) -> str:
        return f"{self.code.lower()}-{self.name}"

    @property
    def url(self) -> str:
        return DOCS_URL.format(anchor=self.anchor)

    @property
    def title(self) -> str:
        return f"{self.code} {self.name}"
