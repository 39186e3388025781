"""Applying fixes: text edits in code points, and fix-all to a fixpoint."""

from __future__ import annotations

from collections.abc import Iterable

from torchmode.findings import Position, TextEdit


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
