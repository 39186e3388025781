"""Other files of the workspace: a function imported from ``evaluate.py`` that leaves the model
in eval mode is a TM101 in ``train.py``'s training loop; fixing it in the editor, without
saving, or on disk, takes the TM101 away without touching ``train.py``."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from pathlib import Path

from lsprotocol import types

from .conftest import PATIENCE_S, Session

EVALUATE = """\
import torch


def validate(model, loader):
    model.eval()
    correct = 0
    with torch.no_grad():
        for x, y in loader:
            correct += (model(x).argmax(1) == y).sum().item()
    return correct
"""

RESTORED = "    model.train()\n"  # typed before ``return correct``

TRAIN = """\
import torch
import torch.nn as nn

from evaluate import validate


def main(train_loader, val_loader):
    model = nn.Sequential(nn.Linear(8, 16), nn.Dropout(0.3), nn.Linear(16, 2))
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    for epoch in range(10):
        for x, y in train_loader:
            opt.zero_grad()
            nn.functional.cross_entropy(model(x), y).backward()
            opt.step()
        print(epoch, validate(model, val_loader))
"""


def codes(diagnostics: list[types.Diagnostic]) -> list[str]:
    return [str(d.code) for d in diagnostics]


def _workspace(root: Path) -> tuple[str, str]:
    (root / "evaluate.py").write_text(EVALUATE)
    (root / "train.py").write_text(TRAIN)
    return (root / "train.py").as_uri(), (root / "evaluate.py").as_uri()


async def pushed_until(
    session: Session, uri: str, wanted: Callable[[list[str]], bool], mark: int
) -> tuple[list[str], float]:
    """The codes of the first diagnostics pushed for ``uri`` after ``mark`` that satisfy
    ``wanted``, and when they arrived (time.monotonic)."""
    published: list[types.PublishDiagnosticsParams] = session.client.published  # type: ignore[attr-defined]

    async def arrival() -> tuple[list[str], float]:
        seen = mark
        while True:
            for params in published[seen:]:
                if params.uri == uri and wanted(codes(list(params.diagnostics))):
                    return codes(list(params.diagnostics)), time.monotonic()
            seen = len(published)
            await asyncio.sleep(0.005)

    return await asyncio.wait_for(arrival(), PATIENCE_S)


async def test_an_unsaved_fix_in_the_imported_file_clears_the_importer(
    starter, tmp_path: Path
) -> None:
    session = await starter("visual-studio-code", settings={"debounceMs": 0})
    train, evaluate = _workspace(tmp_path)
    session.open(train, TRAIN)
    assert codes(await session.diagnostics(train)) == ["TM101"]
    session.open(evaluate, EVALUATE)
    await session.diagnostics(evaluate)
    # most keystrokes there change nothing train.py reads: it is not analysed or sent again
    mark = len(session.client.published)  # type: ignore[attr-defined]
    session.insert(evaluate, "    return correct", "    # counted\n")
    await session.diagnostics(evaluate)
    await asyncio.sleep(1.0)  # well beyond the dependents' lag
    published = session.client.published[mark:]  # type: ignore[attr-defined]
    assert [p.uri for p in published] == [evaluate]
    mark = len(session.client.published)  # type: ignore[attr-defined]
    start = time.monotonic()
    session.insert(evaluate, "    return correct", RESTORED)
    after, arrived = await pushed_until(session, train, lambda found: "TM101" not in found, mark)
    assert after == []
    print(f"train.py's diagnostics {1000 * (arrived - start):.0f} ms after evaluate.py's edit")
    # train.py itself never changed, and the file on disk still leaks eval mode
    assert session.versions[train] == 1
    assert (tmp_path / "evaluate.py").read_text() == EVALUATE
    # undone in the editor: back again
    mark = len(session.client.published)  # type: ignore[attr-defined]
    session.delete(evaluate, RESTORED)
    again, _ = await pushed_until(session, train, lambda found: "TM101" in found, mark)
    assert again == ["TM101"]
    # closed without saving: the file on disk speaks again, the TM101 stays
    session.insert(evaluate, "    return correct", RESTORED)
    await pushed_until(session, train, lambda found: found == [], mark)
    mark = len(session.client.published)  # type: ignore[attr-defined]
    session.close(evaluate)
    closed, _ = await pushed_until(session, train, lambda found: "TM101" in found, mark)
    assert closed == ["TM101"]


async def test_a_change_on_disk_reaches_the_open_importer(starter, tmp_path: Path) -> None:
    session = await starter("visual-studio-code", settings={"debounceMs": 0})
    registrations = session.client.registrations  # type: ignore[attr-defined]
    train, evaluate = _workspace(tmp_path)
    session.open(train, TRAIN)
    assert codes(await session.diagnostics(train)) == ["TM101"]
    watched = [
        watcher["globPattern"]  # the client gets the options as JSON
        for registration in registrations
        if registration.method == types.WORKSPACE_DID_CHANGE_WATCHED_FILES
        for watcher in registration.register_options["watchers"]
    ]
    assert "**/*.py" in watched and "**/pyproject.toml" in watched
    # a checkout: evaluate.py fixed, and other files touched, told in two notifications
    (tmp_path / "evaluate.py").write_text(EVALUATE.replace("    return", RESTORED + "    return"))
    (tmp_path / "other.py").write_text("x = 1\n")
    mark = len(session.client.published)  # type: ignore[attr-defined]
    for uris in ([evaluate], [(tmp_path / "other.py").as_uri(), evaluate]):
        session.client.workspace_did_change_watched_files(
            types.DidChangeWatchedFilesParams(
                changes=[types.FileEvent(uri=u, type=types.FileChangeType.Changed) for u in uris]
            )
        )
        await asyncio.sleep(0.05)
    after, _ = await pushed_until(session, train, lambda found: True, mark)
    assert after == []
    # handled together: train.py was analysed again once
    await asyncio.sleep(1.0)
    published = session.client.published[mark:]  # type: ignore[attr-defined]
    assert [p.uri for p in published] == [train]


async def test_a_file_created_on_disk_is_read_once_told(starter, tmp_path: Path) -> None:
    session = await starter("visual-studio-code", settings={"debounceMs": 0})
    (tmp_path / "train.py").write_text(TRAIN)
    train = (tmp_path / "train.py").as_uri()
    session.open(train, TRAIN)
    assert codes(await session.diagnostics(train)) == []  # evaluate.py is not there yet
    (tmp_path / "evaluate.py").write_text(EVALUATE)
    mark = len(session.client.published)  # type: ignore[attr-defined]
    session.client.workspace_did_change_watched_files(
        types.DidChangeWatchedFilesParams(
            changes=[
                types.FileEvent(
                    uri=(tmp_path / "evaluate.py").as_uri(), type=types.FileChangeType.Created
                )
            ]
        )
    )
    after, _ = await pushed_until(session, train, lambda found: True, mark)
    assert after == ["TM101"]


async def test_a_pulling_client_is_asked_to_pull_and_never_pushed_to(
    starter, caps, tmp_path: Path
) -> None:
    capabilities = caps("neovim")
    capabilities.workspace.diagnostics = types.DiagnosticWorkspaceClientCapabilities(
        refresh_support=True
    )
    session = await starter("neovim", capabilities, settings={"debounceMs": 0})
    assert session.pulls
    train, evaluate = _workspace(tmp_path)
    session.open(train, TRAIN)
    identifier = types.TextDocumentIdentifier(uri=train)
    first = await session.client.text_document_diagnostic_async(
        types.DocumentDiagnosticParams(text_document=identifier)
    )
    assert isinstance(first, types.RelatedFullDocumentDiagnosticReport)
    assert codes(list(first.items)) == ["TM101"]
    session.open(evaluate, EVALUATE)
    await session.diagnostics(evaluate)
    refreshes = session.client.diagnostic_refresh_count
    session.insert(evaluate, "    return correct", "    # counted\n")  # changes nothing
    await session.diagnostics(evaluate)
    await asyncio.sleep(1.0)
    assert session.client.diagnostic_refresh_count == refreshes
    session.insert(evaluate, "    return correct", RESTORED)
    for _ in range(int(PATIENCE_S * 100)):
        if session.client.diagnostic_refresh_count > refreshes:
            break
        await asyncio.sleep(0.01)
    assert session.client.diagnostic_refresh_count == refreshes + 1
    # the client pulls again: the same version of train.py, a new result
    again = await session.client.text_document_diagnostic_async(
        types.DocumentDiagnosticParams(text_document=identifier, previous_result_id=first.result_id)
    )
    assert isinstance(again, types.RelatedFullDocumentDiagnosticReport)
    assert codes(list(again.items)) == []
    assert session.client.published == []  # type: ignore[attr-defined]


async def test_a_document_in_the_analysis_process_reads_the_open_buffers(
    server_with, tmp_path: Path
) -> None:
    """train.py, above the (lowered) size limit, is analysed in the analysis process
    (isolation.py): the unsaved buffer of evaluate.py reaches it there too."""
    session = await server_with(
        "visual-studio-code", TORCHMODE_ISOLATE_ABOVE_LINES=str(TRAIN.count("\n") - 1)
    )
    train, evaluate = _workspace(tmp_path)
    session.open(train, TRAIN)
    assert codes(await session.diagnostics(train)) == ["TM101"]
    session.open(evaluate, EVALUATE)
    await session.diagnostics(evaluate)
    mark = len(session.client.published)  # type: ignore[attr-defined]
    session.insert(evaluate, "    return correct", RESTORED)
    after, _ = await pushed_until(session, train, lambda found: "TM101" not in found, mark)
    assert after == []


async def test_an_imported_document_in_the_analysis_process(server_with, tmp_path: Path) -> None:
    """evaluate.py, above the (lowered) size limit, is analysed in the analysis process: the
    summary it gives train.py comes back from there, edits included."""
    padded = "# evaluation helpers\n" * 20 + EVALUATE
    session = await server_with(
        "visual-studio-code", TORCHMODE_ISOLATE_ABOVE_LINES=str(TRAIN.count("\n") + 1)
    )
    train, evaluate = _workspace(tmp_path)
    (tmp_path / "evaluate.py").write_text(padded)
    session.open(train, TRAIN)
    assert codes(await session.diagnostics(train)) == ["TM101"]
    session.open(evaluate, padded)
    await session.diagnostics(evaluate)
    mark = len(session.client.published)  # type: ignore[attr-defined]
    session.insert(evaluate, "    return correct", RESTORED)
    after, _ = await pushed_until(session, train, lambda found: "TM101" not in found, mark)
    assert after == []
    mark = len(session.client.published)  # type: ignore[attr-defined]
    session.delete(evaluate, RESTORED)
    again, _ = await pushed_until(session, train, lambda found: "TM101" in found, mark)
    assert again == ["TM101"]


UNGUARDED = """\
def validate(model, loader):
    correct = 0
    for x, y in loader:
        correct += (model(x).argmax(1) == y).sum().item()
    return correct
