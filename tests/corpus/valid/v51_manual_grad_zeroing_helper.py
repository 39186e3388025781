"""Models clearing gradients by hand (``param.grad.zero_()`` / ``param.grad = None``) instead of ``zero_grad()``.

Patterns seen in adapter/LoRA fine-tuning code (a ``_zero_grad()`` helper looping over the
fine-tuned parameters with ``param.grad.data.zero_()``, found by a code search for that call),
and in pytorch/tutorials recipes_source/recipes/tuning_guide.py ("Use parameter.grad = None
instead of model.zero_grad() or optimizer.zero_grad()": ``for param in model.parameters():
param.grad = None``). The optimizer only holds parameters that are cleared. Original code.
"""

import torch
import torch.nn as nn
import torch.nn.functional as F


class AdapterTuner:
    def __init__(self, model: nn.Module, lr: float = 1e-4):
        self.model = model
        for name, param in model.named_parameters():
            param.requires_grad = "adapter" in name
        self.optimizer = torch.optim.AdamW(self.ft_params(), lr=lr)

    def ft_params(self):
        return [p for n, p in self.model.named_parameters() if "adapter" in n]

    def _zero_grad(self):
        for param in self.ft_params():
            if param.grad is not None:
                param.grad.data.zero_()

    def train_epoch(self, loader):
        self.model.train()
        for input_ids, labels in loader:
            self._zero_grad()
            logits = self.model(input_ids)
            loss = F.cross_entropy(logits.flatten(0, 1), labels.flatten(), ignore_index=-100)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(self.ft_params(), 1.0)
            self.optimizer.step()


def train_fast(model, loader, epochs=10):
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    for _ in range(epochs):
        model.train()
        for images, labels in loader:
            for param in model.parameters():
                param.grad = None
            loss = F.cross_entropy(model(images), labels)
            loss.backward()
            optimizer.step()


def train_then_clear(model, loader, lr=0.05):
    optimizer = torch.optim.SGD(model.parameters(), lr=lr)
    model.train()
    for images, labels in loader:
        loss = F.cross_entropy(model(images), labels)
        loss.backward()
        optimizer.step()
        for param in model.parameters():
            if param.grad is not None:
                param.grad.zero_()
