"""Models a trainer that switches modes through its own helper taking a boolean flag.

Research trainers often wrap the switch (and that of auxiliary networks) in a method such as
``def _mode_setting(self, is_train=True): self.model.train(is_train); self.bias_model.train(is_train)``
(found by a code search for ``model.train(is_train)``) and call ``self._mode_setting(is_train=True)``
at the start of each training epoch and ``self._mode_setting(False)`` before validation; the
flag decides the mode at each call. Original code.
"""

import torch
import torch.nn.functional as F


class DebiasTrainer:
    def __init__(self, model, bias_model, optimizer, lambda_bias=0.5):
        self.model = model
        self.bias_model = bias_model
        self.optim = optimizer
        self.lambda_bias = lambda_bias

    def _mode_setting(self, is_train=True):
        self.model.train(is_train)
        self.bias_model.train(is_train)

    def _train_epoch(self, epoch, loader):
        self._mode_setting(is_train=True)
        for images, labels, bias_labels in loader:
            self.optim.zero_grad()
            features, logits = self.model(images)
            bias_logits = self.bias_model(features.detach())
            loss = F.cross_entropy(logits, labels) + self.lambda_bias * F.cross_entropy(bias_logits, bias_labels)
            loss.backward()
            self.optim.step()
        print(f"epoch {epoch}: last loss {loss.item():.4f}")

    @torch.no_grad()
    def _validate(self, loader):
        self._mode_setting(False)
        correct = total = 0
        for images, labels, _ in loader:
            _, logits = self.model(images)
            correct += (logits.argmax(1) == labels).sum().item()
            total += labels.numel()
        return correct / total

    def train(self, train_loader, val_loader, epochs=100):
        best = 0.0
        for epoch in range(epochs):
            self._train_epoch(epoch, train_loader)
            acc = self._validate(val_loader)
            if acc > best:
                best = acc
                torch.save(self.model.state_dict(), "best.pth")
        return best
