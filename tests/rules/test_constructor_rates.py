"""A project class whose Dropout rate is a constructor parameter (``nn.Dropout(p_drop)``): an
instance built with a literal rate of 0 has no mode-dependent layer, so evaluating it in train
mode changes nothing (a hint); any other or unknown rate keeps the warning."""

from __future__ import annotations

from torchmode.analysis import analyze
from torchmode.findings import Severity
from torchmode.settings import Settings

EVERYTHING = Settings(min_severity=Severity.HINT)

SOURCE = """\
import torch
from torch import nn


class Block(nn.Module):
    def __init__(self, width, p_drop{default}, norm=False):
        super().__init__()
        self.proj = nn.Linear(width, width)
        self.drop = nn.Dropout(p=p_drop)
        self.norm = nn.LayerNorm(width) if norm else nn.Identity()

    def forward(self, x):
        return self.norm(x + self.drop(self.proj(x)))


block = {built}
with torch.no_grad():
    print(block(torch.randn(4, 8)))
"""


def _tm102(built: str, default: str = "") -> list[tuple[int, Severity]]:
    found = analyze(SOURCE.format(built=built, default=default), EVERYTHING).findings
    return [(f.range.start.line + 1, f.severity) for f in found if f.code == "TM102"]


def test_a_rate_of_zero_given_positionally_is_a_hint() -> None:
    assert _tm102("Block(8, 0.0)") == [(18, Severity.HINT)]


def test_a_rate_of_zero_given_by_keyword_is_a_hint() -> None:
    assert _tm102("Block(8, norm=True, p_drop=0)") == [(18, Severity.HINT)]


def test_a_default_rate_of_zero_is_a_hint() -> None:
    assert _tm102("Block(8)", default="=0.0") == [(18, Severity.HINT)]


def test_a_positive_rate_is_a_warning() -> None:
    assert _tm102("Block(8, 0.1)") == [(18, Severity.WARNING)]


def test_a_positive_default_rate_is_a_warning() -> None:
    assert _tm102("Block(8)", default="=0.1") == [(18, Severity.WARNING)]


def test_a_rate_from_a_variable_is_a_warning() -> None:
    assert _tm102("Block(8, rate)") == [(18, Severity.WARNING)]


def test_a_rate_given_through_unpacked_arguments_is_a_warning() -> None:
    assert _tm102("Block(*settings)") == [(18, Severity.WARNING)]


EVAL_LEFT_ON = """\
import torch
import torch.nn.functional as F
from torch import nn


class Regressor(nn.Module):
    def __init__(self, width, p_drop):
        super().__init__()
        self.proj = nn.Linear(width, width)
        self.drop = nn.Dropout(p_drop)

    def forward(self, x):
        return self.drop(self.proj(x))


def evaluate(model, batches):
    model.eval()
    with torch.no_grad():
        return sum(F.mse_loss(model(x), y).item() for x, y in batches)


net = Regressor(8, {rate})
opt = torch.optim.SGD(net.parameters(), lr=0.1)
for epoch in range(3):
    for x, y in train_batches:
        opt.zero_grad()
        F.mse_loss(net(x), y).backward()
        opt.step()
    print(evaluate(net, val_batches))
"""


def _tm101(rate: str) -> list[tuple[int, Severity]]:
    found = analyze(EVAL_LEFT_ON.format(rate=rate), EVERYTHING).findings
    return [(f.range.start.line + 1, f.severity) for f in found if f.code == "TM101"]


def test_eval_left_on_for_a_model_built_without_dropout_is_a_hint() -> None:
    assert _tm101("0.0") == [(29, Severity.HINT)]


def test_eval_left_on_for_a_model_built_with_dropout_is_a_warning() -> None:
    assert _tm101("0.3") == [(29, Severity.WARNING)]


def test_a_rate_reassigned_in_the_constructor_is_not_the_callers() -> None:
    source = SOURCE.replace(
        "        super().__init__()\n",
        "        super().__init__()\n        p_drop = p_drop or 0.1\n",
    )
    found = analyze(source.format(built="Block(8, 0.0)", default=""), EVERYTHING).findings
    assert [(f.range.start.line + 1, f.severity) for f in found if f.code == "TM102"] == [
        (19, Severity.WARNING)
    ]
