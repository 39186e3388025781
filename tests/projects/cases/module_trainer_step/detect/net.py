"""A small two-stage detector: a backbone, a proposal head and a box head."""

from torch import nn


class Detector(nn.Module):
    def __init__(self, num_classes: int):
        super().__init__()
        self.backbone = nn.Sequential(
            nn.Conv2d(3, 32, 3, padding=1), nn.BatchNorm2d(32), nn.ReLU()
        )
        self.proposals = nn.Conv2d(32, 9 * 5, 1)
        self.boxes = nn.Sequential(nn.Flatten(), nn.Dropout(0.2), nn.LazyLinear(num_classes * 5))

    def forward(self, images):
        features = self.backbone(images)
        return self.proposals(features), self.boxes(features)
