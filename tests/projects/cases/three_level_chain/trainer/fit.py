"""The training loop: one pass over the data per epoch, validated after each."""

import torch.nn.functional as F

from .evaluation import evaluate


def fit(model, optimizer, train_loader, val_loader, device, epochs=30):
    history = []
    for epoch in range(epochs):
        model.train()
        for features, target in train_loader:
            features, target = features.to(device), target.to(device)
            optimizer.zero_grad()
            loss = F.mse_loss(model(features), target)
            loss.backward()
            optimizer.step()
        metrics = evaluate(model, val_loader, device)
        history.append(metrics)
        print(f"epoch {epoch}: val mse {metrics['mse']:.4f}")
    return history
