"""Models a DDP trainer class that evaluates at the end of every epoch and never switches back.

Real pattern: trainer classes modelled on pytorch/examples
distributed/ddp-tutorial-series/multigpu_torchrun.py with an added ``_evaluate()``;
``self.model.train()`` is called once in ``train()`` before the epoch loop (as in
MILVLG/mcan-vqa issue #26), so epochs 2..N train in eval mode. Reported at the
``self._evaluate()`` call. Original code.
"""

import torch
import torch.nn.functional as F
from torch.nn.parallel import DistributedDataParallel as DDP


class Trainer:
    def __init__(self, model, train_data, val_data, optimizer, gpu_id):
        self.gpu_id = gpu_id
        self.model = DDP(model.to(gpu_id), device_ids=[gpu_id])
        self.train_data = train_data
        self.val_data = val_data
        self.optimizer = optimizer

    def _run_batch(self, source, targets):
        self.optimizer.zero_grad()
        loss = F.cross_entropy(self.model(source), targets)
        loss.backward()
        self.optimizer.step()
        return loss.item()

    def _run_epoch(self, epoch):
        self.train_data.sampler.set_epoch(epoch)
        total = 0.0
        for source, targets in self.train_data:
            total += self._run_batch(source.to(self.gpu_id), targets.to(self.gpu_id))
        return total / len(self.train_data)

    def _evaluate(self):
        self.model.eval()
        correct = seen = 0
        with torch.no_grad():
            for source, targets in self.val_data:
                output = self.model(source.to(self.gpu_id))
                correct += (output.argmax(1).cpu() == targets).sum().item()
                seen += targets.numel()
        return correct / seen

    def train(self, max_epochs):
        self.model.train()
        for epoch in range(max_epochs):
            loss = self._run_epoch(epoch)
            acc = self._evaluate()  # expect: TM101
            if self.gpu_id == 0:
                print(f"epoch {epoch}: loss {loss:.4f} acc {acc:.4f}")
                torch.save(self.model.module.state_dict(), "checkpoint.pt")
