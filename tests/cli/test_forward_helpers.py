"""A helper of another file that runs the model it is given once, as given: each call is a
forward pass in the caller's mode and grad mode (engine/forward_helpers.py)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

# only called: nothing in this file says that `model` is a module
STEPS = """\
import torch.nn.functional as F


def run_batch(model, batch, device):
    x, y = batch
    logits = model(x.to(device))
    return logits, F.cross_entropy(logits, y.to(device))
"""

TRAIN = """\
import torch
import torch.nn as nn

from steps import run_batch


class Tagger(nn.Module):
    def __init__(self):
        super().__init__()
        self.body = nn.Sequential(nn.Linear(32, 64), nn.ReLU(), nn.Dropout(0.3), nn.Linear(64, 5))

    def forward(self, x):
        return self.body(x)


def validate(model, loader, device):
{switch}    total = 0.0
    with torch.no_grad():
        for batch in loader:
            _, loss = run_batch(model, batch, device)
            total += loss.item()
    return total / len(loader)


def main(train_loader, val_loader, device="cpu"):
    model = Tagger()
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    for epoch in range(5):
        model.train()
        for batch in train_loader:
            optimizer.zero_grad()
            _, loss = run_batch(model, batch, device)
            loss.backward()
            optimizer.step()
        print(epoch, validate(model, val_loader, device))
"""


def _check(root: Path, *paths: str) -> list[dict[str, object]]:
    proc = subprocess.run(
        [sys.executable, "-m", "torchmode", "check", "--format", "json", *paths],
        cwd=root,
        capture_output=True,
        text=True,
    )
    assert proc.returncode in (0, 1), proc.stderr
    return json.loads(proc.stdout)  # type: ignore[no-any-return]


def _project(root: Path, steps: str, train: str) -> None:
    (root / "steps.py").write_text(steps)
    (root / "train.py").write_text(train)


def _rows(found: list[dict[str, object]], code: str) -> list[int]:
    return [f["location"]["row"] for f in found if f["code"] == code]  # type: ignore[index]


def test_validation_through_a_helper_of_another_file_in_train_mode(tmp_path: Path) -> None:
    _project(tmp_path, STEPS, TRAIN.format(switch=""))
    found = _check(tmp_path, "train.py", "steps.py")
    assert _rows(found, "TM102") == [20]  # the helper's call in validate(), not in training
    assert all(f["filename"].endswith("train.py") for f in found)  # type: ignore[union-attr]


def test_validation_through_the_helper_after_eval_is_silent(tmp_path: Path) -> None:
    _project(tmp_path, STEPS, TRAIN.format(switch="    model.eval()\n"))
    assert _check(tmp_path, "train.py", "steps.py") == []


def test_a_helper_that_switches_or_loops_itself_is_not_a_forward_at_the_call(
    tmp_path: Path,
) -> None:
    # eval() inside the helper: its forward runs in eval mode whatever the caller's mode
    _project(
        tmp_path,
        STEPS.replace("    x, y = batch\n", "    model.eval()\n    x, y = batch\n"),
        TRAIN.format(switch=""),
    )
    assert _rows(_check(tmp_path, "train.py"), "TM102") == []


def test_a_callable_that_is_not_a_module_is_no_forward(tmp_path: Path) -> None:
    # the same helper given a plain function: nothing in the caller says it is a module
    train = """\
import torch

from steps import run_batch


def score(loader):
    with torch.no_grad():
        return [run_batch(lambda x: x.mean(1), batch, "cpu")[1].item() for batch in loader]
"""
    _project(tmp_path, STEPS, train)
    assert _check(tmp_path, "train.py") == []
