"""Validation metrics."""

import torch.nn.functional as F

from trainer.inference import predict


def evaluate(model, loader, device):
    model.eval()
    preds, targets = predict(model, loader, device)
    return {
        "mse": F.mse_loss(preds, targets).item(),
        "mae": F.l1_loss(preds, targets).item(),
    }
