"""Notebook-style script: the model and its optimizer live at module level, and the helpers
take them as parameters of the same names."""

import torch
import torch.nn as nn
import torch.nn.functional as F


def train_one_epoch(net, optimizer, loader):
    net.train()
    for x, y in loader:
        optimizer.zero_grad()
        F.mse_loss(net(x).squeeze(-1), y).backward()
        optimizer.step()


@torch.no_grad()
def evaluate(net, loader):
    net.eval()
    errors = [F.mse_loss(net(x).squeeze(-1), y, reduction="sum") for x, y in loader]
    return torch.stack(errors).sum().item() / len(loader.dataset)


model = nn.Sequential(
    nn.Linear(32, 128), nn.BatchNorm1d(128), nn.ReLU(), nn.Dropout(0.1), nn.Linear(128, 1)
)
optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=50)
data = torch.load("regression.pt")
train_loader = torch.utils.data.DataLoader(data["train"], batch_size=64, shuffle=True)
val_loader = torch.utils.data.DataLoader(data["val"], batch_size=512)

for epoch in range(50):
    train_one_epoch(model, optimizer, train_loader)
    val_mse = evaluate(model, val_loader)
    scheduler.step()
    print(f"epoch {epoch}: val mse {val_mse:.4f}")
