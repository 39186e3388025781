"""Split a module into top-level statements ("chunks") and parse each with libcst.

A chunk is the unit of re-parse and caching: a keystroke inside one function changes one
chunk's text, so only that chunk is parsed again. Chunk boundaries are guessed from lines that
start at column 0; a guess inside a multi-line string or a continued line makes the chunk fail
to parse, and it is then merged with the next one, so the guesses never change the meaning.
"""

from __future__ import annotations

import ast
import re
import warnings
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeVar

import libcst as cst
from libcst.metadata import CodeRange

from torchmode.engine import old_keywords
from torchmode.engine.blocks import synthetic_owner
from torchmode.engine.collection import collection_paused
from torchmode.engine.parsing import unvalidated
from torchmode.engine.positions import compute_positions, unit_positions
from torchmode.findings import Position, Range

if TYPE_CHECKING:
    from torchmode.engine.chunk_records import ChunkRecord
    from torchmode.engine.function_flow import CachedFlow, CachedModuleFlow
    from torchmode.engine.positions import UnitPositions

# Lines that continue the statement above even though they start at column 0.
_CONTINUATION = re.compile(r"(else|elif|except|finally)\b|[)\]}]")
_LINE_SPLIT = re.compile(r"(?<=\n)|(?<=\r)(?!\n)")


T = TypeVar("T")


@dataclass(eq=False)
class Chunk:
    """One parsed top-level statement (with its leading comments and blank lines)."""

    text: str
    start_line: int  # 0-based line of the chunk's first line in the whole text
    module: cst.Module
    _positions: dict[cst.CSTNode, CodeRange] | None = field(default=None, repr=False)
    cache: ChunkCache | None = field(default=None, repr=False)

    @property
    def statements(self) -> tuple[cst.BaseStatement, ...]:
        return tuple(self.module.body)

    def range_of(self, node: cst.CSTNode) -> Range:
        """The code-point range of ``node`` in the whole text (computed lazily per chunk)."""
        if self._positions is None:
            self._positions = (
                self.cache.positions(self.module, self.text)
                if self.cache is not None
                else _compute_positions(self.module, self.text)
            )
        r = self._positions[synthetic_owner(node)]
        return Range(
            Position(r.start.line - 1 + self.start_line, r.start.column),
            Position(r.end.line - 1 + self.start_line, r.end.column),
        )

    def line_of(self, node: cst.CSTNode) -> int:
        return self.range_of(node).start.line

    def range_in(self, node: cst.CSTNode, chain: tuple[cst.CSTNode, ...]) -> Range:
        """``range_of`` for a node of the last statement of ``chain`` (the statements from the
        chunk's top down to it): only that statement's code is generated, when it can be."""
        unit = self._unit(chain)
        r = unit.nodes.get(node) if unit is not None else None
        if r is not None:
            return Range(
                Position(r.start.line - 1 + self.start_line, r.start.column),
                Position(r.end.line - 1 + self.start_line, r.end.column),
            )
        return self.range_of(node)

    def start_in(self, stmt: cst.CSTNode, chain: tuple[cst.CSTNode, ...]) -> Position:
        """Where statement ``stmt``, the last of ``chain``, starts: ``range_of(stmt).start``
        without generating the code of the whole chunk when it can be helped."""
        unit = self._unit(chain) if chain and chain[-1] is stmt else None
        if unit is None:
            return self.range_of(stmt).start
        return Position(unit.start.line - 1 + self.start_line, unit.start.column)

    def _unit(self, chain: tuple[cst.CSTNode, ...]) -> UnitPositions | None:
        if self._positions is not None or self.cache is None or "\f" in self.text:
            return None  # the whole chunk's positions are known (or needed: form feeds)
        return self.cache.unit_positions(self.module, self.text, chain)


@dataclass
class ParseResult:
    chunks: list[Chunk]
    error: tuple[str, Position] | None = None
    lines: list[str] = field(default_factory=list)  # the text's lines, endings kept
    # where ``async`` was read as a name (old_keywords.py): the chunks hold the replacement
    renamed: tuple[Range, ...] = ()
    whole: bool = False  # with an error, every statement parsed all the same (renamed)

    @property
    def complete(self) -> bool:
        """Every statement of the text is in ``chunks``: what they say of its functions is
        all there is (a summary for the files that import it)."""
        return self.error is None or self.whole


