"""Hostile protocol input for ``python -m torchmode.lsp``: broken frames and JSON, unknown
methods, bad params, documents never opened, floods, huge and deeply nested documents, a
client that stops reading. LSP errors where a request was bad; alive and working after."""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from lsp_wire import Message, Wire, assert_range_inside

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = (ROOT / "examples" / "train_sst.py").read_text(encoding="utf-8")
GOOD = "file:///hostile/good.py"


@pytest.fixture
def wire() -> Iterator[Wire]:
    connection = Wire()
    connection.initialize(["utf-16"])
    yield connection
    assert connection.stop() == 0, connection.log()


def works(wire: Wire, uri: str = GOOD) -> None:
    """Alive and analysing: a newly opened example gets its TM101."""
    assert wire.alive(), wire.log()
    wire.open(uri, EXAMPLE)
    assert "TM101" in [d["code"] for d in wire.published(uri, 1)]
    wire.close_document(uri)


def frame(body: bytes, *headers: bytes) -> bytes:
    return b"".join(headers) + b"Content-Length: %d\r\n\r\n" % len(body) + body


def test_malformed_frames_and_json(wire: Wire) -> None:
    for data in [
        frame(b"{oops"),
        frame(b"[]"),
        frame(b"null"),
        frame(b"42"),
        frame(b'{"jsonrpc": "2.0"}'),
        frame(b'{"jsonrpc": "2.0", "method": 7}'),
        frame(b'{"jsonrpc": "1.0", "id": 99, "method": "shutdown"}'),
        frame(b"\xff\xfe\xfd\xfc"),
        frame(b'{"jsonrpc": "2.0", "method": "textDocument/didOpen", "params": null}'),
        frame(b"{}", b"X-Nonsense: 1\r\n"),
        frame(b"{}", b"Content-Type: application/vscode-jsonrpc; charset=utf-8\r\n"),
    ]:
        wire.send_raw(data)
    works(wire)


def test_broken_headers(wire: Wire) -> None:
    wire.send_raw(b"Content-Length: abc\r\n\r\n")
    wire.send_raw(b"Nonsense without a colon\r\n\r\n")
    assert wire.alive(), wire.log()
    works(wire)


HOVER = {"textDocument": {"uri": GOOD}, "position": {"line": 0, "character": 0}}


@pytest.mark.parametrize("error", [-40, -1, 1, 5, 17, 300])
def test_a_wrong_content_length_loses_only_its_own_message(wire: Wire, error: int) -> None:
    """Too small, the rest of the body shared a line with the next header; too large, the
    next messages were read as its body: either way the server never read another message
    (not even shutdown). It answers the next request, and shuts down when asked."""
    body = json.dumps(
        {"jsonrpc": "2.0", "id": 500, "method": "textDocument/hover", "params": HOVER}
    )
    data = body.encode()
    wire.send_raw(b"Content-Length: %d\r\n\r\n" % (len(data) + error) + data)
    ident = wire.request_id("textDocument/hover", HOVER)
    # A reply takes milliseconds; this only bounds the wait for one that never comes.
    assert wire.response(ident, timeout=10)["result"] is None
    works(wire)


def test_a_content_length_counted_in_characters(wire: Wire) -> None:
    # the likeliest client bug: the length of the text, not of its UTF-8 bytes (too small)
    text = "model.eval()  # \u00e9valuation \u2014 \u00e9t\u00e9\n" * 20
    params = {"textDocument": {"uri": GOOD, "languageId": "python", "version": 1, "text": text}}
    body = json.dumps(
        {"jsonrpc": "2.0", "method": "textDocument/didOpen", "params": params}, ensure_ascii=False
    )
    wire.send_raw(b"Content-Length: %d\r\n\r\n" % len(body) + body.encode())
    ident = wire.request_id("textDocument/hover", HOVER)
    assert wire.response(ident, timeout=10)["result"] is None
    works(wire, "file:///hostile/after.py")


def test_unknown_methods(wire: Wire) -> None:
    reply = wire.request("torchmode/nonsense", {"x": 1})
    assert reply["error"]["code"] == -32601  # MethodNotFound
    wire.notify("$/torchmode/nonsense", {"x": 1})
    wire.notify("torchmode/nonsense")
    wire.notify("$/cancelRequest", {"id": 123456})
    works(wire)


