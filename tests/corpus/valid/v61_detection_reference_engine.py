"""Models the torchvision detection reference loop: models that return a loss dict in train mode.

Pattern from pytorch/vision references/detection/engine.py (copied into countless detection
projects, as a code search for ``warmup_factor = 1.0 / 1000`` shows): ``loss_dict =
model(images, targets)`` in train mode, ``losses = sum(loss for loss in loss_dict.values())``,
a reduced copy under ``torch.inference_mode()`` only for logging via ``.item()``, a warm-up
``LinearLR`` created inside the first epoch, and ``@torch.inference_mode()`` ``evaluate`` that
calls the same model with images only after ``model.eval()``. Original code.
"""
import math

import torch


def detached_mean_terms(terms):
    """Copies of the loss terms for logging only (no autograd history)."""
    with torch.inference_mode():
        return {name: value.detach().clone() for name, value in sorted(terms.items())}


def warmup_schedule(optimizer, steps_available):
    steps = min(500, max(steps_available - 1, 1))
    return torch.optim.lr_scheduler.LinearLR(optimizer, start_factor=1e-3, total_iters=steps)


def fit_one_epoch(detector, optimizer, loader, device, epoch, scaler=None, log_every=50):
    detector.train()
    warmup = warmup_schedule(optimizer, len(loader)) if epoch == 0 else None
    for step, (imgs, annotations) in enumerate(loader):
        imgs = [img.to(device) for img in imgs]
        annotations = [{key: val.to(device) for key, val in ann.items()} for ann in annotations]
        with torch.autocast(device.type, enabled=scaler is not None):
            terms = detector(imgs, annotations)
            total = sum(terms.values())
        logged = detached_mean_terms(terms)
        total_value = sum(logged.values()).item()
        if not math.isfinite(total_value):
            raise FloatingPointError(f"non-finite loss {total_value}: {logged}")
        optimizer.zero_grad()
        if scaler is None:
            total.backward()
            optimizer.step()
        else:
            scaler.scale(total).backward()
            scaler.step(optimizer)
            scaler.update()
        if warmup is not None:
            warmup.step()
        if step % log_every == 0:
            print(epoch, step, {name: round(v.item(), 4) for name, v in logged.items()})


@torch.inference_mode()
def collect_detections(detector, loader, device):
    detector.eval()
    detections = {}
    for imgs, annotations in loader:
        predictions = detector([img.to(device) for img in imgs])
        for ann, pred in zip(annotations, predictions):
            detections[int(ann["image_id"])] = {key: val.cpu() for key, val in pred.items()}
    return detections


def run(detector, train_loader, test_loader, device, epochs=26):
    trainable = [param for param in detector.parameters() if param.requires_grad]
    optimizer = torch.optim.SGD(trainable, lr=0.02, momentum=0.9, weight_decay=1e-4)
    decay = torch.optim.lr_scheduler.MultiStepLR(optimizer, milestones=[16, 22], gamma=0.1)
    for epoch in range(epochs):
        fit_one_epoch(detector, optimizer, train_loader, device, epoch)
        decay.step()
        print(epoch, len(collect_detections(detector, test_loader, device)))
