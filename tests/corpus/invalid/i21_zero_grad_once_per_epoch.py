"""Models ``optimizer.zero_grad()`` called once per epoch instead of once per batch.

Real bug class described in pytorch/pytorch issue #47175 ("forgetting to call zero_grad() or
calling it at the beginning of each epoch instead of the beginning of each iteration"); there is
no accumulation condition, every batch steps with the sum of all earlier gradients of the
epoch. Reported at ``optimizer.step()``. Original code.
"""

import torch
import torch.nn as nn


class TabularMLP(nn.Module):
    def __init__(self, features: int, hidden: int = 256) -> None:
        super().__init__()
        self.net = nn.Sequential(
            nn.Linear(features, hidden), nn.BatchNorm1d(hidden), nn.SiLU(), nn.Dropout(0.3),
            nn.Linear(hidden, 1),
        )

    def forward(self, x):
        return self.net(x).squeeze(-1)


def fit(model, train_loader, valid_loader, epochs=30, lr=3e-3):
    optimizer = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=1e-5)
    scheduler = torch.optim.lr_scheduler.OneCycleLR(optimizer, lr, epochs=epochs, steps_per_epoch=len(train_loader))
    criterion = nn.BCEWithLogitsLoss()
    for epoch in range(epochs):
        model.train()
        optimizer.zero_grad()
        train_loss = 0.0
        for x, y in train_loader:
            loss = criterion(model(x), y)
            loss.backward()
            optimizer.step()  # expect: TM301
            scheduler.step()
            train_loss += loss.item()

        model.eval()
        valid_loss = 0.0
        with torch.no_grad():
            for x, y in valid_loader:
                valid_loss += criterion(model(x), y).item()
        print(f"epoch {epoch}: train {train_loss / len(train_loader):.4f} valid {valid_loss / len(valid_loader):.4f}")
    return model
