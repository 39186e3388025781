"""Position conversion and incremental sync, checked against Python's own codecs."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st
from lsprotocol import types
from torchmode.findings import Position, Range
from torchmode.lsp.documents import Document
from torchmode.lsp.positions import UTF8, UTF16, UTF32, LineIndex

ENCODINGS = [UTF8, UTF16, UTF32]
CODECS = {UTF8: ("utf-8", 1), UTF16: ("utf-16-le", 2), UTF32: ("utf-32-le", 4)}


def client_units(text: str, encoding: str) -> int:
    codec, width = CODECS[encoding]
    return len(text.encode(codec)) // width


# Characters that stress conversions: CJK, emoji (outside the BMP), tabs, all line endings,
# and the separators str.splitlines breaks at but LSP and Python do not (form feed, U+2028).
alphabet = st.sampled_from([*list("ab 模型\t😀é\r\n\x0c\u2028#"), "\r\n"])
texts = st.lists(alphabet, max_size=40).map("".join)


def test_lines_end_only_at_lsp_line_endings() -> None:
    index = LineIndex("a\x0cb\u2028c\r\nd\re\nf")
    assert [index.line_text(i) for i in range(index.line_count)] == [
        "a\x0cb\u2028c",
        "d",
        "e",
        "f",
    ]


def test_conversion_of_a_known_line() -> None:
    index = LineIndex('x = "😀"  # 模型\n')
    quote = Position(0, 6)  # the closing quote, after the emoji
    assert index.to_client(quote, UTF32).character == 6
    assert index.to_client(quote, UTF16).character == 7
    assert index.to_client(quote, UTF8).character == 9
    for encoding in ENCODINGS:
        assert index.from_client(index.to_client(quote, encoding), encoding) == quote


@given(texts, st.data())
def test_round_trip_every_position(text: str, data: st.DataObject) -> None:
    index = LineIndex(text)
    line = data.draw(st.integers(0, index.line_count - 1))
    character = data.draw(st.integers(0, len(index.line_text(line))))
    pos = Position(line, character)
    for encoding in ENCODINGS:
        client = index.to_client(pos, encoding)
        assert client.character == client_units(index.line_text(line)[:character], encoding)
        assert index.from_client(client, encoding) == pos


@given(texts, st.data())
def test_incremental_changes_match_code_point_edits(text: str, data: st.DataObject) -> None:
    document = Document("file:///t.py", text, 1)
    start = data.draw(st.integers(0, len(text)))
    end = data.draw(st.integers(start, len(text)))
    new = data.draw(texts)
    # Editors never split "\r\n" or a character; keep the edit on boundaries they would use.
    if text[start - 1 : start + 1] == "\r\n" or text[end - 1 : end + 1] == "\r\n":
        return
    encoding = data.draw(st.sampled_from(ENCODINGS))
    index = document.index
    rng = types.Range(
        start=index.to_client(index.position_at(start), encoding),
        end=index.to_client(index.position_at(end), encoding),
    )
    document.apply(types.TextDocumentContentChangePartial(range=rng, text=new), encoding)
    assert document.text == text[:start] + new + text[end:]


def test_positions_beyond_the_text_are_clamped() -> None:
    index = LineIndex("ab\ncd")
    assert index.from_client(types.Position(line=9, character=0), UTF16) == Position(1, 2)
    assert index.from_client(types.Position(line=0, character=99), UTF16) == Position(0, 2)
    assert index.to_client(Position(7, 3), UTF8) == types.Position(line=1, character=2)
    assert not index.contains(Range.of(0, 0, 5, 0))
    assert not index.contains(Range.of(0, 0, 0, 3))
    assert index.contains(Range.of(0, 1, 1, 2))
