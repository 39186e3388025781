"""TM204's level in a training loop follows the evidence that the value added has a graph: the
very loss that loop backpropagates is a warning (each step's graph stays alive: memory grows
with every step); another loss-like value, which a helper may have turned into a plain number,
is info."""

from __future__ import annotations

from torchmode.analysis import analyze
from torchmode.findings import Severity
from torchmode.rules.examples import tm204
from torchmode.settings import Settings

EVERYTHING = Settings(min_severity=Severity.HINT)


def _levels(source: str) -> dict[int, Severity]:
    found = analyze(source, EVERYTHING).findings
    return {f.range.start.line + 1: f.severity for f in found if f.code == "TM204"}


def test_the_backpropagated_loss_is_a_warning_and_a_helpers_term_is_info() -> None:
    example = next(e for e in tm204.INVALID if "epoch_ce += ce" in e.source)
    assert _levels(example.source) == {12: Severity.WARNING, 13: Severity.INFO}


def test_every_training_loop_example_that_sums_its_backpropagated_loss_is_a_warning() -> None:
    for example in tm204.INVALID:
        source = example.source
        if "total_loss += loss\n" in source or "running_loss += loss\n" in source:
            assert set(_levels(source).values()) == {Severity.WARNING}, source


def test_a_loss_backpropagated_in_another_loop_is_no_evidence() -> None:
    source = """\
import torch

model = torch.nn.Linear(8, 2)
for x, y in warmup_loader:
    loss = criterion(model(x), y)
    loss.backward()
    optimizer.step()
    optimizer.zero_grad()
history = []
for x, y in train_loader:
    loss = criterion(model(x), y)
    scale_and_backward(loss)
    optimizer.step()
    optimizer.zero_grad()
    history.append(loss)
"""
    assert _levels(source) == {15: Severity.INFO}


def test_a_loss_a_step_helper_backpropagated_and_returned_is_a_warning() -> None:
    example = next(e for e in tm204.INVALID if "def critic_step" in e.source)
    assert _levels(example.source) == {16: Severity.WARNING}
    # a product of the backpropagated loss is recorded by autograd: it holds the graph too
    scaled = example.source.replace("    return loss_c\n", "    return loss_c * 0.5\n")
    assert _levels(scaled) == {16: Severity.WARNING}
    # a number made of it, or a product taken with gradients off, has no graph: no evidence
    off = "    with torch.no_grad():\n        return loss_c * 0.5\n"
    for plain in ("    return float(loss_c) * 0.5\n", "    return loss_c.item() * 0.5\n", off):
        other = example.source.replace("    return loss_c\n", plain)
        assert Severity.WARNING not in _levels(other).values(), plain


def test_a_loss_handed_to_a_meter_of_the_file_is_a_warning() -> None:
    example = next(e for e in tm204.INVALID if "class RunningAverage" in e.source)
    assert _levels(example.source) == {25: Severity.WARNING}


def test_a_helper_returning_the_backpropagated_loss_rescaled_is_a_warning() -> None:
    # a distributed GAN trainer: _backward() steps and returns the loss scaled back to the
    # whole batch, and the loop sums it for its log
    source = """\
import torch


class Trainer:
    def __init__(self, D, D_opt, world_size=None):
        self.D, self.D_opt, self.world_size = D, D_opt, world_size

    def _backward(self, loss, opt):
        opt.zero_grad()
        loss.backward()
        opt.step()
        return loss * (self.world_size or 1)

    def train(self, loader, log):
        for real, fake in loader:
            D_loss = 0
            for chunk_real, chunk_fake in zip(real.chunk(2), fake.chunk(2)):
                loss = self.D(chunk_fake).mean() - self.D(chunk_real).mean()
                D_loss += self._backward(loss, self.D_opt)
            log.append(D_loss)
"""
    # the log keeps each total: a value built from the loss, not the loss itself (info)
    assert _levels(source) == {19: Severity.WARNING, 20: Severity.INFO}
