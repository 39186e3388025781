"""Train the detector and log the mean of each loss term per epoch."""

import torch

from det.steps import detection_losses


def train(model, loader, optimizer, epochs):
    model.train()
    for epoch in range(epochs):
        class_total, box_total = 0.0, 0.0
        for images, targets in loader:
            losses = detection_losses(model, images, targets)
            class_loss, box_loss = losses
            optimizer.zero_grad()
            (class_loss + box_loss).backward()
            optimizer.step()
            class_total += class_loss
            box_total += box_loss
        print(f"epoch {epoch}: class {class_total / len(loader):.3f} box {box_total / len(loader):.3f}")


if __name__ == "__main__":
    net = torch.load("detector.pt")
    train(net, torch.load("loader.pt"), torch.optim.SGD(net.parameters(), lr=0.01), 12)