class ChunkCache:
    """What successive analyses reuse: parsed modules by chunk text, each chunk's facts record,
    and each function's flow analysis (valid while its code and what it depends on are unchanged).
    """

    def __init__(self, capacity: int = 4096) -> None:
        self._items: OrderedDict[str, cst.Module | None] = OrderedDict()
        self._capacity = capacity
        self.records: dict[int, ChunkRecord] = {}  # id(module) -> its facts record
        self.flows: OrderedDict[int, CachedFlow] = OrderedDict()  # id(def node) -> its analysis
        self.module_flow: CachedModuleFlow | None = None  # the module's, of the last analysis
        self._fingerprint: object = None  # the facts' fingerprint of the last analysis
        self._positions: dict[int, tuple[cst.Module, dict[cst.CSTNode, CodeRange]]] = {}
        # per statement (id of the chain's last one): (chain, its positions or None)
        self._unit_positions: dict[int, tuple[tuple[cst.CSTNode, ...], UnitPositions | None]] = {}
        self._trees: dict[int, tuple[cst.Module, ast.Module | None]] = {}  # CPython's, per chunk
        self.code: dict[int, tuple[cst.CSTNode, str]] = {}  # id(node) -> its code, for messages
        # id(module) -> what rules derive from one chunk alone, by name (see ``derived``)
        self._derived: dict[int, tuple[cst.Module, dict[str, Any]]] = {}
        self.split: Split | None = None  # how the last text parsed here was cut into chunks

    def fork(self) -> ChunkCache:
        """A cache that starts with everything this one holds and then goes its own way: for
        analysing a variant of the text (a fix being checked) without disturbing this one."""
        other = ChunkCache(self._capacity)
        other._items = self._items.copy()
        other.records = self.records.copy()
        other.flows = self.flows.copy()
        other.module_flow = self.module_flow
        other._fingerprint = self._fingerprint
        other._positions = self._positions.copy()
        other._unit_positions = self._unit_positions.copy()
        other._trees = self._trees.copy()
        other.code = self.code.copy()
        other._derived = self._derived.copy()  # values are never changed once computed
        other.split = self.split
        return other

    def intern(self, fingerprint: object) -> object:
        """The last analysis' fingerprint object when equal to ``fingerprint``: cached analyses
        then compare by identity."""
        if fingerprint != self._fingerprint:
            self._fingerprint = fingerprint
        return self._fingerprint

    def clear(self) -> None:
        """Forget everything (see analysis.release)."""
        for kept in (self._items, self.records, self.flows, self._positions, self._unit_positions):
            kept.clear()
        for more in (self._trees, self.code, self._derived):
            more.clear()
        self.module_flow = None
        self._fingerprint = None
        self.split = None

    def positions(self, module: cst.Module, text: str) -> dict[cst.CSTNode, CodeRange]:
        """Positions inside a parsed chunk, relative to its start: they stay valid when the
        chunk moves (an edit above it), so they are computed once per parsed chunk."""
        cached = self._positions.get(id(module))
        if cached is None or cached[0] is not module:
            cached = (module, _compute_positions(module, text))
            self._positions[id(module)] = cached
        return cached[1]

    def unit_positions(
        self, module: cst.Module, text: str, chain: tuple[cst.CSTNode, ...]
    ) -> UnitPositions | None:
        cached = self._unit_positions.get(id(chain[-1]))
        if cached is not None and cached[0][-1] is chain[-1]:
            return cached[1]
        tree = self._tree(module, text)
        positions = unit_positions(module, tree, chain) if tree is not None else None
        self._unit_positions[id(chain[-1])] = (chain, positions)
        return positions

    def _tree(self, module: cst.Module, text: str) -> ast.Module | None:
        cached = self._trees.get(id(module))
        if cached is None or cached[0] is not module:
            try:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    tree: ast.Module | None = ast.parse(text)
            except Exception:  # libcst accepted it, CPython does not: positions the slow way
                tree = None
            cached = (module, tree)
            self._trees[id(module)] = cached
        return cached[1]

    def trim(self) -> None:
        if len(self._positions) > self._capacity:
            self._positions.clear()
        if len(self._unit_positions) > 8 * self._capacity:
            self._unit_positions.clear()
        if len(self._trees) > self._capacity:
            self._trees.clear()
        if len(self.code) > 16 * self._capacity:
            self.code.clear()
        if len(self._derived) > self._capacity:
            self._derived.clear()
        if len(self.records) > 2 * self._capacity:
            self.records.clear()
        while len(self.flows) > 4 * self._capacity:
            self.flows.popitem(last=False)

    def parse(self, text: str, copy: int = 0) -> cst.Module | None:
        """The module of ``text``; ``copy`` n > 0 for the n-th repetition of the same text in
        one file, which needs nodes of its own (analyses key their facts by node identity)."""
        key = f"{copy}\x00{text}" if copy else text  # NUL never occurs in an analysed text
        try:
            module = self._items[key]
            self._items.move_to_end(key)
            return module
        except KeyError:
            pass
        module = None if _too_deep(text) else _parse_or_none(text)
        self._items[key] = module
        if len(self._items) > self._capacity:
            _, evicted = self._items.popitem(last=False)
            if evicted is not None:
                self._forget(evicted)
        return module

    def _forget(self, module: cst.Module) -> None:
        """Drop what is kept about an evicted chunk: it would keep its tree alive."""
        record = self.records.pop(id(module), None)
        for function in getattr(record, "functions", ()):
            self.flows.pop(id(function[0]), None)
        self._positions.pop(id(module), None)
        self._trees.pop(id(module), None)
        self._derived.pop(id(module), None)

    def code_text(self, node: cst.CSTNode) -> str:
        """``code_of(node).strip()``, kept with the tree: messages and branch conditions quote
        the same nodes on every keystroke, and a loop's conditions on every round."""
        known = self.code.get(id(node))
        if known is None or known[0] is not node:
            known = self.code[id(node)] = (node, code_of(node).strip())
        return known[1]

    def derived(self, chunk: Chunk, name: str, compute: Callable[[Chunk], T]) -> T:
        """``compute(chunk)``, for a value that depends on nothing but the chunk's text: kept
        while the chunk stays parsed, so a keystroke computes it for the edited chunk only."""
        module = chunk.module
        entry = self._derived.get(id(module))
        if entry is None or entry[0] is not module:
            entry = self._derived[id(module)] = (module, {})
        values = entry[1]
        if name not in values:
            values[name] = compute(chunk)
        return values[name]  # type: ignore[no-any-return]


