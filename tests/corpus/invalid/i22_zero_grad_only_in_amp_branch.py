"""Models a detection training step that clears gradients only in the mixed-precision branch.

Real bug: IDEA-Research/DAB-DETR engine.py train_one_epoch (issue #58 "optimizer.zero_grad()
seems to be forgotten"): the ``if args.amp:`` branch calls ``optimizer.zero_grad()`` before the
scaled backward, the plain FP32 branch goes straight to ``losses.backward(); optimizer.step()``.
Reported at the ``optimizer.step()`` of the path that never clears. Original code.
"""

import math
import sys

import torch


def train_one_epoch(model, criterion, data_loader, optimizer, device, epoch, args, scaler=None, max_norm=0.1):
    model.train()
    criterion.train()
    for samples, targets in data_loader:
        samples = samples.to(device)
        targets = [{k: v.to(device) for k, v in t.items()} for t in targets]
        with torch.autocast("cuda", enabled=args.amp):
            outputs = model(samples)
            loss_dict = criterion(outputs, targets)
            weight_dict = criterion.weight_dict
            losses = sum(loss_dict[k] * weight_dict[k] for k in loss_dict if k in weight_dict)
        loss_value = losses.item()
        if not math.isfinite(loss_value):
            print(f"Loss is {loss_value}, stopping training")
            sys.exit(1)

        if args.amp:
            optimizer.zero_grad()
            scaler.scale(losses).backward()
            if max_norm > 0:
                scaler.unscale_(optimizer)
                torch.nn.utils.clip_grad_norm_(model.parameters(), max_norm)
            scaler.step(optimizer)
            scaler.update()
        else:
            losses.backward()
            if max_norm > 0:
                torch.nn.utils.clip_grad_norm_(model.parameters(), max_norm)
            optimizer.step()  # expect: TM301
    print(f"epoch {epoch} done")


def main(model, criterion, train_loader, args, device="cuda"):
    optimizer = torch.optim.AdamW(model.parameters(), lr=args.lr, weight_decay=args.weight_decay)
    scaler = torch.amp.GradScaler("cuda", enabled=args.amp)
    lr_scheduler = torch.optim.lr_scheduler.StepLR(optimizer, args.lr_drop)
    for epoch in range(args.epochs):
        train_one_epoch(model, criterion, train_loader, optimizer, device, epoch, args, scaler)
        lr_scheduler.step()
