"""Code written before Python 3.7 that uses ``async`` as a name: read it as a name again.

PyTorch up to 0.3 spelled a non-blocking copy ``x.cuda(async=True)`` (renamed
``non_blocking=`` in 0.4), and research code of 2017-2018 is full of it. Since Python 3.7
``async`` is a keyword, so such a statement does not parse, and with it the whole training
loop it sits in would go unanalysed. When the text has a syntax error, each ``async`` that is
not the keyword's own use (before ``def``, ``for`` or ``with``) is replaced by an identifier of
the same length: every position in the text stays where it was, and the tree reads as the
code did on the Python it was written for.

The replacement must never reach the user's file: fixes that touch it, or that carry it in
their new text, are dropped (analysis/driver.py).
"""

from __future__ import annotations

import re
import tokenize
from dataclasses import dataclass

from torchmode.findings import Position, Range

KEYWORD = "async"
SUBSTITUTE = "asyn_"  # an identifier of the same length, unlikely to be in real code
assert len(SUBSTITUTE) == len(KEYWORD)

_LINE_END = re.compile(r"\r\n?|\n")  # as split_lines cuts them (chunks.py)
# what may follow the keyword in its own use (``async def``, ``async for``, ``async with``)
_KEYWORD_USES = frozenset({"def", "for", "with"})
_SKIPPED = frozenset(
    {tokenize.NL, tokenize.NEWLINE, tokenize.COMMENT, tokenize.INDENT, tokenize.DEDENT}
)


@dataclass(frozen=True, slots=True)
class Substituted:
    """The text with every ``async`` used as a name replaced, and where each one was."""

    text: str
    spans: tuple[Range, ...]  # in code points, on the lines of the text
    as_keyword_argument: tuple[bool, ...]  # per span: ``async=`` in a call's arguments


def substitute(text: str) -> Substituted | None:
    """``text`` with the name ``async`` replaced, or None when it holds none (or does not
    tokenize: an unclosed string, a broken indentation)."""
    if KEYWORD not in text:
        return None
    offsets = [0, *(end.end() for end in _LINE_END.finditer(text))]
    lines = [text[a:b] for a, b in zip(offsets, [*offsets[1:], len(text)], strict=True)]
    try:
        tokens = list(tokenize.generate_tokens(iter(lines).__next__))
    except (tokenize.TokenError, SyntaxError, ValueError):
        return None
    significant = [t for t in tokens if t.type not in _SKIPPED]
    found: list[tuple[Range, bool]] = []
    for i, token in enumerate(significant):
        if token.type != tokenize.NAME or token.string != KEYWORD:
            continue
        after = significant[i + 1] if i + 1 < len(significant) else None
        if after is not None and after.type == tokenize.NAME and after.string in _KEYWORD_USES:
            continue  # the keyword itself
        before = significant[i - 1] if i > 0 else None
        keyword_argument = (
            before is not None
            and before.string in ("(", ",")
            and after is not None
            and after.string == "="
        )
        (line, column) = token.start
        start = Position(line - 1, column)
        found.append((Range(start, Position(line - 1, column + len(KEYWORD))), keyword_argument))
    if not found:
        return None
    pieces: list[str] = []
    last = 0
    for span, _ in found:
        if span.start.line >= len(offsets):
            return None
        at = offsets[span.start.line] + span.start.character
        if text[at : at + len(KEYWORD)] != KEYWORD:
            return None  # the tokenizer cut the lines otherwise (a lone "\r"): leave it be
        pieces += (text[last:at], SUBSTITUTE)
        last = at + len(KEYWORD)
    pieces.append(text[last:])
    return Substituted(
        "".join(pieces), tuple(span for span, _ in found), tuple(kw for _, kw in found)
    )


def message_at(substituted: Substituted, where: Position) -> str | None:
    """What to say of a syntax error Python reports at ``where`` when it is one of the
    replaced names, else None."""
    for span, keyword_argument in zip(
        substituted.spans, substituted.as_keyword_argument, strict=True
    ):
        if span.start.line != where.line:
            continue
        if not span.start.character <= where.character < span.end.character:
            continue
        if keyword_argument:
            return (
                "syntax error: `async=` does not run on Python 3.7 or later, where `async` "
                "is a keyword (PyTorch 0.4 renamed the argument `non_blocking=`)"
            )
        return "syntax error: `async` is a keyword since Python 3.7 and cannot be a name"
    return None
