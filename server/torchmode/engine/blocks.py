"""Statements inside statements: the blocks of compound statements, one-line suites as lines."""

from __future__ import annotations

from collections.abc import Iterator

import libcst as cst


def block_statements(block: cst.BaseSuite) -> list[cst.BaseStatement]:
    if type(block) is cst.IndentedBlock:
        return list(block.body)
    assert type(block) is cst.SimpleStatementSuite
    return [_suite_line(block)]


# One-line suites (``if x: a; b``) are treated as one statement line; the same synthetic line
# is returned each time so that results recorded per statement stay attached to it.
_SUITE_LINES: dict[int, tuple[cst.SimpleStatementSuite, cst.SimpleStatementLine]] = {}
# A synthetic line stands where its suite stands in the source.
_SYNTHETIC_OWNER: dict[int, cst.CSTNode] = {}


def _suite_line(suite: cst.SimpleStatementSuite) -> cst.SimpleStatementLine:
    cached = _SUITE_LINES.get(id(suite))
    if cached is not None and cached[0] is suite:
        return cached[1]
    if len(_SUITE_LINES) > 100_000:
        _SUITE_LINES.clear()
        _SYNTHETIC_OWNER.clear()
    line = cst.SimpleStatementLine(body=list(suite.body))
    _SUITE_LINES[id(suite)] = (suite, line)
    _SYNTHETIC_OWNER[id(line)] = suite
    return line


def synthetic_owner(node: cst.CSTNode) -> cst.CSTNode:
    return _SYNTHETIC_OWNER.get(id(node), node)


def is_synthetic(node: cst.CSTNode) -> bool:
    return id(node) in _SYNTHETIC_OWNER


def nested_blocks(stmt: cst.CSTNode) -> Iterator[cst.BaseStatement]:
    if type(stmt) is cst.If:
        yield from block_statements(stmt.body)
        if stmt.orelse is not None:
            if type(stmt.orelse) is cst.If:
                yield stmt.orelse
            else:
                yield from block_statements(stmt.orelse.body)
    elif type(stmt) is cst.For or type(stmt) is cst.While:
        yield from block_statements(stmt.body)
        if stmt.orelse is not None:
            yield from block_statements(stmt.orelse.body)
    elif type(stmt) is cst.With:
        yield from block_statements(stmt.body)
    elif type(stmt) is cst.Try or type(stmt) is cst.TryStar:
        yield from block_statements(stmt.body)
        for handler in stmt.handlers:
            yield from block_statements(handler.body)
        if stmt.orelse is not None:
            yield from block_statements(stmt.orelse.body)
        if stmt.finalbody is not None:
            yield from block_statements(stmt.finalbody.body)
    elif type(stmt) is cst.Match:
        for case in stmt.cases:
            yield from block_statements(case.body)


def returned_values(fn: cst.FunctionDef) -> list[cst.BaseExpression | None]:
    """What each ``return`` of ``fn`` returns (None for a bare ``return``), leaving out the
    functions and classes defined inside it."""
    out: list[cst.BaseExpression | None] = []
    stack: list[cst.BaseStatement] = list(block_statements(fn.body))
    while stack:
        stmt = stack.pop()
        if type(stmt) is cst.SimpleStatementLine:
            out.extend(small.value for small in stmt.body if type(small) is cst.Return)
        else:
            stack.extend(nested_blocks(stmt))
    return out


def header_expressions(stmt: cst.CSTNode) -> list[cst.CSTNode]:
    """The expressions a compound statement evaluates before its body: an ``if``'s or
    ``while``'s test, a ``for``'s iterable, a ``with``'s context managers."""
    if type(stmt) is cst.If or type(stmt) is cst.While:
        return [stmt.test]
    if type(stmt) is cst.For:
        return [stmt.iter]
    if type(stmt) is cst.With:
        return [item.item for item in stmt.items]
    return []
