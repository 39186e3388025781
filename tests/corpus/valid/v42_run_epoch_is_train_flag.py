"""Models one ``run_epoch()`` for both phases, driven by ``is_train = optimizer is not None``.

A very common shape in research code (found repeatedly by a code search for
``model.train(is_train)``; also karpathy/minGPT's early ``run_epoch(split)``):
``model.train(is_train)``, a grad context chosen at run time
(``torch.enable_grad() if is_train else torch.no_grad()``), backward/step only ``if is_train``.
Original code.
"""

import torch
import torch.nn as nn


def run_epoch(model, loader, criterion, device, optimizer=None, scaler=None):
    is_train = optimizer is not None
    model.train(is_train)
    total_loss, correct, seen = 0.0, 0, 0
    context = torch.enable_grad() if is_train else torch.no_grad()
    with context:
        for images, labels in loader:
            images, labels = images.to(device, non_blocking=True), labels.to(device)
            with torch.autocast(device.type, enabled=scaler is not None):
                logits = model(images)
                loss = criterion(logits, labels)
            if is_train:
                optimizer.zero_grad(set_to_none=True)
                if scaler is not None:
                    scaler.scale(loss).backward()
                    scaler.step(optimizer)
                    scaler.update()
                else:
                    loss.backward()
                    optimizer.step()
            total_loss += loss.item() * images.size(0)
            correct += (logits.argmax(1) == labels).sum().item()
            seen += images.size(0)
    return total_loss / seen, correct / seen


def fit(model, train_loader, val_loader, epochs=40, device=torch.device("cuda")):
    criterion = nn.CrossEntropyLoss(label_smoothing=0.05)
    optimizer = torch.optim.AdamW(model.parameters(), lr=3e-4, weight_decay=0.05)
    scaler = torch.amp.GradScaler("cuda") if device.type == "cuda" else None
    best = 0.0
    for epoch in range(epochs):
        train_loss, train_acc = run_epoch(model, train_loader, criterion, device, optimizer, scaler)
        val_loss, val_acc = run_epoch(model, val_loader, criterion, device)
        if val_acc > best:
            best = val_acc
            torch.save(model.state_dict(), "best.pt")
        print(f"{epoch}: train {train_loss:.3f}/{train_acc:.3f} val {val_loss:.3f}/{val_acc:.3f}")
    return best
