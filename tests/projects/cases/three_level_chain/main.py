"""Fit a regressor on tabular features."""

import torch
import torch.nn as nn
from torch.utils.data import DataLoader, TensorDataset

from trainer.fit import fit


def make_model(n_features):
    return nn.Sequential(
        nn.Linear(n_features, 256),
        nn.BatchNorm1d(256),
        nn.ReLU(),
        nn.Dropout(0.2),
        nn.Linear(256, 1),
    )


if __name__ == "__main__":
    data = torch.load("features.pt")
    train_set = TensorDataset(data["x_train"], data["y_train"])
    val_set = TensorDataset(data["x_val"], data["y_val"])
    device = "cuda" if torch.cuda.is_available() else "cpu"
    model = make_model(data["x_train"].shape[1]).to(device)
    optimizer = torch.optim.AdamW(model.parameters(), lr=3e-4, weight_decay=1e-2)
    fit(
        model,
        optimizer,
        DataLoader(train_set, batch_size=256, shuffle=True),
        DataLoader(val_set, batch_size=1024),
        device,
    )
