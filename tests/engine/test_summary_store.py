"""Every kind of value a file's summary holds survives the disk cache's JSON unchanged, and
nothing but the summary's own classes is built from it."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest
from torchmode.engine.project import _STORED, ProjectContext, files_changed
from torchmode.engine.summary_store import decode, encode

HELPERS = textwrap.dedent(
    """\
    import contextlib

    import torch
    import torch.nn as nn


    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.drop = nn.Dropout(0.5)

        def forward(self, x):
            return self.drop(x)


    class AverageMeter:
        def __init__(self):
            self.sum = 0

        def update(self, value, n=1):
            self.sum += value * n


    def validate(model, loader):
        model.eval()
        with torch.no_grad():
            for x in loader:
                model(x)


    def train_epoch(model, loader, opt):
        model.train()
        for x in loader:
            opt.zero_grad()
            model(x).sum().backward()
            opt.step()


    def quiet(fn):
        @torch.no_grad()
        def wrapper(*args, **kwargs):
            return fn(*args, **kwargs)

        return wrapper


    @contextlib.contextmanager
    def evaluating(model):
        was = model.training
        model.eval()
        with torch.no_grad():
            yield
        model.train(was)
    """
)

CALLER = textwrap.dedent(
    """\
    import torch

    from helpers import Net, train_epoch, validate


    def main(loader):
        model = Net()
        opt = torch.optim.SGD(model.parameters(), lr=0.1)
        for epoch in range(3):
            train_epoch(model, loader, opt)
            validate(model, loader)


    if __name__ == "__main__":
        main([])
    """
)


def test_a_summary_survives_the_round_trip(tmp_path: Path) -> None:
    (tmp_path / "helpers.py").write_text(HELPERS)
    (tmp_path / "train.py").write_text(CALLER)
    files_changed([str(tmp_path / "helpers.py"), str(tmp_path / "train.py")])
    project = ProjectContext(str(tmp_path), str(tmp_path / "other.py"))
    summaries = project.summaries([str(tmp_path / "helpers.py"), str(tmp_path / "train.py")])
    helpers, train = summaries
    # what this test is about: each kind of value is there to be written and read back
    assert helpers.functions and helpers.module_classes and helpers.accumulators
    assert any(f.inside is not None for f in helpers.functions.values())
    assert train.calls
    for summary in summaries:
        assert decode(encode(summary), _STORED) == summary


def test_only_the_summary_classes_are_built() -> None:
    with pytest.raises(KeyError):
        decode({"class": "Path", "fields": {}}, _STORED)
    with pytest.raises(ValueError):
        decode({"eval": "print(1)", "x": 1, "y": 2}, _STORED)
