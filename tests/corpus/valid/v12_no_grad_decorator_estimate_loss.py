"""Models nanoGPT's ``@torch.no_grad()`` ``estimate_loss()`` that switches to eval and back.

Pattern from karpathy/nanoGPT train.py: every ``eval_interval`` iterations estimate_loss() runs
with the decorator disabling autograd, calls ``model.eval()`` first and ``model.train()`` last;
the training step uses gradient accumulation with a GradScaler and zero_grad after the step.
Original code.
"""

import math

import torch

EVAL_EVERY = 250
EVAL_BATCHES = 50
MICRO_STEPS = 4
TOTAL_STEPS = 5000


def cosine_lr(step, peak=6e-4, warmup=100, floor=6e-5):
    if step < warmup:
        return peak * (step + 1) / warmup
    progress = (step - warmup) / max(1, TOTAL_STEPS - warmup)
    return floor + 0.5 * (peak - floor) * (1.0 + math.cos(math.pi * progress))


@torch.no_grad()
def estimate_loss(model, sample_batch):
    model.eval()
    means = {}
    for split in ("train", "val"):
        values = torch.empty(EVAL_BATCHES)
        for i in range(EVAL_BATCHES):
            inputs, targets = sample_batch(split)
            _, loss = model(inputs, targets)
            values[i] = loss.item()
        means[split] = values.mean().item()
    model.train()
    return means


def train(model, optimizer, sample_batch):
    scaler = torch.amp.GradScaler("cuda")
    inputs, targets = sample_batch("train")
    best = float("inf")
    for step in range(TOTAL_STEPS + 1):
        for group in optimizer.param_groups:
            group["lr"] = cosine_lr(step)
        if step % EVAL_EVERY == 0:
            losses = estimate_loss(model, sample_batch)
            print(f"step {step}: train {losses['train']:.4f} val {losses['val']:.4f}")
            if losses["val"] < best:
                best = losses["val"]
                torch.save({"model": model.state_dict(), "step": step}, "ckpt.pt")
        for _ in range(MICRO_STEPS):
            with torch.autocast("cuda", dtype=torch.bfloat16):
                _, loss = model(inputs, targets)
                loss = loss / MICRO_STEPS
            inputs, targets = sample_batch("train")
            scaler.scale(loss).backward()
        scaler.unscale_(optimizer)
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        scaler.step(optimizer)
        scaler.update()
        optimizer.zero_grad(set_to_none=True)
