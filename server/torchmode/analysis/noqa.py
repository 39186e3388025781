"""Suppression comments, read and written in one place.

A line is silenced by ``# noqa`` (every rule), ``# noqa: TM101, TM201`` (those rules) or
``# torchmode: ignore[TM101]``. The analysis drops what they silence, hover explains the codes
they name, the "Ignore TM101 on this line" action writes or extends one, and
``torchmode check --add-noqa`` writes one on every line with a finding (``noqa_edits``).
"""

from __future__ import annotations

import io
import re
import tokenize
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Literal

from torchmode.findings import Finding, Position, Range, TextEdit

_COMMENT = re.compile(
    r"#\s*(?:noqa(?P<colon>:\s*(?P<codes>[A-Za-z]+\d+(?:[\s,]+[A-Za-z]+\d+)*))?"
    r"|torchmode:\s*ignore\[(?P<ignored>[^\]]*)\])",
    re.IGNORECASE,
)
_CODE = re.compile(r"\b[A-Za-z]+\d+\b")
_NOQA_CODES = re.compile(r"#\s*noqa\s*:\s*[A-Z]+[0-9]+(?:\s*,\s*[A-Z]+[0-9]+)*", re.IGNORECASE)

ALL: Literal["all"] = "all"


def silenced(line: str) -> set[str] | Literal["all"]:
    """The rule codes (upper case) the line's suppression comments silence, or ``ALL`` for a
    bare ``# noqa``."""
    codes: set[str] = set()
    if "#" not in line:
        return codes
    for match in _COMMENT.finditer(line):
        if match.group("ignored") is not None:
            codes |= _codes(match.group("ignored"))
        elif match.group("colon"):
            codes |= _codes(match.group("codes") or "")
        else:
            return ALL
    return codes


def is_silenced(code: str, line: str) -> bool:
    codes = silenced(line)
    return codes == ALL or code in codes


def codes_named(line: str) -> Iterator[tuple[int, int, str]]:
    """(start, end, code) of each code written after the line's first suppression comment."""
    match = _COMMENT.search(line)
    if match is None:
        return
    for code in _CODE.finditer(line, match.start() + 1):
        yield code.start(), code.end(), code.group().upper()


def _codes(text: str) -> set[str]:
    return {c.upper() for c in re.split(r"[\s,]+", text) if c}


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


@dataclass(frozen=True, slots=True)
class NoqaEdits:
    """What silencing a file's findings takes: one edit per line, and the findings whose line
    cannot take a comment (it continues with a backslash or ends inside a string)."""

    edits: tuple[TextEdit, ...]
    unplaced: tuple[Finding, ...]


def noqa_edits(lines: Sequence[str], findings: Iterable[Finding]) -> NoqaEdits:
    """The edits that silence ``findings`` where the analysis looks for their suppression:
    the line the finding starts on (``lines`` without their line ends). One comment per line
    names every code reported there, added to a ``# noqa: ...`` already on it so that other
    tools' codes stay. Each edited line is checked against ``is_silenced``, the very test the
    analysis applies, so that a line this cannot silence is reported rather than written."""
    by_line: dict[int, list[Finding]] = {}
    for finding in findings:
        by_line.setdefault(finding.range.start.line, []).append(finding)
    edits: list[TextEdit] = []
    unplaced: list[Finding] = []
    for number, on_line in sorted(by_line.items()):
        line = lines[number] if number < len(lines) else ""
        codes = sorted({f.code for f in on_line if not is_silenced(f.code, line)})
        if not codes:
            continue
        edit = ignore_edit(number, line, ", ".join(codes))
        if edit is None or not all(is_silenced(c, _edited(line, edit)) for c in codes):
            unplaced.extend(f for f in on_line if f.code in codes)
            continue
        edits.append(edit)
    return NoqaEdits(tuple(edits), tuple(unplaced))


def _edited(line: str, edit: TextEdit) -> str:
    column = edit.range.start.character
    return line[:column] + edit.new_text + line[edit.range.end.character :]