def test_bad_params_get_an_invalid_params_error(wire: Wire) -> None:
    ident = wire.request_id("textDocument/hover", {"textDocument": 3})
    # A reply takes milliseconds; this only bounds the wait for one that never comes.
    reply = wire.response(ident, timeout=10)
    assert reply["error"]["code"] == -32602
    assert "position" in reply["error"]["message"]
    here = {"line": 0, "character": 0}
    no_range = {"textDocument": {"uri": GOOD}, "context": {"diagnostics": []}, "start": here}
    assert wire.request("textDocument/codeAction", no_range)["error"]["code"] == -32602
    works(wire)


def anonymous_errors(wire: Wire, start: int) -> list[Message]:
    """Error responses with a null id (to messages whose id could not be read)."""
    return [m for m in wire.messages[start:] if "error" in m and m.get("id", "") is None]


def test_bodies_that_are_not_json_get_a_parse_error(wire: Wire) -> None:
    for body in [b"{oops", b"\xff\xfe\xfd\xfc", b"[" * 100_000 + b"]" * 100_000]:
        mark = len(wire.messages)
        wire.send_raw(frame(body))
        reply = wire.wait_for(lambda m: "error" in m and m.get("id", "") is None, start=mark)
        assert reply["error"]["code"] == -32700, reply
        assert reply["jsonrpc"] == "2.0"
    works(wire)


def test_json_that_is_not_a_request_gets_an_invalid_request_error(wire: Wire) -> None:
    mark = len(wire.messages)
    for body in [b"[]", b"42", b"null", b'{"jsonrpc": "2.0"}', b'{"id": 3}']:
        wire.send_raw(frame(body))
    ident = wire.request_id("torchmode/nonsense")  # answered after the five above
    wire.response(ident)
    assert [m["error"]["code"] for m in anonymous_errors(wire, mark)] == [-32600] * 5
    reply = wire.request("textDocument/hover", None)
    assert reply["error"]["code"] == -32602
    old = b'{"jsonrpc": "1.0", "id": 99, "method": "textDocument/hover", "params": {}}'
    wire.send_raw(frame(old))
    assert wire.response(99)["error"]["code"] == -32600
    works(wire)


def test_notifications_with_bad_params_get_no_response(wire: Wire) -> None:
    mark = len(wire.messages)
    wire.notify("textDocument/didOpen", {"textDocument": 3})
    wire.notify("textDocument/didChange", {"textDocument": {"uri": GOOD}})
    wire.notify("textDocument/didClose", None)
    wire.notify("workspace/didChangeConfiguration", [1, 2])
    works(wire)
    assert [m for m in wire.messages[mark:] if "method" not in m and "id" not in m] == []
    assert anonymous_errors(wire, mark) == []


def test_requests_after_shutdown_get_an_invalid_request_error() -> None:
    wire = Wire()
    wire.initialize(["utf-16"])
    assert wire.request("shutdown")["result"] is None
    reply = wire.request(
        "textDocument/hover",
        {"textDocument": {"uri": GOOD}, "position": {"line": 0, "character": 0}},
    )
    assert reply["error"]["code"] == -32600
    assert wire.stop() == 0, wire.log()


def test_requests_before_initialize_get_a_server_not_initialized_error() -> None:
    wire = Wire()
    here = {"textDocument": {"uri": GOOD}, "position": {"line": 0, "character": 0}}
    mark = len(wire.messages)
    wire.open(GOOD, EXAMPLE)  # a notification: dropped, never answered
    for method, params in [("textDocument/hover", here), ("shutdown", None)]:
        reply = wire.request(method, params)
        assert reply["error"]["code"] == -32002, reply
    reply = wire.request("initialize", {"processId": None, "rootUri": None})  # no capabilities
    assert reply["error"]["code"] == -32602  # an initialize that cannot be read is not one
    assert wire.request("textDocument/hover", here)["error"]["code"] == -32002
    assert [m for m in wire.messages[mark:] if "method" in m] == []
    wire.initialize(["utf-16"])
    assert wire.request("textDocument/hover", here) == {
        "jsonrpc": "2.0",
        "id": wire.messages[-1]["id"],
        "result": None,  # the document opened before initialize was never opened
    }
    works(wire)
    assert wire.stop() == 0, wire.log()


