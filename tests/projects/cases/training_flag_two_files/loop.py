"""One function for both phases: ``training`` says whether the weights are updated."""

import torch
import torch.nn.functional as F


def dice(logits, masks, eps=1e-6):
    probs = torch.sigmoid(logits)
    inter = (probs * masks).sum(dim=(1, 2, 3))
    return ((2 * inter + eps) / (probs.sum(dim=(1, 2, 3)) + masks.sum(dim=(1, 2, 3)) + eps)).mean()


def run_epoch(model, loader, optimizer, device, training=False):
    if training:
        model.train()
    else:
        model.eval()
    total_loss = total_dice = 0.0
    for images, masks in loader:
        images, masks = images.to(device), masks.to(device)
        logits = model(images)
        loss = F.binary_cross_entropy_with_logits(logits, masks)
        if training:
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
        total_loss += loss.item()
        total_dice += dice(logits, masks).item()
    return total_loss / len(loader), total_dice / len(loader)
