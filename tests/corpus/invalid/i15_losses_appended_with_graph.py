"""Models a training step that appends undetached losses to a list for epoch statistics.

Real bug: TRI-ML/packnet-sfm PR #51 ("Detach loss before appending it to the training output
list") and IBM/mi-prometheus issue #111; the list keeps every step's graph alive until the
epoch ends. Reported at the ``append``. Original code.
"""

import torch
import torch.nn as nn


class DepthNet(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.encoder = nn.Sequential(nn.Conv2d(3, 32, 3, padding=1), nn.BatchNorm2d(32), nn.ReLU())
        self.decoder = nn.Sequential(nn.Conv2d(32, 1, 3, padding=1), nn.Sigmoid())

    def forward(self, image):
        return self.decoder(self.encoder(image))


def photometric_loss(depth, image, context):
    return (depth * (image - context).abs().mean(1, keepdim=True)).mean()


def train_epoch(model, loader, optimizer, epoch):
    model.train()
    outputs = []
    for image, context in loader:
        optimizer.zero_grad()
        depth = model(image)
        loss = photometric_loss(depth, image, context)
        loss.backward()
        optimizer.step()
        outputs.append(loss)  # expect: TM204
    avg_loss = torch.stack(outputs).mean()
    print(f"epoch {epoch}: avg loss {avg_loss.item():.4f}")
    return avg_loss.item()


def main(loader, epochs=20):
    model = DepthNet()
    optimizer = torch.optim.Adam(model.parameters(), lr=2e-4)
    history = [train_epoch(model, loader, optimizer, epoch) for epoch in range(epochs)]
    torch.save(model.state_dict(), "depth.ckpt")
    return history
