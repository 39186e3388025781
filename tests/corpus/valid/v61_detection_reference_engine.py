"""Models the torchvision detection reference loop: models that return a loss dict in train mode.

Pattern from pytorch/vision references/detection/engine.py (copied into countless detection
projects, as a code search for ``warmup_factor = 1.0 / 1000`` shows): ``loss_dict =
model(images, targets)`` in train mode, ``losses = sum(loss for loss in loss_dict.values())``,
a reduced copy under ``torch.inference_mode()`` only for logging via ``.item()``, a warm-up
``LinearLR`` created inside the first epoch, and ``@torch.inference_mode()`` ``evaluate`` that
calls the same model with images only after ``model.eval()``. Original code.
"""
import math
import sys

import torch


def reduce_dict(input_dict):
    with torch.inference_mode():
        names = sorted(input_dict.keys())
        values = torch.stack([input_dict[k] for k in names])
        return dict(zip(names, values))


def train_one_epoch(model, optimizer, data_loader, device, epoch, print_freq, scaler=None):
    model.train()
    lr_scheduler = None
    if epoch == 0:
        warmup_factor = 1.0 / 1000
        warmup_iters = min(1000, len(data_loader) - 1)
        lr_scheduler = torch.optim.lr_scheduler.LinearLR(optimizer, start_factor=warmup_factor, total_iters=warmup_iters)
    for images, targets in data_loader:
        images = list(image.to(device) for image in images)
        targets = [{k: v.to(device) for k, v in t.items()} for t in targets]
        with torch.autocast("cuda", enabled=scaler is not None):
            loss_dict = model(images, targets)
            losses = sum(loss for loss in loss_dict.values())
        loss_dict_reduced = reduce_dict(loss_dict)
        losses_reduced = sum(loss for loss in loss_dict_reduced.values())
        loss_value = losses_reduced.item()
        if not math.isfinite(loss_value):
            print(f"Loss is {loss_value}, stopping training")
            sys.exit(1)
        optimizer.zero_grad()
        if scaler is not None:
            scaler.scale(losses).backward()
            scaler.step(optimizer)
            scaler.update()
        else:
            losses.backward()
            optimizer.step()
        if lr_scheduler is not None:
            lr_scheduler.step()


@torch.inference_mode()
def evaluate(model, data_loader, device):
    n_threads = torch.get_num_threads()
    torch.set_num_threads(1)
    cpu_device = torch.device("cpu")
    model.eval()
    results = {}
    for images, targets in data_loader:
        images = list(img.to(device) for img in images)
        outputs = model(images)
        outputs = [{k: v.to(cpu_device) for k, v in t.items()} for t in outputs]
        results.update({target["image_id"]: output for target, output in zip(targets, outputs)})
    torch.set_num_threads(n_threads)
    return results


def main(model, data_loader, data_loader_test, device, epochs=26):
    params = [p for p in model.parameters() if p.requires_grad]
    optimizer = torch.optim.SGD(params, lr=0.02, momentum=0.9, weight_decay=1e-4)
    lr_scheduler = torch.optim.lr_scheduler.MultiStepLR(optimizer, milestones=[16, 22], gamma=0.1)
    for epoch in range(epochs):
        train_one_epoch(model, optimizer, data_loader, device, epoch, 20)
        lr_scheduler.step()
        evaluate(model, data_loader_test, device=device)
