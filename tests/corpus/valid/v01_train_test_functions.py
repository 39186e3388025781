"""Models the classic example layout: train() switches to train mode, test() to eval + no_grad.

Pattern seen in pytorch/examples mnist/main.py and vae/main.py: two module-level functions,
the epoch loop calls both, the test loss is summed with ``.item()``. Original code.
"""

import argparse

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.optim.lr_scheduler import StepLR


class DigitNet(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv2d(1, 16, 5)
        self.drop = nn.Dropout(0.4)
        self.head = nn.Linear(16 * 24 * 24, 10)

    def forward(self, x):
        x = F.relu(self.conv(x))
        x = self.drop(torch.flatten(x, 1))
        return F.log_softmax(self.head(x), dim=1)


def train(args, model, device, loader, optimizer, epoch):
    model.train()
    for step, (images, labels) in enumerate(loader):
        images, labels = images.to(device), labels.to(device)
        optimizer.zero_grad()
        loss = F.nll_loss(model(images), labels)
        loss.backward()
        optimizer.step()
        if step % args.log_every == 0:
            print(f"epoch {epoch} step {step} loss {loss.item():.4f}")


def test(model, device, loader):
    model.eval()
    total_loss = 0.0
    hits = 0
    with torch.no_grad():
        for images, labels in loader:
            images, labels = images.to(device), labels.to(device)
            log_probs = model(images)
            total_loss += F.nll_loss(log_probs, labels, reduction="sum").item()
            hits += log_probs.argmax(dim=1).eq(labels).sum().item()
    count = len(loader.dataset)
    print(f"test loss {total_loss / count:.4f}, accuracy {hits / count:.3f}")
    return hits / count


def main(train_loader, test_loader):
    parser = argparse.ArgumentParser()
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--lr", type=float, default=1.0)
    parser.add_argument("--log-every", type=int, default=50)
    args = parser.parse_args()
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    model = DigitNet().to(device)
    optimizer = torch.optim.Adadelta(model.parameters(), lr=args.lr)
    scheduler = StepLR(optimizer, step_size=1, gamma=0.7)
    for epoch in range(1, args.epochs + 1):
        train(args, model, device, train_loader, optimizer, epoch)
        test(model, device, test_loader)
        scheduler.step()
    torch.save(model.state_dict(), "digits.pt")
