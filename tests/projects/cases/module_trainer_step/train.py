"""Train the detector, logging the running mean of its losses."""

import torch
from torch.utils.data import DataLoader

from detect.net import Detector
from detect.trainer import DetectorTrainer


def fit_one_epoch(loader, epoch):
    total_loss = 0
    box_loss = 0
    for step, (images, targets) in enumerate(loader):
        losses = trainer.train_step(images, targets)
        proposal, box, total = losses
        total_loss += total
        box_loss += box
        if step % 50 == 0:
            print(f"epoch {epoch} step {step}: loss {total_loss / (step + 1):.4f}")
    return total_loss / len(loader)


if __name__ == "__main__":
    model = Detector(num_classes=21)
    model.train()
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-4)
    loader = DataLoader(torch.load("boxes.pt"), batch_size=2, shuffle=True)
    trainer = DetectorTrainer(model, optimizer)
    for epoch in range(30):
        fit_one_epoch(loader, epoch)
