"""Models ``with torch.inference_mode:`` (no parentheses) in an EMA weight-update helper.

Real pattern: the same context-manager typo as ``with torch.no_grad:``, here in a hand-written
EMA like those in huggingface/pytorch-image-models timm/utils/model_ema.py (which uses
``torch.no_grad()`` correctly); the helper crashes on its first call. Reported at the ``with``
item. Original code.
"""

import copy

import torch
import torch.nn as nn


class EmaWeights:
    def __init__(self, model: nn.Module, decay: float = 0.999) -> None:
        self.shadow = copy.deepcopy(model).eval().requires_grad_(False)
        self.decay = decay
        self.updates = 0

    def update(self, model: nn.Module) -> None:
        self.updates += 1
        decay = min(self.decay, (1 + self.updates) / (10 + self.updates))
        with torch.inference_mode:  # expect: TM203
            for shadow_p, p in zip(self.shadow.parameters(), model.parameters()):
                shadow_p.mul_(decay).add_(p.detach(), alpha=1.0 - decay)
            for shadow_b, b in zip(self.shadow.buffers(), model.buffers()):
                shadow_b.copy_(b)


def train(model, loader, val_loader, epochs=50):
    optimizer = torch.optim.AdamW(model.parameters(), lr=5e-4)
    criterion = nn.CrossEntropyLoss()
    ema = EmaWeights(model)
    for epoch in range(epochs):
        model.train()
        for images, labels in loader:
            optimizer.zero_grad()
            loss = criterion(model(images), labels)
            loss.backward()
            optimizer.step()
            ema.update(model)
        correct = 0
        with torch.no_grad():
            for images, labels in val_loader:
                correct += (ema.shadow(images).argmax(1) == labels).sum().item()
        print(f"epoch {epoch}: ema acc {correct / len(val_loader.dataset):.4f}")
    return ema.shadow
