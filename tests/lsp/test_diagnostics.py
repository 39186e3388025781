"""Diagnostics for the canonical case and its variants, pushed or pulled."""

from __future__ import annotations

from pathlib import Path

import pytest
from lsprotocol import types
from torchmode.analysis import RULES

FUNCTION_VARIANT = """\
import torch
import torch.nn.functional as F


def validate(model, loader):
    model.eval()
    correct = 0
    with torch.no_grad():
        for batch in loader:
            correct += (model(batch.x).argmax(1) == batch.y).sum().item()
    return correct


def train(model, optimizer, train_loader, dev_loader, epochs):
    model.train()
    for epoch in range(epochs):
        for step, batch in enumerate(train_loader):
            optimizer.zero_grad()
            loss = F.cross_entropy(model(batch.x), batch.y)
            loss.backward()
            optimizer.step()
            if step % 100 == 0:
                validate(model, dev_loader)
"""

CLASS_VARIANT = """\
import torch
import torch.nn.functional as F


class Trainer:
    def __init__(self, model, optimizer, loader, dev_loader):
        self.model = model
        self.optimizer = optimizer
        self.loader = loader
        self.dev_loader = dev_loader

    def validate(self):
        self.model.eval()
        with torch.no_grad():
            for batch in self.dev_loader:
                self.model(batch.x)

    def train_epoch(self):
        for step, batch in enumerate(self.loader):
            self.optimizer.zero_grad()
            loss = F.cross_entropy(self.model(batch.x), batch.y)
            loss.backward()
            self.optimizer.step()
            if step % 100 == 0:
                self.validate()

    def fit(self, epochs):
        self.model.train()
        for epoch in range(epochs):
            self.train_epoch()
"""

SEVERITY = {
    "error": types.DiagnosticSeverity.Error,
    "warning": types.DiagnosticSeverity.Warning,
    "info": types.DiagnosticSeverity.Information,
    "hint": types.DiagnosticSeverity.Hint,
}


def text_at(text: str, rng: types.Range) -> list[str]:
    return text.splitlines()[rng.start.line : rng.end.line + 1]


async def test_canonical_example(
    session, tmp_path: Path, example_text: str, eval_line: int, backward_line: int
) -> None:
    uri = (tmp_path / "train_sst.py").as_uri()
    session.open(uri, example_text)
    diagnostics = await session.diagnostics(uri)
    tm101 = [d for d in diagnostics if d.code == "TM101"]
    assert len(tm101) == 1, diagnostics
    diagnostic = tm101[0]
    assert diagnostic.range.start.line == eval_line
    assert "model.eval()" in text_at(example_text, diagnostic.range)[0]
    assert diagnostic.source == "torchmode"
    assert diagnostic.code_description is not None
    assert diagnostic.code_description.href == RULES["TM101"].url
    assert diagnostic.severity == SEVERITY[RULES["TM101"].default_severity.value]
    assert "model" in diagnostic.message
    related = diagnostic.related_information or []
    assert any(
        r.location.uri == uri and r.location.range.start.line == backward_line for r in related
    ), related
    for other in diagnostics:
        assert other.source == "torchmode" and other.code in RULES


@pytest.mark.parametrize(
    ("source", "places"),
    [
        (FUNCTION_VARIANT, ("model.eval()", "validate(model, dev_loader)")),
        (CLASS_VARIANT, ("self.model.eval()", "self.validate()")),
    ],
    ids=["function", "class"],
)
async def test_variants_of_the_canonical_case(
    session, tmp_path: Path, source: str, places: tuple[str, str]
) -> None:
    uri = (tmp_path / "variant.py").as_uri()
    session.open(uri, source)
    diagnostics = await session.diagnostics(uri)
    tm101 = [d for d in diagnostics if d.code == "TM101"]
    assert len(tm101) == 1, diagnostics
    # Reported at the eval() or at the call that reaches it, with the step as related.
    lines = [i for i, line in enumerate(source.splitlines()) if line.strip() in places]
    assert tm101[0].range.start.line in lines
    assert tm101[0].related_information


async def test_didclose_clears_diagnostics(session, tmp_path: Path, example_text: str) -> None:
    uri = (tmp_path / "train_sst.py").as_uri()
    session.open(uri, example_text)
    assert await session.diagnostics(uri)
    session.close(uri)
    assert await session.pushed(uri, None) == []
