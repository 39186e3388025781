"""Models an exponential-moving-average copy of the model that is evaluated but never trained.

Pattern from huggingface/pytorch-image-models train.py (``model_ema.update(model)`` after each
step and ``validate(model_ema.module, ...)``) and ultralytics/yolov5 train.py (``ema.update(model)``
and ``val.run(model=ema.ema)``). The EMA weights are updated under no_grad. Original code.
"""

import copy

import torch
import torch.nn as nn


class ModelEma:
    def __init__(self, model: nn.Module, decay: float = 0.9998) -> None:
        self.module = copy.deepcopy(model).eval()
        self.decay = decay
        for param in self.module.parameters():
            param.requires_grad_(False)

    @torch.no_grad()
    def update(self, model: nn.Module) -> None:
        for ema_v, model_v in zip(self.module.state_dict().values(), model.state_dict().values()):
            if ema_v.dtype.is_floating_point:
                ema_v.mul_(self.decay).add_(model_v.detach(), alpha=1.0 - self.decay)
            else:
                ema_v.copy_(model_v)


def validate(model, loader):
    model.eval()
    correct = 0
    with torch.no_grad():
        for images, labels in loader:
            correct += (model(images).argmax(1) == labels).sum().item()
    return correct / len(loader.dataset)


def train(model, train_loader, val_loader, epochs=100):
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-3, weight_decay=0.05)
    criterion = nn.CrossEntropyLoss(label_smoothing=0.1)
    model_ema = ModelEma(model)
    for epoch in range(epochs):
        model.train()
        for images, labels in train_loader:
            loss = criterion(model(images), labels)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            model_ema.update(model)
        acc = validate(model, val_loader)
        ema_acc = validate(model_ema.module, val_loader)
        print(f"epoch {epoch}: acc {acc:.4f} ema acc {ema_acc:.4f}")
    return model_ema.module
