"""Fix-all: apply every applicable fix, re-analysing until nothing changes."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import TypeVar

from torchmode.analysis import driver
from torchmode.analysis.driver import Analysis
from torchmode.findings import Finding, Fix, Severity, TextEdit
from torchmode.fixing import apply_edits, chosen_fix, compatible_fixes, compiles
from torchmode.notebook import (
    CombinedNotebook,
    apply_cell_edits,
    combine_cells,
    edits_by_cell,
)
from torchmode.rules import RULES
from torchmode.settings import DEFAULT_SETTINGS, Settings


@dataclass(frozen=True, slots=True)
class FixOutcome:
    source: str
    applied: int
    remaining: list[Finding]


def next_rule_to_fix(findings: Iterable[Finding], *, unsafe: bool, skip: set[str]) -> str | None:
    """The rule whose fixes fix-all applies next: the most severe by default, then by code.

    Fixing one rule per round lets its fixes change what the others see: once
    ``model.eval`` becomes ``model.eval()`` (TM103), the evaluation is no longer in train
    mode and TM102 must not also insert a second ``model.eval()``.
    """
    codes = {
        f.code
        for f in findings
        if f.code not in skip and f.fixable and chosen_fix(f, unsafe=unsafe) is not None
    }
    if not codes:
        return None

    def order(code: str) -> tuple[int, str]:
        rule = RULES.get(code)
        return (rule.default_severity.rank if rule else Severity.HINT.rank, code)

    return min(codes, key=order)


State = TypeVar("State")


def fix_rounds(
    state: State,
    analysis: Analysis,
    *,
    analyze_state: Callable[[State], Analysis],
    apply_fixes: Callable[[State, list[Fix]], tuple[State, str, int] | None],
    unsafe: bool,
    max_rounds: int,
) -> tuple[State, int, Analysis]:
    """The fix-all loop, for any text representation (a file, a notebook's cells).

    Each round applies the compatible fixes of one rule and re-analyses. A round is
    dropped, and that rule not fixed further, when ``apply_fixes`` cannot place the edits
    (None), when the result does not compile, or when it does not reduce that rule's
    findings (a fix must remove its finding). Returns (state, fixes applied, analysis).
    """
    applied = 0
    given_up: set[str] = set()
    for _ in range(max_rounds):
        if analysis.syntax_error is not None:
            break
        code = next_rule_to_fix(analysis.findings, unsafe=unsafe, skip=given_up)
        if code is None:
            break
        group = [f for f in analysis.findings if f.code == code]
        result = apply_fixes(state, compatible_fixes(group, unsafe=unsafe))
        if result is None or not compiles(result[1]):
            given_up.add(code)
            continue
        candidate, _, count = result
        candidate_analysis = analyze_state(candidate)
        if candidate_analysis.syntax_error is not None or sum(
            f.code == code for f in candidate_analysis.findings
        ) >= len(group):
            given_up.add(code)
            continue
        state, analysis = candidate, candidate_analysis
        applied += count
    return state, applied, analysis


def fix_source(
    source: str,
    settings: Settings = DEFAULT_SETTINGS,
    *,
    unsafe: bool = False,
    max_rounds: int = 10,
    analysis: Analysis | None = None,
) -> FixOutcome:
    """Apply every applicable fix, re-analysing until nothing changes (a fixpoint).

    Only safe fixes unless ``unsafe``; each finding's preferred fix. Never returns text
    that does not compile: such a round is dropped (see fix_rounds). ``analysis`` is the
    analysis of ``source`` when the caller already has it.
    """

    def apply(text: str, fixes: list[Fix]) -> tuple[str, str, int] | None:
        if not fixes:
            return None
        fixed = apply_edits(text, [e for f in fixes for e in f.edits])
        return fixed, fixed, len(fixes)

    fixed, applied, final = fix_rounds(
        source,
        analysis if analysis is not None else driver.analyze(source, settings),
        analyze_state=lambda text: driver.analyze(text, settings),
        apply_fixes=apply,
        unsafe=unsafe,
        max_rounds=max_rounds,
    )
    return FixOutcome(fixed, applied, list(final.findings))


@dataclass
class NotebookFixOutcome:
    cells: list[str]
    applied: int
    combined: CombinedNotebook
    analysis: Analysis


def fix_cells(
    cells: Sequence[str],
    settings: Settings = DEFAULT_SETTINGS,
    *,
    unsafe: bool = False,
    max_rounds: int = 10,
) -> NotebookFixOutcome:
    """fix_source for notebooks: edits are moved into their cells and applied there, so
    magics, outputs and cell boundaries stay as they were."""
    Cells = tuple[list[str], CombinedNotebook]

    def apply(state: Cells, fixes: list[Fix]) -> tuple[Cells, str, int] | None:
        current, combined = state
        per_cell: dict[int, list[TextEdit]] = {}
        count = 0
        for fix in fixes:
            moved = edits_by_cell(combined, fix.edits)
            if moved is None:
                continue  # reaches into masked IPython syntax or across cells
            for index, edits in moved.items():
                per_cell.setdefault(index, []).extend(edits)
            count += 1
        if not count:
            return None
        candidate = list(current)
        for index, edits in per_cell.items():
            candidate[index] = apply_cell_edits(current[index], edits)
        candidate_combined = combine_cells(candidate)
        return (candidate, candidate_combined), candidate_combined.source, count

    combined = combine_cells(cells)
    (fixed, fixed_combined), applied, analysis = fix_rounds(
        (list(cells), combined),
        driver.analyze(combined.source, settings),
        analyze_state=lambda state: driver.analyze(state[1].source, settings),
        apply_fixes=apply,
        unsafe=unsafe,
        max_rounds=max_rounds,
    )
    return NotebookFixOutcome(fixed, applied, fixed_combined, analysis)
