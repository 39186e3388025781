"""Incremental edits, debouncing, stale versions and code that does not parse mid-edit."""

from __future__ import annotations

import asyncio
from pathlib import Path

from lsprotocol import types

EVAL_BLOCK_END = '                print(f"epoch {epoch} dev accuracy {correct}")\n'
RESTORE = "            model.train()\n"


def codes(diagnostics: list[types.Diagnostic]) -> list[str]:
    return sorted(str(d.code) for d in diagnostics)


async def test_adding_and_removing_train_toggles_tm101(
    session, tmp_path: Path, example_text: str
) -> None:
    uri = (tmp_path / "train_sst.py").as_uri()
    session.open(uri, example_text)
    assert "TM101" in codes(await session.diagnostics(uri))
    # Type the fix in character by character, as a user would.
    index = session.texts[uri].index(EVAL_BLOCK_END) + len(EVAL_BLOCK_END)
    for offset, char in enumerate(RESTORE):
        session.replace(uri, index + offset, index + offset, char)
    assert "TM101" not in codes(await session.diagnostics(uri))
    session.delete(uri, RESTORE)
    assert "TM101" in codes(await session.diagnostics(uri))
    assert session.texts[uri] == example_text


async def test_only_the_latest_version_is_published(
    starter, tmp_path: Path, example_text: str
) -> None:
    session = await starter("visual-studio-code", settings={"debounceMs": 0})
    uri = (tmp_path / "train_sst.py").as_uri()
    session.open(uri, example_text)
    for _ in range(15):
        session.insert(uri, "    model = Classifier", "    pass\n")
    final = session.versions[uri]
    diagnostics = await session.pushed(uri, final)
    assert "TM101" in codes(diagnostics)
    eval_line = session.texts[uri].splitlines().index("            model.eval()")
    assert [d.range.start.line for d in diagnostics if d.code == "TM101"] == [eval_line]
    versions = [p.version for p in session.client.published if p.uri == uri]
    assert versions == sorted(versions), "an older analysis was published after a newer one"


async def test_syntax_error_mid_edit(session, tmp_path: Path, example_text: str) -> None:
    uri = (tmp_path / "train_sst.py").as_uri()
    session.open(uri, example_text)
    before = [d for d in await session.diagnostics(uri) if d.code == "TM101"]
    assert before
    # An unclosed call while typing: the last good findings stay where they are.
    session.insert(uri, "    iterations = 0", "    broken = foo(\n")
    during = await session.diagnostics(uri)
    lines = session.texts[uri].splitlines()
    for diagnostic in during:
        assert diagnostic.range.end.line < len(lines)
    # Deleting most of the file while it is broken: nothing may point beyond its end.
    text = session.texts[uri]
    session.replace(uri, text.index("    iterations = 0"), len(text), "")
    shrunk = await session.diagnostics(uri)
    line_count = len(session.texts[uri].splitlines())
    for diagnostic in shrunk:
        assert diagnostic.range.end.line < line_count
    # Repairing the file brings back fresh results.
    session.replace(uri, 0, len(session.texts[uri]), example_text)
    after = [d for d in await session.diagnostics(uri) if d.code == "TM101"]
    assert [d.range for d in after] == [d.range for d in before]


async def test_run_on_save(starter, tmp_path: Path, example_text: str) -> None:
    session = await starter("visual-studio-code", settings={"run": "onSave"})
    uri = (tmp_path / "train_sst.py").as_uri()
    session.open(uri, example_text)
    assert "TM101" in codes(await session.diagnostics(uri))
    session.delete(uri, "            model.eval()\n")
    session.client.text_document_did_save(
        types.DidSaveTextDocumentParams(text_document=types.TextDocumentIdentifier(uri=uri))
    )
    assert "TM101" not in codes(await session.pushed(uri, session.versions[uri]))


async def test_hover_and_actions_answer_for_the_current_text(
    session, tmp_path: Path, example_text: str
) -> None:
    """A request right after an edit answers for the edited text, not the previous one."""
    uri = (tmp_path / "train_sst.py").as_uri()
    session.open(uri, example_text)
    await session.diagnostics(uri)
    session.insert(uri, "class Classifier", "# a comment\n# another\n")
    at = session.find(uri, "model.eval()", delta=len("model."))
    hover = await session.hover(uri, at)
    assert hover is not None and "eval" in hover


