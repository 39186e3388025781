"""TM204 through the CLI on projects of several files: a loss handed to a method of a class of
another file (a running-average meter) that adds what it is given to its object's attributes."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

METER = """\
class RunningMean:
    def __init__(self):
        self.reset()

    def reset(self):
        self.last = 0
        self.total = 0
        self.seen = 0

    def add(self, value, count=1):
        self.last = value
        self.total += value * count
        self.seen += count

    def mean(self):
        return self.total / max(self.seen, 1)
"""

TRAIN = """\
import torch
import torch.nn.functional as F

from tools.meters import RunningMean


def fit(net, batches, opt):
    net.train()
    tracked = RunningMean()
    for images, labels in batches:
        opt.zero_grad()
        loss = F.cross_entropy(net(images), labels)
        loss.backward()
        opt.step()
        tracked.add({passed}, images.size(0))
    return tracked.mean()
"""


def _check(root: Path) -> list[dict[str, object]]:
    proc = subprocess.run(
        [sys.executable, "-m", "torchmode", "check", "--format", "json", "train.py"],
        cwd=root,
        capture_output=True,
        text=True,
    )
    assert proc.returncode in (0, 1), proc.stderr
    return json.loads(proc.stdout)  # type: ignore[no-any-return]


def _project(root: Path, meter: str, passed: str) -> None:
    (root / "tools").mkdir(exist_ok=True)
    (root / "tools" / "__init__.py").write_text("")
    (root / "tools" / "meters.py").write_text(meter)
    (root / "train.py").write_text(TRAIN.format(passed=passed))


def test_a_loss_tensor_given_to_a_meter_of_another_file_is_reported_at_the_argument(tmp_path):
    _project(tmp_path, METER, "loss")
    found = [f for f in _check(tmp_path) if f["code"] == "TM204"]
    assert len(found) == 1
    finding = found[0]
    assert finding["severity"] == "warning"
    assert finding["location"] == {"row": 15, "column": 21}
    assert "RunningMean.add()" in str(finding["message"])
    assert "meters.py:12" in str(finding["message"])
    fix = finding["fix"]
    assert isinstance(fix, dict)
    assert [e["content"] for e in fix["edits"]] == [".detach()"]


def test_a_plain_number_or_a_meter_that_detaches_is_not_reported(tmp_path):
    _project(tmp_path, METER, "loss.item()")
    assert not [f for f in _check(tmp_path) if f["code"] == "TM204"]
    detaching = METER.replace("self.total += value * count", "self.total += value.detach() * count")
    _project(tmp_path, detaching, "loss")
    assert not [f for f in _check(tmp_path) if f["code"] == "TM204"]
