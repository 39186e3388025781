"""``textDocument/diagnostic`` and ``workspace/diagnostic``: diagnostics pulled by the client
(when it can pull, the server does not push; server.py decides). A document's findings depend
on the other files of its project (project_files.py), hence ``interFileDependencies``. The
workspace's files not open are reported with ``diagnosticMode: "workspace"``
(workspace_index.py)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from lsprotocol import types

from torchmode.lsp.diagnostics import diagnostics_by_uri

if TYPE_CHECKING:
    from torchmode.lsp.server import TorchmodeServer


def register(server: TorchmodeServer) -> None:
    server.feature(
        types.TEXT_DOCUMENT_DIAGNOSTIC,
        types.DiagnosticOptions(
            identifier="torchmode", inter_file_dependencies=True, workspace_diagnostics=True
        ),
    )(pull_diagnostics)
    server.feature(types.WORKSPACE_DIAGNOSTIC)(workspace_diagnostics)


async def workspace_diagnostics(
    ls: TorchmodeServer, params: types.WorkspaceDiagnosticParams
) -> types.WorkspaceDiagnosticReport:
    """The files not open, answered once something is new to the client: held meanwhile (a
    long poll; the client cancels it to ask again, or when it goes), so that a client asking
    in a loop is not answered the same thing over and over."""
    index = ls.workspace_index
    previous = {item.uri: item.value for item in params.previous_result_ids}
    while True:
        change = index.next_change()
        reports = index.reports(ls, previous)
        if any(isinstance(r, types.WorkspaceFullDocumentDiagnosticReport) for r in reports):
            return types.WorkspaceDiagnosticReport(items=reports)
        await change.wait()


async def pull_diagnostics(
    ls: TorchmodeServer, params: types.DocumentDiagnosticParams
) -> types.DocumentDiagnosticReport:
    uri = params.text_document.uri
    key = ls.key_of(uri)
    if key is None:
        return types.RelatedFullDocumentDiagnosticReport(items=[])
    result = ls.results.get(key)
    if ls.client_settings.run == "onType" or result is None:
        result = await ls.current_result(key)
    if result is None:
        return types.RelatedFullDocumentDiagnosticReport(items=[])
    # A result is fixed by the text's version and the settings' generation, the client
    # may keep what it has when neither changed.
    # and by the changes of the other files its analysis read (project_files.py)
    result_id = (
        f"{result.generation}.{result.inputs}:{result.version}"
        if result.version is not None
        else None
    )
    version = ls.version_of(key)
    if result.version != version and (current := ls.snapshot(key)) is not None:
        # With "onSave", edits are not analysed: the last saved text's results stand, moved
        # to where their lines are in the text on screen (those on edited lines dropped).
        result = result.moved_to(current)
        result_id = f"{result_id}:{version}" if result_id and version is not None else None
    if result_id is not None and params.previous_result_id == result_id:
        return types.RelatedUnchangedDocumentDiagnosticReport(result_id=result_id)
    items = diagnostics_by_uri(result, ls.encoding, ls.conversions_of(result)).get(uri, [])
    return types.RelatedFullDocumentDiagnosticReport(items=items, result_id=result_id)
