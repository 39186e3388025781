"""Models validation moved into a ``validate(model, loader)`` function called every N steps.

Real pattern: joeynmt/joeynmt issue #184 (the validation helper sets ``model.eval()``; the
model only returns to train mode at the next epoch) and texar-pytorch issue #310. ``train()``
is called once before the epoch loop. Reported at the validate() call. Original code.
"""

import torch
import torch.nn as nn


@torch.no_grad()
def validate(model, loader, criterion):
    model.eval()
    total, batches = 0.0, 0
    for src, tgt in loader:
        logits = model(src, tgt[:, :-1])
        total += criterion(logits.reshape(-1, logits.size(-1)), tgt[:, 1:].reshape(-1)).item()
        batches += 1
    return total / max(batches, 1)


def train(model, train_loader, dev_loader, pad_index, epochs=30, validation_freq=1000):
    criterion = nn.CrossEntropyLoss(ignore_index=pad_index, label_smoothing=0.1)
    optimizer = torch.optim.Adam(model.parameters(), lr=2e-4, betas=(0.9, 0.98))
    step = 0
    best = float("inf")
    model.train()
    for epoch in range(epochs):
        for src, tgt in train_loader:
            logits = model(src, tgt[:, :-1])
            loss = criterion(logits.reshape(-1, logits.size(-1)), tgt[:, 1:].reshape(-1))
            optimizer.zero_grad()
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            optimizer.step()
            step += 1
            if step % validation_freq == 0:
                dev_loss = validate(model, dev_loader, criterion)  # expect: TM101
                if dev_loss < best:
                    best = dev_loss
                    torch.save({"step": step, "model": model.state_dict()}, "best.ckpt")
                print(f"epoch {epoch} step {step} dev loss {dev_loss:.3f}")
    return best
