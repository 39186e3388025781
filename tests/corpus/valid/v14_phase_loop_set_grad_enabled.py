"""Models the transfer-learning tutorial's ``for phase in ['train', 'val']`` loop.

Pattern from pytorch/tutorials beginner_source/transfer_learning_tutorial.py (train_model):
the phase picks ``model.train()`` or ``model.eval()``, the forward runs under
``torch.set_grad_enabled(phase == 'train')`` and backward/step only happen in the train phase.
Original code.
"""

import copy
import time

import torch


def fit(net, loaders, criterion, optimizer, scheduler, device, num_epochs=25):
    started = time.time()
    best_state = copy.deepcopy(net.state_dict())
    best_accuracy = 0.0
    for epoch in range(num_epochs):
        for phase in ("train", "val"):
            if phase == "train":
                net.train()
            else:
                net.eval()
            loss_sum, hit_count, sample_count = 0.0, 0, 0
            for images, targets in loaders[phase]:
                images, targets = images.to(device), targets.to(device)
                optimizer.zero_grad()
                with torch.set_grad_enabled(phase == "train"):
                    logits = net(images)
                    predictions = logits.argmax(dim=1)
                    loss = criterion(logits, targets)
                    if phase == "train":
                        loss.backward()
                        optimizer.step()
                loss_sum += loss.item() * images.size(0)
                hit_count += torch.sum(predictions == targets)
                sample_count += images.size(0)
            if phase == "train":
                scheduler.step()
            accuracy = hit_count.double() / sample_count
            print(f"epoch {epoch} {phase}: loss {loss_sum / sample_count:.4f} acc {accuracy:.4f}")
            if phase == "val" and accuracy > best_accuracy:
                best_accuracy = accuracy
                best_state = copy.deepcopy(net.state_dict())
    print(f"finished in {time.time() - started:.0f}s; best val acc {best_accuracy:.4f}")
    net.load_state_dict(best_state)
    return net
