"""What the engine refuses to analyse, decided cheaply before libcst parses anything.

libcst's parser costs time superlinear in the length of a chain of operations in one
expression (measured with libcst 1.9 on a shared 2-core machine, parse time by number of
links):

=================  =======  =======  =======  ======
chain              10       100      1,000    2,000
=================  =======  =======  =======  ======
``a + a + ...``    0.002 s  0.013 s  0.34 s   1.2 s
``model.a.a...``   0.001 s  0.007 s  0.29 s   1.8 s
``f()()()...``     0.000 s  0.005 s  0.60 s   2.7 s
=================  =======  =======  =======  ======

(4,000 ``+`` terms: about a minute), and linear but large time in the size of one statement
(a 1 MB line holding a list of 330,000 numbers: 30 s). The CLI gives up after 60 s; the
language server has one analysis worker, so such a file would hold up every other document.
A file with a longer chain, a larger single statement, or more bytes than the CLI reads is
therefore not analysed at all, with a message saying why (``Skipped`` in analysis.py).

The check must cost nothing on ordinary code, which the server re-analyses on every
keystroke: only lines of at least :data:`MAX_CHAIN` characters can hold such a chain or
statement (without line breaks inside it; a chain spread over many lines is not caught), the
characters of those lines are counted, and only when the count says "possibly" does CPython's
own parser (fast, and not superlinear) build the tree that decides.
"""

from __future__ import annotations

import ast
import re
import warnings
from collections.abc import Iterator

from torchmode.findings import Position

# The CLI's limit on a file's size, shared by the language server and the engine.
MAX_SOURCE_BYTES = 5 * 1024 * 1024
# Links in one chain of binary operations, attributes, calls or subscripts: ~0.3-0.6 s.
MAX_CHAIN = 1_000
# Expression nodes in one simple statement: a literal of ~50,000 items, ~1-2 s.
MAX_STATEMENT_NODES = 50_000

_LONG_LINE = re.compile(rf"(?m)(?:^|(?<=\r))[^\r\n]{{{MAX_CHAIN},}}")
_LINK = re.compile(r"[-+*/%@|&^.(\[<>]")
_TOKEN = re.compile(r"\w+|[^\w\s]")
_LINE_END = re.compile(r"\r\n|\r|\n")

Refusal = tuple[str, Position]


def refusal(source: str) -> Refusal | None:
    """Why ``source`` is not analysed, or None (almost always, after a regex search).
    Never raises: a check that fails lets the analysis go ahead."""
    try:
        return _refusal(source)
    except Exception:
        return None


def _refusal(source: str) -> Refusal | None:
    size = _size(source)
    if size > MAX_SOURCE_BYTES:
        return (
            f"torchmode skipped this file: {size / 1e6:.1f} MB is above the "
            f"{MAX_SOURCE_BYTES / 1e6:.0f} MB limit",
            Position(0, 0),
        )
    if len(source) < MAX_CHAIN or max(map(len, source.splitlines())) < MAX_CHAIN:
        return None  # the common case: ~2 ms per MB (the regex below takes several times that)
    for match in _LONG_LINE.finditer(source):
        if _suspicious(match.group()):
            return _statement_refusal(source, match.start())
    return None


def _size(source: str) -> int:
    """UTF-8 bytes, encoding only when the character count does not already decide."""
    if len(source) > MAX_SOURCE_BYTES or 4 * len(source) <= MAX_SOURCE_BYTES:
        return len(source)
    return len(source.encode("utf-8", "surrogatepass"))


def _suspicious(line: str) -> bool:
    return len(_LINK.findall(line)) >= MAX_CHAIN or (
        len(line) >= MAX_STATEMENT_NODES and len(_TOKEN.findall(line)) >= MAX_STATEMENT_NODES
    )


def _statement_refusal(source: str, suspect: int) -> Refusal | None:
    """Measured on CPython's tree; ``suspect`` is the offset of the line that looked long."""
    text = source.removeprefix("\ufeff")
    bom = len(source) - len(text)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            tree = ast.parse(text)
    except (RecursionError, MemoryError):
        # CPython builds chains recursively: one it cannot build is far too long for libcst.
        line = len(_LINE_END.findall(source, 0, suspect))
        return (
            f"torchmode skipped this file: line {line + 1} holds an expression too long "
            "(or too deeply nested) to analyse in reasonable time",
            Position(line, 0),
        )
    except (SyntaxError, ValueError):
        return None  # the analysis reports it its own way
    for statement in _statements(tree):
        chain, nodes = _measure(statement)
        if chain > MAX_CHAIN:
            what = f"a chain of {chain:,} operations (the limit is {MAX_CHAIN:,})"
        elif nodes > MAX_STATEMENT_NODES:
            what = f"a statement of more than {MAX_STATEMENT_NODES:,} expressions"
        else:
            continue
        line = statement.lineno - 1
        lines = _LINE_END.split(text, maxsplit=line + 1)
        column = _characters(lines[line] if line < len(lines) else "", statement.col_offset)
        return (
            f"torchmode skipped this file: line {line + 1} holds {what}, "
            "too long to analyse in reasonable time",
            Position(line, column + (bom if line == 0 else 0)),
        )
    return None


def _statements(tree: ast.Module) -> Iterator[ast.stmt]:
    """Every statement, nested ones too, without walking into expressions."""
    stack: list[ast.stmt] = list(reversed(tree.body))
    while stack:
        statement = stack.pop()
        yield statement
        inner: list[ast.stmt] = []
        for name in ("body", "orelse", "finalbody"):
            inner += getattr(statement, name, [])
        for handler in getattr(statement, "handlers", []):
            inner += handler.body
        for case in getattr(statement, "cases", []):
            inner += case.body
        stack += reversed(inner)


def _measure(statement: ast.stmt) -> tuple[int, int]:
    """The longest chain of links and the number of expression nodes (counted up to just
    above the limit) in ``statement``'s own expressions, not those of its body."""
    longest, nodes = 0, 0
    inner: set[int] = set()  # links of a chain already counted from its outer end
    for child in ast.iter_child_nodes(statement):
        if not isinstance(child, ast.expr):
            continue
        for node in ast.walk(child):
            if not isinstance(node, ast.expr):
                continue
            nodes += 1
            if nodes > MAX_STATEMENT_NODES:
                return longest, nodes
            if id(node) in inner:
                continue
            length, link = 0, _next_link(node)
            while link is not None:
                length += 1
                inner.add(id(link))
                link = _next_link(link)
            longest = max(longest, length)
    return longest, nodes


def _next_link(node: ast.expr) -> ast.expr | None:
    """The inner end of one link of a chain libcst nests: ``a + b`` -> ``a``, ``a.b`` ->
    ``a``, ``f()`` -> ``f``, ``a[i]`` -> ``a``; ``a ** b`` nests to the right."""
    if isinstance(node, ast.BinOp):
        return node.right if isinstance(node.op, ast.Pow) else node.left
    if isinstance(node, (ast.Attribute, ast.Subscript)):
        return node.value
    if isinstance(node, ast.Call):
        return node.func
    return None


def _characters(line: str, utf8_offset: int) -> int:
    """A CPython column (UTF-8 bytes) in code points."""
    return len(line.encode("utf-8", "surrogatepass")[:utf8_offset].decode("utf-8", "replace"))
