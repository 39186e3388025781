"""Models the quickstart-tutorial bug: train() never calls ``model.train()``, test() calls ``eval()``.

Real bug: pytorch/tutorials beginner_source/basics/quickstart_tutorial.py before PR #1602
(issue #1624): the epoch loop calls train() then test(); test() switches to eval, so from the
second epoch on the model trains in eval mode. Reported at the test() call that leaves the
model in eval mode. Original code.
"""

import torch
from torch import nn

DEVICE = "cuda" if torch.cuda.is_available() else "cpu"


class FashionMLP(nn.Module):
    def __init__(self, hidden: int = 512, classes: int = 10) -> None:
        super().__init__()
        self.layers = nn.Sequential(
            nn.Flatten(), nn.Linear(28 * 28, hidden), nn.ReLU(), nn.Dropout(0.25), nn.Linear(hidden, classes)
        )

    def forward(self, pixels):
        return self.layers(pixels)


def train(loader, model, loss_fn, optimizer):
    seen = 0
    for batch_index, (pixels, labels) in enumerate(loader):
        pixels, labels = pixels.to(DEVICE), labels.to(DEVICE)
        loss = loss_fn(model(pixels), labels)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        seen += len(pixels)
        if batch_index % 200 == 0:
            print(f"{seen:>6d}/{len(loader.dataset)} samples, loss {loss.item():.5f}")


def test(loader, model, loss_fn):
    model.eval()
    total_loss, hits = 0.0, 0
    with torch.no_grad():
        for pixels, labels in loader:
            pixels, labels = pixels.to(DEVICE), labels.to(DEVICE)
            logits = model(pixels)
            total_loss += loss_fn(logits, labels).item()
            hits += (logits.argmax(1) == labels).sum().item()
    print(f"accuracy {hits / len(loader.dataset):.1%}, mean loss {total_loss / len(loader):.4f}")


def main(train_loader, test_loader, epochs=5):
    model = FashionMLP().to(DEVICE)
    loss_fn = nn.CrossEntropyLoss()
    optimizer = torch.optim.SGD(model.parameters(), lr=1e-3)
    for epoch in range(epochs):
        print(f"epoch {epoch + 1}")
        train(train_loader, model, loss_fn, optimizer)
        test(test_loader, model, loss_fn)  # expect: TM101
    torch.save(model.state_dict(), "fashion_mlp.pth")
