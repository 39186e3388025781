"""The analysis' lines without endings: split in C when the text has no carriage returns."""

from __future__ import annotations

import pytest
from torchmode.analysis.driver import _without_endings
from torchmode.engine.chunks import split_lines


@pytest.mark.parametrize(
    "text",
    ["", "a", "a\n", "a\n\n", "\n", "x\nyy\n z", "a\r\nb\rc\n", "é😀\nz\n", "a\n\nb", "\f\n"],
)
def test_lines_without_endings_match_the_split_lines(text: str) -> None:
    expected = [line.rstrip("\r\n") for line in split_lines(text)]
    assert _without_endings(text, split_lines(text)) == expected
