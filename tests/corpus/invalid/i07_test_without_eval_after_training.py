"""Models an evaluation function that never calls ``model.eval()``, run right after training.

Real bug reports: rsommerfeld/trocr issue #9 ("you don't use model.eval() when you call the
validate() function") and wolny/pytorch-3dunet issue #53. train_epoch() ends in train mode, so
Dropout/BatchNorm behave as in training during validation. Reported at the first forward call
of the evaluation. Original code.
"""

import torch
import torch.nn as nn


class UNetLite(nn.Module):
    def __init__(self, channels: int = 1, classes: int = 2) -> None:
        super().__init__()
        self.enc = nn.Sequential(nn.Conv3d(channels, 16, 3, padding=1), nn.BatchNorm3d(16), nn.ReLU())
        self.drop = nn.Dropout3d(0.2)
        self.dec = nn.Conv3d(16, classes, 1)

    def forward(self, x):
        return self.dec(self.drop(self.enc(x)))


def train_epoch(model, loader, optimizer, criterion):
    model.train()
    for volume, mask in loader:
        optimizer.zero_grad()
        loss = criterion(model(volume), mask)
        loss.backward()
        optimizer.step()


def validate(model, loader, criterion):
    losses = []
    with torch.no_grad():
        for volume, mask in loader:
            output = model(volume)  # expect: TM102
            losses.append(criterion(output, mask).item())
    return sum(losses) / len(losses)


def fit(train_loader, val_loader, epochs=50):
    model = UNetLite()
    optimizer = torch.optim.Adam(model.parameters(), lr=2e-4)
    criterion = nn.CrossEntropyLoss()
    for epoch in range(epochs):
        train_epoch(model, train_loader, optimizer, criterion)
        val_loss = validate(model, val_loader, criterion)
        print(f"epoch {epoch}: val {val_loss:.4f}")
    return model
