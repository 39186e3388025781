"""Segment cell nuclei with a small U-Net."""

import torch
import torch.nn as nn

from loop import run_epoch


def block(cin, cout):
    return nn.Sequential(
        nn.Conv2d(cin, cout, 3, padding=1),
        nn.BatchNorm2d(cout),
        nn.ReLU(inplace=True),
        nn.Conv2d(cout, cout, 3, padding=1),
        nn.BatchNorm2d(cout),
        nn.ReLU(inplace=True),
    )


class TinyUNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.down1, self.down2 = block(3, 32), block(32, 64)
        self.up = nn.ConvTranspose2d(64, 32, 2, stride=2)
        self.dec = block(64, 32)
        self.out = nn.Conv2d(32, 1, 1)

    def forward(self, x):
        d1 = self.down1(x)
        d2 = self.down2(nn.functional.max_pool2d(d1, 2))
        return self.out(self.dec(torch.cat([self.up(d2), d1], dim=1)))


def main(train_loader, val_loader, epochs=40):
    device = "cuda" if torch.cuda.is_available() else "cpu"
    model = TinyUNet().to(device)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    best = 0.0
    for epoch in range(epochs):
        train_loss, _ = run_epoch(model, train_loader, optimizer, device, training=True)
        val_loss, val_dice = run_epoch(model, val_loader, optimizer, device, training=False)
        print(f"{epoch}: train {train_loss:.4f} val {val_loss:.4f} dice {val_dice:.4f}")
        if val_dice > best:
            best = val_dice
            torch.save(model.state_dict(), "unet_best.pt")


if __name__ == "__main__":
    from data import nuclei_loaders

    main(*nuclei_loaders("data/nuclei"))