async def test_run_on_save_with_pulled_diagnostics(
    starter, caps, tmp_path: Path, example_text: str
) -> None:
    capabilities = caps("visual-studio-code")
    capabilities.text_document.diagnostic = types.DiagnosticClientCapabilities()
    capabilities.workspace.diagnostics = types.DiagnosticWorkspaceClientCapabilities(
        refresh_support=True
    )
    session = await starter("visual-studio-code", capabilities, settings={"run": "onSave"})
    uri = (tmp_path / "train_sst.py").as_uri()
    session.open(uri, example_text)
    assert "TM101" in codes(await session.diagnostics(uri))
    session.replace(uri, len(example_text), len(example_text), UNCHECKED_EVALUATION)
    # Not saved yet: the saved text's findings stand, the new code is not analysed.
    assert codes(await session.diagnostics(uri)) == ["TM101"]
    session.delete(uri, UNCHECKED_EVALUATION)
    session.delete(uri, "            model.eval()\n")
    refreshes = session.client.diagnostic_refresh_count
    session.client.text_document_did_save(
        types.DidSaveTextDocumentParams(text_document=types.TextDocumentIdentifier(uri=uri))
    )
    for _ in range(6000):  # a guard against a hung server, not a timing assertion
        if session.client.diagnostic_refresh_count > refreshes:
            break
        await asyncio.sleep(0.01)
    assert session.client.diagnostic_refresh_count > refreshes
    assert "TM101" not in codes(await session.diagnostics(uri))


UNCHECKED_EVALUATION = """\


def evaluate(model, loader):
    model.eval()
    correct = 0
    for x, y in loader:
        correct += (model(x).argmax(1) == y).sum().item()
    return correct
"""


async def test_run_on_save_shows_the_saved_findings_where_their_lines_are_now(
    starter, caps, tmp_path: Path, example_text: str
) -> None:
    """Pulled between saves, the saved text's findings follow the lines typed above them;
    one whose line was edited is not shown until the text is saved and analysed."""
    capabilities = caps("visual-studio-code")
    capabilities.text_document.diagnostic = types.DiagnosticClientCapabilities()
    session = await starter("visual-studio-code", capabilities, settings={"run": "onSave"})
    uri = (tmp_path / "train_sst.py").as_uri()
    session.open(uri, example_text)
    assert "TM101" in codes(await session.diagnostics(uri))
    session.insert(uri, "import argparse", "# one\n# two\n")
    [tm101] = [d for d in await session.diagnostics(uri) if d.code == "TM101"]
    lines = session.texts[uri].splitlines()
    assert lines[tm101.range.start.line] == "            model.eval()"
    assert "on line 33" in tm101.message  # loss.backward(), two lines down from line 31
    assert lines[32].strip() == "loss.backward()"
    end = session.texts[uri].index("model.eval()\n") + len("model.eval()")
    session.replace(uri, end, end, "  # edited")
    assert "TM101" not in codes(await session.diagnostics(uri))


TRAINING_FUNCTION = """\
def train_{n}(model, optimizer, criterion, loader, dev_loader):
    model.train()
    for step, (x, y) in enumerate(loader):
        optimizer.zero_grad()
        loss = criterion(model(x), y)
        loss.backward()
        optimizer.step()
        model.eval()


"""


async def test_hover_is_answered_while_a_large_file_is_analysed(
    starter, tmp_path: Path, example_text: str
) -> None:
    """Not a timing test: the order of the answers shows that the big analysis did not
    hold up the hover on another file."""
    session = await starter("visual-studio-code", settings={"debounceMs": 0})
    small = (tmp_path / "train_sst.py").as_uri()
    session.open(small, example_text)
    await session.diagnostics(small)
    big = (tmp_path / "big.py").as_uri()
    big_text = "import torch\n\n\n" + "".join(TRAINING_FUNCTION.format(n=n) for n in range(120))
    session.open(big, big_text)
    hover = await session.hover(small, session.find(small, "model.eval()", delta=len("model.")))
    assert hover is not None
    answered_before = not any(p.uri == big for p in session.client.published)
    assert answered_before, "the hover waited for the large file's analysis"
    assert len(await session.diagnostics(big)) >= 120
