"""The outcome of one analysis, and what to show while the code does not parse."""

from __future__ import annotations

from dataclasses import dataclass, replace

from torchmode.analysis import Analysis, Skipped
from torchmode.findings import Finding
from torchmode.lsp.targets import Target
from torchmode.settings import Settings


@dataclass(frozen=True)
class Result:
    target: Target
    settings: Settings
    analysis: Analysis
    shown: tuple[Finding, ...]  # the findings to report
    last_good: tuple[Finding, ...]  # findings of the last analysis without a syntax error
    generation: int = 0  # the server's settings generation it was computed under
    # only the findings are kept (see memory.py): no hover, no fixes without a new analysis
    slim: bool = False

    @property
    def version(self) -> int | None:
        return self.target.version

    def slimmed(self) -> Result:
        """The same findings without what they were computed from (trees, flows, fix builders)."""
        light: dict[int, Finding] = {}

        def keep(findings: tuple[Finding, ...] | list[Finding]) -> tuple[Finding, ...]:
            for f in findings:
                if id(f) not in light:
                    light[id(f)] = replace(f, fix_builder=None, fix_preview=None, _fixes=None)
            return tuple(light[id(f)] for f in findings)

        analysis = Analysis(
            self.analysis.source, list(keep(self.analysis.findings)), self.analysis.syntax_error
        )
        shown, last_good = keep(self.shown), keep(self.last_good)
        return replace(self, analysis=analysis, shown=shown, last_good=last_good, slim=True)

    def is_fresh(self, finding: Finding) -> bool:
        """Whether the finding belongs to this very text (only those can be fixed)."""
        return any(finding is own for own in self.analysis.findings)


def next_result(
    previous: Result | None,
    target: Target,
    settings: Settings,
    analysis: Analysis,
    generation: int = 0,
) -> Result:
    """While the user is mid-edit and the code does not parse, keep showing the last good
    findings that still lie inside the document instead of flickering them away."""
    if isinstance(analysis.syntax_error, Skipped):
        # Not a passing state: the text is too large to analyse, nothing of it is known.
        return Result(target, settings, analysis, (), (), generation)
    if analysis.syntax_error is None or analysis.findings:
        good = tuple(analysis.findings) if analysis.syntax_error is None else ()
        if analysis.syntax_error is not None and previous is not None:
            good = previous.last_good
        return Result(target, settings, analysis, tuple(analysis.findings), good, generation)
    carried = previous.last_good if previous is not None else ()
    index = target.index
    kept = tuple(f for f in carried if index.contains(f.range))
    return Result(target, settings, analysis, kept, carried, generation)
