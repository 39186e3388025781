"""Quick fixes, "Ignore on this line" and fix-all, applied the way an editor applies them."""

from __future__ import annotations

import difflib
from pathlib import Path

import pytest
from lsprotocol import types
from torchmode.analysis import analyze

MANY_MISTAKES = """\
import torch
import torch.nn as nn


def evaluate(model, loader):
    model.eval()
    total = 0
    for x, y in loader:
        loss = nn.functional.cross_entropy(model(x), y)
        total += loss
    return total


def train(model, optimizer, loader, epochs):
    for epoch in range(epochs):
        model.train
        for x, y in loader:
            loss = nn.functional.cross_entropy(model(x), y)
            loss.backward()
            optimizer.zero_grad()
            optimizer.step()
        with torch.no_grad:
            evaluate(model, loader)
"""


def added_lines(before: str, after: str) -> list[str]:
    diff = difflib.ndiff(before.splitlines(), after.splitlines())
    changed = [line for line in diff if line[:2] in ("+ ", "- ")]
    assert all(line.startswith("+ ") for line in changed), changed
    return [line[2:] for line in changed]


async def test_preferred_fix_of_the_canonical_case(
    session, tmp_path: Path, example_text: str
) -> None:
    uri = (tmp_path / "train_sst.py").as_uri()
    session.open(uri, example_text)
    tm101 = next(d for d in await session.diagnostics(uri) if d.code == "TM101")
    actions = await session.actions(uri, tm101.range, [tm101])
    quickfixes = [a for a in actions if a.kind == types.CodeActionKind.QuickFix]
    assert [a.is_preferred for a in quickfixes].count(True) >= 1
    assert all(list(a.diagnostics or ()) == [tm101] for a in quickfixes)
    assert "Ignore TM101 on this line" in [a.title for a in quickfixes]
    fixed = await session.fix(uri, tm101)
    assert [line.strip() for line in added_lines(example_text, fixed)] == ["model.train()"]
    assert "TM101" not in [d.code for d in await session.diagnostics(uri)]
    assert not [f for f in analyze(fixed).findings if f.code == "TM101"]


@pytest.mark.parametrize("which", ["example", "many"])
async def test_every_quick_fix_removes_its_finding(
    session, tmp_path: Path, example_text: str, which: str
) -> None:
    if which == "many":
        example_text = MANY_MISTAKES
    uri = (tmp_path / "train_sst.py").as_uri()
    session.open(uri, example_text)
    diagnostics = await session.diagnostics(uri)
    tried = 0
    for diagnostic in diagnostics:
        actions = await session.actions(uri, diagnostic.range, [diagnostic])
        for action in actions:
            if action.kind != types.CodeActionKind.QuickFix or action.title.startswith("Ignore"):
                continue
            # Each fix is tried on the original text.
            session.replace(uri, 0, len(session.texts[uri]), example_text)
            current = next(
                d
                for d in await session.diagnostics(uri)
                if d.code == diagnostic.code and d.range == diagnostic.range
            )
            fixed = await session.fix(uri, current, title=action.title)
            compile(fixed, "fixed.py", "exec")
            remaining = await session.diagnostics(uri)
            assert not any(
                d.code == diagnostic.code and d.message == diagnostic.message for d in remaining
            ), (action.title, remaining)
            tried += 1
    assert tried >= (1 if which == "example" else 4)


async def test_ignore_on_this_line(
    session, tmp_path: Path, example_text: str, eval_line: int
) -> None:
    uri = (tmp_path / "train_sst.py").as_uri()
    session.open(uri, example_text)
    tm101 = next(d for d in await session.diagnostics(uri) if d.code == "TM101")
    fixed = await session.fix(uri, tm101, title="Ignore TM101 on this line")
    assert fixed.splitlines()[eval_line] == "            model.eval()  # noqa: TM101"
    assert "TM101" not in [d.code for d in await session.diagnostics(uri)]


async def test_ignore_extends_an_existing_noqa(
    session, tmp_path: Path, example_text: str, eval_line: int
) -> None:
    uri = (tmp_path / "train_sst.py").as_uri()
    text = example_text.replace(
        "            model.eval()\n", "            model.eval()  # noqa: E501\n"
    )
    session.open(uri, text)
    tm101 = next(d for d in await session.diagnostics(uri) if d.code == "TM101")
    fixed = await session.fix(uri, tm101, title="Ignore TM101 on this line")
    assert fixed.splitlines()[eval_line] == "            model.eval()  # noqa: E501, TM101"
    assert "TM101" not in [d.code for d in await session.diagnostics(uri)]


