"""Models a nanoGPT-style ``estimate_loss()`` that switches to eval and forgets ``model.train()``.

Real pattern: karpathy/nanoGPT train.py's estimate_loss() ends with ``model.train()``; copies
and forks that drop that last line (or return early from the split loop) train every step after
the first evaluation with dropout disabled. Reported at the estimate_loss() call in the
training loop. Original code.
"""

import time

import torch

eval_interval = 2000
eval_iters = 200
max_iters = 600_000
gradient_accumulation_steps = 5 * 8


@torch.no_grad()
def estimate_loss(model, get_batch, ctx):
    out = {}
    model.eval()
    for split in ["train", "val"]:
        losses = torch.zeros(eval_iters)
        for k in range(eval_iters):
            X, Y = get_batch(split)
            with ctx:
                _, loss = model(X, Y)
            losses[k] = loss.item()
        out[split] = losses.mean()
    return out


def train(model, optimizer, scaler, get_batch, ctx):
    X, Y = get_batch("train")
    t0 = time.time()
    best_val_loss = 1e9
    model.train()
    for iter_num in range(max_iters):
        if iter_num % eval_interval == 0:
            losses = estimate_loss(model, get_batch, ctx)  # expect: TM101
            print(f"step {iter_num}: train loss {losses['train']:.4f}, val loss {losses['val']:.4f}")
            if losses["val"] < best_val_loss:
                best_val_loss = losses["val"]
                torch.save({"model": model.state_dict(), "iter_num": iter_num}, "ckpt.pt")
        for _ in range(gradient_accumulation_steps):
            with ctx:
                _, loss = model(X, Y)
                loss = loss / gradient_accumulation_steps
            X, Y = get_batch("train")
            scaler.scale(loss).backward()
        scaler.unscale_(optimizer)
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        scaler.step(optimizer)
        scaler.update()
        optimizer.zero_grad(set_to_none=True)
        if iter_num % 10 == 0:
            dt, t0 = time.time() - t0, time.time()
            print(f"iter {iter_num}: loss {loss.item() * gradient_accumulation_steps:.4f}, {dt * 1000:.0f}ms")
