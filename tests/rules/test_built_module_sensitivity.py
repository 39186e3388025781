"""TM102 on a module built inside the evaluating function: how serious it is depends on the
class built there, not on what the same name holds in the rest of the file (a GNN example
whose test() rebinds ``model`` to a numpy-only inference module, while main() builds a
network with dropout under the same name)."""

from __future__ import annotations

from torchmode.analysis import analyze
from torchmode.findings import Severity
from torchmode.settings import Settings

EVERYTHING = Settings(min_severity=Severity.HINT)

SOURCE = """\
import numpy as np
import torch
import torch.nn.functional as F


class GraphNet(torch.nn.Module):
    def __init__(self, dim, hidden, p):
        super().__init__()
        self.inp = torch.nn.Linear(dim, hidden)
        self.out = torch.nn.Linear(hidden, 1)
        self.p = p

    def forward(self, x, adj):
        h = F.relu(adj @ self.inp(x))
        h = F.dropout(h, p=self.p, training=self.training)
        return self.out(adj @ h)


class NumpyPropagation(torch.nn.Module):
    def __init__(self, weights):
        super().__init__()
        self.weights = weights

    def forward(self, x, adj):
        for w, b in self.weights:
            x = np.maximum(adj @ x @ w + b, 0)
        return x


class LinearHead(torch.nn.Module):
    def __init__(self, dim):
        super().__init__()
        self.proj = torch.nn.Linear(dim, 1)

    def forward(self, x, adj):
        return self.proj(adj @ x)


@torch.no_grad()
def test(model, data):
    weights = [(m.weight.t().numpy(), m.bias.numpy()) for m in (model.inp, model.out)]
    model = {built}
    scores = model(data["x"], data["adj"])
    return float(np.mean(scores))


def main(data, epochs):
    model = GraphNet(16, 32, 0.5)
    optimizer = torch.optim.Adam(model.parameters())
    for epoch in range(epochs):
        model.train()
        optimizer.zero_grad()
        loss = model(data["x"], data["adj"]).mean()
        loss.backward()
        optimizer.step()
        print(test(model, data))
"""


def _tm102(built: str) -> list[tuple[int, Severity]]:
    found = analyze(SOURCE.format(built=built), EVERYTHING).findings
    return [(f.range.start.line + 1, f.severity) for f in found if f.code == "TM102"]


def test_a_module_of_unknown_sensitivity_built_here_is_no_warning() -> None:
    # the numpy-only module has no layers to judge: not a warning, whatever ``model`` is in main()
    assert _tm102("NumpyPropagation(weights)") == [(43, Severity.INFO)]


def test_a_module_without_mode_dependent_layers_built_here_is_a_hint() -> None:
    assert _tm102("LinearHead(16)") == [(43, Severity.HINT)]


def test_a_module_with_dropout_built_here_is_a_warning() -> None:
    assert _tm102("GraphNet(16, 32, 0.5)") == [(43, Severity.WARNING)]


def test_a_sequential_built_here_is_judged_by_its_layers() -> None:
    # a survival-analysis notebook's MLP: nn.Sequential with BatchNorm and Dropout
    built = (
        "torch.nn.Sequential(torch.nn.BatchNorm1d(16), torch.nn.Linear(16, 1), torch.nn.Dropout())"
    )
    assert _tm102(built) == [(43, Severity.WARNING)]
