"""A document's findings are converted to diagnostics once: the next publication reuses the
diagnostics of the findings that did not change, on lines whose text did not change
(lsp/diagnostics.py, Conversions), and converts the others in the new text."""

from __future__ import annotations

from torchmode.analysis import analyze
from torchmode.lsp.diagnostics import Conversions, diagnostics_by_uri
from torchmode.lsp.positions import UTF16, LineIndex
from torchmode.lsp.results import Result, next_result
from torchmode.lsp.targets import TextTarget
from torchmode.settings import DEFAULT_SETTINGS

URI = "file:///work/train.py"

TRAIN = """\
import torch
import torch.nn.functional as F


def validate(model, loader):
    model.eval()
    with torch.no_grad():
        return sum(model(x).sum().item() for x in loader)


def train(model, optimizer, loader, dev_loader):
    model.train()
    for step, (x, y) in enumerate(loader):
        optimizer.zero_grad()
        F.cross_entropy(model(x), y).backward()
        optimizer.step()
        if step % 100 == 0:
            tag = "é"; validate(model, dev_loader)


def train_again(model, optimizer, loader, dev_loader):
    model.train()
    for step, (x, y) in enumerate(loader):
        optimizer.zero_grad()
        F.cross_entropy(model(x), y).backward()
        optimizer.step()
        model.eval()
"""


def _result(text: str, version: int) -> Result:
    target = TextTarget(URI, version, text, LineIndex(text))
    return next_result(None, target, DEFAULT_SETTINGS, analyze(text, DEFAULT_SETTINGS))


def _converted(text: str, version: int, conversions: Conversions | None) -> list:
    return diagnostics_by_uri(_result(text, version), UTF16, conversions)[URI]


def test_unchanged_findings_keep_their_diagnostics() -> None:
    conversions = Conversions()
    first = _converted(TRAIN, 1, conversions)
    assert [d.code for d in first] == ["TM101", "TM101"]
    # a comment typed in train(): both functions' findings come out as they were
    edited = TRAIN.replace("optimizer.step()\n", "optimizer.step()  # next\n", 1)
    second = _converted(edited, 2, conversions)
    assert second == _converted(edited, 2, None)
    assert all(new is old for new, old in zip(second, first, strict=True))


def test_a_line_whose_units_changed_is_converted_again() -> None:
    conversions = Conversions()
    first = _converted(TRAIN, 1, conversions)
    # the same code points on the finding's line, one more UTF-16 unit before it: the
    # finding is the same, its diagnostic's columns are not
    edited = TRAIN.replace('"é"', '"\U0001f600"')
    second = _converted(edited, 2, conversions)
    assert second == _converted(edited, 2, None)
    assert second[0].range.start.character == first[0].range.start.character + 1
    assert second[1] is first[1]  # train_again()'s, on lines that did not change