def test_exit_before_initialize_stops_the_server() -> None:
    wire = Wire()
    assert wire.request("textDocument/hover", {})["error"]["code"] == -32002
    wire.notify("exit")
    assert wire.process.wait(timeout=60) == 1
    wire.stop()


def test_requests_about_documents_never_opened(wire: Wire) -> None:
    unknown = {"uri": "file:///hostile/never_opened.py"}
    here = {"line": 3, "character": 7}
    span = {"start": here, "end": here}
    assert wire.request("textDocument/hover", {"textDocument": unknown, "position": here}) == {
        "jsonrpc": "2.0",
        "id": wire.messages[-1]["id"],
        "result": None,
    }
    actions = wire.request(
        "textDocument/codeAction",
        {"textDocument": unknown, "range": span, "context": {"diagnostics": []}},
    )
    assert actions["result"] == []
    pulled = wire.request("textDocument/diagnostic", {"textDocument": unknown})
    assert pulled["result"]["items"] == []
    resolved = wire.request("codeAction/resolve", {"title": "x", "data": {"uri": 5, "kind": []}})
    assert "edit" not in resolved.get("result", {})
    wire.notify(
        "textDocument/didChange",
        {
            "textDocument": {**unknown, "version": 2},
            "contentChanges": [{"range": span, "text": "model.eval()\n"}],
        },
    )
    wire.notify("textDocument/didSave", {"textDocument": unknown})
    wire.notify("textDocument/didClose", {"textDocument": unknown})
    works(wire)


def test_a_burst_of_a_thousand_changes(wire: Wire) -> None:
    uri = "file:///hostile/burst.py"
    wire.open(uri, EXAMPLE)
    text = EXAMPLE
    line = EXAMPLE.splitlines().index("            model.eval()")
    for version in range(2, 1002):
        at = {"line": line, "character": len("            model.eval()") + version - 2}
        wire.notify(
            "textDocument/didChange",
            {
                "textDocument": {"uri": uri, "version": version},
                "contentChanges": [{"range": {"start": at, "end": at}, "text": "#"}],
            },
        )
    lines = text.splitlines(keepends=True)
    lines[line] = lines[line].rstrip("\n") + "#" * 1000 + "\n"
    final = wire.published(uri, 1001)
    wire.open("file:///hostile/fresh.py", "".join(lines))
    fresh = wire.published("file:///hostile/fresh.py", 1)
    assert [(d["code"], d["range"]) for d in final] == [(d["code"], d["range"]) for d in fresh]
    assert "TM101" in [d["code"] for d in final]
    works(wire)


