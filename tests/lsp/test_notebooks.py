"""Jupyter notebooks: code cells analysed in order as one program, results in their cells."""

from __future__ import annotations

from pathlib import Path

import pytest
from lsprotocol import types

SETUP = """\
%matplotlib inline
import torch
import torch.nn as nn

model = nn.Sequential(nn.Linear(8, 8), nn.Dropout(0.2), nn.Linear(8, 2))
optimizer = torch.optim.Adam(model.parameters())
"""
NOTES = "## Check the untrained model first"
EVALUATE = """\
model.eval()
with torch.no_grad():
    print(model(torch.randn(4, 8)))
"""
TRAIN = """\
!nvidia-smi
for x, y in loader:
    optimizer.zero_grad()
    loss = nn.functional.cross_entropy(model(x), y)
    loss.backward()
    optimizer.step()
"""


def with_notebook_support(caps, client: str) -> types.ClientCapabilities:
    capabilities = caps(client)
    capabilities.notebook_document = types.NotebookDocumentClientCapabilities(
        synchronization=types.NotebookDocumentSyncClientCapabilities()
    )
    return capabilities


@pytest.mark.parametrize("client", ["visual-studio-code", "neovim"])
async def test_eval_in_one_cell_leaks_into_training_in_a_later_one(
    starter, caps, tmp_path: Path, client: str
) -> None:
    session = await starter(client, with_notebook_support(caps, client))
    notebook = (tmp_path / "explore.ipynb").as_uri()
    setup, notes, evaluate, train = session.open_notebook(
        notebook, [("code", SETUP), ("markdown", NOTES), ("code", EVALUATE), ("code", TRAIN)]
    )
    tm101 = [d for d in await session.diagnostics(evaluate) if d.code == "TM101"]
    assert len(tm101) == 1
    assert tm101[0].range.start == session.find(evaluate, "model.eval()")
    related = tm101[0].related_information or []
    assert any(
        r.location.uri == train and r.location.range.start == session.find(train, "loss.backward()")
        for r in related
    ), related
    assert all(d.code != "TM101" for d in await session.diagnostics(setup))

    hover = await session.hover(evaluate, session.find(evaluate, "eval", delta=1))
    assert hover is not None and "eval" in hover

    # The preferred fix lands in a cell, and the notebook re-checks clean of TM101.
    await session.fix(evaluate, tm101[0])
    for cell in (setup, evaluate, train):
        assert all(d.code != "TM101" for d in await session.diagnostics(cell))
    program = "\n".join(session.texts[c] for c in (setup, evaluate, train))
    assert "model.train()" in program
    assert session.texts[notes] == NOTES
    assert "\n!nvidia-smi\n" in "\n" + session.texts[train]  # the magic is kept intact


async def test_typing_in_a_cell(starter, caps, tmp_path: Path) -> None:
    session = await starter("visual-studio-code", with_notebook_support(caps, "visual-studio-code"))
    notebook = (tmp_path / "explore.ipynb").as_uri()
    _, evaluate, train = session.open_notebook(
        notebook, [("code", SETUP), ("code", EVALUATE), ("code", TRAIN)]
    )
    assert "TM101" in [d.code for d in await session.diagnostics(evaluate)]
    session.insert(train, "for x, y", "model.train()\n")
    assert "TM101" not in [d.code for d in await session.diagnostics(evaluate)]
    session.delete(train, "model.train()\n")
    assert "TM101" in [d.code for d in await session.diagnostics(evaluate)]


async def test_fix_all_in_a_notebook(starter, caps, tmp_path: Path) -> None:
    session = await starter("neovim", with_notebook_support(caps, "neovim"))
    notebook = (tmp_path / "explore.ipynb").as_uri()
    setup, evaluate, train = session.open_notebook(
        notebook, [("code", SETUP), ("code", EVALUATE), ("code", TRAIN)]
    )
    assert "TM101" in [d.code for d in await session.diagnostics(evaluate)]
    here = types.Position(line=0, character=0)
    actions = await session.actions(
        evaluate, types.Range(start=here, end=here), only=["source.fixAll"]
    )
    assert [a.kind for a in actions] == ["source.fixAll.torchmode"]
    action = await session.resolved(actions[0])
    assert action.edit is not None
    session.apply(action.edit)
    for cell in (setup, evaluate, train):
        assert "TM101" not in [d.code for d in await session.diagnostics(cell)]
    assert "%matplotlib inline" in session.texts[setup]