"""

# train.py before it imports validate() and calls it; run as a script
CALLER = (
    TRAIN.replace("\nfrom evaluate import validate\n", "").replace(
        "        print(epoch, validate(model, val_loader))\n", ""
    )
    + '\n\nif __name__ == "__main__":\n    main([], [])\n'
)


async def test_a_call_added_elsewhere_reaches_the_function_it_calls(
    starter, tmp_path: Path
) -> None:
    """``validate()`` in ``evaluate.py`` is entered as its callers enter it: a call typed in
    ``main.py``, a file ``evaluate.py`` does not import, gives it its findings."""
    session = await starter("visual-studio-code", settings={"debounceMs": 0})
    (tmp_path / "evaluate.py").write_text(UNGUARDED)
    (tmp_path / "main.py").write_text(CALLER)
    evaluate, main = (tmp_path / "evaluate.py").as_uri(), (tmp_path / "main.py").as_uri()
    session.open(evaluate, UNGUARDED)
    assert codes(await session.diagnostics(evaluate)) == []  # nothing calls it yet
    session.open(main, CALLER)
    await session.diagnostics(main)
    mark = len(session.client.published)  # type: ignore[attr-defined]
    session.insert(main, "\n\ndef main(", "from evaluate import validate\n")
    typed = '        print("\U0001f680", epoch, validate(model, val_loader))\n'
    session.insert(main, "\n\nif __name__", typed)
    found, _ = await pushed_until(session, evaluate, lambda found: bool(found), mark)
    assert found == ["TM201"]  # evaluates with the gradients main() left on
    assert session.versions[evaluate] == 1
    # the unsaved call is its related place, in main.py, in UTF-16 units (the rocket is two)
    published: list[types.PublishDiagnosticsParams] = session.client.published  # type: ignore[attr-defined]
    last = next(p for p in reversed(published) if p.uri == evaluate)
    lines = session.texts[main].splitlines()
    row = lines.index(typed.rstrip("\n"))
    column = lines[row].index("validate(") + 1
    assert [
        (r.location.uri, r.location.range.start.line, r.location.range.start.character, r.message)
        for r in last.diagnostics[0].related_information or []
    ] == [(main, row, column, "called here with gradients on")]
    # the call taken away again: the findings go with it
    mark = len(session.client.published)  # type: ignore[attr-defined]
    session.delete(main, typed)
    gone, _ = await pushed_until(session, evaluate, lambda found: not found, mark)
    assert gone == []
