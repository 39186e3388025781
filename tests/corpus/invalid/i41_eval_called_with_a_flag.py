"""Models ``model.eval(True)`` / ``model.eval(False)`` used as if ``eval`` took a mode flag.

Real pattern: public training scripts write ``model.eval(True)`` before a prediction and
``model.eval(False)`` afterwards, or ``model.eval(False)`` at the top of ``validate()`` (found by
a code search for ``model.eval(False)``); ``Module.eval()`` takes no argument, so each call
raises TypeError ("eval() takes 1 positional argument but 2 were given"). ``train(False)`` is
the flag form. TM103 at each attribute. Original code.
"""

import torch
import torch.nn as nn


class RecoveryNet(nn.Module):
    def __init__(self, in_dim: int = 64, out_dim: int = 8) -> None:
        super().__init__()
        self.body = nn.Sequential(nn.Linear(in_dim, 128), nn.ReLU(), nn.Dropout(0.2), nn.Linear(128, out_dim))

    def forward(self, x):
        return self.body(x)


def train_epoch(model, loader, optimizer, criterion):
    model.train()
    running = 0.0
    for inputs, targets in loader:
        optimizer.zero_grad()
        loss = criterion(model(inputs), targets)
        loss.backward()
        optimizer.step()
        running += loss.detach().item()
    return running / len(loader.dataset)


def predict(model, data):
    model.eval(True)  # expect: TM103
    with torch.no_grad():
        prediction = model(data)
    model.eval(False)  # expect: TM103
    return prediction


def main(loader, sample, epochs=30):
    model = RecoveryNet()
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    criterion = nn.MSELoss()
    for epoch in range(epochs):
        print(epoch, train_epoch(model, loader, optimizer, criterion))
        print(predict(model, sample))
