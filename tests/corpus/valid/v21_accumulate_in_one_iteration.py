"""Models losses built up *within* one iteration: regularisers, auxiliary terms, per-head sums.

Pattern from sgrvinod/a-PyTorch-Tutorial-to-Image-Captioning train.py (``loss += alpha_c *
...`` attention regulariser), hszhao/semseg tool/train.py (main + aux loss) and multi-task
heads summed in a loop; the sum is backpropagated in the same iteration. Original code.
"""

import torch
import torch.nn as nn


class MultiTaskNet(nn.Module):
    def __init__(self, tasks=("depth", "normals", "segmentation")) -> None:
        super().__init__()
        self.trunk = nn.Sequential(nn.Conv2d(3, 64, 3, padding=1), nn.BatchNorm2d(64), nn.ReLU())
        self.heads = nn.ModuleDict({name: nn.Conv2d(64, 1, 1) for name in tasks})

    def forward(self, x):
        shared = self.trunk(x)
        return {name: head(shared) for name, head in self.heads.items()}


def train(model, loader, epochs=30, weight_decay=1e-4, aux_weight=0.4, device="cuda"):
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    criterion = nn.L1Loss()
    for epoch in range(epochs):
        model.train()
        running = 0.0
        for images, targets in loader:
            images = images.to(device)
            outputs = model(images)
            loss = torch.zeros((), device=device)
            for name, prediction in outputs.items():
                loss += criterion(prediction, targets[name].to(device))
            loss = loss + aux_weight * outputs["depth"].abs().mean()
            for param in model.heads.parameters():
                loss += weight_decay * param.pow(2).sum()
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            running += loss.item()
        print(f"epoch {epoch}: {running / len(loader):.4f}")


def validate(model, loader, device="cuda"):
    model.eval()
    criterion = nn.L1Loss()
    totals = {}
    with torch.no_grad():
        for images, targets in loader:
            outputs = model(images.to(device))
            for name, prediction in outputs.items():
                error = criterion(prediction, targets[name].to(device))
                totals[name] = totals.get(name, 0.0) + error
    return {name: (value / len(loader)).item() for name, value in totals.items()}
