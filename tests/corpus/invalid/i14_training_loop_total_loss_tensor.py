"""Models a training loop that sums the loss *tensor* for the epoch average.

Real bug: pliang279/MultiBench training_structures/Supervised_Learning.py
(``totalloss += loss * len(j[-1])`` in the training loop), google/brax PR #152 and
ray-project/ray PR #40940 (``loss_sum += loss``): each step's autograd history stays chained
to the running total. Reported at the accumulation. Original code.
"""

import torch
import torch.nn as nn


class Fusion(nn.Module):
    def __init__(self, dims=(20, 5, 300), hidden: int = 32, classes: int = 2) -> None:
        super().__init__()
        self.encoders = nn.ModuleList(nn.Linear(d, hidden) for d in dims)
        self.head = nn.Linear(hidden * len(dims), classes)

    def forward(self, modalities):
        return self.head(torch.cat([enc(m).relu() for enc, m in zip(self.encoders, modalities)], -1))


def train(model, train_loader, valid_loader, epochs=40, lr=1e-3, clip_val=8.0):
    op = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=0.01)
    criterion = nn.CrossEntropyLoss()
    for epoch in range(epochs):
        totalloss = 0.0
        totals = 0
        model.train()
        for *modalities, labels in train_loader:
            op.zero_grad()
            out = model(modalities)
            loss = criterion(out, labels)
            totalloss += loss * len(labels)  # expect: TM204
            totals += len(labels)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), clip_val)
            op.step()
        print(f"Epoch {epoch} train loss: {totalloss / totals}")

        model.eval()
        correct = 0
        with torch.no_grad():
            for *modalities, labels in valid_loader:
                correct += (model(modalities).argmax(1) == labels).sum().item()
        print(f"Epoch {epoch} valid acc: {correct / len(valid_loader.dataset):.4f}")