_DEEP = re.compile(r"[-+~(\[{]{60}")
_NOT_BRACKET = re.compile(r"[^()\[\]{}]+")
_ONE_KIND = str.maketrans("[{]}", "(())")
# Python's parser accepts brackets nested up to 200 deep, so libcst must parse those: below
# this depth no text is deep enough to matter.
_SAFE_DEPTH = 100


def _too_deep(text: str) -> bool:
    """Nesting that would crash libcst's native parser (a segfault, which nothing can catch):
    when the text could be that deep, Python's own parser, which refuses it cleanly, decides."""
    openers = text.count("(") + text.count("[") + text.count("{")
    runs = openers + text.count("-") + text.count("+") + text.count("~") >= 60  # counts are cheap
    if not (runs and _DEEP.search(text)) and (openers < _SAFE_DEPTH or _shallow(text)):
        return False
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            compile(text, "<chunk>", "exec", ast.PyCF_ONLY_AST, dont_inherit=True)
    except (SyntaxError, RecursionError, MemoryError, ValueError):
        return True
    return False


def _shallow(text: str) -> bool:
    """Brackets surely nested less than _SAFE_DEPTH deep (a real class has hundreds of them, and
    asking Python's parser costs a tenth of libcst's parse). Innermost pairs are removed pass by
    pass, all kinds alike: the passes count the depth. Brackets in strings and comments may pair
    wrongly, but each wrong pairing leaves a bracket unmatched, so passes plus the unmatched
    ones bound the depth from above."""
    brackets = _NOT_BRACKET.sub("", text).translate(_ONE_KIND)
    for passes in range(_SAFE_DEPTH):
        reduced = brackets.replace("()", "")
        if reduced == brackets:
            return passes + len(brackets) < _SAFE_DEPTH
        brackets = reduced
    return False


