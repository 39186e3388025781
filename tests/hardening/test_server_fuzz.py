"""Random incremental edits against the real server.

For every sequence: the server never dies; every published diagnostic lies inside the text
of the version it names (in the negotiated encoding, on a character boundary); and once the
edits stop, the diagnostics equal those of a fresh open of the final text.

While a text does not parse the server deliberately keeps showing the last good findings
that still fit (results.py), which a fresh open cannot have: a sequence that ends in such a
text is finished with one more edit, pasting a program back, before comparing.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from fuzz_invariants import fuzzing
from fuzz_log import carry_on, chain, fewer_items, smaller_text
from fuzz_programs import programs
from hypothesis import given
from hypothesis import strategies as st
from lsp_wire import ServerDied, Wire, assert_range_inside, to_position
from torchmode.analysis import analyze

# --- edits ----------------------------------------------------------------------------------

SNIPPETS = [
    "模型",
    "🚀",
    "\U0001d518",  # outside the BMP: two UTF-16 units, four UTF-8 bytes
    "é",
    "\n",
    "\r\n",
    "\t",
    "    ",
    "\x0c",  # a form feed: allowed in indentation, not a line end for LSP or Python
    "\u2028",  # a line end for str.splitlines() only
    "model.eval()\n",
    "    model.train()\n",
    "loss.backward()",
    "optimizer.step()\r\n",
    "with torch.no_grad():\n    ",
    "for batch in loader:\n",
    "(",
    ")",
    '"""',
    "# noqa: TM101",
    "ответ = 模型(batch)  # 🚀\n",
]


# Whole statements inserted as a line of their own, indented like the line they precede:
# edits that mostly keep the program valid, so that the analysis keeps changing.
STATEMENTS = [
    "model.eval()",
    "model.train()",
    "loss.backward()",
    "optimizer.step()",
    "optimizer.zero_grad()",
    "total += loss",
    "out = model(batch)  # 出力 🚀",
    "模型.eval()",
    "model.eval  # noqa: TM103",
]


@dataclass
class Edit:
    kind: str  # insert | delete | replace | line | paste | clear | sync
    where: float = 0.0  # fraction of the text: resolved against the text when applied
    span: int = 0
    text: str = ""


# Any characters, including those str.splitlines() breaks lines at but LSP and Python do not
# (form feeds, "\u2028"...: positions and edits once went wrong on them).
random_text = st.text(max_size=8)
snippets = st.sampled_from(SNIPPETS)
edits = st.one_of(
    st.builds(Edit, st.just("insert"), st.floats(0, 1), st.just(0), snippets),
    st.builds(Edit, st.just("insert"), st.floats(0, 1), st.just(0), random_text),
    st.builds(Edit, st.just("delete"), st.floats(0, 1), st.integers(1, 40)),
    st.builds(Edit, st.just("replace"), st.floats(0, 1), st.integers(1, 10), snippets),
    st.builds(Edit, st.just("line"), st.floats(0, 1), text=st.sampled_from(STATEMENTS)),
    st.builds(Edit, st.just("paste"), text=programs()),
    st.builds(Edit, st.just("clear")),
    st.builds(Edit, st.just("sync")),
)


def snap(text: str, index: int) -> int:
    """Never between the two characters of a CRLF: no LSP position names that point."""
    index = max(0, min(index, len(text)))
    if 0 < index < len(text) and text[index - 1] == "\r" and text[index] == "\n":
        index -= 1
    return index


@dataclass
class Document:
    wire: Wire
    uri: str
    encoding: str
    texts: dict[int, str] = field(default_factory=dict)  # every version's text
    version: int = 1

    @property
    def text(self) -> str:
        return self.texts[self.version]

    def open(self, text: str) -> None:
        self.texts[1] = text
        self.wire.open(self.uri, text)

    def change(self, start: int, end: int, new: str) -> None:
        old = self.text
        rng = {
            "start": to_position(old, start, self.encoding),
            "end": to_position(old, end, self.encoding),
        }
        self.version += 1
        self.texts[self.version] = old[:start] + new + old[end:]
        self.wire.notify(
            "textDocument/didChange",
            {
                "textDocument": {"uri": self.uri, "version": self.version},
                "contentChanges": [{"range": rng, "text": new}],
            },
        )

    def apply(self, edit: Edit) -> None:
        text = self.text
        at = snap(text, round(edit.where * len(text)))
        if edit.kind == "insert":
            self.change(at, at, edit.text)
        elif edit.kind in ("delete", "replace"):
            self.change(at, snap(text, at + edit.span), edit.text)
        elif edit.kind == "line":
            start = text.rfind("\n", 0, at) + 1
            indent = text[start : len(text[start:]) - len(text[start:].lstrip(" \t")) + start]
            newline = "\r\n" if "\r\n" in text else "\n"
            self.change(start, start, indent + edit.text + newline)
        elif edit.kind == "paste":
            self.change(0, len(text), edit.text)
        elif edit.kind == "clear":
            self.change(0, len(text), "")
        else:
            self.wire.published(self.uri, self.version)


