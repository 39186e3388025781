"""Models a training function that never clears gradients.

Real bug: yastrebksv/TennisCourtDetector base_trainer.py (issue #7 "Why there is no
optimizer.zero_grad()", fixed afterwards) and snakers4/silero-vad PR #699: gradients from all
previous batches keep adding up. Reported at ``optimizer.step()``. Original code.
"""

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F


class HeatmapNet(nn.Module):
    def __init__(self, keypoints: int = 15) -> None:
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(3, 64, 3, padding=1), nn.BatchNorm2d(64), nn.ReLU(),
            nn.Conv2d(64, 64, 3, padding=1), nn.BatchNorm2d(64), nn.ReLU(),
        )
        self.out = nn.Conv2d(64, keypoints, 1)

    def forward(self, x):
        return self.out(self.features(x))


def train(model, train_loader, optimizer, criterion, device, epoch, max_iters=1000):
    model.train()
    losses = []
    max_iters = min(max_iters, len(train_loader))
    for iter_id, batch in enumerate(train_loader):
        out = model(batch[0].float().to(device))
        gt_hm = batch[1].float().to(device)
        loss = criterion(F.sigmoid(out), gt_hm)
        loss.backward()
        optimizer.step()  # expect: TM301
        losses.append(loss.item())
        if iter_id > max_iters:
            break
    print(f"train epoch {epoch}: loss {np.mean(losses):.5f}")
    return np.mean(losses)


def main(train_loader, epochs=500, device="cuda"):
    model = HeatmapNet().to(device)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-5)
    criterion = nn.MSELoss()
    for epoch in range(epochs):
        train(model, train_loader, optimizer, criterion, device, epoch)
        torch.save(model.state_dict(), "model_last.pt")
