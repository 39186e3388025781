"""Models a loss helper decorated with ``@torch.inference_mode()`` whose result is backpropagated.

Real pattern: a helper first written for evaluation (decorated to run fast) is reused by the
training loop; ``loss.backward()`` then fails with "element 0 of tensors does not require grad"
(inference tensors never carry a graph). Reported at ``backward()``. Original code.
"""

import torch
import torch.nn as nn
import torch.nn.functional as F


class Segmenter(nn.Module):
    def __init__(self, classes: int = 21) -> None:
        super().__init__()
        self.body = nn.Sequential(nn.Conv2d(3, 64, 3, padding=1), nn.BatchNorm2d(64), nn.ReLU())
        self.classifier = nn.Conv2d(64, classes, 1)

    def forward(self, x):
        return self.classifier(self.body(x))


@torch.inference_mode()
def compute_loss(model, images, masks):
    logits = model(images)
    return F.cross_entropy(logits, masks, ignore_index=255)


def evaluate(model, loader):
    model.eval()
    losses = [compute_loss(model, images, masks).item() for images, masks in loader]
    return sum(losses) / len(losses)


def train(model, train_loader, val_loader, epochs=30):
    optimizer = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9, weight_decay=1e-4)
    for epoch in range(epochs):
        model.train()
        for images, masks in train_loader:
            loss = compute_loss(model, images, masks)
            optimizer.zero_grad()
            loss.backward()  # expect: TM202
            optimizer.step()
        print(f"epoch {epoch}: val loss {evaluate(model, val_loader):.4f}")
