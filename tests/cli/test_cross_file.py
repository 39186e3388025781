"""The real engine through the CLI on projects of several files: a function imported from
another file of the project switches the modes of the models it is given."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

EVALUATE = """\
import torch


def evaluate(net, loader):
    net.eval()
    correct = 0
    with torch.no_grad():
        for x, y in loader:
            correct += (net(x).argmax(1) == y).sum().item()
    return correct
"""

EVALUATE_RESTORING = EVALUATE.replace(
    "    return correct\n", "    net.train()\n    return correct\n"
)

TRAIN = """\
import torch
import torch.nn as nn

from {module} import evaluate


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.body = nn.Sequential(nn.Linear(8, 16), nn.ReLU(), nn.Dropout(0.3), nn.Linear(16, 2))

    def forward(self, x):
        return self.body(x)


def main(train_loader, val_loader):
    net = Net()
    opt = torch.optim.SGD(net.parameters(), lr=0.1)
    for epoch in range(10):
        for x, y in train_loader:
            opt.zero_grad()
            nn.functional.cross_entropy(net(x), y).backward()
            opt.step()
        print(epoch, evaluate(net, val_loader))


if __name__ == "__main__":
    main([], [])
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


def _write(root: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)


def test_eval_in_an_imported_function_leaks_into_training(tmp_path):
    _write(tmp_path, {"evaluation.py": EVALUATE, "train.py": TRAIN.format(module="evaluation")})
    found = _check(tmp_path, ".")
    assert [(f["filename"], f["code"], f["subject"]) for f in found] == [
        (str(tmp_path / "train.py"), "TM101", "net")
    ]
    (finding,) = found
    assert "evaluate(net, val_loader)" in str(finding["message"])
    assert finding["location"]["row"] == 24  # type: ignore[index]
    # the loop whose next iteration trains in eval mode is named too
    assert [r["location"]["row"] for r in finding["related"]] == [22, 19]  # type: ignore[attr-defined]


def test_an_imported_function_that_restores_train_mode(tmp_path):
    _write(
        tmp_path,
        {"evaluation.py": EVALUATE_RESTORING, "train.py": TRAIN.format(module="evaluation")},
    )
    assert _check(tmp_path, ".") == []


@pytest.mark.parametrize(
    ("files", "module"),
    [
        ({"pkg/__init__.py": "", "pkg/evaluation.py": EVALUATE}, ".evaluation"),
        (
            {"pkg/__init__.py": "", "pkg/tools/__init__.py": "", "pkg/tools/ev.py": EVALUATE},
            "pkg.tools.ev",
        ),
    ],
    ids=["relative", "from-the-root"],
)
def test_imports_resolve_like_python(tmp_path, files, module):
    _write(tmp_path, {**files, "pkg/train.py": TRAIN.format(module=module)})
    found = _check(tmp_path, ".")
    assert [(Path(str(f["filename"])).name, f["code"]) for f in found] == [("train.py", "TM101")]


def test_a_file_checked_alone_still_reads_its_neighbours(tmp_path):
    _write(tmp_path, {"evaluation.py": EVALUATE, "train.py": TRAIN.format(module="evaluation")})
    assert [f["code"] for f in _check(tmp_path, "train.py")] == ["TM101"]


BASE = """\
import torch.nn as nn


class Distiller(nn.Module):
    def __init__(self, student, teacher):
        super().__init__()
        self.student = student
        self.teacher = teacher
"""

LAYERWISE = """\
import torch.nn as nn
import torch.nn.functional as F

from ._base import Distiller


class FeatureDistiller(Distiller):
    def __init__(self, student, teacher):
        super().__init__(student, teacher)
        self.head = nn.Linear(8, 8)

    def forward_train(self, feats, targets):
        loss_feat = 0
        for i in range(len(feats)):
            loss_feat += F.mse_loss(self.head(feats[i]), targets[i])
        return {"loss_feat": loss_feat}
"""


def test_a_model_class_whose_module_base_is_in_another_file(tmp_path):
    # the loss terms a model sums over its layers are its own business, once its base class
    # is known to be an nn.Module
    _write(tmp_path, {"kd/__init__.py": "", "kd/_base.py": BASE, "kd/layerwise.py": LAYERWISE})
    assert _check(tmp_path, ".") == []
    # the same loop in a class that is not a model: a running total of loss tensors
    (tmp_path / "kd" / "_base.py").write_text(BASE.replace("(nn.Module)", ""))
    assert [f["code"] for f in _check(tmp_path, ".")] == ["TM204"]


PARTS = """\
import torch.nn as nn


class double_conv(nn.Module):
    def __init__(self, c_in, c_out):
        super().__init__()
        self.conv = nn.Sequential(
            nn.Conv2d(c_in, c_out, 3, padding=1), {norm}, nn.ReLU(inplace=True)
        )

    def forward(self, x):
        return self.conv(x)
"""

