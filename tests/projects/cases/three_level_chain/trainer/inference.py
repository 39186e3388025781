"""Running a model over a loader and collecting its outputs."""

import torch


def predict(model, loader, device):
    outputs, targets = [], []
    for features, target in loader:
        outputs.append(model(features.to(device)).cpu())
        targets.append(target)
    return torch.cat(outputs), torch.cat(targets)
