"""Models loss bookkeeping done right: ``.item()``, ``.detach()`` and metric tensors without grad.

Pattern from pytorch/tutorials knowledge_distillation_tutorial.py (``running_loss +=
loss.item()``), stable-baselines3 ppo.py (``pg_losses.append(policy_loss.item())``), the
transfer-learning tutorial (``running_corrects += torch.sum(preds == labels)``) and Ray /
packnet-sfm fixes that append ``loss.detach()``. Original code.
"""

import torch
import torch.nn as nn


def train(model, loader, optimizer, epochs, device):
    criterion = nn.CrossEntropyLoss()
    history = []
    for epoch in range(epochs):
        model.train()
        running_loss = 0.0
        step_losses = []
        detached = []
        correct = torch.zeros((), device=device)
        seen = 0
        total = torch.zeros((), device=device)
        for inputs, labels in loader:
            inputs, labels = inputs.to(device), labels.to(device)
            optimizer.zero_grad()
            outputs = model(inputs)
            loss = criterion(outputs, labels)
            loss.backward()
            optimizer.step()

            running_loss += loss.item()
            step_losses.append(loss.item())
            detached.append(loss.detach())
            total += loss.detach() * inputs.size(0)
            correct += (outputs.argmax(1) == labels).sum()
            seen += inputs.size(0)
        mean_loss = torch.stack(detached).mean().item()
        history.append(
            {
                "epoch": epoch,
                "loss": running_loss / len(loader),
                "loss_check": mean_loss,
                "weighted": (total / seen).item(),
                "accuracy": (correct / seen).item(),
                "worst_step": max(step_losses),
            }
        )
    return history
