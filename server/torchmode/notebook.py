"""Jupyter notebooks as one Python program: code cells in order, IPython syntax masked.

The CLI and the language server both analyse a notebook as the concatenation of its code
cells (a variable defined in cell 2 is used in cell 5). IPython-only lines (``%magic``,
``%%cell magic``, ``!shell``, ``x = !cmd``, ``obj?``) are masked line by line: the number
of lines never changes, so every other line keeps its exact line and column and positions
map back to (cell, line, column) by a line offset alone.
"""

from __future__ import annotations

import bisect
import io
import json
import re
import tokenize
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from torchmode.findings import Position, Range, TextEdit
from torchmode.fixing import apply_edits

# Cell magics whose body is Python: only their first line is masked.
_PYTHON_BODY_CELL_MAGICS = frozenset({"time", "timeit", "capture", "prun", "debug"})
_HELP_LINE = re.compile(
    r"^\s*\?{0,2}[A-Za-z_][\w.]*(\(\))?\*?\?{1,2}\s*$|^\s*\?{1,2}[A-Za-z_][\w.]*\s*$"
)
_SHELL_ASSIGNMENT = re.compile(r"^(\s*[A-Za-z_][\w.]*(\s*,\s*[A-Za-z_][\w.]*)*\s*=\s*)[!%]")
_MAGIC_LINE = re.compile(r"^(\s*)[%!]")
_LINE_REFERENCE = re.compile(r"\bline (\d+)\b")


class NotebookError(ValueError):
    """The file is not a notebook this tool can read (bad JSON, unknown layout)."""


@dataclass(frozen=True)
class CombinedNotebook:
    """Code cells joined into ``source``; ``cell_starts[i]`` is cell i's first line there."""

    source: str
    cell_starts: tuple[int, ...]
    masked_lines: frozenset[int]  # lines of ``source`` that hold masked IPython syntax

    def to_cell(self, position: Position) -> tuple[int, Position]:
        """(index of the cell in the ``cells`` given to combine_cells, position in that cell)."""
        index = max(bisect.bisect_right(self.cell_starts, position.line) - 1, 0)
        return index, Position(position.line - self.cell_starts[index], position.character)

    def from_cell(self, cell_index: int, position: Position) -> Position:
        return Position(self.cell_starts[cell_index] + position.line, position.character)

    def cell_range(self, range_: Range) -> tuple[int, Range] | None:
        """The cell holding ``range_`` and the range inside it; None if it spans cells."""
        start_cell, start = self.to_cell(range_.start)
        end_cell, end = self.to_cell(range_.end)
        if start_cell != end_cell:
            # An end at column 0 of the next cell's first line still ends in this cell.
            if end_cell == start_cell + 1 and end.line == 0 and end.character == 0:
                cell_text_lines = self.cell_starts[end_cell] - self.cell_starts[start_cell]
                return start_cell, Range(start, Position(cell_text_lines, 0))
            return None
        return start_cell, Range(start, end)

    def relabel_lines(self, message: str, cell_numbers: Sequence[int]) -> str:
        """Engine messages name lines of the combined program ("`loss.backward()` on line
        25"); say which cell's line instead ("on line 3 of cell 5"). ``cell_numbers[i]`` is
        how cell i is called (e.g. its 1-based position among all the notebook's cells)."""

        def in_cell(match: re.Match[str]) -> str:
            index, position = self.to_cell(Position(int(match.group(1)) - 1, 0))
            return f"line {position.line + 1} of cell {cell_numbers[index]}"

        return _LINE_REFERENCE.sub(in_cell, message)

    def touches_masked(self, range_: Range) -> bool:
        return any(
            line in self.masked_lines for line in range(range_.start.line, range_.end.line + 1)
        )


def _mask(line: str) -> str:
    """``line`` with its IPython syntax replaced by Python of the same indentation."""
    if m := _SHELL_ASSIGNMENT.match(line):
        # `files = !ls` keeps its assignment target, so later uses of `files` still resolve.
        return m.group(1) + "None"
    if m := _MAGIC_LINE.match(line):
        return m.group(1) + "pass"
    return re.sub(r"\S.*", "pass", line, count=1)


