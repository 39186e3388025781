"""Models a loop where the caller wraps an evaluate() helper in ``model.eval()`` / ``model.train()``.

Pattern seen in many research repos (e.g. the step-based validation in hszhao/semseg
tool/train.py and wkentaro/pytorch-fcn): evaluate() itself never touches the mode; the training
loop switches to eval before calling it and back to train right after. Original code.
"""

import torch
import torch.nn as nn


@torch.no_grad()
def evaluate(model, loader, criterion, device):
    total, count = 0.0, 0
    for inputs, targets in loader:
        inputs, targets = inputs.to(device), targets.to(device)
        outputs = model(inputs)
        total += criterion(outputs, targets).item() * inputs.size(0)
        count += inputs.size(0)
    return total / max(count, 1)


def train(model, train_loader, val_loader, device, max_steps=10_000, eval_every=500):
    criterion = nn.CrossEntropyLoss()
    optimizer = torch.optim.AdamW(model.parameters(), lr=3e-4, weight_decay=0.05)
    scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=max_steps)
    best = float("inf")
    step = 0
    model.train()
    while step < max_steps:
        for inputs, targets in train_loader:
            inputs, targets = inputs.to(device), targets.to(device)
            optimizer.zero_grad(set_to_none=True)
            loss = criterion(model(inputs), targets)
            loss.backward()
            nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            optimizer.step()
            scheduler.step()
            step += 1

            if step % eval_every == 0:
                model.eval()
                val_loss = evaluate(model, val_loader, criterion, device)
                model.train()
                if val_loss < best:
                    best = val_loss
                    torch.save(model.state_dict(), "best.pt")
                print(f"step {step}: train {loss.item():.3f} val {val_loss:.3f}")
            if step >= max_steps:
                break
    return best
