"""pytest-lsp fixtures: the real server over stdio, driven with real clients' capabilities.

``session`` wraps the pytest-lsp client with the bookkeeping an editor does: it keeps each
document's text and version, applies edits the server sends (converting positions with its
own, independent implementation of the negotiated encoding) and waits for diagnostics
whether the client is pushed to or pulls.
"""

from __future__ import annotations

import asyncio
import copy
import os
import sys
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
import pytest_lsp
from lsprotocol import types
from pygls.protocol import default_converter
from pytest_lsp import ClientServerConfig, LanguageClient, client_capabilities
from pytest_lsp.client import DEFAULT_CLIENT_FEATURES, register_lsp_features

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "train_sst.py"
SERVER = [sys.executable, "-m", "torchmode.lsp", "--stdio"]
# A guard against a hung server, not a performance assertion.
PATIENCE_S = 60.0


def make_client() -> LanguageClient:
    client = LanguageClient(converter_factory=default_converter)
    client.published = []  # type: ignore[attr-defined]
    client.registrations = []  # type: ignore[attr-defined]

    def publish(client: LanguageClient, params: types.PublishDiagnosticsParams) -> None:
        client.diagnostics[params.uri] = params.diagnostics
        client.published.append(params)  # type: ignore[attr-defined]

    def register(client: LanguageClient, params: types.RegistrationParams) -> None:
        client.registrations.extend(params.registrations)  # type: ignore[attr-defined]

    def refresh_inlay_hints(client: LanguageClient, params: None) -> None:
        client.inlay_hint_refreshes += 1  # type: ignore[attr-defined]

    client.inlay_hint_refreshes = 0  # type: ignore[attr-defined]
    features = {
        **DEFAULT_CLIENT_FEATURES,
        types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS: publish,
        types.CLIENT_REGISTER_CAPABILITY: register,
        types.WORKSPACE_INLAY_HINT_REFRESH: refresh_inlay_hints,
    }
    register_lsp_features(client, features)
    return client


CONFIG = ClientServerConfig(server_command=SERVER, client_factory=make_client)


def units(text: str, encoding: str) -> int:
    codec = {"utf-8": "utf-8", "utf-16": "utf-16-le", "utf-32": "utf-32-le"}[encoding]
    width = {"utf-8": 1, "utf-16": 2, "utf-32": 4}[encoding]
    return len(text.encode(codec)) // width


def lines_of(text: str) -> list[str]:
    """Lines as LSP counts them (\\n, \\r\\n, \\r), endings kept."""
    out, start, i = [], 0, 0
    while i < len(text):
        if text[i] in "\r\n":
            if text[i] == "\r" and text[i + 1 : i + 2] == "\n":
                i += 1
            out.append(text[start : i + 1])
            start = i + 1
        i += 1
    out.append(text[start:])
    return out


def offset(text: str, position: types.Position, encoding: str) -> int:
    lines = lines_of(text)
    assert position.line < len(lines), f"position {position} beyond the document"
    line = lines[position.line].rstrip("\r\n")
    before = sum(len(x) for x in lines[: position.line])
    count = 0
    for i, char in enumerate(line):
        if count == position.character:
            return before + i
        count += units(char, encoding)
    assert count == position.character, f"{position} is not on a character boundary of {line!r}"
    return before + len(line)


def position(text: str, index: int, encoding: str) -> types.Position:
    lines = lines_of(text)
    for number, line in enumerate(lines):
        if index <= len(line.rstrip("\r\n")) or number == len(lines) - 1:
            return types.Position(line=number, character=units(line[:index], encoding))
        index -= len(line)
    raise AssertionError("unreachable")


def find(text: str, needle: str, encoding: str, nth: int = 0, delta: int = 0) -> types.Position:
    """The position of the nth occurrence of ``needle`` (plus ``delta`` characters)."""
    index = -1
    for _ in range(nth + 1):
        index = text.index(needle, index + 1)
    return position(text, index + delta, encoding)


def apply_text_edits(text: str, edits: list[types.TextEdit], encoding: str) -> str:
    spans = sorted(
        ((offset(text, e.range.start, encoding), offset(text, e.range.end, encoding), e.new_text))
        for e in edits
    )
    out, last = [], 0
    for start, end, new in spans:
        assert start >= last, "overlapping edits"
        out.append(text[last:start])
        out.append(new)
        last = end
    out.append(text[last:])
    return "".join(out)


