"""Models a DDP trainer class: ``self.model = DDP(model)``, per-batch helper, per-epoch validation.

Pattern from pytorch/examples distributed/ddp-tutorial-series/multigpu_torchrun.py (``Trainer``
with ``_run_batch`` / ``_run_epoch`` / ``_save_snapshot``) extended with a ``_validate()``
method that switches to eval and back to train itself. Original code.
"""

import torch
import torch.nn.functional as F
from torch.nn.parallel import DistributedDataParallel as DDP


class Trainer:
    def __init__(self, model, train_data, val_data, optimizer, gpu_id, save_every):
        self.gpu_id = gpu_id
        self.model = DDP(model.to(gpu_id), device_ids=[gpu_id])
        self.train_data = train_data
        self.val_data = val_data
        self.optimizer = optimizer
        self.save_every = save_every
        self.epochs_run = 0

    def _run_batch(self, source, targets):
        self.optimizer.zero_grad()
        output = self.model(source)
        loss = F.cross_entropy(output, targets)
        loss.backward()
        self.optimizer.step()
        return loss.item()

    def _run_epoch(self, epoch):
        self.train_data.sampler.set_epoch(epoch)
        self.model.train()
        losses = [self._run_batch(x.to(self.gpu_id), y.to(self.gpu_id)) for x, y in self.train_data]
        return sum(losses) / len(losses)

    @torch.no_grad()
    def _validate(self):
        self.model.eval()
        correct = total = 0
        for source, targets in self.val_data:
            output = self.model(source.to(self.gpu_id))
            correct += (output.argmax(1).cpu() == targets).sum().item()
            total += targets.numel()
        self.model.train()
        return correct / total

    def _save_snapshot(self, epoch):
        torch.save({"MODEL_STATE": self.model.module.state_dict(), "EPOCHS_RUN": epoch}, "snapshot.pt")

    def train(self, max_epochs):
        for epoch in range(self.epochs_run, max_epochs):
            loss = self._run_epoch(epoch)
            acc = self._validate()
            if self.gpu_id == 0:
                print(f"[GPU{self.gpu_id}] epoch {epoch}: loss {loss:.4f} acc {acc:.4f}")
                if epoch % self.save_every == 0:
                    self._save_snapshot(epoch)
