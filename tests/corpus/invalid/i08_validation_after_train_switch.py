"""Models a validation pass that runs after ``model.train()`` has already been switched on.

Real bug: pliang279/MultiBench issue #26 (training_structures/Supervised_Learning.py called
``model.eval()`` and then ``model.train()`` before its validation forward passes, so they ran
in train mode). Here the epoch starts with ``model.train()`` and validates the previous epoch's
weights before training. Reported at the first forward pass that runs in train mode.
Original code.
"""

import torch
import torch.nn as nn


class LateFusion(nn.Module):
    def __init__(self, dims=(35, 74, 300), hidden: int = 64, classes: int = 2) -> None:
        super().__init__()
        self.encoders = nn.ModuleList([nn.Sequential(nn.Linear(d, hidden), nn.ReLU()) for d in dims])
        self.dropout = nn.Dropout(0.3)
        self.head = nn.Linear(hidden * len(dims), classes)

    def forward(self, modalities):
        fused = torch.cat([enc(m) for enc, m in zip(self.encoders, modalities)], dim=-1)
        return self.head(self.dropout(fused))


def train(model, train_loader, valid_loader, epochs=100, lr=1e-3):
    optimizer = torch.optim.AdamW(model.parameters(), lr=lr)
    criterion = nn.CrossEntropyLoss()
    best_acc = 0.0
    for epoch in range(epochs):
        model.train()
        if epoch > 0:
            correct = total = 0
            with torch.no_grad():
                for *modalities, label in valid_loader:
                    out = model(modalities)  # expect: TM102
                    correct += (out.argmax(1) == label).sum().item()
                    total += label.numel()
            acc = correct / total
            if acc > best_acc:
                best_acc = acc
                torch.save(model.state_dict(), "best.pt")
            print(f"after epoch {epoch - 1}: valid acc {acc:.4f}")

        for *modalities, label in train_loader:
            optimizer.zero_grad()
            loss = criterion(model(modalities), label)
            loss.backward()
            optimizer.step()
    return best_acc
