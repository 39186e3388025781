"""Node positions from one code generation pass over a parsed chunk.

libcst's PositionProvider gives the same positions but records them through a generator-based
context manager per node, which costs about as much as parsing; this state records them with a
small reusable class instead (same rules: syntactic positions, whitespace excluded)."""

from __future__ import annotations

import ast
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import libcst as cst
from libcst._nodes.internal import CodegenState
from libcst.metadata import CodePosition, CodeRange

from torchmode.engine.blocks import block_statements, nested_blocks


class _Syntactic:
    __slots__ = ("end_node", "node", "start", "start_node", "state")

    def __init__(
        self,
        state: _PositionState,
        node: cst.CSTNode,
        start_node: cst.CSTNode | None,
        end_node: cst.CSTNode | None,
    ) -> None:
        self.state = state
        self.node = node
        self.start_node = start_node
        self.end_node = end_node
        self.start = (0, 0)

    def __enter__(self) -> None:
        self.start = (self.state.line, self.state.column)

    def __exit__(self, *exc: object) -> None:
        state = self.state
        computed = state.computed
        start = (
            computed[self.start_node].start
            if self.start_node is not None
            else CodePosition(*self.start)
        )
        end = (
            computed[self.end_node].end
            if self.end_node is not None
            else CodePosition(state.line, state.column)
        )
        computed[self.node] = CodeRange(start, end)


class _PositionState(CodegenState):
    def __init__(self, module: cst.Module) -> None:
        super().__init__(
            default_indent=module.default_indent, default_newline=module.default_newline
        )
        self.line = 1
        self.column = 0
        self.computed: dict[cst.CSTNode, CodeRange] = {}
        self.stack: list[tuple[int, int]] = []

    def add_indent_tokens(self) -> None:
        for token in self.indent_tokens:
            self.add_token(token)

    def add_token(self, value: str) -> None:
        self.tokens.append(value)
        if "\n" not in value and "\r" not in value:
            self.column += len(value)
            return
        # lines end at \n, \r\n and \r only (not at the form feeds str.splitlines() splits at)
        breaks = value.count("\n") + value.count("\r") - value.count("\r\n")
        self.line += breaks
        last = max(value.rfind("\n"), value.rfind("\r"))
        self.column = len(value) - last - 1

    def before_codegen(self, node: cst.CSTNode) -> None:
        self.stack.append((self.line, self.column))

    def after_codegen(self, node: cst.CSTNode) -> None:
        line, column = self.stack.pop()
        if node not in self.computed:  # a syntactic position was recorded already
            self.computed[node] = CodeRange(
                CodePosition(line, column), CodePosition(self.line, self.column)
            )

    def record_syntactic_position(  # type: ignore[override]
        self,
        node: cst.CSTNode,
        *,
        start_node: cst.CSTNode | None = None,
        end_node: cst.CSTNode | None = None,
    ) -> _Syntactic:
        return _Syntactic(self, node, start_node, end_node)


def compute_positions(module: cst.Module, text: str | None = None) -> dict[cst.CSTNode, CodeRange]:
    """Positions of every node of ``module``, parsed from ``text`` (when given, positions are
    realigned with it where libcst's code generation does not reproduce it)."""
    state = _PositionState(module)
    module._codegen(state)
    if text is not None and "\f" in text:
        generated = "".join(state.tokens)
        if generated != text:
            _realign(state.computed, generated, text)
    return state.computed


_LINE_END = re.compile(r"\r\n|\r|\n")
_INDENT_CHARS = " \t\f"


