"""Applying fixes: text edits in code points, and fix-all to a fixpoint."""

from __future__ import annotations

import ast
import re
from bisect import bisect_right
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from itertools import accumulate
from typing import TYPE_CHECKING, TypeVar

from torchmode.findings import Finding, Fix, Position, Range, Severity, TextEdit
from torchmode.settings import DEFAULT_SETTINGS, Settings

if TYPE_CHECKING:
    from torchmode.engine import Analysis


def line_offsets(source: str) -> list[int]:
    """Code-point offset of the start of every line ("\\r\\n", "\\r" and "\\n" end lines)."""
    if "\r" not in source:
        # the common case, without a Python step per line (a fix check asks three times)
        ends = map((1).__add__, map(len, source.split("\n")[:-1]))
        return list(accumulate(ends, initial=0))
    return [0, *(match.end() for match in _LINE_END.finditer(source))]


_LINE_END = re.compile(r"\r\n?|\n")


def position_at(source: str, offset: int) -> Position:
    """The position of code-point ``offset`` of ``source`` (the inverse of ``offset_of``)."""
    if "\r" not in source:  # without a list of every line's offset (a fix check asks once)
        start = source.rfind("\n", 0, offset) + 1
        return Position(source.count("\n", 0, offset), offset - start)
    offsets = line_offsets(source)
    line = bisect_right(offsets, offset) - 1
    return Position(line, offset - offsets[line])


def offset_of(offsets: list[int], source: str, pos: Position) -> int:
    if pos.line >= len(offsets):
        return len(source)
    return min(offsets[pos.line] + pos.character, len(source))


def apply_edits(source: str, edits: Iterable[TextEdit], offsets: list[int] | None = None) -> str:
    """Apply non-overlapping edits (positions refer to ``source``, whose ``line_offsets`` the
    caller may pass when it has them)."""
    if offsets is None:
        offsets = line_offsets(source)
    spans = sorted(
        (
            (offset_of(offsets, source, e.range.start), offset_of(offsets, source, e.range.end), e)
            for e in edits
        ),
        key=lambda t: (t[0], t[1]),
    )
    out: list[str] = []
    last = 0
    for start, end, edit in spans:
        if start < last:
            raise ValueError(f"overlapping edits at offset {start}")
        out.append(source[last:start])
        out.append(edit.new_text)
        last = end
    out.append(source[last:])
    return "".join(out)


@dataclass(frozen=True, slots=True)
class FixOutcome:
    source: str
    applied: int
    remaining: list[Finding]


def _overlaps(a: Range, b: Range, *, same_fix: bool = False) -> bool:
    # Insertions at one point from two fixes conflict (their order would be arbitrary);
    # within one fix they apply in the fix's own order.
    if a.start == a.end == b.start == b.end:
        return not same_fix
    return a.start < b.end and b.start < a.end


def chosen_fix(finding: Finding, *, unsafe: bool) -> Fix | None:
    """The fix fix-all applies for ``finding``: its preferred allowed fix, else the first."""
    allowed = [f for f in finding.fixes if f.safe or unsafe]
    if not allowed:
        return None
    return next((f for f in allowed if f.preferred), allowed[0])


def compatible_fixes(findings: Iterable[Finding], *, unsafe: bool) -> list[Fix]:
    """One fix per finding, in source order, dropping those whose edits overlap earlier ones
    (they are retried on the re-analysed text of the next round)."""
    taken: list[Range] = []
    fixes: list[Fix] = []
    for finding in sorted(findings, key=Finding.sort_key):
        fix = chosen_fix(finding, unsafe=unsafe)
        if fix is None or not fix.edits:
            continue
        ranges = [e.range for e in fix.edits]
        if any(_overlaps(r, t) for r in ranges for t in taken) or any(
            _overlaps(a, b, same_fix=True) for i, a in enumerate(ranges) for b in ranges[i + 1 :]
        ):
            continue
        taken.extend(ranges)
        fixes.append(fix)
    return fixes


def compiles(source: str) -> bool:
    try:
        compile(source, "<fixed>", "exec", flags=ast.PyCF_ONLY_AST, dont_inherit=True)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return False
    return True


def next_rule_to_fix(findings: Iterable[Finding], *, unsafe: bool, skip: set[str]) -> str | None:
    """The rule whose fixes fix-all applies next: the most severe by default, then by code.

    Fixing one rule per round lets its fixes change what the others see: once
    ``model.eval`` becomes ``model.eval()`` (TM103), the evaluation is no longer in train
    mode and TM102 must not also insert a second ``model.eval()``.
    """
    from torchmode.rules import RULES

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
    from torchmode.engine import analyze

    def apply(text: str, fixes: list[Fix]) -> tuple[str, str, int] | None:
        if not fixes:
            return None
        fixed = apply_edits(text, [e for f in fixes for e in f.edits])
        return fixed, fixed, len(fixes)

    fixed, applied, final = fix_rounds(
        source,
        analysis if analysis is not None else analyze(source, settings),
        analyze_state=lambda text: analyze(text, settings),
        apply_fixes=apply,
        unsafe=unsafe,
        max_rounds=max_rounds,
    )
    return FixOutcome(fixed, applied, list(final.findings))
