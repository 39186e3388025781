"""engine/code_tokens.py reads code as ``tokenize`` does where reference-finding looks: the
same names, strings, comments, dots, calls and statement ends, and the same failures."""

from __future__ import annotations

import io
import tokenize

import pytest
from torchmode.engine.code_tokens import (
    COMMENT,
    NAME,
    NEWLINE,
    NL,
    OP,
    STRING,
    Unreadable,
    code_tokens,
)

_KINDS = {
    tokenize.NAME: NAME,
    tokenize.STRING: STRING,
    tokenize.NEWLINE: NEWLINE,
    tokenize.NL: NL,
    tokenize.COMMENT: COMMENT,
}
_WATCHED_OPS = {".", "(", ";", "..."}


def _significant(tokens: list[tuple[int, str]]) -> list[tuple[int, str]]:
    return [
        (kind, value)
        for kind, value in tokens
        if kind in (NAME, STRING, NEWLINE, COMMENT) or (kind == OP and value in _WATCHED_OPS)
    ]


def _by_tokenize(text: str) -> list[tuple[int, str]] | None:
    try:
        tokens = list(tokenize.generate_tokens(io.StringIO(text).readline))
    except (tokenize.TokenError, IndentationError):
        return None
    out: list[tuple[int, str]] = []
    for token in tokens:
        if token.type == tokenize.OP:
            out.append((OP, token.string))
        elif token.type in _KINDS and not (token.type == tokenize.NEWLINE and not token.string):
            out.append((_KINDS[token.type], token.string))
    return _significant(out)


def _by_us(text: str) -> list[tuple[int, str]] | None:
    try:
        return _significant(code_tokens(text))
    except Unreadable:
        return None


SNIPPETS = {
    "calls-and-imports": "from eval import evaluate as ev\nimport a.b\nev(net, x); a.b.c(1)\n",
    "f-string": 'print(f"{evaluate(net, loader):.3f} {x!r}")\nrb"\\x00" + Rb\'\\\'\'\n',
    "triple-quoted": 'doc = """evaluate(net)\nstill "text" \\""" and\n"""\ncall()\n',
    "brackets-span-lines": "x = f(\n    a,  # evaluate(net)\n    b.c(\n    ),\n)\ny = [1,\n 2]\n",
    "continuation": "total = a + \\\n    evaluate(net)\nz = 'a\\\nb'\n",
    "blocks": (
        "def f():\n    if x:\n        return 1\n\n    # done\n    return 2\n"
        "class C:\n\tdef g(self): ...\n"
    ),
    "numbers-and-dots": "x = 1.5 + .5e3 + 0x1F + 1_000j\ny = a.b[0].c(...)\n",
    "no-final-newline": "evaluate(net)",
    "unclosed-quote-on-a-line": "x = 'abc\nevaluate(net)\n",
    "unterminated-triple": 'x = """abc\nevaluate(net)\n',
    "open-bracket-at-end": "x = f(\n  evaluate(net)\n",
    "indented-to-no-block": "def f():\n        a = 1\n    b = 2\n",
    "crlf": "import os\r\nos.path.join(a)\r\n",
    "semicolons": "import x; x.y(); from z import w\n",
}


@pytest.mark.parametrize("text", SNIPPETS.values(), ids=SNIPPETS.keys())
def test_the_tokens_that_matter_are_tokenizes(text: str) -> None:
    assert _by_us(text) == _by_tokenize(text)
