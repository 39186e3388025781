"""Log-mel frames and their tags, from the corpus' manifest files."""

import torch
from torch.utils.data import DataLoader, TensorDataset


def make_loaders(cfg):
    train = torch.load(f"{cfg.data}/train.pt")
    dev = torch.load(f"{cfg.data}/dev.pt")
    return (
        DataLoader(TensorDataset(train["mels"], train["tags"]), batch_size=32, shuffle=True),
        DataLoader(TensorDataset(dev["mels"], dev["tags"]), batch_size=64),
    )
