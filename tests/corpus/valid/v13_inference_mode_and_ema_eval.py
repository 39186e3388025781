"""Models torchvision's reference classification loop: evaluate() under ``torch.inference_mode()``.

Pattern from pytorch/vision references/classification/train.py: train_one_epoch() starts with
``model.train()``; evaluate() calls ``model.eval()`` and runs under inference_mode; an
AveragedModel EMA copy is updated after steps and evaluated every epoch. Original code.
"""

import torch
import torch.nn as nn
from torch.optim.swa_utils import AveragedModel, get_ema_multi_avg_fn


def train_one_epoch(model, criterion, optimizer, loader, device, model_ema=None, ema_every=32):
    model.train()
    for i, (image, target) in enumerate(loader):
        image, target = image.to(device), target.to(device)
        output = model(image)
        loss = criterion(output, target)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        if model_ema is not None and i % ema_every == 0:
            model_ema.update_parameters(model)


def evaluate(model, criterion, loader, device, suffix=""):
    model.eval()
    seen, correct, loss_sum = 0, 0, 0.0
    with torch.inference_mode():
        for image, target in loader:
            image = image.to(device, non_blocking=True)
            target = target.to(device, non_blocking=True)
            output = model(image)
            loss_sum += criterion(output, target).item() * image.size(0)
            correct += (output.argmax(1) == target).sum().item()
            seen += image.size(0)
    print(f"Test {suffix}: acc {correct / seen:.4f} loss {loss_sum / seen:.4f}")
    return correct / seen


def main(model, loader, test_loader, epochs=90, device="cuda"):
    criterion = nn.CrossEntropyLoss(label_smoothing=0.1)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.5, momentum=0.9, weight_decay=2e-5)
    scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=epochs)
    model_ema = AveragedModel(model, multi_avg_fn=get_ema_multi_avg_fn(0.9998))
    for _ in range(epochs):
        train_one_epoch(model, criterion, optimizer, loader, device, model_ema)
        scheduler.step()
        evaluate(model, criterion, test_loader, device)
        evaluate(model_ema, criterion, test_loader, device, suffix="EMA")
