"""Notebook document sync: a notebook's cells are documents of their own here, analysed
together as one program under the notebook's URI (targets.py)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from lsprotocol import types

from torchmode.lsp.documents import Document

if TYPE_CHECKING:
    from torchmode.lsp.server import TorchmodeServer


def register(server: TorchmodeServer) -> None:
    server.feature(types.NOTEBOOK_DOCUMENT_DID_OPEN)(notebook_did_open)
    server.feature(types.NOTEBOOK_DOCUMENT_DID_CHANGE)(notebook_did_change)
    server.feature(types.NOTEBOOK_DOCUMENT_DID_SAVE)(notebook_did_save)
    server.feature(types.NOTEBOOK_DOCUMENT_DID_CLOSE)(notebook_did_close)


def notebook_did_open(ls: TorchmodeServer, params: types.DidOpenNotebookDocumentParams) -> None:
    notebook = params.notebook_document.uri
    for cell in params.cell_text_documents:
        ls.documents.open(Document(cell.uri, cell.text, cell.version, cell.language_id, notebook))
    ls.workspace_index.notebook_opened(ls, notebook)
    ls.request_analysis(notebook)


def notebook_did_change(ls: TorchmodeServer, params: types.DidChangeNotebookDocumentParams) -> None:
    notebook = params.notebook_document.uri
    cells = params.change.cells
    typed = False
    if cells is not None:
        structure = cells.structure
        for cell in (structure.did_open or []) if structure else []:
            ls.documents.open(
                Document(cell.uri, cell.text, cell.version, cell.language_id, notebook)
            )
        closed = [cell.uri for cell in (structure.did_close or [])] if structure else []
        for uri in closed:
            ls.documents.close(uri)
        ls.clear(closed)
        for content in cells.text_content or []:
            ls.documents.change(
                content.document.uri, content.document.version, list(content.changes), ls.encoding
            )
            typed = True
    if typed and ls.client_settings.run == "onSave":
        return
    ls.request_analysis(notebook, ls.client_settings.debounce_ms if typed else 0)


def notebook_did_save(ls: TorchmodeServer, params: types.DidSaveNotebookDocumentParams) -> None:
    ls.request_analysis(params.notebook_document.uri)


def notebook_did_close(ls: TorchmodeServer, params: types.DidCloseNotebookDocumentParams) -> None:
    notebook = params.notebook_document.uri
    uris = [cell.uri for cell in params.cell_text_documents]
    for uri in uris:
        ls.documents.close(uri)
    ls.scheduler.cancel(notebook)
    ls.results.pop(notebook, None)
    ls.session.forget(notebook)
    ls.failed.pop(notebook, None)
    ls.leave_isolation(notebook)
    ls.project_files.forget(notebook)
    ls.clear(uris)
    ls.workspace_index.closed(ls, notebook)  # the file on disk speaks for it again
