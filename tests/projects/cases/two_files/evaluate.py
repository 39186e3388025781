"""Validation for train.py: loss and accuracy over a loader."""

import torch.nn.functional as F


def validate(model, loader, device="cuda"):
    model.eval()
    loss_sum, correct, seen = 0.0, 0, 0
    for data, target in loader:
        data, target = data.to(device), target.to(device)
        output = model(data)
        loss_sum += F.nll_loss(output, target, reduction="sum").item()
        correct += output.argmax(dim=1).eq(target).sum().item()
        seen += len(data)
    return loss_sum / seen, correct / seen