@pytest.mark.parametrize("which", ["example", "many"])
async def test_fix_all(session, tmp_path: Path, example_text: str, which: str) -> None:
    if which == "many":
        example_text = MANY_MISTAKES
    uri = (tmp_path / "train_sst.py").as_uri()
    session.open(uri, example_text)
    await session.diagnostics(uri)
    whole = types.Range(
        start=types.Position(line=0, character=0), end=types.Position(line=0, character=0)
    )
    actions = await session.actions(uri, whole, only=["source.fixAll"])
    assert [a.kind for a in actions] == ["source.fixAll.torchmode"]
    action = await session.resolved(actions[0])
    assert action.edit is not None
    session.apply(action.edit)
    fixed = session.texts[uri]
    compile(fixed, "fixed.py", "exec")
    remaining = analyze(fixed).findings
    assert not any(fix.safe for finding in remaining for fix in finding.fixes)
    assert "TM101" not in [d.code for d in await session.diagnostics(uri)]
    # Asking for quick fixes only does not offer fix-all.
    only_quick = await session.actions(uri, whole, only=["quickfix"])
    assert "source.fixAll.torchmode" not in [a.kind for a in only_quick]


async def test_actions_without_resolve_support_carry_their_edits(
    starter, caps, tmp_path: Path, example_text: str
) -> None:
    capabilities = caps("neovim")
    capabilities.text_document.code_action.resolve_support = None
    capabilities.workspace.workspace_edit = None  # plain `changes`, no versioned edits
    session = await starter("neovim", capabilities)
    uri = (tmp_path / "train_sst.py").as_uri()
    session.open(uri, example_text)
    tm101 = next(d for d in await session.diagnostics(uri) if d.code == "TM101")
    actions = await session.actions(uri, tm101.range, [tm101])
    assert actions and all(a.edit is not None and a.edit.changes for a in actions)
    fixed = await session.fix(uri, tm101)
    assert "TM101" not in [f.code for f in analyze(fixed).findings]


VALIDATE_INSIDE_THE_LOOP = """\
import torch


def validate(model, loader):
    model.eval()
    with torch.no_grad():
        for x, y in loader:
            model(x)


def fit(model, optimizer, loader, val_loader):
    model.train()
    for step, (x, y) in enumerate(loader):
        optimizer.zero_grad()
        loss = torch.nn.functional.cross_entropy(model(x), y)
        loss.backward()
        optimizer.step()
        if step % 100 == 0:
            validate(model, val_loader)
"""


@pytest.mark.parametrize(
    "needle", ["model.eval()", "loss.backward()"], ids=["eval-in-the-helper", "training-step"]
)
async def test_quick_fix_offered_on_the_related_lines(session, tmp_path: Path, needle: str) -> None:
    """TM101 is reported at `validate(model, val_loader)`; a reader looking at the
    `model.eval()` inside validate(), or at the training step, is offered its fix there too
    (but not "Ignore ... on this line": the line is not the finding's)."""
    uri = (tmp_path / "fit.py").as_uri()
    session.open(uri, VALIDATE_INSIDE_THE_LOOP)
    [tm101] = [d for d in await session.diagnostics(uri) if d.code == "TM101"]
    assert tm101.range == session.range_of(uri, "validate(model, val_loader)")
    related = [info.location.range.start.line for info in tm101.related_information or []]
    at = session.find(uri, needle)
    assert at.line in related
    # the cursor on the related line, as an editor asks: no diagnostic of its own there
    actions = await session.actions(uri, types.Range(start=at, end=at))
    quickfixes = [a for a in actions if a.kind == types.CodeActionKind.QuickFix]
    assert [a.title for a in quickfixes] == ["Call `model.train()` after the evaluation"]
    assert list(quickfixes[0].diagnostics or ()) == [tm101]
    action = await session.resolved(quickfixes[0])
    assert action.edit is not None
    session.apply(action.edit)
    fixed = session.texts[uri]
    assert "            validate(model, val_loader)\n            model.train()\n" in fixed
    assert "TM101" not in [d.code for d in await session.diagnostics(uri)]


async def test_no_quick_fix_on_a_line_the_finding_does_not_involve(session, tmp_path: Path) -> None:
    uri = (tmp_path / "fit.py").as_uri()
    session.open(uri, VALIDATE_INSIDE_THE_LOOP)
    assert "TM101" in [d.code for d in await session.diagnostics(uri)]
    at = session.find(uri, "optimizer.zero_grad()")
    actions = await session.actions(uri, types.Range(start=at, end=at))
    assert [a for a in actions if a.kind == types.CodeActionKind.QuickFix] == []