class Session:
    def __init__(self, client: LanguageClient, name: str, encoding: str) -> None:
        self.client = client
        self.name = name
        self.encoding = encoding
        self.texts: dict[str, str] = {}
        self.versions: dict[str, int] = {}
        self.server_capabilities: types.ServerCapabilities | None = None
        self.notebook_of: dict[str, str] = {}  # cell URI -> notebook URI
        self.notebook_versions: dict[str, int] = {}
        # Cells keep their version when a sibling cell changes; their fresh diagnostics
        # are the ones published after the notebook's last change.
        self.notebook_mark: dict[str, int] = {}

    @property
    def pulls(self) -> bool:
        caps = self.client.capabilities
        return bool(caps and caps.text_document and caps.text_document.diagnostic is not None)

    # --- documents ----------------------------------------------------------------------

    def open(self, uri: str, text: str) -> None:
        self.texts[uri] = text
        self.versions[uri] = 1
        self.client.text_document_did_open(
            types.DidOpenTextDocumentParams(
                text_document=types.TextDocumentItem(
                    uri=uri, language_id="python", version=1, text=text
                )
            )
        )

    def replace(self, uri: str, start: int, end: int, new: str) -> None:
        """An incremental change of code-point offsets [start, end) of the text."""
        text = self.texts[uri]
        rng = types.Range(
            start=position(text, start, self.encoding), end=position(text, end, self.encoding)
        )
        self.texts[uri] = text[:start] + new + text[end:]
        self._send_change(uri, types.TextDocumentContentChangePartial(range=rng, text=new))

    def insert(self, uri: str, before: str, new: str) -> None:
        index = self.texts[uri].index(before)
        self.replace(uri, index, index, new)

    def delete(self, uri: str, old: str) -> None:
        index = self.texts[uri].index(old)
        self.replace(uri, index, index + len(old), "")

    def open_notebook(self, uri: str, cells: list[tuple[str, str]]) -> list[str]:
        """Open a Jupyter notebook of (kind "code" | "markdown", text) cells; the cell URIs."""
        path = uri.removeprefix("file://")
        cell_uris = [f"vscode-notebook-cell:{path}#C{i}" for i in range(len(cells))]
        items = []
        for cell_uri, (kind, text) in zip(cell_uris, cells, strict=True):
            self.texts[cell_uri] = text
            self.versions[cell_uri] = 1
            self.notebook_of[cell_uri] = uri
            language = "python" if kind == "code" else "markdown"
            items.append(
                types.TextDocumentItem(uri=cell_uri, language_id=language, version=1, text=text)
            )
        self.notebook_versions[uri] = 1
        self.notebook_mark[uri] = len(self.client.published)  # type: ignore[attr-defined]
        self.client.notebook_document_did_open(
            types.DidOpenNotebookDocumentParams(
                notebook_document=types.NotebookDocument(
                    uri=uri,
                    notebook_type="jupyter-notebook",
                    version=1,
                    cells=[
                        types.NotebookCell(
                            kind=types.NotebookCellKind.Code
                            if kind == "code"
                            else types.NotebookCellKind.Markup,
                            document=cell_uri,
                        )
                        for cell_uri, (kind, _) in zip(cell_uris, cells, strict=True)
                    ],
                ),
                cell_text_documents=items,
            )
        )
        return cell_uris

    def _send_change(self, uri: str, change: types.TextDocumentContentChangeEvent) -> None:
        self.versions[uri] += 1
        identifier = types.VersionedTextDocumentIdentifier(uri=uri, version=self.versions[uri])
        notebook = self.notebook_of.get(uri)
        if notebook is None:
            self.client.text_document_did_change(
                types.DidChangeTextDocumentParams(
                    text_document=identifier, content_changes=[change]
                )
            )
            return
        self.notebook_versions[notebook] += 1
        self.notebook_mark[notebook] = len(self.client.published)  # type: ignore[attr-defined]
        self.client.notebook_document_did_change(
            types.DidChangeNotebookDocumentParams(
                notebook_document=types.VersionedNotebookDocumentIdentifier(
                    uri=notebook, version=self.notebook_versions[notebook]
                ),
                change=types.NotebookDocumentChangeEvent(
                    cells=types.NotebookDocumentCellChanges(
                        text_content=[
                            types.NotebookDocumentCellContentChanges(
                                document=identifier, changes=[change]
                            )
                        ]
                    )
                ),
            )
        )

    def close_notebook(self, uri: str) -> None:
        cells = [cell for cell, notebook in self.notebook_of.items() if notebook == uri]
        self.client.notebook_document_did_close(
            types.DidCloseNotebookDocumentParams(
                notebook_document=types.NotebookDocumentIdentifier(uri=uri),
                cell_text_documents=[types.TextDocumentIdentifier(uri=cell) for cell in cells],
            )
        )

    def close(self, uri: str) -> None:
        self.client.text_document_did_close(
            types.DidCloseTextDocumentParams(text_document=types.TextDocumentIdentifier(uri=uri))
        )

    def apply(self, edit: types.WorkspaceEdit) -> None:
        """Apply a workspace edit as an editor does (then tell the server, incrementally)."""
        by_uri: dict[str, list[types.TextEdit]] = {}
        if edit.document_changes:
            for change in edit.document_changes:
                assert isinstance(change, types.TextDocumentEdit)
                uri = change.text_document.uri
                if change.text_document.version is not None:
                    assert change.text_document.version == self.versions[uri], "stale edit"
                by_uri.setdefault(uri, []).extend(change.edits)  # type: ignore[arg-type]
        for uri, edits in (edit.changes or {}).items():
            by_uri.setdefault(uri, []).extend(edits)
        for uri, edits in by_uri.items():
            new = apply_text_edits(self.texts[uri], edits, self.encoding)
            self.texts[uri] = new
            self._send_change(uri, types.TextDocumentContentChangeWholeDocument(text=new))

    # --- diagnostics --------------------------------------------------------------------

    async def diagnostics(self, uri: str) -> list[types.Diagnostic]:
        """The diagnostics for the document's current version."""
        if self.pulls:
            report = await asyncio.wait_for(
                self.client.text_document_diagnostic_async(
                    types.DocumentDiagnosticParams(
                        text_document=types.TextDocumentIdentifier(uri=uri)
                    )
                ),
                PATIENCE_S,
            )
            assert isinstance(report, types.RelatedFullDocumentDiagnosticReport)
            return list(report.items)
        notebook = self.notebook_of.get(uri)
        mark = self.notebook_mark[notebook] if notebook else 0
        return await self.pushed(uri, self.versions.get(uri), mark)

    async def pushed(self, uri: str, version: int | None, mark: int = 0) -> list[types.Diagnostic]:
        published: list[types.PublishDiagnosticsParams] = self.client.published  # type: ignore[attr-defined]

        async def arrival() -> list[types.Diagnostic]:
            while True:
                for params in reversed(published[mark:]):
                    if params.uri == uri:
                        if params.version == version:
                            return list(params.diagnostics)
                        break
                await asyncio.sleep(0.01)

        return await asyncio.wait_for(arrival(), PATIENCE_S)

    # --- requests -----------------------------------------------------------------------

    async def hover(self, uri: str, at: types.Position) -> str | None:
        result = await self.client.text_document_hover_async(
            types.HoverParams(text_document=types.TextDocumentIdentifier(uri=uri), position=at)
        )
        if result is None:
            return None
        assert isinstance(result.contents, types.MarkupContent)
        assert result.contents.kind == types.MarkupKind.Markdown
        return result.contents.value

    async def actions(
        self,
        uri: str,
        rng: types.Range,
        diagnostics: list[types.Diagnostic] | None = None,
        only: list[str] | None = None,
    ) -> list[types.CodeAction]:
        result = await self.client.text_document_code_action_async(
            types.CodeActionParams(
                text_document=types.TextDocumentIdentifier(uri=uri),
                range=rng,
                context=types.CodeActionContext(diagnostics=diagnostics or [], only=only),
            )
        )
        actions = [a for a in result or [] if isinstance(a, types.CodeAction)]
        return actions

    def find(self, uri: str, needle: str, nth: int = 0, delta: int = 0) -> types.Position:
        return find(self.texts[uri], needle, self.encoding, nth, delta)

    def range_of(self, uri: str, needle: str, nth: int = 0) -> types.Range:
        start = self.find(uri, needle, nth)
        return types.Range(start=start, end=self.find(uri, needle, nth, len(needle)))

    async def resolved(self, action: types.CodeAction) -> types.CodeAction:
        if action.edit is not None:
            return action
        return await self.client.code_action_resolve_async(action)

    async def fix(self, uri: str, diagnostic: types.Diagnostic, title: str | None = None) -> str:
        """Apply the diagnostic's preferred quick fix (or the one titled ``title``)."""
        actions = await self.actions(uri, diagnostic.range, [diagnostic])
        # list(): cattrs 25+ gives LSP's array fields (Sequence in lsprotocol) as tuples
        chosen = [
            a
            for a in actions
            if (a.title == title if title else a.is_preferred)
            and list(a.diagnostics or ()) == [diagnostic]
        ]
        assert chosen, f"no such action among {[a.title for a in actions]}"
        action = await self.resolved(chosen[0])
        assert action.edit is not None
        self.apply(action.edit)
        return self.texts[uri]


