"""Two shapes of real training code that the rules misread: a trainer's ``test_*`` method is
its evaluation, not a unit test; and wrapping a model in DataParallel keeps its mode."""

from __future__ import annotations

from torchmode.analysis import analyze
from torchmode.findings import Severity
from torchmode.settings import Settings

TRAINER = """\
import torch
import torch.nn as nn


class Trainer:
    def __init__(self, model, optimizer, loaders):
        self.model = model
        self.optimizer = optimizer
        self.train_loader, self.test_loader = loaders

    def train_epoch(self):
        self.model.train()
        for x, y in self.train_loader:
            self.optimizer.zero_grad()
            nn.functional.cross_entropy(self.model(x), y).backward()
            self.optimizer.step()

    def test_epoch(self):
        correct = 0
        with torch.no_grad():
            for x, y in self.test_loader:
                correct += (self.model(x).argmax(1) == y).sum().item()
        return correct

    def run(self, epochs):
        for _ in range(epochs):
            self.train_epoch()
            print(self.test_epoch())
"""

EVERYTHING = Settings(min_severity=Severity.HINT)


def _codes(source: str) -> list[tuple[str, int]]:
    found = analyze(source, EVERYTHING).findings
    return [(f.code, f.range.start.line + 1) for f in found]


def test_a_trainers_test_epoch_is_its_evaluation():
    assert ("TM102", 22) in _codes(TRAINER)


def test_a_test_case_class_is_a_unit_test():
    unit_test = TRAINER.replace("class Trainer:", "class TrainerTest(unittest.TestCase):")
    unit_test = "import unittest\n" + unit_test
    assert not [code for code, _ in _codes(unit_test) if code == "TM102"]


def test_a_model_wrapped_in_data_parallel_keeps_its_eval_mode():
    source = """\
import torch
import torch.nn as nn

model = nn.Sequential(nn.Linear(4, 4), nn.Dropout(0.5))
model.load_state_dict(torch.load("ckpt.pt"))
model.eval()
model = nn.DataParallel(model)
with torch.no_grad():
    out = model(torch.randn(2, 4))
"""
    assert _codes(source) == []


def test_a_model_wrapped_in_train_mode_is_still_in_train_mode():
    source = """\
import torch
import torch.nn as nn

model = nn.Sequential(nn.Linear(4, 4), nn.Dropout(0.5))
model = nn.parallel.DistributedDataParallel(model)
with torch.no_grad():
    out = model(torch.randn(2, 4))
print(out.softmax(-1))
"""
    assert [code for code, _ in _codes(source)] == ["TM102"]
