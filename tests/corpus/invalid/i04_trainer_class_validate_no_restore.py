"""Models a Trainer class whose ``train_epoch()`` calls ``self.validate()`` mid-epoch without restoring.

Real bug: wkentaro/pytorch-fcn torchfcn/trainer.py before commit d10dd30 (issue #57, PR #56):
validate() calls ``self.model.eval()``; train_epoch() calls ``self.model.train()`` only at its
start, so after a mid-epoch validation the rest of the epoch trains in eval mode. Original code.
"""

import torch
import torch.nn.functional as F


class Trainer:
    def __init__(self, model, optimizer, train_loader, val_loader, max_iter, interval_validate):
        self.model = model
        self.optim = optimizer
        self.train_loader = train_loader
        self.val_loader = val_loader
        self.max_iter = max_iter
        self.interval_validate = interval_validate
        self.epoch = 0
        self.iteration = 0
        self.best_mean_iu = 0.0

    def validate(self):
        self.model.eval()
        val_loss = 0.0
        with torch.no_grad():
            for data, target in self.val_loader:
                score = self.model(data)
                val_loss += F.cross_entropy(score, target, ignore_index=-1).item()
        val_loss /= len(self.val_loader)
        torch.save({"iteration": self.iteration, "model": self.model.state_dict()}, "ckpt.pth")
        return val_loss

    def train_epoch(self):
        self.model.train()
        for batch_idx, (data, target) in enumerate(self.train_loader):
            self.iteration = batch_idx + self.epoch * len(self.train_loader)
            if self.iteration % self.interval_validate == 0:
                self.validate()  # expect: TM101
            self.optim.zero_grad()
            score = self.model(data)
            loss = F.cross_entropy(score, target, ignore_index=-1)
            loss.backward()
            self.optim.step()
            if self.iteration >= self.max_iter:
                break

    def train(self):
        while self.iteration < self.max_iter:
            self.train_epoch()
            self.epoch += 1
