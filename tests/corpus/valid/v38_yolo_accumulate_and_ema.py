"""Models YOLOv5's loop: zero_grad before the batch loop, step every ``accumulate`` batches, EMA.

Pattern from ultralytics/yolov5 train.py: ``optimizer.zero_grad()`` once before the loop,
``scaler.scale(loss).backward()`` every batch, and ``if ni - last_opt_step >= accumulate:``
``scaler.step(optimizer); scaler.update(); optimizer.zero_grad(); ema.update(model)``; mean
losses tracked from detached ``loss_items``; validation runs on ``ema.ema``. Original code.
"""

import math

import torch


def train(model, ema, compute_loss, train_loader, val_run, epochs=300, nbs=64, batch_size=16):
    optimizer = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.937, nesterov=True)
    scaler = torch.amp.GradScaler("cuda")
    accumulate = max(round(nbs / batch_size), 1)
    nb = len(train_loader)
    last_opt_step = -1
    best_fitness = 0.0
    for epoch in range(epochs):
        model.train()
        mloss = torch.zeros(3)
        optimizer.zero_grad()
        for i, (imgs, targets) in enumerate(train_loader):
            ni = i + nb * epoch
            imgs = imgs.float() / 255
            with torch.autocast("cuda"):
                pred = model(imgs)
                loss, loss_items = compute_loss(pred, targets)
            scaler.scale(loss).backward()
            if ni - last_opt_step >= accumulate:
                scaler.unscale_(optimizer)
                torch.nn.utils.clip_grad_norm_(model.parameters(), max_norm=10.0)
                scaler.step(optimizer)
                scaler.update()
                optimizer.zero_grad()
                ema.update(model)
                last_opt_step = ni
            mloss = (mloss * i + loss_items) / (i + 1)
        results = val_run(model=ema.ema, half=True)
        fitness = 0.1 * results[2] + 0.9 * results[3]
        if fitness > best_fitness:
            best_fitness = fitness
            torch.save({"epoch": epoch, "model": ema.ema.state_dict()}, "best.pt")
        print(f"{epoch}/{epochs - 1} box {mloss[0]:.4f} obj {mloss[1]:.4f} cls {mloss[2]:.4f}")
    return math.isfinite(best_fitness)
