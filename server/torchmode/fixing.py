"""Applying fixes: text edits in code points, and fix-all to a fixpoint."""

from __future__ import annotations

import ast
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from torchmode.findings import Finding, Fix, Position, Range, TextEdit
from torchmode.settings import DEFAULT_SETTINGS, Settings

if TYPE_CHECKING:
    from torchmode.engine import Analysis


def line_offsets(source: str) -> list[int]:
    """Code-point offset of the start of every line ("\\r\\n", "\\r" and "\\n" end lines)."""
    offsets = [0]
    i, n = 0, len(source)
    while i < n:
        c = source[i]
        if c == "\n" or c == "\r":
            if c == "\r" and i + 1 < n and source[i + 1] == "\n":
                i += 1
            offsets.append(i + 1)
        i += 1
    return offsets


def offset_of(offsets: list[int], source: str, pos: Position) -> int:
    if pos.line >= len(offsets):
        return len(source)
    return min(offsets[pos.line] + pos.character, len(source))


def apply_edits(source: str, edits: Iterable[TextEdit]) -> str:
    """Apply non-overlapping edits (positions refer to ``source``)."""
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


def _overlaps(a: Range, b: Range) -> bool:
    # Two insertions at the same point also conflict: their order would be arbitrary.
    if a.start == a.end == b.start == b.end:
        return True
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
            _overlaps(a, b) for i, a in enumerate(ranges) for b in ranges[i + 1 :]
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


def fix_source(
    source: str,
    settings: Settings = DEFAULT_SETTINGS,
    *,
    unsafe: bool = False,
    max_rounds: int = 10,
    analysis: Analysis | None = None,
) -> FixOutcome:
    """Apply every applicable fix, re-analysing until nothing changes (a fixpoint).

    A round whose result does not compile is dropped, and the previous text is returned: a
    fix must never turn working code into broken code. ``analysis`` is the analysis of
    ``source`` when the caller already has it.
    """
    from torchmode.engine import analyze

    applied = 0
    seen = {source}
    if analysis is None:
        analysis = analyze(source, settings)
    for _ in range(max_rounds):
        if analysis.syntax_error is not None:
            break
        fixes = compatible_fixes(analysis.findings, unsafe=unsafe)
        if not fixes:
            break
        candidate = apply_edits(source, [e for f in fixes for e in f.edits])
        if candidate in seen or not compiles(candidate):
            break
        seen.add(candidate)
        source = candidate
        applied += len(fixes)
        analysis = analyze(source, settings)
    return FixOutcome(source, applied, list(analysis.findings))
