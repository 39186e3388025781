"""The "Ignore TM101 on this line" edit: add ``# noqa: TM101`` or extend an existing noqa."""

from __future__ import annotations

import io
import re
import tokenize

from torchmode.findings import Position, Range, TextEdit

_NOQA_CODES = re.compile(r"#\s*noqa\s*:\s*[A-Z]+[0-9]+(?:\s*,\s*[A-Z]+[0-9]+)*", re.IGNORECASE)


def _comment(line: str) -> tuple[int, str] | None:
    """The line's ``#`` comment (column, text); a ``#`` inside a string is not one."""
    try:
        for token in tokenize.generate_tokens(io.StringIO(line).readline):
            if token.type == tokenize.COMMENT:
                return token.start[1], token.string
    except (tokenize.TokenError, SyntaxError):
        # The line alone is incomplete (an open bracket, a string continuing below): the
        # tokens before the error have been seen already.
        pass
    return None


def ignore_edit(line_number: int, line: str, code: str) -> TextEdit | None:
    """The edit that silences ``code`` on this line; None where no comment can go (the line
    continues with a backslash, or it ends inside a multi-line string)."""
    if line.rstrip().endswith("\\"):
        return None
    comment = _comment(line)
    if comment is not None:
        column, text = comment
        if match := _NOQA_CODES.search(text):
            end = column + match.end()
            return TextEdit(Range.of(line_number, end, line_number, end), f", {code}")
        end = len(line.rstrip())
        return TextEdit(Range.of(line_number, end, line_number, end), f"  # noqa: {code}")
    if _opens_string(line):
        return None
    end = len(line.rstrip())
    return TextEdit(
        Range(Position(line_number, end), Position(line_number, end)), f"  # noqa: {code}"
    )


def _opens_string(line: str) -> bool:
    """Whether the line ends inside a string, where a ``#`` would not start a comment."""
    try:
        list(tokenize.generate_tokens(io.StringIO(line + "\n").readline))
    except tokenize.TokenError as error:
        return "string" in str(error).lower()
    except SyntaxError:
        return True
    return False
