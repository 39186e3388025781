"""Models a per-epoch validation after ``model.train(False)`` with autograd on and a tensor running sum.

Real pattern: pytorch/tutorials beginner_source/introyt/trainingyt.py ("Training with PyTorch")
in a version whose validation loop ran ``voutputs = model(vinputs)`` without ``torch.no_grad()``
and summed ``running_vloss += vloss`` (later wrapped in no_grad). TM201 at the forward call,
TM204 at the running sum. ``train(True)``/``train(False)`` themselves are correct. Original code.
"""

from datetime import datetime

import torch
import torch.nn as nn


class GarmentClassifier(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(1, 6, 5)
        self.pool = nn.MaxPool2d(2, 2)
        self.conv2 = nn.Conv2d(6, 16, 5)
        self.fc1 = nn.Linear(16 * 4 * 4, 120)
        self.fc2 = nn.Linear(120, 10)

    def forward(self, x):
        x = self.pool(torch.relu(self.conv1(x)))
        x = self.pool(torch.relu(self.conv2(x)))
        return self.fc2(torch.relu(self.fc1(x.view(-1, 16 * 4 * 4))))


def train_one_epoch(model, loader, optimizer, loss_fn):
    running_loss, last_loss = 0.0, 0.0
    for i, (inputs, labels) in enumerate(loader):
        optimizer.zero_grad()
        loss = loss_fn(model(inputs), labels)
        loss.backward()
        optimizer.step()
        running_loss += loss.item()
        if i % 1000 == 999:
            last_loss, running_loss = running_loss / 1000, 0.0
    return last_loss


def main(training_loader, validation_loader, epochs=5):
    model = GarmentClassifier()
    loss_fn = nn.CrossEntropyLoss()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.001, momentum=0.9)
    timestamp = datetime.now().strftime("%Y%m%d_%H%M%S")
    best_vloss = 1_000_000.0
    for epoch in range(epochs):
        model.train(True)
        avg_loss = train_one_epoch(model, training_loader, optimizer, loss_fn)
        model.train(False)
        running_vloss = 0.0
        for i, (vinputs, vlabels) in enumerate(validation_loader):
            voutputs = model(vinputs)  # expect: TM201
            vloss = loss_fn(voutputs, vlabels)
            running_vloss += vloss  # expect: TM204
        avg_vloss = running_vloss / (i + 1)
        print(f"LOSS train {avg_loss} valid {avg_vloss}")
        if avg_vloss < best_vloss:
            best_vloss = avg_vloss
            torch.save(model.state_dict(), f"model_{timestamp}_{epoch}")
