"""The mode timeline as inlay hints: after a call that switches a model's mode, at loop heads,
at forwards without gradients; never a definite label that some path contradicts."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from lsprotocol import types

from .conftest import PATIENCE_S, Session
from .test_notebooks import with_notebook_support

TRAINING = """\
import torch
import torch.nn as nn


def validate(model, loader):
    model.eval()
    with torch.no_grad():
        for x in loader:
            print(model(x))


def fit(model, loader, optimizer, epochs):
    for epoch in range(epochs):
        model.train()
        for x in loader:
            optimizer.zero_grad()
            model(x).sum().backward()
            optimizer.step()
        validate(model, loader)
"""

# Before the loop the model was built (train mode); at the end of each epoch it is left in
# eval mode: the head of the epoch loop sees both.
DISAGREEING = """\
import torch.nn as nn


def evaluate(model, batch):
    model.eval()
    return model(batch)


def run(loader):
    model = nn.Sequential(nn.Linear(4, 4), nn.Dropout())
    for batch in loader:
        print(evaluate(model, batch))


def as_given(model, loader, again):
    for batch in loader:
        model(batch)
        if again:
            model.train()
"""


async def hints(
    session: Session, uri: str, rng: types.Range | None = None
) -> list[types.InlayHint]:
    if rng is None:
        lines = session.texts[uri].splitlines() or [""]
        end = types.Position(line=len(lines), character=0)
        rng = types.Range(start=types.Position(line=0, character=0), end=end)
    result = await asyncio.wait_for(
        session.client.text_document_inlay_hint_async(
            types.InlayHintParams(text_document=types.TextDocumentIdentifier(uri=uri), range=rng)
        ),
        PATIENCE_S,
    )
    return list(result or [])


def at(found: list[types.InlayHint], position: types.Position) -> types.InlayHint:
    there = [hint for hint in found if hint.position == position]
    assert len(there) == 1, (position, [(h.position, h.label) for h in found])
    return there[0]


def tooltip(hint: types.InlayHint) -> str:
    assert isinstance(hint.tooltip, types.MarkupContent)
    assert hint.tooltip.kind == types.MarkupKind.Markdown
    return hint.tooltip.value


async def test_after_a_call_that_switches_the_mode(session: Session, tmp_path: Path) -> None:
    assert session.server_capabilities is not None
    assert session.server_capabilities.inlay_hint_provider is not None
    uri = (tmp_path / "fit.py").as_uri()
    session.open(uri, TRAINING)
    found = await hints(session, uri)
    call = "validate(model, loader)"
    hint = at(found, session.find(uri, call, nth=1, delta=len(call)))
    assert hint.label == "model: eval"
    assert hint.padding_left
    # where it was set: model.eval() on line 6, through the call on line 19
    assert "set to eval on line 6 by `model.eval()`" in tooltip(hint)
    assert "through `validate(model, loader)` on line 19" in tooltip(hint)
    assert tooltip(hint).startswith("After this call:")
    # nothing repeats what a line says itself: no hint after model.eval() or model.train()
    lines = {hint.position.line for hint in found}
    assert 5 not in lines and 13 not in lines


async def test_a_forward_without_gradients(session: Session, tmp_path: Path) -> None:
    uri = (tmp_path / "fit.py").as_uri()
    session.open(uri, TRAINING)
    found = await hints(session, uri)
    hint = at(found, session.find(uri, "model(x)", delta=len("model(x)")))
    assert hint.label == "no_grad"
    assert "gradients off: `torch.no_grad()` on line 7" in tooltip(hint)
    # the loop head just above already says eval mode; the training forward says nothing
    assert at(found, session.find(uri, "in loader:", delta=len("in loader:"))).label == (
        "model: eval"
    )
    assert not [h for h in found if h.position.line == 16]


async def test_paths_that_disagree(session: Session, tmp_path: Path) -> None:
    uri = (tmp_path / "disagree.py").as_uri()
    session.open(uri, DISAGREEING)
    found = await hints(session, uri)
    head = at(found, session.find(uri, "for batch in loader:", delta=len("for batch in loader:")))
    assert head.label == "model: train|eval"
    assert "built in train mode on line 10" in tooltip(head)
    assert "set to eval on line 5" in tooltip(head)
    call = "evaluate(model, batch)"
    assert at(found, session.find(uri, call, nth=1, delta=len(call))).label == "model: eval"
    # the training helper's own loop: the model is in whatever mode it was given on one path
    # and in train mode on the others (as it was, or by model.train()): no label at all
    assert not [h for h in found if h.position.line >= 14]


@pytest.mark.parametrize("encoding", ["utf-16", "utf-8"])
async def test_positions_in_the_negotiated_encoding(
    starter, caps, tmp_path: Path, encoding: str
) -> None:
    session = await starter("visual-studio-code", caps("visual-studio-code", [encoding]))
    assert session.encoding == encoding
    text = TRAINING.replace(
        "        validate(model, loader)\n", '        print("é🙂", validate(model, loader))\n'
    )
    uri = (tmp_path / "fit.py").as_uri()
    session.open(uri, text)
    found = await hints(session, uri)
    call = "validate(model, loader)"
    expected = session.find(uri, call, nth=1, delta=len(call))
    # 2 code points before the call that take 3 UTF-16 units and 6 UTF-8 bytes
    prefix = '        print("é🙂", ' + call
    assert expected.character == len(prefix) + (1 if encoding == "utf-16" else 4)
    assert at(found, expected).label == "model: eval"


async def test_only_the_requested_range(session: Session, tmp_path: Path) -> None:
    uri = (tmp_path / "fit.py").as_uri()
    session.open(uri, TRAINING)
    everything = await hints(session, uri)
    assert {h.position.line for h in everything} == {7, 8, 14, 18}
    # the lines of fit() only, then a part of one line: no hint of validate() comes back
    fit = types.Range(
        start=types.Position(line=11, character=0), end=types.Position(line=19, character=0)
    )
    assert {h.position.line for h in await hints(session, uri, fit)} == {14, 18}
    line = types.Range(
        start=types.Position(line=18, character=0), end=types.Position(line=18, character=8)
    )
    assert await hints(session, uri, line) == []


async def test_turned_off(starter, tmp_path: Path) -> None:
    session = await starter("neovim", settings={"inlayHints": False})
    uri = (tmp_path / "fit.py").as_uri()
    session.open(uri, TRAINING)
    await session.diagnostics(uri)  # analysed all the same
    assert await hints(session, uri) == []


async def test_turned_off_and_on_again(starter, tmp_path: Path) -> None:
    session = await starter("neovim")
    uri = (tmp_path / "fit.py").as_uri()
    session.open(uri, TRAINING)
    assert await hints(session, uri)
    session.client.workspace_did_change_configuration(
        types.DidChangeConfigurationParams(settings={"torchmode": {"inlayHints": False}})
    )
    assert await hints(session, uri) == []
    # the editor is asked to ask again (Neovim can be), as the text did not change
    assert session.client.inlay_hint_refreshes == 1  # type: ignore[attr-defined]
    session.client.workspace_did_change_configuration(
        types.DidChangeConfigurationParams(settings={"torchmode": {"inlayHints": True}})
    )
    assert await hints(session, uri)
    assert session.client.inlay_hint_refreshes == 2  # type: ignore[attr-defined]


async def test_a_bad_value_is_told(starter, tmp_path: Path) -> None:
    session = await starter("neovim", settings={"inlayHints": "no"})
    uri = (tmp_path / "fit.py").as_uri()
    session.open(uri, TRAINING)
    assert await hints(session, uri)  # left at its default
    messages = [m.message for m in session.client.log_messages]
    assert any("torchmode.inlayHints: expected true or false, got 'no'" in m for m in messages)


async def test_after_an_edit(session: Session, tmp_path: Path) -> None:
    uri = (tmp_path / "fit.py").as_uri()
    session.open(uri, TRAINING)
    assert any(h.label == "model: eval" for h in await hints(session, uri))
    session.delete(uri, "    model.eval()\n")
    found = await hints(session, uri)
    # validate() no longer switches: its call says nothing, the loops' heads follow
    assert not [h for h in found if h.position.line == 17]
    assert [h.label for h in found] == ["no_grad", "model: train"]


async def test_in_a_notebook_cell(starter, caps, tmp_path: Path) -> None:
    session = await starter("visual-studio-code", with_notebook_support(caps, "visual-studio-code"))
    notebook = (tmp_path / "explore.ipynb").as_uri()
    setup = "import torch\nimport torch.nn as nn\nmodel = nn.Sequential(nn.Dropout())\n"
    helper = "%matplotlib inline\ndef check(model):\n    model.eval()\n"
    use = "!nvidia-smi\ncheck(model)\nwith torch.no_grad():\n    out = model(x)\n"
    cells = session.open_notebook(notebook, [("code", setup), ("code", helper), ("code", use)])
    found = await hints(session, cells[2])
    assert [(h.position.line, h.position.character, h.label) for h in found] == [
        (1, len("check(model)"), "model: eval"),
        (3, len("    out = model(x)"), "model: eval, no_grad"),
    ]
    assert await hints(session, cells[0]) == []


async def test_a_cell_follows_the_cells_above_it(starter, caps, tmp_path: Path) -> None:
    session = await starter("neovim", with_notebook_support(caps, "neovim"))
    notebook = (tmp_path / "explore.ipynb").as_uri()
    setup = "import torch.nn as nn\nmodel = nn.Sequential(nn.Dropout())\n"
    helper = "def check(model):\n    model.eval()\n"
    use = "check(model)\nfor x in loader:\n    model(x)\n"
    cells = session.open_notebook(notebook, [("code", setup), ("code", helper), ("code", use)])
    assert [h.label for h in await hints(session, cells[2])] == ["model: eval", "model: eval"]
    refreshes = session.client.inlay_hint_refreshes  # type: ignore[attr-defined]
    # check() no longer switches: the last cell, unchanged, is asked for again
    session.replace(cells[1], len("def check(model):\n    model."), len(helper) - 3, "train")

    async def refreshed() -> None:
        while session.client.inlay_hint_refreshes == refreshes:  # type: ignore[attr-defined]
            await asyncio.sleep(0.01)

    await asyncio.wait_for(refreshed(), PATIENCE_S)
    assert [h.label for h in await hints(session, cells[2])] == ["model: train"]


async def test_a_document_analysed_in_the_analysis_process(server_with, tmp_path: Path) -> None:
    session = await server_with("visual-studio-code", TORCHMODE_ISOLATE_ABOVE_BYTES="100")
    uri = (tmp_path / "fit.py").as_uri()
    session.open(uri, TRAINING)
    found = await hints(session, uri)
    call = "validate(model, loader)"
    assert at(found, session.find(uri, call, nth=1, delta=len(call))).label == "model: eval"