def _continuation_lines(text: str) -> set[int]:
    """0-based lines that continue a statement (inside brackets, strings, after a backslash):
    a ``%`` there is the modulo operator and a ``!`` part of ``!=``, never IPython syntax."""
    inside: set[int] = set()
    depth = 0
    last_line = 0
    try:
        for token in tokenize.generate_tokens(io.StringIO(text).readline):
            (start_line, _), (end_line, _) = token.start, token.end
            if start_line != last_line and depth > 0:
                inside.add(start_line - 1)
            last_line = end_line
            inside.update(range(start_line, end_line))  # lines after a multi-line token's first
            if token.type == tokenize.OP and token.string in "([{":
                depth += 1
            elif token.type == tokenize.OP and token.string in ")]}":
                depth = max(depth - 1, 0)
    except (tokenize.TokenError, SyntaxError, IndentationError):
        pass  # unfinished text: what was seen so far is all we can say
    lines = text.split("\n")
    inside.update(i + 1 for i, line in enumerate(lines) if line.endswith("\\"))
    return inside


def _mask_cell(text: str) -> tuple[list[str], set[int]]:
    lines = text.split("\n")
    masked: set[int] = set()
    first = lines[0].lstrip() if lines else ""
    start = 0
    if first.startswith("%%"):
        magic = first[2:].split(None, 1)[0] if len(first) > 2 else ""
        lines[0] = "pass"
        masked.add(0)
        if magic not in _PYTHON_BODY_CELL_MAGICS:
            for i in range(1, len(lines)):
                lines[i] = ""
                masked.add(i)
            return lines, masked
        start = 1  # `%%time` and co.: the body is Python, with its own line magics
    continuations = _continuation_lines(text)
    continued = False
    for i, line in enumerate(lines):
        if i < start:
            continue
        if i in continuations and not continued:
            continue
        stripped = line.lstrip()
        if continued or stripped.startswith(("%", "!")) or _SHELL_ASSIGNMENT.match(line):
            # A continuation line of a magic is part of the magic: blank it.
            lines[i] = "" if continued else _mask(line)
            masked.add(i)
            continued = line.endswith("\\")
        elif _HELP_LINE.match(line) and "?" in line:
            lines[i] = _mask(line)
            masked.add(i)
    return lines, masked


def combine_cells(cells: Sequence[str]) -> CombinedNotebook:
    """Join code cells (their source text, in order) into one program."""
    out: list[str] = []
    starts: list[int] = []
    masked: set[int] = set()
    for cell in cells:
        # Lone "\r" ends a line too (for Python and for fixing.line_offsets).
        text = cell.replace("\r\n", "\n").replace("\r", "\n")
        if text.endswith("\n"):
            text = text[:-1]
        lines, cell_masked = _mask_cell(text)
        starts.append(len(out))
        masked.update(len(out) + i for i in cell_masked)
        out.extend(lines)
    source = "\n".join(out) + "\n" if out else ""
    return CombinedNotebook(source, tuple(starts), frozenset(masked))


# --- the .ipynb file format ---------------------------------------------------------------


@dataclass
class Notebook:
    """A parsed .ipynb: the JSON document plus what is needed to write it back unchanged."""

    document: dict[str, Any]
    code_cells: list[int]  # indices in document["cells"] of the code cells
    indent: int | None
    trailing_newline: bool
    ascii_only: bool = False  # non-ASCII characters were written as \u escapes

    @property
    def cells(self) -> list[str]:
        return [cell_text(self.document["cells"][i]) for i in self.code_cells]

    def dumps(self) -> str:
        text = json.dumps(self.document, indent=self.indent, ensure_ascii=self.ascii_only)
        return text + "\n" if self.trailing_newline else text


def cell_text(cell: dict[str, Any]) -> str:
    source = cell.get("source", "")
    if isinstance(source, list):
        for number, item in enumerate(source, 1):
            if not isinstance(item, str):
                # a hand-edited or generated notebook: say where, not a TypeError from join
                raise NotebookError(
                    f"item {number} of its 'source' list is {_json_kind(item)}, not a string"
                )
        return "".join(source)
    if isinstance(source, str):
        return source
    raise NotebookError("its 'source' is neither a string nor a list of strings")


def _json_kind(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, (int, float)):
        return "a number"
    return "an object" if isinstance(value, dict) else "a list"


def _detect_indent(text: str) -> int | None:
    lines = text.split("\n", 2)
    if len(lines) < 2:
        return None
    second = lines[1]
    return len(second) - len(second.lstrip(" "))


def parse_notebook(text: str) -> Notebook:
    try:
        document = json.loads(text)
    except json.JSONDecodeError as error:
        raise NotebookError(f"invalid notebook JSON: {error}") from None
    if not isinstance(document, dict) or not isinstance(document.get("cells"), list):
        raise NotebookError("not a Jupyter notebook (no 'cells' list)")
    code_cells = []
    for index, cell in enumerate(document["cells"]):
        if not isinstance(cell, dict):
            raise NotebookError(f"cell {index + 1} is not an object")
        if cell.get("cell_type") == "code":
            try:
                cell_text(cell)  # validates the source's type
            except NotebookError as error:
                raise NotebookError(f"cell {index + 1}: {error}") from None
            code_cells.append(index)
    ascii_only = text.isascii() and "\\u" in text
    return Notebook(document, code_cells, _detect_indent(text), text.endswith("\n"), ascii_only)


