"""Positions between the engine (code points) and the client's negotiated encoding.

Lines end at "\\n", "\\r\\n" or "\\r" only, as in the LSP specification and in Python's
tokenizer. ``str.splitlines`` (which pygls' TextDocument uses) also breaks at form feeds,
"\\u2028" and friends, which would shift every later line of such a file.
"""

from __future__ import annotations

from functools import cached_property

from lsprotocol import types

from torchmode.analysis import line_offsets
from torchmode.findings import Position, Range

UTF8 = types.PositionEncodingKind.Utf8
UTF16 = types.PositionEncodingKind.Utf16
UTF32 = types.PositionEncodingKind.Utf32


def units_of(char: str, encoding: str) -> int:
    code = ord(char)
    if encoding == UTF32:
        return 1
    if encoding == UTF8:
        return 1 if code < 0x80 else 2 if code < 0x800 else 3 if code < 0x10000 else 4
    return 2 if code > 0xFFFF else 1


def count_units(text: str, encoding: str) -> int:
    if encoding == UTF32 or text.isascii():
        return len(text)
    return sum(units_of(c, encoding) for c in text)


class LineIndex:
    """A text's line starts, and conversions of positions in it."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.offsets = line_offsets(text)

    @property
    def line_count(self) -> int:
        return len(self.offsets)

    def line_text(self, line: int) -> str:
        """The line without its line ending ("" beyond the end)."""
        if line >= len(self.offsets):
            return ""
        start = self.offsets[line]
        end = self.offsets[line + 1] if line + 1 < len(self.offsets) else len(self.text)
        return self.text[start:end].rstrip("\r\n")

    @cached_property
    def end(self) -> Position:
        last = len(self.offsets) - 1
        return Position(last, len(self.text) - self.offsets[last])

    def clamp(self, pos: Position) -> Position:
        if pos.line < 0:
            return Position(0, 0)
        if pos.line >= len(self.offsets):
            return self.end
        return Position(pos.line, max(0, min(pos.character, len(self.line_text(pos.line)))))

    def contains(self, rng: Range) -> bool:
        """Whether the range lies inside this text (used to keep old findings after edits)."""
        return self.clamp(rng.start) == rng.start and self.clamp(rng.end) == rng.end

    def offset(self, pos: Position) -> int:
        pos = self.clamp(pos)
        return self.offsets[pos.line] + pos.character

    def position_at(self, offset: int) -> Position:
        offset = max(0, min(offset, len(self.text)))
        lo, hi = 0, len(self.offsets) - 1
        while lo < hi:
            mid = (lo + hi + 1) // 2
            if self.offsets[mid] <= offset:
                lo = mid
            else:
                hi = mid - 1
        return self.clamp(Position(lo, offset - self.offsets[lo]))

    def to_client(self, pos: Position, encoding: str) -> types.Position:
        pos = self.clamp(pos)
        prefix = self.line_text(pos.line)[: pos.character]
        return types.Position(line=pos.line, character=count_units(prefix, encoding))

    def range_to_client(self, rng: Range, encoding: str) -> types.Range:
        return types.Range(
            start=self.to_client(rng.start, encoding), end=self.to_client(rng.end, encoding)
        )

    def from_client(self, pos: types.Position, encoding: str) -> Position:
        """A client position in code points; one inside a character goes to its end,
        one beyond its line to the end of the line."""
        if pos.line >= len(self.offsets):
            return self.end
        text = self.line_text(pos.line)
        if encoding == UTF32:
            return Position(pos.line, min(pos.character, len(text)))
        units = 0
        for index, char in enumerate(text):
            if units >= pos.character:
                return Position(pos.line, index)
            units += units_of(char, encoding)
        return Position(pos.line, len(text))

    def range_from_client(self, rng: types.Range, encoding: str) -> Range:
        return Range(self.from_client(rng.start, encoding), self.from_client(rng.end, encoding))
