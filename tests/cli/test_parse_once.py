"""A batch run parses each file once: the parse of a file summarised for a file that imports
it is the one its own check uses, and the other way round (``take_parsed``/``leave_parsed``),
with the same findings as separate parses give."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest
from torchmode.cli.main import main
from torchmode.engine import chunks

EVALUATE = """\
import torch


def validate(model, loader):
    model.eval()
    hits = 0
    for x, y in loader:
        hits += (model(x).argmax(1) == y).sum().item()
    return hits
"""

TRAIN = """\
import torch
import torch.nn as nn

from evaluate import validate


def main(model, train_loader, val_loader):
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    for epoch in range(10):
        model.train()
        for x, y in train_loader:
            opt.zero_grad()
            nn.functional.cross_entropy(model(x), y).backward()
            opt.step()
        print(epoch, validate(model, val_loader))
"""


def _project(root: Path) -> Path:
    (root / "pyproject.toml").write_text("[project]\nname = 'p'\n")
    (root / "evaluate.py").write_text(EVALUATE)
    (root / "train.py").write_text(TRAIN)
    return root


def _check(root: Path, capsys: pytest.CaptureFixture[str]) -> list[tuple[str, str, int]]:
    main(["check", "--no-cache", "-j", "1", "--format", "json", str(root)])
    findings = json.loads(capsys.readouterr().out)
    return sorted((Path(f["filename"]).name, f["code"], f["location"]["row"]) for f in findings)


@pytest.mark.parametrize("order", ["evaluate-first", "train-first"])
def test_each_file_is_parsed_once(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    order: str,
) -> None:
    root = _project(tmp_path)
    if order == "train-first":  # checked in name order: the importer comes first
        (root / "evaluate.py").rename(root / "z_evaluate.py")
        (root / "train.py").write_text(TRAIN.replace("from evaluate", "from z_evaluate"))
    parsed: Counter[str] = Counter()
    original = chunks.ChunkCache.parse

    def counting(self: chunks.ChunkCache, text: str, copy: int = 0) -> object:
        before = len(self._items)
        module = original(self, text, copy)
        if len(self._items) > before:
            parsed[text] += 1
        return module

    monkeypatch.setattr(chunks.ChunkCache, "parse", counting)
    found = _check(root, capsys)
    assert found, "the project has findings (the summaries were read)"
    assert parsed and max(parsed.values()) == 1, parsed.most_common(3)


def test_the_findings_are_those_of_separate_parses(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    root = _project(tmp_path)
    shared = _check(root, capsys)
    from torchmode.engine import project_files

    monkeypatch.setattr(project_files, "KEPT_PARSED_TEXT", 0)  # nothing kept
    assert _check(root, capsys) == shared