def comparable(diagnostics: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Without the document's URI, which differs between the two opens."""
    out = []
    for diagnostic in diagnostics:
        copy = dict(diagnostic)
        copy["relatedInformation"] = [
            {"range": r["location"]["range"], "message": r["message"]}
            for r in diagnostic.get("relatedInformation") or []
        ]
        copy.pop("data", None)
        out.append(copy)
    return out


def check_publications(wire: Wire, documents: dict[str, Document], start: int) -> None:
    for message in wire.messages[start:]:
        if message.get("method") != "textDocument/publishDiagnostics":
            continue
        params = message["params"]
        document = documents.get(params["uri"])
        if document is None:
            continue
        if params.get("version") is None:
            assert params["diagnostics"] == [], f"unversioned diagnostics: {params}"
            continue
        text = document.texts[params["version"]]
        for diagnostic in params["diagnostics"]:
            what = f"{diagnostic['code']} in version {params['version']}"
            assert_range_inside(text, diagnostic["range"], document.encoding, what)
            for related in diagnostic.get("relatedInformation") or []:
                if related["location"]["uri"] == params["uri"]:
                    rng = related["location"]["range"]
                    assert_range_inside(text, rng, document.encoding, f"related of {what}")


@pytest.fixture(scope="module", params=["utf-16", "utf-8"])
def server(request: pytest.FixtureRequest) -> Iterator[tuple[Wire, str]]:
    wire = Wire()
    result = wire.initialize([request.param])
    assert result["capabilities"]["positionEncoding"] == request.param
    yield wire, request.param
    assert wire.stop() == 0, wire.log()


names = itertools.count()


@fuzzing(0.5)
@given(programs(), st.lists(edits, min_size=1, max_size=25))
@carry_on(chain(fewer_items(2), smaller_text(1)), fatal=(ServerDied,), fixtures=1)
def test_edit_sequences(server: tuple[Wire, str], start: str, sequence: list[Edit]) -> None:
    wire, encoding = server
    mark = len(wire.messages)
    number = next(names)
    document = Document(wire, f"file:///fuzz/edited_{number}.py", encoding)
    document.open(start)
    for edit in sequence:
        document.apply(edit)
    if analyze(document.text).syntax_error is not None:
        document.apply(Edit("paste", text=start))
    final = wire.published(document.uri, document.version, start=mark)
    fresh = Document(wire, f"file:///fuzz/fresh_{number}.py", encoding)
    fresh.open(document.text)
    expected = wire.published(fresh.uri, 1, start=mark)
    check_publications(wire, {document.uri: document, fresh.uri: fresh}, mark)
    assert comparable(final) == comparable(expected), document.text
    wire.close_document(document.uri)
    wire.close_document(fresh.uri)


def test_a_change_after_a_line_separator_lands_where_the_client_put_it(
    server: tuple[Wire, str],
) -> None:
    """pygls splits its copy of the document at "\u2028" (str.splitlines) and clamps the
    change's end to its shorter line, in the params object the server's handler then reads."""
    wire, encoding = server
    mark = len(wire.messages)
    document = Document(wire, f"file:///fuzz/separator_{encoding}.py", encoding)
    document.open("x = 1  # a\u2028b\nmodel.train()\n")
    old = document.text
    document.change(0, old.index("\n"), "model.eval")  # the whole first line
    final = wire.published(document.uri, document.version, start=mark)
    assert document.text == "model.eval\nmodel.train()\n"
    assert [d["code"] for d in final] == ["TM103"], final
