"""A small trainer: steps, periodic evaluation, checkpoints."""

import math

import torch


class Trainer:
    def __init__(self, model, optimizer, train_loader, val_loader, eval_every=500, device="cuda"):
        self.model = model.to(device)
        self.optimizer = optimizer
        self.train_loader = train_loader
        self.val_loader = val_loader
        self.eval_every = eval_every
        self.device = device
        self.step = 0
        self.best = math.inf

    def train(self, max_steps):
        self.model.train()
        while self.step < max_steps:
            for batch in self.train_loader:
                batch = {k: v.to(self.device) for k, v in batch.items()}
                loss = self.model(**batch).loss
                loss.backward()
                torch.nn.utils.clip_grad_norm_(self.model.parameters(), 1.0)
                self.optimizer.step()
                self.optimizer.zero_grad()
                self.step += 1
                self._maybe_eval()
                if self.step >= max_steps:
                    break

    def _maybe_eval(self):
        if self.step % self.eval_every == 0:
            val_loss = self.evaluate()
            if val_loss < self.best:
                self.best = val_loss
                torch.save(self.model.state_dict(), "best.pt")

    @torch.no_grad()
    def evaluate(self):
        self.model.eval()
        total, batches = 0.0, 0
        for batch in self.val_loader:
            batch = {k: v.to(self.device) for k, v in batch.items()}
            total += self.model(**batch).loss.item()
            batches += 1
        return total / max(batches, 1)