# --- writing changed cells back into the file's own text ------------------------------------

_JSON_SPACE = re.compile(r"[ \t\n\r]*")
_DECODER = json.JSONDecoder()


def _space_after(text: str, pos: int) -> int:
    match = _JSON_SPACE.match(text, pos)
    return match.end() if match else pos


def _skip_value(text: str, pos: int) -> int:
    return _DECODER.raw_decode(text, pos)[1]


def _walk_object(text: str, pos: int, member: Callable[[str, int], int]) -> int:
    """Walk the JSON object at ``text[pos]`` (valid JSON): ``member(key, start)`` is called
    for each member's value and returns where that value ends. Returns the object's end."""
    pos = _space_after(text, pos + 1)
    while text[pos] != "}":
        # typeshed leaves out json.decoder.scanstring, which CPython's json.decoder has
        key, pos = json.decoder.scanstring(text, pos + 1)  # type: ignore[attr-defined]
        pos = _space_after(text, _space_after(text, pos) + 1)  # past the ":"
        pos = _space_after(text, member(key, pos))
        if text[pos] == ",":
            pos = _space_after(text, pos + 1)
    return pos + 1


def _walk_array(text: str, pos: int, element: Callable[[int, int], int]) -> int:
    """As _walk_object, for the array at ``text[pos]``: ``element(index, start)``."""
    pos = _space_after(text, pos + 1)
    index = 0
    while text[pos] != "]":
        pos = _space_after(text, element(index, pos))
        index += 1
        if text[pos] == ",":
            pos = _space_after(text, pos + 1)
    return pos + 1


def _source_spans(text: str) -> dict[int, tuple[int, int]]:
    """Where each cell's ``source`` value is in the notebook's JSON text, by cell index
    (the last of repeated keys, as json.loads takes it)."""
    spans: dict[int, tuple[int, int]] = {}

    def cell(index: int, start: int) -> int:
        if text[start] != "{":
            return _skip_value(text, start)

        def member(key: str, value: int) -> int:
            end = _skip_value(text, value)
            if key == "source":
                spans[index] = (value, end)
            return end

        return _walk_object(text, start, member)

    def top(key: str, start: int) -> int:
        if key != "cells" or text[start] != "[":
            return _skip_value(text, start)
        spans.clear()
        return _walk_array(text, start, cell)

    _walk_object(text, _space_after(text, 0), top)
    return spans


def source_offsets(text: str) -> dict[int, list[int]]:
    """For each cell (by index among all cells) whose ``source`` is in ``text``, the notebook's
    JSON text: where each character of its source is written in ``text`` (an escape such as
    ``\\n`` is one character), then where the source ends. A finding in a notebook nobody has
    open is shown at these places, since there are no cell documents to show it in."""
    offsets: dict[int, list[int]] = {}
    for index, (start, end) in _source_spans(text).items():
        places: list[int] = []
        if text[start] == "[":
            _walk_array(text, start, _appending_places(text, places))
            places.append(_last_quote(text, start, end))
        elif text[start] == '"':
            places.append(_string_places(text, start, places) - 1)
        else:
            places.append(start)
        offsets[index] = places
    return offsets


def _string_places(text: str, start: int, places: list[int]) -> int:
    """Append where each character of the JSON string at ``text[start]`` is written; return
    where the string ends (past its closing quote)."""
    pos = start + 1
    while text[pos] != '"':
        places.append(pos)
        if text[pos] != "\\":
            pos += 1
        elif text[pos + 1] != "u":
            pos += 2
        else:
            code = int(text[pos + 2 : pos + 6], 16)
            pos += 6
            # a surrogate pair is one character once decoded
            if (
                0xD800 <= code < 0xDC00
                and text.startswith("\\u", pos)
                and 0xDC00 <= int(text[pos + 2 : pos + 6], 16) < 0xE000
            ):
                pos += 6
    return pos + 1


def _appending_places(text: str, places: list[int]) -> Callable[[int, int], int]:
    def element(_: int, begin: int) -> int:
        return _string_places(text, begin, places)

    return element


def _last_quote(text: str, start: int, end: int) -> int:
    """Where a source list's last line ends: its closing quote (or the list's "[")."""
    quote = text.rfind('"', start, end)
    return quote if quote >= 0 else start


