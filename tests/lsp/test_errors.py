"""An internal error in one analysis is logged, shown nowhere else, and harms nothing else."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

import pytest_lsp
from lsprotocol import types
from pytest_lsp import ClientServerConfig, LanguageClient

CRASHING = ClientServerConfig(
    server_command=[sys.executable, str(Path(__file__).with_name("crashing_server.py"))]
)


@pytest_lsp.fixture(config=CRASHING)
async def crashing(lsp_client: LanguageClient):
    yield
    await lsp_client.shutdown_session()


async def test_engine_failure_is_logged_not_fatal(
    crashing: LanguageClient, tmp_path: Path, example_text: str
) -> None:
    await crashing.initialize_session(
        types.InitializeParams(
            capabilities=types.ClientCapabilities(),
            initialization_options={"settings": {"debounceMs": 0}},
        )
    )
    bad = (tmp_path / "bad.py").as_uri()
    good = (tmp_path / "good.py").as_uri()
    crashing.text_document_did_open(
        types.DidOpenTextDocumentParams(
            text_document=types.TextDocumentItem(
                uri=bad, language_id="python", version=1, text="# BOOM\n"
            )
        )
    )
    for version in range(2, 6):  # keystrokes that fail again and again
        crashing.text_document_did_change(
            types.DidChangeTextDocumentParams(
                text_document=types.VersionedTextDocumentIdentifier(uri=bad, version=version),
                content_changes=[
                    types.TextDocumentContentChangeWholeDocument(text="# BOOM\n" * version)
                ],
            )
        )
    crashing.text_document_did_open(
        types.DidOpenTextDocumentParams(
            text_document=types.TextDocumentItem(
                uri=good, language_id="python", version=1, text=example_text
            )
        )
    )
    for _ in range(6000):  # a guard against a hung server, not a timing assertion
        if crashing.diagnostics.get(good):
            break
        await asyncio.sleep(0.01)
    assert "TM101" in [d.code for d in crashing.diagnostics[good]]
    hover = await crashing.text_document_hover_async(
        types.HoverParams(
            text_document=types.TextDocumentIdentifier(uri=bad),
            position=types.Position(line=0, character=2),
        )
    )
    assert hover is None
    errors = [m for m in crashing.log_messages if m.type == types.MessageType.Error]
    assert errors and all("the engine exploded" in m.message for m in errors)
    assert len(errors) <= 5  # one per version at most: a failed text is not retried
    assert crashing.messages == []  # nothing popped up