def capabilities(name: str, encodings: list[str] | None = None) -> types.ClientCapabilities:
    caps = copy.deepcopy(client_capabilities(name))
    if encodings is not None:
        caps.general = caps.general or types.GeneralClientCapabilities()
        caps.general.position_encodings = encodings
    return caps


def encoding_of(result: types.InitializeResult) -> str:
    return str(result.capabilities.position_encoding or "utf-16")


async def start(
    client: LanguageClient,
    name: str,
    tmp_path: Path,
    caps: types.ClientCapabilities | None = None,
    settings: dict[str, Any] | None = None,
) -> Session:
    result = await client.initialize_session(
        types.InitializeParams(
            capabilities=caps or capabilities(name),
            root_uri=tmp_path.as_uri(),
            workspace_folders=[types.WorkspaceFolder(uri=tmp_path.as_uri(), name="w")],
            initialization_options={"settings": settings} if settings is not None else None,
        )
    )
    session = Session(client, name, encoding_of(result))
    session.server_capabilities = result.capabilities
    return session


CLIENTS = ["visual-studio-code", "neovim"]


@pytest_lsp.fixture(config=CONFIG)
async def lsp_client(lsp_client: LanguageClient) -> AsyncIterator[None]:
    """A started server, not yet initialised; shut down after the test."""
    yield
    await lsp_client.shutdown_session()


