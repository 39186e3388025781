"""The handshake, the advertised capabilities, and requests about unknown documents."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time

from lsprotocol import types


async def test_capabilities(starter, caps) -> None:
    capabilities = caps("visual-studio-code")
    capabilities.notebook_document = types.NotebookDocumentClientCapabilities(
        synchronization=types.NotebookDocumentSyncClientCapabilities()
    )
    session = await starter("visual-studio-code", capabilities)
    caps = session.server_capabilities
    assert session.encoding == "utf-16"
    sync = caps.text_document_sync
    assert isinstance(sync, types.TextDocumentSyncOptions)
    assert sync.change == types.TextDocumentSyncKind.Incremental
    assert sync.open_close and sync.save
    assert caps.hover_provider
    actions = caps.code_action_provider
    assert isinstance(actions, types.CodeActionOptions)
    assert set(actions.code_action_kinds or []) == {"quickfix", "source.fixAll.torchmode"}
    assert actions.resolve_provider
    assert isinstance(caps.diagnostic_provider, types.DiagnosticOptions)
    notebooks = caps.notebook_document_sync
    assert isinstance(notebooks, types.NotebookDocumentSyncOptions)


async def test_utf8_is_chosen_when_offered_first(starter, caps) -> None:
    session = await starter("neovim", caps("neovim", ["utf-8", "utf-16"]))
    assert session.encoding == "utf-8"


def test_tcp_transport(tmp_path) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = subprocess.Popen(
        [sys.executable, "-m", "torchmode.lsp", "--tcp", f"127.0.0.1:{port}"],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        connection = _connect(port)
        body = json.dumps(
            {"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {"capabilities": {}}}
        ).encode()
        connection.sendall(b"Content-Length: %d\r\n\r\n" % len(body) + body)
        reply = _read_message(connection)
        assert reply["id"] == 1
        assert reply["result"]["serverInfo"]["name"] == "torchmode"
        connection.close()
    finally:
        server.kill()
        server.wait()


def _connect(port: int) -> socket.socket:
    # The server needs a moment to start listening; retry instead of sleeping blindly.
    for _ in range(600):
        try:
            return socket.create_connection(("127.0.0.1", port), timeout=30)
        except ConnectionRefusedError:
            time.sleep(0.05)
    raise AssertionError("the server never listened")


def _read_message(connection: socket.socket) -> dict:
    data = b""
    while b"\r\n\r\n" not in data:
        data += connection.recv(4096)
    header, _, rest = data.partition(b"\r\n\r\n")
    length = int(header.split(b"Content-Length: ")[1].split(b"\r\n")[0])
    while len(rest) < length:
        rest += connection.recv(4096)
    return json.loads(rest[:length])


def test_bad_arguments_exit_with_usage_error() -> None:
    completed = subprocess.run(
        [sys.executable, "-m", "torchmode.lsp", "--tcp", "nonsense"],
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
    )
    assert completed.returncode == 2
    assert "HOST:PORT" in completed.stderr


async def test_unknown_documents_get_empty_answers(session) -> None:
    uri = "file:///nowhere/unknown.py"
    here = types.Position(line=0, character=0)
    assert await session.hover(uri, here) is None
    rng = types.Range(start=here, end=here)
    assert await session.actions(uri, rng) == []
    resolved = await session.client.code_action_resolve_async(
        types.CodeAction(title="x", data={"uri": uri, "kind": "fixAll"})
    )
    assert resolved.edit is None
    if session.pulls:
        report = await session.client.text_document_diagnostic_async(
            types.DocumentDiagnosticParams(text_document=types.TextDocumentIdentifier(uri=uri))
        )
        assert list(report.items) == []


async def test_clean_document_has_no_diagnostics(session, tmp_path) -> None:
    uri = (tmp_path / "clean.py").as_uri()
    session.open(uri, "import torch\n\nx = torch.ones(3)\n")
    assert await session.diagnostics(uri) == []
