"""Models a per-epoch validation after ``model.train(False)`` with autograd on and a tensor running sum.

Real pattern: pytorch/tutorials beginner_source/introyt/trainingyt.py ("Training with PyTorch")
in a version whose validation loop ran ``voutputs = model(vinputs)`` without ``torch.no_grad()``
and summed ``running_vloss += vloss`` (later wrapped in no_grad). TM201 at the forward call,
TM204 at the running sum. ``train(True)``/``train(False)`` themselves are correct. Original code.
"""

from datetime import datetime

import torch
import torch.nn as nn


class ApparelNet(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(1, 8, 5), nn.ReLU(), nn.MaxPool2d(2), nn.Conv2d(8, 16, 5), nn.ReLU(), nn.MaxPool2d(2)
        )
        self.classifier = nn.Sequential(nn.Flatten(), nn.Linear(16 * 4 * 4, 96), nn.ReLU(), nn.Linear(96, 10))

    def forward(self, images):
        return self.classifier(self.features(images))


def one_epoch(model, loader, optimizer, loss_fn, report_every=1000):
    running, last = 0.0, 0.0
    for i, (images, labels) in enumerate(loader, start=1):
        optimizer.zero_grad()
        loss = loss_fn(model(images), labels)
        loss.backward()
        optimizer.step()
        running += loss.item()
        if i % report_every == 0:
            last, running = running / report_every, 0.0
    return last


def main(train_loader, val_loader, epochs=5):
    model = ApparelNet()
    loss_fn = nn.CrossEntropyLoss()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.001, momentum=0.9)
    stamp = datetime.now().strftime("%Y%m%d_%H%M%S")
    best = float("inf")
    for epoch in range(epochs):
        model.train(True)
        train_loss = one_epoch(model, train_loader, optimizer, loss_fn)
        model.train(False)
        val_total = 0.0
        for batches, (images, labels) in enumerate(val_loader, start=1):
            outputs = model(images)  # expect: TM201
            batch_loss = loss_fn(outputs, labels)
            val_total += batch_loss  # expect: TM204
        val_loss = val_total / batches
        print(f"epoch {epoch}: train {train_loss:.4f} valid {float(val_loss):.4f}")
        if val_loss < best:
            best = val_loss
            torch.save(model.state_dict(), f"apparel_{stamp}_{epoch}.pt")
