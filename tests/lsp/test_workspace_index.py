"""``diagnosticMode: "workspace"``: the findings of files nobody opened, kept current as other
files change in the editor or on disk, pushed or pulled but never both."""

from __future__ import annotations

import asyncio
import json
import os
from collections.abc import Callable
from pathlib import Path

from lsprotocol import types
from torchmode.lsp.isolation import AnalysisProcess, Limits

from .conftest import PATIENCE_S, Session
from .test_project_files import EVALUATE, RESTORED, TRAIN, codes, pushed_until

WORKSPACE = {"debounceMs": 0, "diagnosticMode": "workspace"}
FIXED = EVALUATE.replace("    return", RESTORED + "    return")


def _workspace(root: Path) -> tuple[str, str]:
    (root / "evaluate.py").write_text(EVALUATE)
    (root / "train.py").write_text(TRAIN)
    # what `torchmode check` skips, the index skips: ignored, and in a virtual environment
    (root / ".gitignore").write_text("scratch/\n")
    for ignored in ("scratch", ".venv/lib"):
        (root / ignored).mkdir(parents=True)
        (root / ignored / "train_copy.py").write_text(TRAIN.replace("from evaluate", "from e"))
    return (root / "train.py").as_uri(), (root / "evaluate.py").as_uri()


def _told_on_disk(session: Session, *changes: tuple[Path, types.FileChangeType]) -> None:
    session.client.workspace_did_change_watched_files(
        types.DidChangeWatchedFilesParams(
            changes=[types.FileEvent(uri=path.as_uri(), type=kind) for path, kind in changes]
        )
    )


async def test_files_nobody_opened_are_reported_and_follow_the_others(
    starter, tmp_path: Path
) -> None:
    train, evaluate = _workspace(tmp_path)
    session = await starter("visual-studio-code", settings=WORKSPACE)
    # train.py is not open: its TM101 (validate() leaves the model in eval mode) is pushed
    found, _ = await pushed_until(session, train, lambda found: bool(found), 0)
    assert found == ["TM101"]
    published = session.client.published  # type: ignore[attr-defined]
    assert all(p.version is None for p in published)
    assert {p.uri for p in published} <= {train, evaluate}  # nothing ignored was indexed
    # evaluate.py fixed in the editor, unsaved: train.py, still unopened, loses its TM101
    session.open(evaluate, EVALUATE)
    await session.diagnostics(evaluate)
    mark = len(published)
    session.insert(evaluate, "    return correct", RESTORED)
    after, _ = await pushed_until(session, train, lambda found: "TM101" not in found, mark)
    assert after == []
    # closed without saving: the file on disk speaks again
    mark = len(published)
    session.close(evaluate)
    again, _ = await pushed_until(session, train, lambda found: "TM101" in found, mark)
    assert again == ["TM101"]
    # fixed on disk (a checkout), told by the file watcher
    (tmp_path / "evaluate.py").write_text(FIXED)
    mark = len(published)
    _told_on_disk(session, (tmp_path / "evaluate.py", types.FileChangeType.Changed))
    fixed, _ = await pushed_until(session, train, lambda found: "TM101" not in found, mark)
    assert fixed == []


async def test_a_created_file_and_a_deleted_one(starter, tmp_path: Path) -> None:
    (tmp_path / "train.py").write_text(TRAIN)
    train = (tmp_path / "train.py").as_uri()
    session = await starter("visual-studio-code", settings=WORKSPACE)
    await asyncio.sleep(1.0)  # indexed: nothing to report while evaluate.py is missing
    published = session.client.published  # type: ignore[attr-defined]
    assert [codes(list(p.diagnostics)) for p in published if p.uri == train] in ([], [[]])
    (tmp_path / "evaluate.py").write_text(EVALUATE)
    mark = len(published)
    _told_on_disk(session, (tmp_path / "evaluate.py", types.FileChangeType.Created))
    found, _ = await pushed_until(session, train, lambda found: bool(found), mark)
    assert found == ["TM101"]
    # train.py deleted: its diagnostics are taken away
    (tmp_path / "train.py").unlink()
    mark = len(published)
    _told_on_disk(session, (tmp_path / "train.py", types.FileChangeType.Deleted))
    gone, _ = await pushed_until(session, train, lambda found: not found, mark)
    assert gone == []


