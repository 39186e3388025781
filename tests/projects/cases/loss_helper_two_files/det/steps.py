"""The detector's forward pass with its two loss terms, for training and validation."""

import torch
import torch.nn.functional as F


def detection_losses(model, images, targets):
    class_logits, boxes = model(images)
    class_loss = F.cross_entropy(class_logits, targets["labels"])
    box_loss = F.smooth_l1_loss(boxes, targets["boxes"])
    return class_loss, box_loss


@torch.no_grad()
def validate(model, loader):
    model.eval()
    total = 0.0
    for images, targets in loader:
        class_loss, box_loss = detection_losses(model, images, targets)
        total += (class_loss + box_loss).item()
    model.train()
    return total / len(loader)
