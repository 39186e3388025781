"""Models a training loop whose backward and optimizer step live in a helper object.

Pattern from huggingface/pytorch-image-models train.py (``loss_scaler(loss, optimizer,
clip_grad=...)`` — timm's NativeScaler does backward, unscale, clip and step) and the DQN
tutorial's ``optimize_model()`` helper. Original code.
"""

import torch


class ScaledStepper:
    """Callable doing scaled backward + optional clipping + optimizer step."""

    def __init__(self) -> None:
        self._scaler = torch.amp.GradScaler("cuda")

    def __call__(self, loss, optimizer, clip_grad=None, parameters=None):
        self._scaler.scale(loss).backward()
        if clip_grad is not None:
            self._scaler.unscale_(optimizer)
            torch.nn.utils.clip_grad_norm_(parameters, clip_grad)
        self._scaler.step(optimizer)
        self._scaler.update()


def train_one_epoch(epoch, model, loader, optimizer, loss_fn, loss_scaler, model_ema=None):
    model.train()
    seen, loss_sum = 0, 0.0
    for batch_idx, (inputs, target) in enumerate(loader):
        with torch.autocast("cuda", dtype=torch.float16):
            output = model(inputs)
            loss = loss_fn(output, target)
        loss_sum += loss.item() * inputs.size(0)
        seen += inputs.size(0)
        optimizer.zero_grad()
        loss_scaler(loss, optimizer, clip_grad=5.0, parameters=model.parameters())
        if model_ema is not None:
            model_ema.update(model)
        if batch_idx % 100 == 0:
            print(f"epoch {epoch} [{batch_idx}/{len(loader)}] loss {loss_sum / seen:.4f}")
    return loss_sum / max(seen, 1)


def validate(model, loader, loss_fn):
    model.eval()
    correct, total = 0, 0
    with torch.no_grad():
        for inputs, target in loader:
            output = model(inputs)
            correct += (output.argmax(-1) == target).sum().item()
            total += target.numel()
    return correct / total


def main(model, train_loader, val_loader, optimizer, loss_fn, epochs=300):
    loss_scaler = ScaledStepper()
    for epoch in range(epochs):
        train_one_epoch(epoch, model, train_loader, optimizer, loss_fn, loss_scaler)
        print(epoch, validate(model, val_loader, loss_fn))