def _realign(computed: dict[cst.CSTNode, CodeRange], generated: str, text: str) -> None:
    """libcst drops a form feed from a statement's indentation, or repeats the one of a block's
    first line on the next lines ("\f  x" / "  y" codegens as "  x" / "\f  y"): Python resets
    the indentation column at a form feed, so the code means the same, but every column after
    it is off by one. Shift columns on the lines whose indentation differs."""
    generated_lines = _LINE_END.split(generated)
    text_lines = _LINE_END.split(text)
    if len(generated_lines) != len(text_lines):
        return
    shifts: dict[int, tuple[int, int]] = {}  # 1-based line -> (generated, real) indent width
    for number, (ours, theirs) in enumerate(zip(generated_lines, text_lines, strict=True), 1):
        if ours == theirs:
            continue
        ours_rest, theirs_rest = ours.lstrip(_INDENT_CHARS), theirs.lstrip(_INDENT_CHARS)
        if ours_rest != theirs_rest:
            return  # not an indentation difference: leave the positions as generated
        shifts[number] = (len(ours) - len(ours_rest), len(theirs) - len(theirs_rest))
    if not shifts:
        return

    def moved(position: CodePosition) -> CodePosition:
        shift = shifts.get(position.line)
        if shift is None:
            return position
        ours, theirs = shift
        if position.column >= ours:
            return CodePosition(position.line, position.column - ours + theirs)
        return CodePosition(position.line, min(position.column, theirs))

    for node, code_range in computed.items():
        computed[node] = CodeRange(moved(code_range.start), moved(code_range.end))


# -- positions of one statement -------------------------------------------------------------
# A finding needs the positions of a few nodes, and a top-level statement (a class of twenty
# methods) can be long: generating its whole code for them costs a good part of a parse. The
# statement a node sits in is generated alone instead, with the indentation of the blocks
# around it, and placed on its line by CPython's own tree of the chunk (cheap to build).

Chain = tuple[cst.CSTNode, ...]  # statements from the chunk's top level down to the unit


@dataclass(frozen=True, slots=True)
class UnitPositions:
    """What one statement's code gives: the positions of its nodes and where it starts."""

    nodes: dict[cst.CSTNode, CodeRange]
    start: CodePosition  # of the statement itself, compound ones included (their end is not known)


def unit_positions(module: cst.Module, tree: ast.Module, chain: Chain) -> UnitPositions | None:
    """Positions (relative to the chunk, as compute_positions gives them) of the nodes of the
    last statement of ``chain``: all of a simple statement line, the header of a compound
    statement. None where the statement cannot be placed this way (the caller then falls back
    to the whole chunk)."""
    if not any(stmt is chain[0] for stmt in module.body):
        # a method of a class nested in a class or a function: its chain starts at the class
        enclosing = _enclosing(module.body, chain[0])
        if enclosing is None:
            return None
        chain = (*enclosing, *chain)
    placed = _locate(module, tree, chain)
    if placed is None:
        return None
    unit, counterpart, indents = placed
    generated, reference, line = _header_only(unit, counterpart)
    if generated is None or reference is None:
        return None
    state = _PositionState(module)
    state.indent_tokens = list(indents)
    generated._codegen(state)
    computed = state.computed
    at = computed.get(reference)
    own = computed.get(generated)
    if at is None or own is None:
        return None
    delta = line - at.start.line
    start = CodePosition(own.start.line + delta, own.start.column)
    if delta == 0:
        return UnitPositions(computed, start)
    moved = {
        node: CodeRange(
            CodePosition(r.start.line + delta, r.start.column),
            CodePosition(r.end.line + delta, r.end.column),
        )
        for node, r in computed.items()
    }
    return UnitPositions(moved, start)


def _enclosing(
    statements: Sequence[cst.CSTNode], target: cst.CSTNode
) -> tuple[cst.CSTNode, ...] | None:
    """The compound statements, from the top, whose blocks hold ``target`` (None: not found)."""
    stack: list[tuple[cst.CSTNode, tuple[cst.CSTNode, ...]]] = [(s, ()) for s in statements]
    while stack:
        stmt, above = stack.pop()
        if stmt is target:
            return above
        if type(stmt) in (cst.FunctionDef, cst.ClassDef):
            children: Iterable[cst.CSTNode] = block_statements(stmt.body)  # type: ignore[attr-defined]
        else:
            children = nested_blocks(stmt)
        stack.extend((child, (*above, stmt)) for child in children)
    return None


def _locate(
    module: cst.Module, tree: ast.Module, chain: Chain
) -> tuple[cst.CSTNode, ast.stmt, list[str]] | None:
    statements: Sequence[cst.CSTNode] = module.body
    counterparts: Sequence[ast.stmt] = tree.body
    indents: list[str] = []
    for depth, stmt in enumerate(chain):
        counterpart = _counterpart(statements, counterparts, stmt)
        if counterpart is None:
            return None
        if depth == len(chain) - 1:
            return stmt, counterpart, indents
        found = _block_with(stmt, counterpart, chain[depth + 1])
        if found is None:
            return None
        block, statements, counterparts = found
        indents.append(block.indent if block.indent is not None else module.default_indent)
    return None


