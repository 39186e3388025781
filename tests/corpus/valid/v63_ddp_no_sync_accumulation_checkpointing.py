"""Models DDP gradient accumulation with ``ddp.no_sync()`` and activation checkpointing.

Pattern from the DistributedDataParallel ``no_sync`` docstring in pytorch/pytorch
torch/nn/parallel/distributed.py ("within this context, gradients will be accumulated ... and
synchronized in the first forward-backward pass exiting the context"), used in training scripts
as ``contextlib.nullcontext() if sync else ddp.no_sync()`` (nanoGPT sets
``model.require_backward_grad_sync`` instead), with ``torch.utils.checkpoint.checkpoint`` only
while ``self.training``; the optimizer steps and clears only on synchronising micro-batches.
Original code.
"""
import contextlib

import torch
import torch.nn.functional as F
from torch.nn.parallel import DistributedDataParallel as DDP
from torch.utils.checkpoint import checkpoint


class Block(torch.nn.Module):
    def __init__(self, dim):
        super().__init__()
        self.ff = torch.nn.Sequential(torch.nn.Linear(dim, 4 * dim), torch.nn.GELU(), torch.nn.Dropout(0.1), torch.nn.Linear(4 * dim, dim))

    def forward(self, x):
        return x + self.ff(x)


class Deep(torch.nn.Module):
    def __init__(self, dim=256, depth=12, use_checkpoint=True):
        super().__init__()
        self.blocks = torch.nn.ModuleList(Block(dim) for _ in range(depth))
        self.use_checkpoint = use_checkpoint

    def forward(self, x):
        for block in self.blocks:
            x = checkpoint(block, x, use_reentrant=False) if self.use_checkpoint and self.training else block(x)
        return x


def train_ddp(model, loader, rank, accumulation=4, epochs=3):
    ddp = DDP(model.to(rank), device_ids=[rank])
    optimizer = torch.optim.AdamW(ddp.parameters(), lr=3e-4)
    scaler = torch.amp.GradScaler("cuda")
    for epoch in range(epochs):
        ddp.train()
        for i, (x, y) in enumerate(loader):
            sync = (i + 1) % accumulation == 0
            context = contextlib.nullcontext() if sync else ddp.no_sync()
            with context:
                with torch.autocast("cuda", dtype=torch.bfloat16):
                    loss = F.mse_loss(ddp(x.to(rank)), y.to(rank)) / accumulation
                scaler.scale(loss).backward()
            if sync:
                scaler.unscale_(optimizer)
                torch.nn.utils.clip_grad_norm_(ddp.parameters(), 1.0)
                scaler.step(optimizer)
                scaler.update()
                optimizer.zero_grad(set_to_none=True)
        if rank == 0:
            ddp.eval()
            with torch.no_grad():
                err = sum(F.mse_loss(ddp(x.to(rank)), y.to(rank)).item() for x, y in loader)
            print(epoch, err)
