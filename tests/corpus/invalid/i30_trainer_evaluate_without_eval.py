"""Models a Trainer class whose ``evaluate()`` never switches the model to eval mode.

Real bug: wolny/pytorch-3dunet issue #53 ("you need to add self.model.eval() before you run a
forward pass of the validation data", trainer.py) — evaluation runs right after
``train_epoch()`` left ``self.model`` in train mode. Reported at the first forward pass of the
evaluation. Original code.
"""

import torch


class UNetTrainer:
    def __init__(self, model, optimizer, loss_criterion, train_loader, val_loader, max_epochs=100):
        self.model = model
        self.optimizer = optimizer
        self.loss_criterion = loss_criterion
        self.train_loader = train_loader
        self.val_loader = val_loader
        self.max_epochs = max_epochs
        self.best_eval_score = float("-inf")

    def train_epoch(self):
        self.model.train()
        for volume, target in self.train_loader:
            output = self.model(volume)
            loss = self.loss_criterion(output, target)
            self.optimizer.zero_grad()
            loss.backward()
            self.optimizer.step()

    def evaluate(self):
        scores = []
        with torch.no_grad():
            for volume, target in self.val_loader:
                output = self.model(volume)  # expect: TM102
                prediction = output.argmax(1)
                intersection = ((prediction == 1) & (target == 1)).sum().item()
                union = ((prediction == 1) | (target == 1)).sum().item()
                scores.append(intersection / max(union, 1))
        return sum(scores) / len(scores)

    def fit(self):
        for epoch in range(self.max_epochs):
            self.train_epoch()
            score = self.evaluate()
            if score > self.best_eval_score:
                self.best_eval_score = score
                torch.save(self.model.state_dict(), "best_checkpoint.pytorch")
            print(f"epoch {epoch}: IoU {score:.4f} (best {self.best_eval_score:.4f})")
