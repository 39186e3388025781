"""Models ``model.eval`` written without parentheses in a validation function (a no-op).

Real pattern: a recurring forum/StackOverflow question ("model.eval vs model.eval()") and
linters' "statement has no effect" reports in training scripts. The attribute access does
nothing, so validation also runs in train mode: TM103 at the attribute, TM102 at the first
forward pass. Original code.
"""

import torch
import torch.nn as nn


class Regressor(nn.Module):
    def __init__(self, features: int = 13) -> None:
        super().__init__()
        self.net = nn.Sequential(
            nn.Linear(features, 64), nn.BatchNorm1d(64), nn.ReLU(), nn.Dropout(0.25), nn.Linear(64, 1)
        )

    def forward(self, x):
        return self.net(x).squeeze(-1)


def train_one_epoch(model, loader, optimizer, loss_fn):
    model.train()
    for x, y in loader:
        optimizer.zero_grad()
        loss = loss_fn(model(x), y)
        loss.backward()
        optimizer.step()


def validate(model, loader, loss_fn):
    model.eval  # expect: TM103
    total = 0.0
    with torch.no_grad():
        for x, y in loader:
            prediction = model(x)  # expect: TM102
            total += loss_fn(prediction, y).item() * x.size(0)
    return total / len(loader.dataset)


def main(train_loader, val_loader, epochs=100):
    model = Regressor()
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    loss_fn = nn.MSELoss()
    for epoch in range(epochs):
        train_one_epoch(model, train_loader, optimizer, loss_fn)
        print(epoch, validate(model, val_loader, loss_fn))