@pytest.fixture
def starter(lsp_client: LanguageClient, tmp_path: Path):
    """``await starter(client_name, caps=None, settings=None)`` initialises the session."""

    async def go(
        name: str,
        caps: types.ClientCapabilities | None = None,
        settings: dict[str, Any] | None = None,
    ) -> Session:
        return await start(lsp_client, name, tmp_path, caps, settings)

    return go


@pytest.fixture(params=CLIENTS)
async def session(starter, request: pytest.FixtureRequest) -> Session:
    return await starter(request.param)


@pytest.fixture
async def server_with(tmp_path: Path) -> AsyncIterator[Callable[..., Awaitable[Session]]]:
    """``await server_with(client_name, VARIABLE="value", ...)``: a session with a server of
    its own, started with these environment variables besides this process's (limits the
    tests make small); shut down after the test."""
    clients: list[LanguageClient] = []

    async def go(name: str, **env: str) -> Session:
        config = ClientServerConfig(
            server_command=SERVER, client_factory=make_client, server_env={**os.environ, **env}
        )
        client = await config.start()
        clients.append(client)
        return await start(client, name, tmp_path)

    yield go
    for client in clients:
        await client.shutdown_session()
        await client.stop()


@pytest.fixture
def caps():
    """``caps(client_name, encodings=None)``: a copy of a real client's capabilities."""
    return capabilities


@pytest.fixture
def example_text() -> str:
    return EXAMPLE.read_text(encoding="utf-8")


@pytest.fixture
def eval_line(example_text: str) -> int:
    """The 0-based line of the example's leaking ``model.eval()`` (the TM101 line)."""
    return example_text.splitlines().index("            model.eval()")


@pytest.fixture
def backward_line(example_text: str) -> int:
    return example_text.splitlines().index("            loss.backward()")