def _counterpart(
    statements: Sequence[cst.CSTNode], counterparts: Sequence[ast.stmt], stmt: cst.CSTNode
) -> ast.stmt | None:
    index = 0
    for candidate in statements:
        if candidate is stmt:
            return counterparts[index] if index < len(counterparts) else None
        index += len(candidate.body) if type(candidate) is cst.SimpleStatementLine else 1
    return None


def _block_with(
    stmt: cst.CSTNode, counterpart: ast.stmt, child: cst.CSTNode
) -> tuple[cst.IndentedBlock, Sequence[cst.CSTNode], Sequence[ast.stmt]] | None:
    """The block of ``stmt`` that holds ``child``, with the matching statements of CPython's."""
    pairs: list[tuple[cst.BaseSuite, list[ast.stmt]]] = []
    kind = type(stmt)
    if kind in (cst.FunctionDef, cst.ClassDef, cst.With):
        pairs.append((stmt.body, counterpart.body))  # type: ignore[attr-defined]
    elif kind in (cst.For, cst.While):
        pairs.append((stmt.body, counterpart.body))  # type: ignore[attr-defined]
        if stmt.orelse is not None:  # type: ignore[attr-defined]
            pairs.append((stmt.orelse.body, counterpart.orelse))  # type: ignore[attr-defined]
    elif kind is cst.If:
        pairs.append((stmt.body, counterpart.body))  # type: ignore[attr-defined]
        if type(stmt.orelse) is cst.Else:  # type: ignore[attr-defined]
            pairs.append((stmt.orelse.body, counterpart.orelse))  # type: ignore[attr-defined]
    elif kind in (cst.Try, cst.TryStar):
        pairs.append((stmt.body, counterpart.body))  # type: ignore[attr-defined]
        for handler, theirs in zip(stmt.handlers, counterpart.handlers, strict=False):  # type: ignore[attr-defined]
            pairs.append((handler.body, theirs.body))
        if stmt.orelse is not None:  # type: ignore[attr-defined]
            pairs.append((stmt.orelse.body, counterpart.orelse))  # type: ignore[attr-defined]
        if stmt.finalbody is not None:  # type: ignore[attr-defined]
            pairs.append((stmt.finalbody.body, counterpart.finalbody))  # type: ignore[attr-defined]
    for block, theirs in pairs:
        if type(block) is cst.IndentedBlock and any(s is child for s in block.body):
            return block, block.body, theirs
    return None


_PLACEHOLDER = cst.IndentedBlock(body=[cst.SimpleStatementLine(body=[cst.Pass()])])


def _header_only(
    unit: cst.CSTNode, counterpart: ast.stmt
) -> tuple[cst.CSTNode | None, cst.CSTNode | None, int]:
    """What to generate for ``unit`` (its header only, for a compound statement: its body
    would cost the most and holds no node of the unit), a node of it and that node's line."""
    kind = type(unit)
    if kind is cst.SimpleStatementLine:
        return unit, unit.body[0], counterpart.lineno  # type: ignore[attr-defined]
    if kind in (cst.For, cst.While):
        reference = unit.target if kind is cst.For else unit.test  # type: ignore[attr-defined]
        theirs = counterpart.target if kind is cst.For else counterpart.test  # type: ignore[attr-defined]
        return unit.with_changes(body=_PLACEHOLDER, orelse=None), reference, theirs.lineno
    if kind is cst.If:
        return unit.with_changes(body=_PLACEHOLDER, orelse=None), unit.test, counterpart.test.lineno  # type: ignore[attr-defined]
    if kind is cst.With:
        item = unit.items[0].item  # type: ignore[attr-defined]
        theirs = counterpart.items[0].context_expr  # type: ignore[attr-defined]
        return unit.with_changes(body=_PLACEHOLDER), item, theirs.lineno
    if kind in (cst.FunctionDef, cst.ClassDef):
        return unit.with_changes(body=_PLACEHOLDER), unit.name, counterpart.lineno  # type: ignore[attr-defined]
    return None, None, 0
