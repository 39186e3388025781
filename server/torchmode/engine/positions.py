"""Node positions from one code generation pass over a parsed chunk.

libcst's PositionProvider gives the same positions but records them through a generator-based
context manager per node, which costs about as much as parsing; this state records them with a
small reusable class instead (same rules: syntactic positions, whitespace excluded)."""

from __future__ import annotations

import re

import libcst as cst
from libcst._nodes.internal import CodegenState
from libcst.metadata import CodePosition, CodeRange


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