def _compute_positions(module: cst.Module, text: str) -> dict[cst.CSTNode, CodeRange]:
    return compute_positions(module, text)


def _parse_or_none(text: str) -> cst.Module | None:
    try:
        return cst.parse_module(text)  # unvalidated: see parse_chunks
    except (cst.ParserSyntaxError, RecursionError, ValueError, MemoryError):
        return None
    except Exception:  # libcst's native parser raises a few other kinds on odd input
        return None


def split_lines(text: str) -> list[str]:
    """Lines with their endings kept ("\\r\\n", "\\r" or "\\n")."""
    if "\r" in text:
        lines = _LINE_SPLIT.split(text)
        if lines and lines[-1] == "":
            lines.pop()
        return lines
    # the common case, several times faster than the regex on a big file
    lines = [line + "\n" for line in text.split("\n")]
    last = lines.pop()
    if last != "\n":
        lines.append(last[:-1])
    return lines


_ScanState = tuple[str | None, bool]  # (the triple quote left open, after a decorator?)
_FRESH: _ScanState = (None, False)  # the state every chunk start is guessed in


def _boundaries(lines: list[str]) -> list[int]:
    return _scan(lines, 0, len(lines), _FRESH)[0] or [0]


def _scan(
    lines: list[str], begin: int, end: int, state: _ScanState
) -> tuple[list[int], _ScanState]:
    """The chunk starts guessed in ``lines[begin:end]`` when the guess enters ``begin`` in
    ``state``, and the state it leaves them in. A start is only ever guessed in the _FRESH
    state, so a scan that enters a start line in it guesses as a scan from the top would."""
    starts: list[int] = []
    open_quote, pending_decorator = state  # inside a triple-quoted string: a cheap guess
    for i in range(begin, end):
        line = lines[i]
        at_start_in_string = open_quote is not None
        if '"""' in line or "'''" in line:
            open_quote = _triple_quote_state(line, open_quote)
        if i == 0:
            starts.append(0)
            continue
        if at_start_in_string or not line or line[0] in " \t\r\n#\f":
            continue
        if _CONTINUATION.match(line):
            continue
        if not pending_decorator:
            starts.append(i)
        pending_decorator = line.startswith("@")
    return starts, (open_quote, pending_decorator)


def _triple_quote_state(line: str, open_quote: str | None) -> str | None:
    """Which triple quote is still open after ``line`` (comments and escapes ignored)."""
    i = 0
    while i < len(line):
        if open_quote is None:
            if line[i] == "#":
                return None
            for quote in ('"""', "'''"):
                if line.startswith(quote, i):
                    open_quote = quote
                    i += 3
                    break
            else:
                i += 1
        elif line.startswith(open_quote, i):
            open_quote = None
            i += 3
        else:
            i += 2 if line[i] == "\\" else 1
    return open_quote


@dataclass(frozen=True, slots=True)
class Split:
    """How a text was cut into chunks: each chunk's text and first line, and the line count."""

    texts: tuple[str, ...]
    starts: tuple[int, ...]
    line_count: int

    @staticmethod
    def of(chunks: list[Chunk], line_count: int) -> Split:
        return Split(tuple(c.text for c in chunks), tuple(c.start_line for c in chunks), line_count)


def parse_chunks(text: str, cache: ChunkCache) -> ParseResult:
    """Parse ``text`` chunk by chunk. On a syntax error, report it and return no chunks."""
    lines = split_lines(text)
    with collection_paused(), unvalidated():
        result = _parse_changed(text, lines, cache)
        if result is None:
            starts = _boundaries(lines)
            starts.append(len(lines))
            result = _parse_between(text, lines, starts, cache)
    cache.split = Split.of(result.chunks, len(lines)) if result.error is None else None
    return result


