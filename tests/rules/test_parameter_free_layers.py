"""A name only ever given a torch.nn layer without parameters records no graph and trains
nothing; one that is also given a layer with parameters is a model like any other."""

from __future__ import annotations

from torchmode.analysis import analyze
from torchmode.findings import Severity
from torchmode.settings import Settings

EVERYTHING = Settings(min_severity=Severity.HINT)

SOURCE = """\
import torch
from torch import nn

head = {first}
if use_linear_head:
    head = {second}
head.eval()
scores = []
for x in val_loader:
    scores.append(head(x).sum().item())
"""


def _tm201(source: str) -> list[int]:
    found = analyze(source, EVERYTHING).findings
    return [f.range.start.line + 1 for f in found if f.code == "TM201"]


def test_a_layer_without_parameters_is_not_reported() -> None:
    source = SOURCE.format(
        first="nn.Identity()", second="nn.LayerNorm(8, elementwise_affine=False)"
    )
    assert _tm201(source) == []


def test_a_name_also_given_parameters_is_reported() -> None:
    source = SOURCE.format(first="nn.Identity()", second="nn.Linear(8, 1)")
    assert _tm201(source) == [10]


def test_an_affine_switch_that_is_not_a_literal_may_be_on() -> None:
    source = SOURCE.format(first="nn.BatchNorm1d(8, affine=args.affine)", second="nn.Identity()")
    assert _tm201(source) == [10]
