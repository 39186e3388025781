"""Models code that uses the return value of ``train()`` / ``eval()`` (``net = net.train()``).

``nn.Module.train()`` returns the module itself, and many notebooks and research scripts
write the switch as an assignment or chain it (``model = Net().to(device).train()``), e.g. in
Kaggle-style loops and several SimCLR/BYOL re-implementations. Original code.
"""

import torch
import torch.nn as nn
import torch.nn.functional as F


class Encoder(nn.Module):
    def __init__(self, dim: int = 128) -> None:
        super().__init__()
        self.net = nn.Sequential(
            nn.Conv2d(3, 32, 3, padding=1), nn.BatchNorm2d(32), nn.ReLU(),
            nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(32, dim),
        )

    def forward(self, x):
        return F.normalize(self.net(x), dim=1)


def contrastive_loss(z1, z2, temperature=0.2):
    logits = z1 @ z2.t() / temperature
    labels = torch.arange(z1.size(0), device=z1.device)
    return F.cross_entropy(logits, labels)


def knn_accuracy(net, bank_loader, query_loader):
    net = net.eval()
    with torch.no_grad():
        bank = torch.cat([net(x) for x, _ in bank_loader])
        bank_labels = torch.cat([y for _, y in bank_loader])
        hits = 0
        for x, y in query_loader:
            nearest = (net(x) @ bank.t()).argmax(dim=1)
            hits += (bank_labels[nearest] == y).sum().item()
    return hits / len(query_loader.dataset)


def pretrain(loader, bank_loader, query_loader, epochs=100, device="cuda"):
    net = Encoder().to(device).train()
    optimizer = torch.optim.Adam(net.parameters(), lr=1e-3)
    for epoch in range(epochs):
        net = net.train()
        for view1, view2 in loader:
            z1, z2 = net(view1.to(device)), net(view2.to(device))
            loss = contrastive_loss(z1, z2)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
        if epoch % 10 == 0:
            print(epoch, knn_accuracy(net, bank_loader, query_loader))
    return net
