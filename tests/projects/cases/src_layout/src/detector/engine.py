"""Training and validation epochs for the keypoint detector."""

import torch.nn.functional as F

from .metrics import pck


def train_one_epoch(model, loader, optimizer, scaler, device):
    model.train()
    for images, heatmaps in loader:
        images, heatmaps = images.to(device), heatmaps.to(device)
        with scaler.autocast():
            loss = F.mse_loss(model(images), heatmaps)
        optimizer.zero_grad()
        scaler.scale(loss).backward()
        scaler.step(optimizer)
        scaler.update()


def validate(model, loader, device):
    model.eval()
    scores = []
    for images, heatmaps in loader:
        predicted = model(images.to(device))
        scores.append(pck(predicted.cpu(), heatmaps))
    return sum(scores) / len(scores)
