"""Models a Trainer class whose validate() remembers ``self.model.training`` and restores it.

Pattern from wkentaro/pytorch-fcn torchfcn/trainer.py (after its fix): train_epoch() calls
self.validate() every ``interval_validate`` iterations in the middle of the epoch; validate()
does ``training = self.model.training ... if training: self.model.train()``. Original code.
"""

import math

import torch
import torch.nn.functional as F


class SegmentationTrainer:
    def __init__(self, model, optimizer, train_loader, val_loader, max_iter, interval_validate=None):
        self.model = model
        self.optim = optimizer
        self.train_loader = train_loader
        self.val_loader = val_loader
        self.max_iter = max_iter
        self.interval_validate = interval_validate or len(train_loader)
        self.epoch = 0
        self.iteration = 0
        self.best_score = 0.0

    def validate(self):
        training = self.model.training
        self.model.eval()
        val_loss = 0.0
        with torch.no_grad():
            for images, masks in self.val_loader:
                logits = self.model(images)
                val_loss += F.cross_entropy(logits, masks, ignore_index=255).item()
        val_loss /= len(self.val_loader)
        score = -val_loss
        if score > self.best_score:
            self.best_score = score
            torch.save(self.model.state_dict(), "best.pth")
        if training:
            self.model.train()

    def train_epoch(self):
        self.model.train()
        for batch_idx, (images, masks) in enumerate(self.train_loader):
            self.iteration = batch_idx + self.epoch * len(self.train_loader)
            if self.iteration % self.interval_validate == 0:
                self.validate()
            assert self.model.training
            self.optim.zero_grad()
            logits = self.model(images)
            loss = F.cross_entropy(logits, masks, ignore_index=255) / len(images)
            loss.backward()
            self.optim.step()
            if self.iteration >= self.max_iter:
                break

    def train(self):
        max_epoch = int(math.ceil(self.max_iter / len(self.train_loader)))
        for epoch in range(self.epoch, max_epoch):
            self.epoch = epoch
            self.train_epoch()
            if self.iteration >= self.max_iter:
                break
