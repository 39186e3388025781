"""Models a trainer class whose per-batch step adds the loss *tensor* to an attribute.

Real pattern: OOP trainers keep epoch statistics on ``self`` and update them inside a per-batch
method (a code search for ``self.train_loss += loss`` finds many, most correctly with
``.item()``); here one counter receives the tensor itself, so every step's graph stays chained
to ``self.running_loss`` until the epoch ends (the bug class of pliang279/MultiBench's
``totalloss += loss * len(...)``). Reported at the accumulation. Original code.
"""

import torch
import torch.nn as nn


class DetectorTrainer:
    def __init__(self, model, optimizer, alpha=1.0, beta=1.0, device="cpu"):
        self.model = model
        self.optimizer = optimizer
        self.criterion_box = nn.SmoothL1Loss()
        self.criterion_cls = nn.CrossEntropyLoss()
        self.alpha, self.beta = alpha, beta
        self.device = device
        self.reset_stats()

    def reset_stats(self):
        self.running_loss = 0.0
        self.running_box = 0.0
        self.correct = 0
        self.seen = 0

    def train_step(self, batch):
        x, y_cls, y_box = (t.to(self.device) for t in batch)
        self.optimizer.zero_grad()
        pred_cls, pred_box = self.model(x)
        box_loss = self.criterion_box(pred_box, y_box)
        loss = self.alpha * box_loss + self.beta * self.criterion_cls(pred_cls, y_cls)
        loss.backward()
        self.optimizer.step()
        self.running_loss += loss  # expect: TM204
        self.running_box += box_loss.item()
        self.correct += (pred_cls.argmax(dim=-1) == y_cls).sum().item()
        self.seen += len(y_cls)

    def train_epoch(self, loader):
        self.model.train()
        self.reset_stats()
        for batch in loader:
            self.train_step(batch)
        return float(self.running_loss) / len(loader), self.correct / self.seen
