"""Models evaluation helpers that get no_grad from their caller, not from their own body.

Pattern from pytorch/examples vae/main.py (``with torch.no_grad(): sample = model.decode(...)``
in the epoch loop) and research scripts that write ``with torch.no_grad(): metrics =
evaluate(model, loader)``; the helper itself contains plain forward calls. Original code.
"""

import torch
import torch.nn as nn
import torch.nn.functional as F
from torchvision.utils import save_image


def evaluate(model, loader):
    total, count = 0.0, 0
    for images, _ in loader:
        recon, mu, logvar = model(images)
        bce = F.binary_cross_entropy(recon, images.view(-1, 784), reduction="sum")
        kld = -0.5 * torch.sum(1 + logvar - mu.pow(2) - logvar.exp())
        total += (bce + kld).item()
        count += images.size(0)
    return total / count


def reconstruct_grid(model, images, n=8):
    recon, _, _ = model(images[:n])
    return torch.cat([images[:n], recon.view(n, 1, 28, 28)])


def train(model: nn.Module, train_loader, test_loader, epochs=10):
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    for epoch in range(1, epochs + 1):
        model.train()
        for images, _ in train_loader:
            optimizer.zero_grad()
            recon, mu, logvar = model(images)
            loss = F.binary_cross_entropy(recon, images.view(-1, 784), reduction="sum")
            loss = loss - 0.5 * torch.sum(1 + logvar - mu.pow(2) - logvar.exp())
            loss.backward()
            optimizer.step()

        model.eval()
        with torch.no_grad():
            test_loss = evaluate(model, test_loader)
            grid = reconstruct_grid(model, next(iter(test_loader))[0])
            sample = model.decode(torch.randn(64, 20))
        save_image(grid, f"results/reconstruction_{epoch}.png")
        save_image(sample.view(64, 1, 28, 28), f"results/sample_{epoch}.png")
        print(f"epoch {epoch}: test loss {test_loss:.4f}")