async def test_back_to_open_files_only_takes_the_others_away(starter, tmp_path: Path) -> None:
    train, _ = _workspace(tmp_path)
    session = await starter("visual-studio-code", settings=WORKSPACE)
    await pushed_until(session, train, lambda found: bool(found), 0)
    mark = len(session.client.published)  # type: ignore[attr-defined]
    session.client.workspace_did_change_configuration(
        types.DidChangeConfigurationParams(
            settings={"torchmode": {**WORKSPACE, "diagnosticMode": "openFilesOnly"}}
        )
    )
    cleared, _ = await pushed_until(session, train, lambda found: not found, mark)
    assert cleared == []


async def _pull(
    session: Session, previous: list[types.PreviousResultId]
) -> types.WorkspaceDiagnosticReport:
    return await asyncio.wait_for(
        session.client.workspace_diagnostic_async(
            types.WorkspaceDiagnosticParams(previous_result_ids=previous)
        ),
        PATIENCE_S,
    )


def _by_uri(
    report: types.WorkspaceDiagnosticReport,
) -> dict[str, types.WorkspaceDocumentDiagnosticReport]:
    return {item.uri: item for item in report.items}


def _pulling(caps: Callable[[str], types.ClientCapabilities]) -> types.ClientCapabilities:
    """A client that pulls the workspace's diagnostics and can be told to pull again."""
    capabilities = caps("neovim")
    capabilities.workspace.diagnostics = types.DiagnosticWorkspaceClientCapabilities(
        refresh_support=True
    )
    return capabilities


async def test_a_pulling_client_pulls_the_workspace_and_is_never_pushed_to(
    starter, caps, tmp_path: Path
) -> None:
    capabilities = _pulling(caps)
    session = await starter("neovim", capabilities, settings=WORKSPACE)
    assert session.pulls
    options = session.server_capabilities.diagnostic_provider
    assert options is not None and options.workspace_diagnostics
    train, _ = _workspace(tmp_path)
    first = _by_uri(await _pull(session, []))
    assert set(first) == {train}  # the files with something to report
    report = first[train]
    assert isinstance(report, types.WorkspaceFullDocumentDiagnosticReport)
    assert codes(list(report.items)) == ["TM101"] and report.version is None
    held = [types.PreviousResultId(uri=train, value=report.result_id or "")]
    # nothing new: the pull is held until something changes on disk
    waiting = asyncio.ensure_future(_pull(session, held))
    await asyncio.sleep(0.5)
    assert not waiting.done()
    (tmp_path / "evaluate.py").write_text(FIXED)
    _told_on_disk(session, (tmp_path / "evaluate.py", types.FileChangeType.Changed))
    second = _by_uri(await waiting)
    assert isinstance(second[train], types.WorkspaceFullDocumentDiagnosticReport)
    assert codes(list(second[train].items)) == []
    # an open document is the document pull's, not the workspace's
    session.open(train, TRAIN)
    held = [types.PreviousResultId(uri=train, value=second[train].result_id or "")]
    (tmp_path / "evaluate.py").write_text(EVALUATE)
    _told_on_disk(session, (tmp_path / "evaluate.py", types.FileChangeType.Changed))
    waiting = asyncio.ensure_future(_pull(session, held))
    await asyncio.sleep(1.0)
    assert not waiting.done()
    # closed again: the held pull is answered once the file on disk is analysed
    session.close(train)
    closed = _by_uri(await waiting)
    assert isinstance(closed[train], types.WorkspaceFullDocumentDiagnosticReport)
    assert codes(list(closed[train].items)) == ["TM101"]
    assert session.client.published == []  # type: ignore[attr-defined]


async def test_the_build_shows_its_progress(starter, tmp_path: Path) -> None:
    for number in range(40):
        (tmp_path / f"step_{number}.py").write_text(TRAIN.replace("evaluate", f"ev_{number}"))
    train, _ = _workspace(tmp_path)
    session = await starter("visual-studio-code", settings=WORKSPACE)
    await pushed_until(session, train, lambda found: bool(found), 0)
    for _ in range(int(PATIENCE_S * 10)):
        reports = [r for rs in session.client.progress_reports.values() for r in rs]  # type: ignore[attr-defined]
        if reports and isinstance(reports[-1], types.WorkDoneProgressEnd):
            break
        await asyncio.sleep(0.1)
    values = reports
    assert isinstance(values[0], types.WorkDoneProgressBegin)
    assert values[0].title == "torchmode: indexing the workspace"
    assert isinstance(values[-1], types.WorkDoneProgressEnd)
    assert values[-1].message == "42 files indexed"


