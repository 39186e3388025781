"""Code that does not parse, or that no parser takes: what the editor is told.

A syntax error is published as a notice of its own (code ``syntax-error``) beside the
findings of the statements that parse; the findings of the last text that parsed are shown
only where the lines they point at are unchanged, moved to where those lines are now. An
expression nested too deeply for any parser is said to be that, not a syntax error.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from lsprotocol import types

BROKEN_LINE = '    label = "é😀" + )\n'  # the error at ")", after characters of 2 UTF-16 units


def codes(diagnostics: list[types.Diagnostic]) -> list[str]:
    return sorted(str(d.code) for d in diagnostics)


def notices(diagnostics: list[types.Diagnostic], code: str) -> list[types.Diagnostic]:
    return [d for d in diagnostics if d.code == code]


def points_at(session, uri: str, diagnostic: types.Diagnostic, needle: str) -> bool:
    line = session.texts[uri].splitlines()[diagnostic.range.start.line]
    return needle in line


async def test_fresh_open_with_a_broken_statement_shows_the_error_and_the_other_findings(
    session, tmp_path: Path, example_text: str
) -> None:
    """A Python 2 print at the top level costs that statement only."""
    text = example_text.replace("\n\nclass Classifier", '\nprint "starting"\n\nclass Classifier')
    uri = (tmp_path / "train_sst.py").as_uri()
    session.open(uri, text)
    diagnostics = await session.diagnostics(uri)
    assert "TM101" in codes(diagnostics)
    tm101 = notices(diagnostics, "TM101")[0]
    assert points_at(session, uri, tm101, "model.eval()")
    [error] = notices(diagnostics, "syntax-error")
    assert error.range.start == session.find(uri, 'print "starting"')
    assert error.message.startswith("Syntax error: Missing parentheses in call to 'print'")
    assert "torchmode checked the rest of the file" in error.message
    assert error.source == "torchmode"
    assert error.severity == types.DiagnosticSeverity.Information


async def test_fresh_open_with_the_error_inside_the_function_with_the_findings(
    session, tmp_path: Path, example_text: str
) -> None:
    """The whole training function is left out: the editor must still be told why nothing
    is found there, at the error's place in the negotiated encoding."""
    text = example_text.replace("    iterations = 0\n", "    iterations = 0\n" + BROKEN_LINE)
    uri = (tmp_path / "train_sst.py").as_uri()
    session.open(uri, text)
    diagnostics = await session.diagnostics(uri)
    [error] = notices(diagnostics, "syntax-error")
    assert error.range.start == session.find(uri, "+ )", delta=2)
    assert error.message.startswith("Syntax error: unmatched ')'")
    assert "TM101" not in codes(diagnostics)  # main() is not analysed, nothing is made up


async def test_findings_of_the_last_good_text_follow_their_lines(
    session, tmp_path: Path, example_text: str
) -> None:
    """Mid-edit, the training function does not parse: its last findings stay, but where
    their lines are now (lines are inserted above them), never at their old line numbers."""
    uri = (tmp_path / "train_sst.py").as_uri()
    session.open(uri, example_text)
    before = notices(await session.diagnostics(uri), "TM101")
    assert before and points_at(session, uri, before[0], "model.eval()")
    session.insert(uri, "    iterations = 0", "    broken = foo(\n")
    during = await session.diagnostics(uri)
    assert notices(during, "syntax-error")
    assert notices(during, "TM101")
    for diagnostic in notices(during, "TM101"):
        assert points_at(session, uri, diagnostic, "model.eval()")
        assert "line 32" in diagnostic.message  # the loss.backward() it names, one line down
        for related in diagnostic.related_information or []:
            assert related.location.range.start.line > 0
    session.insert(uri, '"""Sentiment', "# one\n# two\n# three\n")
    moved = await session.diagnostics(uri)
    [error] = notices(moved, "syntax-error")
    assert points_at(session, uri, error, "broken = foo(")
    tm101 = notices(moved, "TM101")
    assert tm101, "the last good finding of the function being edited is kept"
    for diagnostic in tm101:
        assert points_at(session, uri, diagnostic, "model.eval()"), diagnostic.range
    # An edit of the line a finding points at drops that finding until the text parses.
    end = session.texts[uri].index("model.eval()\n") + len("model.eval()")
    session.replace(uri, end, end, "  # still in eval mode")
    assert not notices(await session.diagnostics(uri), "TM101")
    # Repaired: fresh results, no notice.
    session.delete(uri, "    broken = foo(\n")
    repaired = await session.diagnostics(uri)
    assert not notices(repaired, "syntax-error")
    for diagnostic in notices(repaired, "TM101"):
        assert points_at(session, uri, diagnostic, "model.eval()")


NOTEBOOK_TRAINING = """\
for x in data:
    opt.zero_grad()
    model(x).sum().backward()
    opt.step()
"""


async def test_syntax_error_in_a_notebook_cell(starter, caps, tmp_path: Path) -> None:
    capabilities = caps("visual-studio-code")
    capabilities.notebook_document = types.NotebookDocumentClientCapabilities(
        synchronization=types.NotebookDocumentSyncClientCapabilities()
    )
    session = await starter("visual-studio-code", capabilities)
    notebook = (tmp_path / "explore.ipynb").as_uri()
    setup, broken, evaluate, _ = session.open_notebook(
        notebook,
        [
            ("code", "import torch\nmodel = torch.nn.Dropout(0.1)\nopt = make(model)\n"),
            ("code", "x = 1\nprint 'hello'\n"),
            ("code", "model.eval()\n"),
            ("code", NOTEBOOK_TRAINING),
        ],
    )
    [error] = notices(await session.diagnostics(broken), "syntax-error")
    assert error.range.start == session.find(broken, "print 'hello'")
    assert "TM101" in codes(await session.diagnostics(evaluate))
    assert not notices(await session.diagnostics(setup), "syntax-error")


DEEP_CALLS = "import torch\nmodel.eval()\nx = f(" + "g(" * 3000 + "1" + ")" * 3001 + "\n"
DEEP_UNCLOSED = "import torch\nmodel.eval()\nx = f(" + "g(" * 3000 + "\n"
NESTED_SAME = "import torch\nmodel.eval()\ny = " + "a(" * 3000 + "1" + ")" * 3000 + "\n"
LONG_SUM = "import torch\nmodel.eval()\ny = " + "+".join(["1"] * 100_000) + "\n"
LONG_SUM_LINES = "import torch\nmodel.eval()\ny = (" + "+\n".join(["1"] * 100_000) + ")\n"


@pytest.mark.parametrize(
    "text",
    [DEEP_CALLS, DEEP_UNCLOSED, NESTED_SAME, LONG_SUM, LONG_SUM_LINES],
    ids=["calls", "unclosed-calls", "nested", "sum-one-line", "sum-many-lines"],
)
async def test_too_deep_is_not_called_a_syntax_error(starter, tmp_path: Path, text: str) -> None:
    session = await starter("visual-studio-code")
    uri = (tmp_path / "deep.py").as_uri()
    session.open(uri, text)
    diagnostics = await session.diagnostics(uri)
    assert not notices(diagnostics, "syntax-error")
    [notice] = notices(diagnostics, "not-analysed")
    assert "too deeply nested" in notice.message
    assert "syntax" not in notice.message.lower()
    assert notice.source == "torchmode"
    # at the statement, or at the top where the whole file was refused
    line = session.texts[uri].splitlines()[notice.range.start.line]
    assert line.startswith(("x =", "y =")) or notice.range.start.line == 0
