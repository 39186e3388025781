"""Models mixed-precision training with ``GradScaler``: scale/backward, unscale_, step, update.

Pattern from IDEA-Research/DAB-DETR engine.py (amp branch) and sthalles-style SimCLR loops:
``scaler.scale(loss).backward()`` then ``scaler.step(optimizer)``; the loss is a weighted sum
over a ``loss_dict``; evaluation is decorated with ``@torch.no_grad()`` and also switches the
criterion module to eval. Original code.
"""

import math
import sys

import torch


def train_one_epoch(model, criterion, loader, optimizer, scaler, device, max_norm=0.1):
    model.train()
    criterion.train()
    for samples, targets in loader:
        samples = samples.to(device)
        targets = [{k: v.to(device) for k, v in t.items()} for t in targets]
        with torch.autocast("cuda", dtype=torch.float16):
            outputs = model(samples)
            loss_dict = criterion(outputs, targets)
            weights = criterion.weight_dict
            losses = sum(loss_dict[k] * weights[k] for k in loss_dict if k in weights)
        loss_value = losses.item()
        if not math.isfinite(loss_value):
            print(f"Loss is {loss_value}, stopping training")
            sys.exit(1)
        optimizer.zero_grad()
        scaler.scale(losses).backward()
        if max_norm > 0:
            scaler.unscale_(optimizer)
            torch.nn.utils.clip_grad_norm_(model.parameters(), max_norm)
        scaler.step(optimizer)
        scaler.update()


@torch.no_grad()
def evaluate(model, criterion, postprocess, loader, device):
    model.eval()
    criterion.eval()
    results = []
    for samples, targets in loader:
        outputs = model(samples.to(device))
        sizes = torch.stack([t["orig_size"] for t in targets]).to(device)
        results.extend(postprocess(outputs, sizes))
    return results


def main(model, criterion, postprocess, train_loader, val_loader, epochs=50, device="cuda"):
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-4, weight_decay=1e-4)
    scaler = torch.amp.GradScaler("cuda")
    for epoch in range(epochs):
        train_one_epoch(model, criterion, train_loader, optimizer, scaler, device)
        detections = evaluate(model, criterion, postprocess, val_loader, device)
        print(epoch, len(detections))
