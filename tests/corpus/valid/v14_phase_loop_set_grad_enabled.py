"""Models the transfer-learning tutorial's ``for phase in ['train', 'val']`` loop.

Pattern from pytorch/tutorials beginner_source/transfer_learning_tutorial.py (train_model):
the phase picks ``model.train()`` or ``model.eval()``, the forward runs under
``torch.set_grad_enabled(phase == 'train')`` and backward/step only happen in the train phase.
Original code.
"""

import copy
import time

import torch


def train_model(model, dataloaders, sizes, criterion, optimizer, scheduler, device, epochs=25):
    since = time.time()
    best_weights = copy.deepcopy(model.state_dict())
    best_acc = 0.0
    for epoch in range(epochs):
        print(f"Epoch {epoch}/{epochs - 1}")
        for phase in ["train", "val"]:
            if phase == "train":
                model.train()
            else:
                model.eval()

            running_loss = 0.0
            running_corrects = 0
            for inputs, labels in dataloaders[phase]:
                inputs, labels = inputs.to(device), labels.to(device)
                optimizer.zero_grad()
                with torch.set_grad_enabled(phase == "train"):
                    outputs = model(inputs)
                    _, preds = torch.max(outputs, 1)
                    loss = criterion(outputs, labels)
                    if phase == "train":
                        loss.backward()
                        optimizer.step()
                running_loss += loss.item() * inputs.size(0)
                running_corrects += torch.sum(preds == labels)
            if phase == "train":
                scheduler.step()

            epoch_loss = running_loss / sizes[phase]
            epoch_acc = running_corrects.double() / sizes[phase]
            print(f"{phase} loss {epoch_loss:.4f} acc {epoch_acc:.4f}")
            if phase == "val" and epoch_acc > best_acc:
                best_acc = epoch_acc
                best_weights = copy.deepcopy(model.state_dict())

    print(f"done in {time.time() - since:.0f}s, best val acc {best_acc:.4f}")
    model.load_state_dict(best_weights)
    return model
