"""The mechanics of fixes: text edits in code points, and which fixes can go together.

The fix-all loop, which needs the analysis, is the driver's (``torchmode.analysis.fixes``).
"""

from __future__ import annotations

import ast
import re
from bisect import bisect_right
from collections.abc import Iterable
from itertools import accumulate

from torchmode.findings import Finding, Fix, Position, Range, TextEdit


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
