"""Models nanoGPT's ``@torch.no_grad()`` ``estimate_loss()`` that switches to eval and back.

Pattern from karpathy/nanoGPT train.py: every ``eval_interval`` iterations estimate_loss() runs
with the decorator disabling autograd, calls ``model.eval()`` first and ``model.train()`` last;
the training step uses gradient accumulation with a GradScaler and zero_grad after the step.
Original code.
"""

import math

import torch

eval_interval = 250
eval_iters = 50
grad_accum = 4
max_iters = 5000


def lr_at(it, base_lr=6e-4, warmup=100):
    if it < warmup:
        return base_lr * it / warmup
    return base_lr * 0.5 * (1.0 + math.cos(math.pi * it / max_iters))


@torch.no_grad()
def estimate_loss(model, get_batch):
    out = {}
    model.eval()
    for split in ("train", "val"):
        losses = torch.zeros(eval_iters)
        for k in range(eval_iters):
            x, y = get_batch(split)
            _, loss = model(x, y)
            losses[k] = loss.item()
        out[split] = losses.mean()
    model.train()
    return out


def train(model, optimizer, get_batch):
    scaler = torch.amp.GradScaler("cuda")
    x, y = get_batch("train")
    best_val = 1e9
    for it in range(max_iters + 1):
        for group in optimizer.param_groups:
            group["lr"] = lr_at(it)
        if it % eval_interval == 0:
            losses = estimate_loss(model, get_batch)
            print(f"step {it}: train {losses['train']:.4f}, val {losses['val']:.4f}")
            if losses["val"] < best_val:
                best_val = losses["val"]
                torch.save(model.state_dict(), "ckpt.pt")
        for _ in range(grad_accum):
            with torch.autocast("cuda", dtype=torch.bfloat16):
                _, loss = model(x, y)
                loss = loss / grad_accum
            x, y = get_batch("train")
            scaler.scale(loss).backward()
        scaler.unscale_(optimizer)
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        scaler.step(optimizer)
        scaler.update()
        optimizer.zero_grad(set_to_none=True)
