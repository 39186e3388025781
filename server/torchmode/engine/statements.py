"""Where statements sit (parent, block, indentation), built per chunk only when a fix needs it."""

from __future__ import annotations

import libcst as cst

from torchmode.engine.blocks import block_statements, is_synthetic, nested_blocks
from torchmode.engine.chunks import Chunk, split_lines
from torchmode.engine.walk import sub_expressions
from torchmode.findings import Position, Range, TextEdit


class StatementIndex:
    def __init__(self, chunk: Chunk) -> None:
        self.chunk = chunk
        self.parent: dict[int, cst.CSTNode | None] = {}
        self.block: dict[int, list[cst.BaseStatement]] = {}
        self.owner: dict[int, cst.CSTNode] = {}  # expression -> statement containing it
        self.lines = [line.rstrip("\r\n") for line in split_lines(chunk.text)]
        self._walk(list(chunk.module.body), None)

    @staticmethod
    def of(chunk: Chunk) -> StatementIndex:
        """The index of ``chunk``, its walk shared with the earlier analyses that parsed the
        same text (a keystroke walks the edited chunk only). Everything but the chunk (where
        it starts in the text) depends on the text alone."""
        if chunk.cache is None:
            return StatementIndex(chunk)
        walked = chunk.cache.derived(chunk, "statement index", _walked)
        index = object.__new__(StatementIndex)
        index.chunk = chunk
        index.parent, index.block, index.owner, index.lines = walked
        return index

    def _walk(self, stmts: list[cst.BaseStatement], parent: cst.CSTNode | None) -> None:
        for stmt in stmts:
            self.parent[id(stmt)] = parent
            self.block[id(stmt)] = stmts
            if isinstance(stmt, cst.SimpleStatementLine):
                for small in stmt.body:
                    self._own(small, stmt)
                continue
            if isinstance(stmt, cst.FunctionDef | cst.ClassDef):
                for dec in stmt.decorators:
                    self._own(dec.decorator, stmt)
                self._walk(block_statements(stmt.body), stmt)
                continue
            for header in _headers(stmt):
                self._own(header, stmt)
            if isinstance(stmt, cst.If) and isinstance(stmt.orelse, cst.If):
                self._walk_if_chain(stmt, parent, stmts)
                continue
            self._walk(list(nested_blocks(stmt)), stmt)

    def _walk_if_chain(
        self, stmt: cst.If, parent: cst.CSTNode | None, stmts: list[cst.BaseStatement]
    ) -> None:
        self._walk(block_statements(stmt.body), stmt)
        orelse = stmt.orelse
        assert isinstance(orelse, cst.If)
        self.parent[id(orelse)] = parent
        self.block[id(orelse)] = stmts
        self._own(orelse.test, orelse)
        if isinstance(orelse.orelse, cst.If):
            self._walk_if_chain(orelse, parent, stmts)
        else:
            self._walk(list(nested_blocks(orelse)), orelse)

    def _own(self, node: cst.CSTNode, stmt: cst.CSTNode) -> None:
        stack = [node]
        while stack:
            current = stack.pop()
            self.owner[id(current)] = stmt
            stack.extend(sub_expressions(current))
            if isinstance(current, cst.With | cst.WithItem):
                continue

    # -- queries ---------------------------------------------------------------------------
    def statement_of(self, node: cst.CSTNode) -> cst.CSTNode | None:
        if id(node) in self.parent:
            return node
        return self.owner.get(id(node))

    def parent_of(self, stmt: cst.CSTNode) -> cst.CSTNode | None:
        return self.parent.get(id(stmt))

    def siblings_after(self, stmt: cst.CSTNode) -> list[cst.BaseStatement]:
        block = self.block.get(id(stmt), [])
        for i, s in enumerate(block):
            if s is stmt:
                return block[i + 1 :]
        return []

    def ancestors(self, stmt: cst.CSTNode) -> list[cst.CSTNode]:
        out = []
        current = self.parent_of(stmt)
        while current is not None:
            out.append(current)
            current = self.parent_of(current)
        return out

    def chain_of(self, stmt: cst.CSTNode) -> tuple[cst.CSTNode, ...]:
        """The statements from the chunk's top down to ``stmt``."""
        return (*reversed(self.ancestors(stmt)), stmt)

    def range_of(self, node: cst.CSTNode) -> Range:
        stmt = self.statement_of(node)
        if stmt is None:
            return self.chunk.range_of(node)
        return self.chunk.range_in(node, self.chain_of(stmt))

    def start_of(self, stmt: cst.CSTNode) -> Position:
        if id(stmt) not in self.parent:
            return self.chunk.range_of(stmt).start
        return self.chunk.start_in(stmt, self.chain_of(stmt))

    def text_line(self, line: int) -> str:
        local = line - self.chunk.start_line
        return self.lines[local] if 0 <= local < len(self.lines) else ""

    def indent_of(self, stmt: cst.CSTNode) -> str | None:
        """Leading whitespace of the statement's line; None if it does not start its line."""
        start = self.start_of(stmt)
        text = self.text_line(start.line)
        prefix = text[: start.character]
        return prefix if prefix.strip() == "" else None

    def starts_line(self, stmt: cst.CSTNode) -> bool:
        return (
            self.indent_of(stmt) is not None
            and isinstance(stmt, cst.SimpleStatementLine | cst.BaseCompoundStatement)
            and not self._in_one_line_suite(stmt)
        )

    def _in_one_line_suite(self, stmt: cst.CSTNode) -> bool:
        return is_synthetic(stmt)

    # -- edits -----------------------------------------------------------------------------
    def insert_before(self, stmt: cst.CSTNode, code: str) -> TextEdit | None:
        indent = self.indent_of(stmt)
        if indent is None or not self.starts_line(stmt):
            return None
        line = self.start_of(stmt).line
        return TextEdit(Range(Position(line, 0), Position(line, 0)), f"{indent}{code}{self.nl}")

    def insert_after(
        self, stmt: cst.CSTNode, code: str, indent: str | None = None
    ) -> TextEdit | None:
        own = self.indent_of(stmt)
        if own is None or not self.starts_line(stmt):
            return None
        indent = own if indent is None else indent
        end = self.range_of(stmt).end
        last_line = self.chunk.start_line + len(self.lines) - 1
        if end.line >= last_line and not self.chunk.text.endswith(("\n", "\r")):
            line_text = self.text_line(end.line)
            pos = Position(end.line, len(line_text))
            return TextEdit(Range(pos, pos), f"{self.nl}{indent}{code}")
        pos = Position(end.line + 1, 0)
        return TextEdit(Range(pos, pos), f"{indent}{code}{self.nl}")

    @property
    def nl(self) -> str:
        return self.chunk.module.default_newline


def _headers(stmt: cst.CSTNode) -> list[cst.CSTNode]:
    if isinstance(stmt, cst.If | cst.While):
        return [stmt.test]
    if isinstance(stmt, cst.For):
        return [stmt.target, stmt.iter]
    if isinstance(stmt, cst.With):
        return [item.item for item in stmt.items]
    if isinstance(stmt, cst.Match):
        return [stmt.subject]
    return []


_Walked = tuple[
    dict[int, cst.CSTNode | None],
    dict[int, list[cst.BaseStatement]],
    dict[int, cst.CSTNode],
    list[str],
]


def _walked(chunk: Chunk) -> _Walked:
    """What an index knows of the chunk's text, without the chunk (kept by the cache)."""
    index = StatementIndex(chunk)
    return index.parent, index.block, index.owner, index.lines