def _parse_changed(text: str, lines: list[str], cache: ChunkCache) -> ParseResult | None:
    """The chunks of ``text`` when it differs from the last text cut in ``cache`` in one
    region: the chunks before and after the region are the old ones (moved), only the region
    is cut again, so that a keystroke or a fix being checked does not scan the whole text.
    None when parsing the region would need a merge with the chunk below it (a syntax error,
    or a wrong guess that a scan of the whole text may merge differently), and when the text
    has line ends other than "\\n" (``split_lines`` cuts those differently)."""
    old = cache.split
    if old is None or not lines or "\r" in text:
        return None
    texts, count = old.texts, len(old.texts)
    before, offset = 0, 0  # chunks kept at the top, and where they end in ``text``
    while before < count and text.startswith(texts[before], offset):
        if not texts[before].endswith("\n"):
            break
        offset += len(texts[before])
        before += 1
    after, end = count, len(text)  # chunks from ``after`` on kept at the bottom
    while after > before:
        kept = texts[after - 1]
        begin = end - len(kept)
        if begin < offset or not text.startswith(kept, begin):
            break
        if begin > offset and text[begin - 1] != "\n":
            break
        after -= 1
        end = begin
    if offset < end and before > 0:
        # the region may continue the chunk above it (a line added at the end of a
        # function): that chunk is cut again with it
        before -= 1
        offset -= len(texts[before])
    first_line = old.starts[before] if before < count else old.line_count
    shift = len(lines) - old.line_count
    last_line = old.starts[after] + shift if after < count else len(lines)
    copies: dict[str, int] = {}
    chunks: list[Chunk] = []
    for index in range(before):
        if not _keep(chunks, texts[index], old.starts[index], cache, copies):
            return None
    if first_line < last_line:
        starts, state = _scan(lines, first_line, last_line, _FRESH)
        while state != _FRESH and after < count:
            # the region's last guess is still open (a string, a decorator): the chunk below
            # is cut again with it
            after += 1
            end_line = old.starts[after] + shift if after < count else len(lines)
            more, state = _scan(lines, last_line, end_line, state)
            starts += more
            last_line = end_line
        if not starts or starts[0] != first_line:
            return None
        starts.append(last_line)
        if _parse_into(chunks, lines, starts, cache, copies, None) is not None:
            return None  # it would merge past the region
    for index in range(after, count):
        if not _keep(chunks, texts[index], old.starts[index] + shift, cache, copies):
            return None
    return ParseResult(chunks, None, lines)


def _keep(
    chunks: list[Chunk], text: str, start: int, cache: ChunkCache, copies: dict[str, int]
) -> bool:
    copy = copies.get(text, 0)
    module = cache.parse(text, copy)
    if module is None:
        return False
    copies[text] = copy + 1
    chunks.append(Chunk(text, start, module, cache=cache))
    return True


def _parse_between(
    text: str, lines: list[str], starts: list[int], cache: ChunkCache
) -> ParseResult:
    chunks: list[Chunk] = []
    problem = _parse_into(chunks, lines, starts, cache, {}, text)
    if problem is not None:
        assert problem is not _PAST_THE_END
        if not problem[0].startswith("syntax error"):
            return ParseResult([], problem)
        renamed = old_keywords.substitute(text)
        if renamed is not None:
            return _parse_renamed(renamed, lines, starts, cache, problem)
        # one statement Python rejects (a Python 2 ``print "x"``) must not cost the others
        return ParseResult(_parse_around_errors(lines, starts, cache, problem), problem, lines)
    return ParseResult(chunks, None, lines)


def _parse_renamed(
    renamed: old_keywords.Substituted,
    lines: list[str],
    starts: list[int],
    cache: ChunkCache,
    problem: tuple[str, Position],
) -> ParseResult:
    """The chunks of a text whose ``async`` names were replaced (old_keywords.py), parsed as
    any text with syntax errors is. The error reported stays the text's own (the file does
    not run on a current Python), reworded when it is such a name."""
    new_lines = split_lines(renamed.text)
    assert len(new_lines) == len(lines)  # only names of the same length were replaced
    error = (old_keywords.message_at(renamed, problem[1]) or problem[0], problem[1])
    first = python_syntax_error(renamed.text)
    if first is None:
        chunks: list[Chunk] = []
        if _parse_into(chunks, new_lines, starts, cache, {}, renamed.text) is None:
            return ParseResult(chunks, error, lines, renamed.spans, whole=True)
    elif first[0].startswith("syntax error"):
        chunks = _parse_around_errors(new_lines, starts, cache, first)
        return ParseResult(chunks, error, lines, renamed.spans)
    # libcst refuses what Python accepts, or the reverse: read as if nothing was renamed
    return ParseResult(_parse_around_errors(lines, starts, cache, problem), problem, lines)