def test_huge_documents_leave_the_server_answering(wire: Wire) -> None:
    training = "for batch in loader: loss = model(batch); loss.backward(); optimizer.step()\n"
    huge = training * (10_000_000 // len(training) + 1)
    wire.open("file:///hostile/huge.py", huge)
    wire.open("file:///hostile/line.py", EXAMPLE + "BLOB = '" + "QUJD" * 250_000 + "'\n")
    # While the 10 MB document is being handled, requests are still answered.
    assert wire.alive()
    works(wire)
    # Above the CLI's size limit: one Information diagnostic saying so, no analysis.
    assert [(d["severity"], d["message"], d["range"]) for d in wire.published(HUGE, 1)] == [
        (3, "torchmode skipped this file: 10.0 MB is above the 5 MB limit", AT_START)
    ]
    assert "TM101" in [d["code"] for d in wire.published("file:///hostile/line.py", 1)]
    assert wire.memory_kib() < 4 * 1024 * 1024, "the server kept more than 4 GiB"
    # The document stays usable: editing it down below the limit brings the analysis back.
    lines = huge.count("\n")
    everything = {"start": AT_START["start"], "end": {"line": lines, "character": 0}}
    wire.notify(
        "textDocument/didChange",
        {
            "textDocument": {"uri": HUGE, "version": 2},
            "contentChanges": [{"range": everything, "text": "model.eval()\n" + training}],
        },
    )
    assert "TM101" in [d["code"] for d in wire.published(HUGE, 2)]
    wire.close_document(HUGE)
    works(wire, "file:///hostile/after.py")


HUGE = "file:///hostile/huge.py"
AT_START = {"start": {"line": 0, "character": 0}, "end": {"line": 0, "character": 0}}


def test_statements_too_long_to_analyse_are_refused_and_others_still_analysed(
    wire: Wire,
) -> None:
    long_lines = {
        "file:///hostile/terms.py": "x = " + "+".join(["loss"] * 4000),
        "file:///hostile/list.py": "x = [" + ", ".join(["1"] * 330_000) + "]",
    }
    for uri, statement in long_lines.items():
        wire.open(uri, "model.eval()\n" + statement + "\nloss.backward()\n")
    works(wire)
    for uri in long_lines:
        (notice,) = wire.published(uri, 1)
        assert notice["severity"] == 3
        assert notice["message"].startswith("torchmode skipped this file: line 2 holds ")
        assert notice["range"]["start"] == {"line": 1, "character": 0}


@pytest.mark.parametrize(
    "text",
    [
        "model.eval()\n\x00\x00loss.backward()\n",
        "".join(" " * i + "if x:\n" for i in range(500)) + " " * 500 + "model.eval()\n",
        "model.eval()\nx = " + "(" * 500 + "model(batch)" + ")" * 500 + "\n",
        "\ufeff" + EXAMPLE.replace("\n", "\r\n"),
    ],
    ids=["nul", "500-nested-blocks", "500-nested-parentheses", "bom-crlf"],
)
def test_odd_documents(wire: Wire, text: str) -> None:
    uri = "file:///hostile/odd.py"
    wire.open(uri, text)
    for diagnostic in wire.published(uri, 1):
        assert_range_inside(text, diagnostic["range"], "utf-16", diagnostic["code"])
    works(wire)


def test_two_thousand_nested_calls_do_not_kill_the_server(wire: Wire) -> None:
    wire.open("file:///hostile/calls.py", "model.eval()\nx = " + "f(" * 2000 + ")" * 2000 + "\n")
    works(wire)


def test_a_client_that_stops_reading_for_a_while(wire: Wire) -> None:
    wire.open(GOOD, EXAMPLE)
    wire.published(GOOD, 1)
    wire.reading.clear()  # the reader stops after the message it is reading
    wire.request_id("textDocument/hover", {"textDocument": {"uri": GOOD}, "position": {}})
    count = 2000
    line = EXAMPLE.splitlines().index("            model.eval()")
    params = {"textDocument": {"uri": GOOD}, "position": {"line": line, "character": 20}}
    first = next(wire.ids)

    def flood() -> None:
        # The server blocks on its full output pipe, then stops reading its input: this
        # thread blocks too until the reader resumes.
        for offset in range(count):
            message = {"jsonrpc": "2.0", "id": first + 1 + offset, "method": "textDocument/hover"}
            wire.send({**message, "params": params})

    writer = threading.Thread(target=flood, daemon=True)
    writer.start()
    time.sleep(3)  # let the pipes fill up
    assert wire.process.poll() is None
    wire.reading.set()
    writer.join(120)
    assert not writer.is_alive()
    last = wire.response(first + count)
    assert "eval" in json.dumps(last["result"])
    answered = {m.get("id") for m in wire.messages}
    assert set(range(first + 1, first + count + 1)) <= answered
    works(wire, "file:///hostile/after.py")


def test_exit_without_shutdown_exits_with_1_at_once() -> None:
    wire = Wire()
    wire.initialize(["utf-16"])
    wire.open(GOOD, EXAMPLE)
    wire.published(GOOD, 1)
    wire.notify("exit")
    assert wire.process.wait(timeout=60) == 1
    wire.stop()


def test_handled_notifications_leave_nothing_behind() -> None:
    """pygls keeps the future of every notification it runs through a generator (didOpen,
    didChange...) for the whole session: 100,000 keystrokes kept ~180 MB."""
    from lsprotocol import types
    from pygls.lsp.server import LanguageServer
    from torchmode.lsp.protocol import TorchmodeProtocol

    server = LanguageServer("probe", "0", protocol_cls=TorchmodeProtocol)
    changes: list[int] = []

    @server.feature(types.TEXT_DOCUMENT_DID_CHANGE)
    def did_change(ls: LanguageServer, params: types.DidChangeTextDocumentParams) -> None:
        changes.append(params.text_document.version)

    @server.feature(types.WORKSPACE_DID_CHANGE_CONFIGURATION)
    async def configured(ls: LanguageServer, params: types.DidChangeConfigurationParams) -> None:
        changes.append(0)

    protocol = server.protocol
    protocol._initialize_seen = True  # as after an initialize (notifications before are dropped)

    def receive(message: dict[str, object]) -> None:
        protocol.handle_message(
            json.loads(json.dumps(message), object_hook=protocol.structure_message)
        )

    async def session() -> None:
        at = {"line": 0, "character": 0}
        for version in range(1, 1001):
            receive(
                {
                    "jsonrpc": "2.0",
                    "method": "textDocument/didChange",
                    "params": {
                        "textDocument": {"uri": GOOD, "version": version},
                        "contentChanges": [{"range": {"start": at, "end": at}, "text": "x"}],
                    },
                }
            )
            receive(
                {
                    "jsonrpc": "2.0",
                    "method": "workspace/didChangeConfiguration",
                    "params": {"settings": None},
                }
            )
        for _ in range(100):
            if len(changes) == 2000:
                break
            await asyncio.sleep(0.01)

    asyncio.run(session())
    assert len(changes) == 2000
    assert protocol._request_futures == {}


def test_notebook_cells_whose_text_is_not_a_string(wire: Wire) -> None:
    """The CLI reads a .ipynb whose source list holds a number as a broken file; a client's
    notebook cell of a number, null or a list must not cost the server either."""
    notebook = "file:///hostile/odd.ipynb"
    for version, text in enumerate([3, None, ["x = 1\n", 3], {"a": 1}], 1):
        cell = f"vscode-notebook-cell:/hostile/odd.ipynb#c{version}"
        wire.notify(
            "notebookDocument/didOpen",
            {
                "notebookDocument": {
                    "uri": notebook,
                    "notebookType": "jupyter-notebook",
                    "version": version,
                    "cells": [{"kind": 2, "document": cell}],
                },
                "cellTextDocuments": [
                    {"uri": cell, "languageId": "python", "version": 1, "text": text}
                ],
            },
        )
        assert wire.alive(), wire.log()
        wire.notify(
            "notebookDocument/didClose",
            {"notebookDocument": {"uri": notebook}, "cellTextDocuments": [{"uri": cell}]},
        )
    works(wire)


def test_a_lone_surrogate_leaves_the_rest_analysed(wire: Wire) -> None:
    """An editor's UTF-16 text may hold a lone surrogate no UTF-8 file can: the parsers
    encode their input to UTF-8, and the whole document used to yield nothing."""
    uri = "file:///hostile/surrogate.py"
    text = "label = '\ud800'  # half of an emoji\n" + EXAMPLE
    wire.open(uri, text)
    diagnostics = wire.published(uri, 1)
    assert "TM101" in [d["code"] for d in diagnostics]
    for diagnostic in diagnostics:
        assert_range_inside(text, diagnostic["range"], "utf-16", diagnostic["code"])
    (finding,) = [d for d in diagnostics if d["code"] == "TM101"]
    context = {"diagnostics": [finding]}
    span = finding["range"]
    actions = wire.request(
        "textDocument/codeAction", {"textDocument": {"uri": uri}, "range": span, "context": context}
    )
    assert actions["result"], actions
    # a notebook cell too (one program of all cells)
    notebook, cell = "file:///hostile/surrogate.ipynb", "vscode-notebook-cell:/s.ipynb#c1"
    wire.notify(
        "notebookDocument/didOpen",
        {
            "notebookDocument": {
                "uri": notebook,
                "notebookType": "jupyter-notebook",
                "version": 1,
                "cells": [{"kind": 2, "document": cell}],
            },
            "cellTextDocuments": [
                {"uri": cell, "languageId": "python", "version": 1, "text": text}
            ],
        },
    )
    assert "TM101" in [d["code"] for d in wire.published(cell, 1)]
    works(wire)