def _source_lines(text: str) -> list[str]:
    """A cell's text as nbformat stores it: lines with their "\n"."""
    lines = [line + "\n" for line in text.split("\n")]
    lines[-1] = lines[-1][:-1]
    return lines if lines[-1] else lines[:-1]


def _list_layout(text: str, start: int, end: int) -> tuple[str, str, str]:
    """The white space of the JSON list at ``text[start:end]``: after "[", between items
    (with the comma) and before "]". An empty list takes it from its line's indentation."""
    items: list[tuple[int, int]] = []

    def element(index: int, begin: int) -> int:
        items.append((begin, _skip_value(text, begin)))
        return items[-1][1]

    _walk_array(text, start, element)
    if not items:
        return _empty_list_layout(text, start)
    opening = text[start + 1 : items[0][0]]
    between = text[items[0][1] : items[1][0]] if len(items) > 1 else "," + opening
    return opening, between, text[items[-1][1] : end - 1]


def _empty_list_layout(text: str, start: int) -> tuple[str, str, str]:
    line_start = text.rfind("\n", 0, start) + 1
    if not line_start:
        return "", ",", ""  # all on one line: compact
    newline = "\r\n" if text[line_start - 2 : line_start] == "\r\n" else "\n"
    line = text[line_start:start]
    indent = line[: len(line) - len(line.lstrip(" \t"))]
    second_line = text[text.find("\n") + 1 :]
    unit = second_line[: len(second_line) - len(second_line.lstrip(" \t"))] or " "
    return newline + indent + unit, "," + newline + indent + unit, newline + indent


def _source_json(text: str, span: tuple[int, int], source: str, ascii_only: bool) -> str:
    """The JSON of a cell's new ``source`` in the style of its old one (string or list,
    white space, escaped non-ASCII characters)."""
    start, end = span
    old = text[start:end]
    # the cell's own escaping wins over the file's: some writers escape only some strings
    if not old.isascii():
        ascii_only = False
    elif "\\u" in old:
        ascii_only = True
    if not old.startswith("["):
        return json.dumps(source, ensure_ascii=ascii_only)
    lines = _source_lines(source)
    if not lines:
        return "[]"
    opening, between, closing = _list_layout(text, start, end)
    items = between.join(json.dumps(line, ensure_ascii=ascii_only) for line in lines)
    return f"[{opening}{items}{closing}]"


def spliced(text: str, notebook: Notebook, sources: Sequence[str]) -> str:
    """``text``, the JSON ``notebook`` was parsed from, with the code cells' sources
    replaced by ``sources``: only the ``source`` values of the cells that changed are
    rewritten, so line ends, a compact or tab-indented layout, key order and escapes
    elsewhere stay byte for byte as they were."""
    spans = _source_spans(text)
    changed = {
        index: new
        for index, old, new in zip(notebook.code_cells, notebook.cells, sources, strict=True)
        if old != new
    }
    if not changed.keys() <= spans.keys():
        raise NotebookError("a changed cell has no 'source' to write back into")
    pieces: list[str] = []
    last = 0
    for index in sorted(changed, key=spans.__getitem__):
        start, end = spans[index]
        pieces += [
            text[last:start],
            _source_json(text, spans[index], changed[index], notebook.ascii_only),
        ]
        last = end
    result = "".join([*pieces, text[last:]])
    # Never write a notebook whose cells would read back otherwise than fixed.
    if parse_notebook(result).cells != list(sources):
        raise NotebookError("the fixed cells could not be written back into the notebook")
    return result


def cell_number(notebook: Notebook, code_cell_index: int) -> int:
    """The 1-based number of a code cell among all cells, as editors show it."""
    return notebook.code_cells[code_cell_index] + 1


def edits_by_cell(
    combined: CombinedNotebook, edits: Iterable[TextEdit]
) -> dict[int, list[TextEdit]] | None:
    """Edits of the combined source moved into their cells; None if one cannot be moved."""
    result: dict[int, list[TextEdit]] = {}
    for edit in edits:
        located = combined.cell_range(edit.range)
        if located is None or combined.touches_masked(edit.range):
            return None
        index, cell_range = located
        result.setdefault(index, []).append(TextEdit(cell_range, edit.new_text))
    return result


def apply_cell_edits(text: str, edits: Sequence[TextEdit]) -> str:
    # A cell's last line usually has no "\n"; positions just past it (an insertion "after
    # the block") need one to land on a line of their own.
    if text.endswith("\n"):
        return apply_edits(text, edits)
    fixed = apply_edits(text + "\n", edits)
    return fixed[:-1] if fixed.endswith("\n") else fixed