def _parse_around_errors(
    lines: list[str], starts: list[int], cache: ChunkCache, first: tuple[str, Position]
) -> list[Chunk]:
    """The chunks of a text with syntax errors: every top-level statement that parses, the
    ones holding an error left out (from the statement where the error is to the next
    statement boundary after it). ``first``: the whole text's first error, already found."""
    chunks: list[Chunk] = []
    copies: dict[str, int] = {}
    last = len(starts) - 1
    i = 0
    while i < last:
        begin = starts[i]
        rest = "".join(lines[begin : starts[last]])
        error = first if begin == 0 else python_syntax_error(rest)
        if error is None or not error[0].startswith("syntax error"):
            part: list[Chunk] = []
            if _parse_into(part, lines, starts[i:], cache, copies, rest) is None:
                chunks += part
            break
        at = begin + error[1].line
        bad = max(k for k in range(i, last + 1) if starts[k] <= at) if starts[i] <= at else i
        bad = min(bad, last - 1)
        after = next((k for k in range(bad + 1, last + 1) if starts[k] > at), last)
        if bad > i:
            part = []
            if _parse_into(part, lines, starts[i : bad + 1], cache, copies, None) is None:
                chunks += part
        i = max(after, i + 1)
    return chunks


_PAST_THE_END: tuple[str, Position] = ("", Position(0, 0))


def _parse_into(
    chunks: list[Chunk],
    lines: list[str],
    starts: list[int],
    cache: ChunkCache,
    copies: dict[str, int],  # the texts parsed so far, and how often
    text: str | None,  # the whole text, or None when ``lines`` go on after ``starts[-1]``
) -> tuple[str, Position] | None:
    """Parse the chunks between ``starts`` into ``chunks``, merging a chunk that does not parse
    with the next. Returns None, the syntax error of ``text``, or _PAST_THE_END when a chunk
    would need a merge with what lies after ``starts[-1]`` (``text`` None)."""
    checked_whole = False
    i = 0
    while i < len(starts) - 1:
        begin, j = starts[i], i + 1
        while True:
            chunk_text = "".join(lines[begin : starts[j]])
            module = cache.parse(chunk_text, copies.get(chunk_text, 0))
            if module is not None:
                copies[chunk_text] = copies.get(chunk_text, 0) + 1
                break
            if text is not None and not checked_whole and j - i >= 3:
                # A real syntax error would make every merge fail: ask the fast parser once.
                checked_whole = True
                problem = python_syntax_error(text)
                if problem is not None:
                    return problem
            if j == len(starts) - 1:
                if text is None:
                    return _PAST_THE_END
                return python_syntax_error(text) or whole_module_error(text)
            j += 1
        chunks.append(Chunk(chunk_text, begin, module, cache=cache))
        i = j
    return None


def python_syntax_error(text: str) -> tuple[str, Position] | None:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            ast.parse(text)
    except SyntaxError as e:
        line = max((e.lineno or 1) - 1, 0)
        col = max((e.offset or 1) - 1, 0)
        return (f"syntax error: {e.msg}", Position(line, col))
    except (RecursionError, MemoryError):
        return ("too deeply nested to analyse", Position(0, 0))
    except ValueError as e:
        return (f"cannot parse: {e}", Position(0, 0))
    return None


def whole_module_error(text: str) -> tuple[str, Position]:
    """libcst rejected text that Python accepted (or the reverse): say what libcst says."""
    try:
        cst.parse_module(text)
    except cst.ParserSyntaxError as e:
        # the message alone: the position is reported separately, in the caller's terms
        return (f"syntax error: {e.message}", Position(max(e.raw_line - 1, 0), e.raw_column))
    except Exception as e:
        return (f"cannot parse: {e}", Position(0, 0))
    return ("cannot parse this file", Position(0, 0))


def code_of(node: Any) -> str:
    return _EMPTY.code_for_node(node)


_EMPTY = cst.Module(body=[])
