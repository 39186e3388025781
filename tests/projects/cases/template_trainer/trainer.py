"""A base trainer owns the epoch loop; each experiment's subclass says what an epoch is."""

import torch
from torch import nn


class BaseTrainer:
    def __init__(self, model, optimizer, train_loader, val_loader, epochs):
        self.model = model
        self.optimizer = optimizer
        self.train_loader = train_loader
        self.val_loader = val_loader
        self.epochs = epochs
        self.best = float("inf")

    def fit(self):
        for epoch in range(self.epochs):
            self._train_epoch(epoch)
            val_loss = self._valid_epoch()
            if val_loss < self.best:
                self.best = val_loss
                torch.save(self.model.state_dict(), "best.pt")

    def _train_epoch(self, epoch):
        raise NotImplementedError


class RegressionTrainer(BaseTrainer):
    def _train_epoch(self, epoch):
        self.model.train()
        for x, y in self.train_loader:
            self.optimizer.zero_grad()
            loss = nn.functional.mse_loss(self.model(x), y)
            loss.backward()
            self.optimizer.step()

    def _valid_epoch(self):
        self.model.eval()
        total = 0.0
        for x, y in self.val_loader:
            pred = self.model(x)
            total += nn.functional.mse_loss(pred, y).item()
        return total / len(self.val_loader)


if __name__ == "__main__":
    net = nn.Sequential(nn.Linear(8, 32), nn.Dropout(0.2), nn.Linear(32, 1))
    opt = torch.optim.Adam(net.parameters(), lr=1e-3)
    RegressionTrainer(net, opt, [], [], epochs=3).fit()