NOTEBOOK_CELLS = [
    (
        "code",
        "import torch\nfrom torch import nn\n\n"
        "model = nn.Sequential(nn.Linear(4, 8), nn.Dropout(0.1), nn.Linear(8, 2))\n"
        "opt = torch.optim.SGD(model.parameters(), lr=0.1)",
    ),
    ("markdown", "## Évaluation"),
    (
        "code",
        "model.train()\nfor x, y in train_loader:\n    opt.zero_grad()\n"
        "    loss = nn.functional.cross_entropy(model(x), y)\n    loss.backward()\n    opt.step()",
    ),
    (
        "code",
        "%time print('é')\nmodel.eval()\ncorrect = 0\nfor x, y in val_loader:\n"
        '    out = model(x)  # "scores"\n    correct += (out.argmax(1) == y).sum().item()',
    ),
]


def _notebook_file(path: Path, cells: list[tuple[str, str]]) -> None:
    def lines(text: str) -> list[str]:
        parts = text.split("\n")
        return [part + "\n" for part in parts[:-1]] + [parts[-1]]

    document = {
        "cells": [
            {"cell_type": kind, "metadata": {}, "source": lines(text)}
            | ({"execution_count": None, "outputs": []} if kind == "code" else {})
            for kind, text in cells
        ],
        "metadata": {},
        "nbformat": 4,
        "nbformat_minor": 5,
    }
    path.write_text(json.dumps(document, indent=1))  # non-ASCII written as \u escapes


async def test_a_notebook_nobody_opened_is_reported_in_its_file_until_opened(
    starter, tmp_path: Path
) -> None:
    path = tmp_path / "explore.ipynb"
    _notebook_file(path, NOTEBOOK_CELLS)
    notebook = path.as_uri()
    session = await starter("visual-studio-code", settings=WORKSPACE)
    found, _ = await pushed_until(session, notebook, lambda found: bool(found), 0)
    assert found == ["TM201"]
    published = session.client.published  # type: ignore[attr-defined]
    [diagnostic] = [p for p in published if p.uri == notebook][-1].diagnostics
    # on the file's own line of `out = model(x)`, at `model(x)` inside its JSON string
    line = path.read_text().splitlines()[diagnostic.range.start.line]
    assert line.strip().startswith('"    out = model(x)')
    start = diagnostic.range.start.character
    assert line[start : start + len("model(x)")] == "model(x)"
    assert "line 5 of cell 4" in diagnostic.message
    # opened: its cells show the finding, and the file's report is taken away
    mark = len(published)
    cells = session.open_notebook(notebook, NOTEBOOK_CELLS)
    assert codes(await session.diagnostics(cells[3])) == ["TM201"]
    cleared, _ = await pushed_until(session, notebook, lambda found: not found, mark)
    assert cleared == []
    # closed: the file on disk speaks for it again
    mark = len(published)
    session.close_notebook(notebook)
    again, _ = await pushed_until(session, notebook, lambda found: bool(found), mark)
    assert again == ["TM201"]


async def test_a_pulling_client_gets_an_opened_notebook_file_emptied(
    starter, caps, tmp_path: Path
) -> None:
    capabilities = _pulling(caps)
    path = tmp_path / "explore.ipynb"
    _notebook_file(path, NOTEBOOK_CELLS)
    notebook = path.as_uri()
    session = await starter("neovim", capabilities, settings=WORKSPACE)
    first = _by_uri(await _pull(session, []))
    report = first[notebook]
    assert isinstance(report, types.WorkspaceFullDocumentDiagnosticReport)
    assert codes(list(report.items)) == ["TM201"]
    held = [types.PreviousResultId(uri=notebook, value=report.result_id or "")]
    waiting = asyncio.ensure_future(_pull(session, held))
    await asyncio.sleep(0.5)
    assert not waiting.done()
    session.open_notebook(notebook, NOTEBOOK_CELLS)
    emptied = _by_uri(await waiting)[notebook]
    assert isinstance(emptied, types.WorkspaceFullDocumentDiagnosticReport)
    assert list(emptied.items) == []


async def test_the_index_runs_at_a_lower_priority_than_the_server() -> None:
    # typing in an open document is analysed in the server's process: with both busy on a
    # machine with few cores, the scheduler must give the core to the server first
    index = AnalysisProcess("torchmode.lsp.index_worker", Limits(PATIENCE_S, 1024))
    try:
        assert await index.call("niceness") > os.nice(0)
    finally:
        await index.close()
