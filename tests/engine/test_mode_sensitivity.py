"""Whether a project's own model class behaves differently in train and eval mode, from what
its methods build and read (the layer table itself is proven against PyTorch in tests/truth)."""

from __future__ import annotations

import pytest
from torchmode.analysis import analyze

HEADER = "import torch\nimport torch.nn as nn\nimport torch.nn.functional as F\n"
INIT = "    def __init__(self):\n        super().__init__()\n"
LINEAR = INIT + "        self.fc = nn.Linear(4, 4)\n"


def _sensitivity(body: str) -> bool | None:
    source = f"{HEADER}\n\nclass Net(nn.Module):\n{body}\n\nnet = Net()\nnet.eval()\n"
    analysis = analyze(source)
    assert analysis.context is not None
    return analysis.context.facts.mode_sensitivity("net")


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (
            INIT + "        self.conv = nn.utils.spectral_norm(nn.Conv2d(3, 8, 3))\n",
            True,
        ),
        (
            INIT
            + "        self.fc = torch.nn.utils.parametrizations.spectral_norm(nn.Linear(4, 4))\n",
            True,
        ),
        (
            LINEAR + "    def forward(self, x):\n"
            "        return self.fc(F.dropout(x, 0.1, training=self.training))\n",
            True,
        ),
        (
            LINEAR + "    def forward(self, x):\n        if self.training and self.noise > 0:\n"
            "            x = x + torch.randn_like(x)\n        return self.fc(x)\n",
            True,
        ),
        (
            INIT + "        self.layers = nn.ModuleList([nn.Conv2d(1, 8, 3), nn.SiLU()])\n"
            "        self.up = nn.Upsample(scale_factor=2)\n",
            False,
        ),
        (LINEAR, False),
        (
            LINEAR + "        self._init_weights()\n\n    def _init_weights(self):\n"
            "        nn.init.orthogonal_(self.fc.weight, nn.init.calculate_gain('relu'))\n"
            "        nn.init.zeros_(self.fc.bias)\n\n    def forward(self, x):\n"
            "        return F.relu(self.fc(x))\n",
            False,
        ),
    ],
    ids=[
        "spectral-norm",
        "parametrizations-spectral-norm",
        "dropout-with-training-flag",
        "branch-on-training",
        "container-of-insensitive-layers",
        "linear-only",
        "weight-init-and-functional-calls-build-no-layer",
    ],
)
def test_project_class_sensitivity(body: str, expected: bool) -> None:
    assert _sensitivity(body) is expected
