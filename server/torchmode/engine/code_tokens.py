"""Python code as the tokens that finding references to names needs (callers.references),
read with one regular expression instead of the standard library's ``tokenize``.

``tokenize`` is written in Python and yields an object per token: reading how every importing
file refers to a module's functions cost about a tenth of a whole-project run. This reader
gives the same tokens where it matters (names, ``.``, ``(``, ``;``, strings whole, comments,
the logical line ends that end a statement) and fails where ``tokenize`` fails on a text that
cannot be read (a string or a bracket left open at the end, a line indented to no open
block). Operators and numbers come as single tokens of no interest.
"""

from __future__ import annotations

import re
from typing import Final

NAME: Final = 1
OP: Final = 2
STRING: Final = 3
NEWLINE: Final = 4  # the end of a logical line: the end of a statement
NL: Final = 5  # a line end inside brackets, or of a blank or comment-only line
COMMENT: Final = 6
OTHER: Final = 7  # a number, or a quote that opens no string (as tokenize's ERRORTOKEN)

Token = tuple[int, str]


class Unreadable(ValueError):
    """The text ends inside a string or a bracket, or a line is indented to no open block:
    ``tokenize`` fails there too."""


_PREFIX = r"(?:[rRbBuUfF]{1,2})?"
_TOKEN = re.compile(
    r"""
    (?P<space>[ \t\f]+)
  | (?P<comment>\#[^\r\n]*)
  | (?P<newline>\r\n|\r|\n)
  | (?P<continued>\\(?:\r\n|\r|\n))
  | (?P<string>"""
    + _PREFIX
    + r"""(?:'''(?:[^\\']|\\.|\\\n|'(?!''))*'''
          |\"\"\"(?:[^\\"]|\\.|\\\n|"(?!""))*\"\"\"
          |'(?!'')(?:[^\\'\r\n]|\\(?:\r\n|.|\n))*'
          |"(?!"")(?:[^\\"\r\n]|\\(?:\r\n|.|\n))*"))
  | (?P<open_string>"""
    + _PREFIX
    + r"""(?:'''|\"\"\"))
  | (?P<number>0[xXoObB][\w]+|\d[\d_]*(?:\.[\d_]*)?(?:[eE][+-]?\d[\d_]*)?[jJ]?
       |\.\d[\d_]*(?:[eE][+-]?\d[\d_]*)?[jJ]?)
  | (?P<name>\w+)
  | (?P<ellipsis>\.\.\.)
  | (?P<open>[(\[{])
  | (?P<close>[)\]}])
  | (?P<op>.)
    """,
    re.VERBOSE | re.DOTALL,
)


def code_tokens(text: str) -> list[Token]:
    """The tokens of ``text``; Unreadable where ``tokenize`` raises TokenError."""
    out: list[Token] = []
    depth = 0
    line_has_code = False  # since the last line end at statement level
    indents = [0]
    at_line_start = True
    indent = ""
    # the last alternative takes any character: the matches follow each other without a gap
    for found in _TOKEN.finditer(text):
        kind = found.lastgroup
        value = found.group()
        if kind == "space":
            if at_line_start:
                indent = value
            continue
        if kind == "continued":
            at_line_start = False
            continue
        if kind == "newline":
            if depth > 0 or not line_has_code:
                out.append((NL, value))
            else:
                out.append((NEWLINE, value))
                line_has_code = False
            at_line_start, indent = True, ""
            continue
        if kind == "comment":
            out.append((COMMENT, value))
            continue
        if kind == "open_string":
            raise Unreadable("a string runs to the end of the text")
        if at_line_start and not line_has_code and depth <= 0:
            _indent(indents, _column(indent))
        at_line_start = False
        line_has_code = True
        if kind == "name":
            out.append((NAME, value))
        elif kind == "string":
            out.append((STRING, value))
        elif kind == "open":
            depth += 1
            out.append((OP, value))
        elif kind == "close":
            depth -= 1
            out.append((OP, value))
        elif kind == "number":
            out.append((OTHER, value))
        elif kind == "op" and value in "'\"":
            out.append((OTHER, value))  # a quote its line does not close
        else:
            out.append((OP, value))
    if depth > 0:
        raise Unreadable("a bracket is still open at the end of the text")
    return out


def _column(indent: str) -> int:
    column = 0
    for char in indent:
        if char == " ":
            column += 1
        elif char == "\t":
            column = (column // 8 + 1) * 8
        else:  # a form feed starts the count again
            column = 0
    return column


def _indent(indents: list[int], column: int) -> None:
    """A statement's indentation against the blocks open before it, as ``tokenize`` checks it:
    deeper opens a block, shallower must return to one that is open."""
    if column > indents[-1]:
        indents.append(column)
        return
    while column < indents[-1]:
        indents.pop()
    if column != indents[-1]:
        raise Unreadable("a line's indentation matches no block open before it")
