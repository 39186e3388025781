"""Models an AMP trainer whose ``zero_grad()`` ended up between the scaled backward and ``scaler.step``.

Real pattern: the "model does not learn" reports that follow moving ``optimizer.zero_grad()``
next to the step (see the ordering questions in yunjey/pytorch-tutorial issue #238 and
patrickloeber/pytorchTutorial issue #19), here in a mixed-precision trainer where the clearing
sits inside a small "log and reset" block after ``scaler.scale(loss).backward()``; the
GradScaler then steps with zeroed gradients. Reported at the ``zero_grad()``. Original code.
"""

import torch
import torch.nn as nn


class SegTrainer:
    def __init__(self, model, lr=1e-3, log_every=50):
        self.model = model
        self.optimizer = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=1e-4)
        self.scaler = torch.amp.GradScaler("cuda")
        self.criterion = nn.CrossEntropyLoss(ignore_index=255)
        self.log_every = log_every
        self.step = 0

    def train_epoch(self, loader):
        self.model.train()
        for images, masks in loader:
            with torch.autocast("cuda", dtype=torch.float16):
                logits = self.model(images)
                loss = self.criterion(logits, masks)
            self.scaler.scale(loss).backward()
            if self.step % self.log_every == 0:
                grad_norm = sum(p.grad.norm() ** 2 for p in self.model.parameters() if p.grad is not None) ** 0.5
                print(f"step {self.step}: loss {loss.item():.4f} grad-norm {float(grad_norm):.3f}")
            self.optimizer.zero_grad(set_to_none=True)  # expect: TM302
            self.scaler.step(self.optimizer)
            self.scaler.update()
            self.step += 1

    @torch.no_grad()
    def evaluate(self, loader):
        self.model.eval()
        correct = total = 0
        for images, masks in loader:
            predicted = self.model(images).argmax(1)
            valid = masks != 255
            correct += (predicted[valid] == masks[valid]).sum().item()
            total += valid.sum().item()
        return correct / max(total, 1)
