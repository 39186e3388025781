"""Models per-term loss logging that adds the raw loss tensors of a ``loss_dict`` every step.

Real bug: MultimediaTechLab/YOLO PR #83 ("Fixes memory leak": ``total_loss[loss_name] +=
loss_val`` became ``+= loss_val.item() * batch_size``) and samuelyu2002/ImVisible issue #2.
The backward sum is fine; the running totals keep every step's graph. Reported at the
accumulation. Original code.
"""

from collections import defaultdict

import torch


def weighted_sum(loss_dict, weights):
    return sum(weights[name] * value for name, value in loss_dict.items())


def train_one_epoch(model, criterion, loader, optimizer, weights, epoch):
    model.train()
    total_loss = defaultdict(float)
    for images, targets in loader:
        predictions = model(images)
        loss_dict = criterion(predictions, targets)
        loss = weighted_sum(loss_dict, weights)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        for loss_name, loss_val in loss_dict.items():
            total_loss[loss_name] += loss_val * images.size(0)  # expect: TM204
    summary = {name: float(value) / len(loader.dataset) for name, value in total_loss.items()}
    print(f"epoch {epoch}: " + ", ".join(f"{k} {v:.4f}" for k, v in summary.items()))
    return summary


def main(model, criterion, train_loader, val_loader, epochs=100):
    weights = {"box": 7.5, "cls": 0.5, "dfl": 1.5}
    optimizer = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.937, nesterov=True)
    for epoch in range(epochs):
        train_one_epoch(model, criterion, train_loader, optimizer, weights, epoch)
        model.eval()
        with torch.no_grad():
            val_losses = defaultdict(float)
            for images, targets in val_loader:
                for name, value in criterion(model(images), targets).items():
                    val_losses[name] += value.item()
        print(f"epoch {epoch} val: {dict(val_losses)}")
