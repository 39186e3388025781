"""Text documents opened, edited, saved and closed: the document store follows the client's
text, and each change asks for an analysis of the document and of the files that read it."""

from __future__ import annotations

from typing import TYPE_CHECKING

from lsprotocol import types

from torchmode.lsp import project_files
from torchmode.lsp.documents import Document

if TYPE_CHECKING:
    from torchmode.lsp.server import TorchmodeServer


def register(server: TorchmodeServer) -> None:
    server.feature(types.TEXT_DOCUMENT_DID_OPEN)(did_open)
    server.feature(types.TEXT_DOCUMENT_DID_CHANGE)(did_change)
    server.feature(types.TEXT_DOCUMENT_DID_SAVE)(did_save)
    server.feature(types.TEXT_DOCUMENT_DID_CLOSE)(did_close)


def did_open(ls: TorchmodeServer, params: types.DidOpenTextDocumentParams) -> None:
    item = params.text_document
    ls.documents.open(Document(item.uri, item.text, item.version, item.language_id))
    ls.request_analysis(item.uri)
    # restored with unsaved changes, maybe: the files that import it read its buffer now
    project_files.edited(ls, item.uri, ls.client_settings.debounce_ms)


def did_change(ls: TorchmodeServer, params: types.DidChangeTextDocumentParams) -> None:
    uri = params.text_document.uri
    document = ls.documents.change(
        uri, params.text_document.version, list(params.content_changes), ls.encoding
    )
    if document is not None and ls.client_settings.run == "onType":
        ls.request_analysis(uri, ls.client_settings.debounce_ms)
        project_files.edited(ls, uri, ls.client_settings.debounce_ms)


def did_save(ls: TorchmodeServer, params: types.DidSaveTextDocumentParams) -> None:
    uri = params.text_document.uri
    if uri.endswith("/pyproject.toml"):
        ls.configuration_changed([uri])
    elif (key := ls.key_of(uri)) is not None:
        ls.request_analysis(key)
        if ls.client_settings.run == "onSave":
            project_files.edited(ls, uri, 0)


def did_close(ls: TorchmodeServer, params: types.DidCloseTextDocumentParams) -> None:
    uri = params.text_document.uri
    ls.documents.close(uri)
    ls.scheduler.cancel(uri)
    ls.results.pop(uri, None)
    ls.conversions.pop(uri, None)
    ls.session.forget(uri)
    ls.failed.pop(uri, None)
    ls.leave_isolation(uri)
    if not ls.workspace_index.closed(ls, uri):
        ls.clear([uri])
    project_files.closed(ls, uri)