UNET = """\
import torch.nn as nn

from .parts import *


class UNet(nn.Module):
    def __init__(self, channels, classes):
        super().__init__()
        self.down = double_conv(channels, 16)
        self.out = nn.Conv2d(16, classes, 1)

    def forward(self, x):
        return self.out(self.down(x))
"""

PREDICT = """\
import torch

from models import UNet


def predict(net, image):
    with torch.no_grad():
        return net(image.unsqueeze(0)).sigmoid()


if __name__ == "__main__":
    net = UNet(channels=3, classes=1)
    net.load_state_dict(torch.load("unet.pth"))
    print(predict(net, torch.rand(3, 64, 64)))
"""


@pytest.mark.parametrize(
    ("norm", "expected"), [("nn.BatchNorm2d(c_out)", ["TM102"]), ("nn.GroupNorm(4, c_out)", [])]
)
def test_a_model_of_the_project_built_from_blocks_of_other_files(tmp_path, norm, expected):
    # the class is re-exported by its package and built from a star-imported block: whether it
    # has BatchNorm is found in the files that define them
    _write(
        tmp_path,
        {
            "models/__init__.py": "from .unet import UNet\n",
            "models/parts.py": PARTS.replace("{norm}", norm),
            "models/unet.py": UNET,
            "predict.py": PREDICT,
        },
    )
    found = _check(tmp_path, ".")
    assert [f["code"] for f in found] == expected


GENERATOR = """\
import torch


class Generator(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.net = torch.nn.Sequential(torch.nn.Conv1d(1, 8, 3), torch.nn.BatchNorm1d(8))

    def forward(self, z):
        return self.net(z)
"""

DECODE = """\
import torch

from vocoder.models import Generator


def main(checkpoint, features):
    model = Generator()
    model.load_state_dict(torch.load(checkpoint))
    for c in features:
        with torch.no_grad():
            print(model(c))


if __name__ == "__main__":
    main("g.pth", [])
"""


def test_a_script_of_a_package_checked_alone_reads_the_package(tmp_path):
    # `torchmode check vocoder/bin/decode.py` from the project's top: the package's models are
    # re-exported by `import *` in its __init__.py
    _write(
        tmp_path,
        {
            "setup.py": "",
            "vocoder/__init__.py": "",
            "vocoder/models/__init__.py": "from vocoder.models.generator import *\n",
            "vocoder/models/generator.py": GENERATOR,
            "vocoder/bin/decode.py": DECODE,
        },
    )
    found = _check(tmp_path, "vocoder/bin/decode.py")
    assert [(f["code"], f["location"]["row"]) for f in found] == [("TM102", 11)]  # type: ignore[index]


WARM_UP = """\
import torch
import torch.nn.functional as F


def warm_up_head(backbone, head, loader):
    \"\"\"Fit a new head on the frozen backbone's features, the backbone in eval mode.\"\"\"
    backbone.eval()
    optimizer = torch.optim.SGD(head.parameters(), lr=0.01)
    for x, y in loader:
        loss = F.cross_entropy(head(backbone(x)), y)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
"""

FINE_TUNE = """\
import torch
import torch.nn as nn

from warm_up import warm_up_head

backbone = nn.Sequential(nn.Linear(8, 16), nn.BatchNorm1d(16), nn.ReLU())
head = nn.Linear(16, 2)
warm_up_head(backbone, head, [])
{restore}
optimizer = torch.optim.SGD([*backbone.parameters(), *head.parameters()], lr=0.001)
for x, y in []:
    loss = nn.functional.cross_entropy(head(backbone(x)), y)
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
"""


def test_a_helper_whose_step_trains_the_model_leaves_it_in_eval_mode(tmp_path):
    # the backbone's eval mode from the warm-up reaches the fine-tuning of the whole model
    _write(tmp_path, {"warm_up.py": WARM_UP, "fine_tune.py": FINE_TUNE.format(restore="")})
    assert [(f["code"], f["location"]["row"]) for f in _check(tmp_path, ".")] == [("TM101", 8)]
    fixed = FINE_TUNE.format(restore="backbone.train()")
    _write(tmp_path, {"fine_tune.py": fixed})
    assert _check(tmp_path, ".") == []


def test_a_helper_training_other_modules_is_not_training_the_model_it_evaluates(tmp_path):
    # the warm-up's own step updates the head only: it trains nothing of the backbone, whose
    # eval mode it sets on purpose (what trains it in eval mode is the fine-tuning above)
    only_warm_up = FINE_TUNE.format(restore="").split("optimizer = ")[0]
    _write(tmp_path, {"warm_up.py": WARM_UP, "fine_tune.py": only_warm_up})
    assert _check(tmp_path, ".") == []
