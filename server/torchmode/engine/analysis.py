"""Entry point of the engine (under construction: returns no findings yet)."""

from __future__ import annotations

from dataclasses import dataclass, field

from torchmode.findings import Finding, Position
from torchmode.settings import DEFAULT_SETTINGS, Settings


@dataclass(frozen=True, slots=True)
class SyntaxProblem:
    message: str
    position: Position


@dataclass
class Analysis:
    source: str
    findings: list[Finding] = field(default_factory=list)
    syntax_error: SyntaxProblem | None = None

    def hover(self, position: Position) -> str | None:
        return None


def analyze(source: str, settings: Settings = DEFAULT_SETTINGS) -> Analysis:
    return Analysis(source)
