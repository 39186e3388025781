"""What one analysis covers: a Python file, or a notebook's code cells as one program.

A target is a snapshot taken when the analysis starts; it maps the engine's ranges (in the
analysed text) back to (document URI, range in that document) and the other way round.
"""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

from pygls.uris import to_fs_path

from torchmode.findings import Position, Range
from torchmode.lsp.positions import LineIndex
from torchmode.notebook import (
    CombinedNotebook,
    Notebook,
    cell_number,
    combine_cells,
    source_offsets,
)

_LONE_SURROGATE = re.compile("[\ud800-\udfff]")


def analysable(text: str) -> str:
    """The client's text as Python can read it. An editor's text is UTF-16 and may hold a
    lone surrogate (pasted from broken data; "\\ud800" in the message), which no UTF-8
    file can: the parsers encode their input to UTF-8 and rejected the whole document, so
    the editor showed nothing. It becomes U+FFFD, as VS Code writes it when saving: one
    code point, one UTF-16 unit and three UTF-8 bytes, as the surrogate was, so every
    position stays valid in the client's text."""
    if text.isascii():
        return text
    return _LONE_SURROGATE.sub("\ufffd", text)


def path_of(uri: str) -> Path | None:
    path = to_fs_path(uri)
    return Path(path) if path and uri.startswith("file:") else None


@dataclass(frozen=True)
class TextTarget:
    key: str  # the document's URI
    version: int | None
    text: str
    index: LineIndex

    @property
    def path(self) -> Path | None:
        return path_of(self.key)

    @property
    def uris(self) -> tuple[str, ...]:
        return (self.key,)

    def locate(self, rng: Range, editing: bool = False) -> tuple[str, Range] | None:
        return self.key, rng

    def index_of(self, uri: str) -> LineIndex | None:
        return self.index if uri == self.key else None

    def to_analysed(self, uri: str, pos: Position) -> Position | None:
        return pos if uri == self.key else None


@dataclass(frozen=True)
class Cell:
    uri: str
    index: LineIndex


@dataclass(frozen=True)
class NotebookTarget:
    key: str  # the notebook's URI
    version: int | None
    cells: tuple[Cell, ...]  # the code cells, in order
    combined: CombinedNotebook

    @staticmethod
    def of(key: str, version: int | None, cells: list[tuple[str, str]]) -> NotebookTarget:
        combined = combine_cells([analysable(text) for _, text in cells])
        return NotebookTarget(
            key, version, tuple(Cell(uri, LineIndex(text)) for uri, text in cells), combined
        )

    @property
    def text(self) -> str:
        return self.combined.source

    @cached_property
    def index(self) -> LineIndex:
        return LineIndex(self.combined.source)

    @property
    def path(self) -> Path | None:
        return path_of(self.key)

    @property
    def uris(self) -> tuple[str, ...]:
        return tuple(cell.uri for cell in self.cells)

    def locate(self, rng: Range, editing: bool = False) -> tuple[str, Range] | None:
        """The cell a range of the combined program lies in; None if it spans cells, or
        when ``editing``, if it touches masked IPython syntax (an edit there would be lost)."""
        if not self.cells or (editing and self._changes_masked(rng)):
            return None
        placed = self.combined.cell_range(rng)
        if placed is None:
            return None
        cell, inner = placed
        return self.cells[cell].uri, inner

    def _changes_masked(self, rng: Range) -> bool:
        """Whether an edit of ``rng`` would change a masked line (its text in the cell is not
        the ``pass`` the engine saw). Inserting before such a line leaves it intact."""
        masked = self.combined.masked_lines
        if rng.start == rng.end:
            return rng.start.character > 0 and rng.start.line in masked
        last = rng.end.line if rng.end.character > 0 else rng.end.line - 1
        return any(line in masked for line in range(rng.start.line, last + 1))

    def index_of(self, uri: str) -> LineIndex | None:
        for cell in self.cells:
            if cell.uri == uri:
                return cell.index
        return None

    def to_analysed(self, uri: str, pos: Position) -> Position | None:
        for number, cell in enumerate(self.cells):
            if cell.uri == uri:
                return self.combined.from_cell(number, pos)
        return None


@dataclass(frozen=True)
class NotebookFile:
    """A notebook no editor has open, as the workspace index shows it: its code cells analysed
    as one program, the findings placed in the ``.ipynb`` file's own text, in the JSON strings
    the cells' lines are written in. Without cell documents, that is where an editor can show
    them (its problems list names the notebook and the line of the file)."""

    key: str  # the notebook file's URI
    text: str  # the .ipynb file's text
    index: LineIndex
    combined: CombinedNotebook
    cell_lines: tuple[LineIndex, ...]  # each code cell's text
    places: tuple[list[int], ...]  # each code cell: where its characters are in ``text``
    cell_numbers: tuple[int, ...]  # each code cell's 1-based number among all cells

    @staticmethod
    def of(key: str, text: str, notebook: Notebook) -> NotebookFile:
        cells = [analysable(cell) for cell in notebook.cells]
        offsets = source_offsets(text)
        places = tuple(offsets.get(index, [0]) for index in notebook.code_cells)
        return NotebookFile(
            key,
            text,
            LineIndex(text),
            combine_cells(cells),
            tuple(LineIndex(cell) for cell in cells),
            places,
            tuple(cell_number(notebook, i) for i in range(len(cells))),
        )

    @property
    def version(self) -> None:
        return None

    @property
    def uris(self) -> tuple[str, ...]:
        return (self.key,)

    def locate(self, rng: Range, editing: bool = False) -> tuple[str, Range] | None:
        if editing:
            return None  # the file's JSON is not edited here: fixes wait for the notebook to open
        start_cell, start = self.combined.to_cell(rng.start)
        end_cell, end = self.combined.to_cell(rng.end)
        if end_cell != start_cell:
            end = start
        return self.key, Range(self._in_file(start_cell, start), self._in_file(start_cell, end))

    def _in_file(self, cell: int, pos: Position) -> Position:
        lines = self.cell_lines[cell]
        at = lines.clamp(pos)
        character = lines.offsets[at.line] + at.character if lines.offsets else 0
        places = self.places[cell]
        offset = places[min(character, len(places) - 1)]
        line = bisect.bisect_right(self.index.offsets, offset) - 1
        return Position(line, offset - self.index.offsets[line])

    def index_of(self, uri: str) -> LineIndex | None:
        return self.index if uri == self.key else None

    def to_analysed(self, uri: str, pos: Position) -> Position | None:
        return None


Target = TextTarget | NotebookTarget
