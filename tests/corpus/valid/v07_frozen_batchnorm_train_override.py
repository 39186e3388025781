"""Models a backbone that overrides ``train()`` to keep BatchNorm (and frozen stages) in eval.

Pattern from open-mmlab/mmdetection mmdet/models/backbones/resnet.py (``norm_eval`` and
``_freeze_stages`` re-applied every time ``train(mode)`` is called). The detector trains
normally; the override is what keeps the frozen parts in eval. Original code.
"""

import torch
import torch.nn as nn


class FrozenStemNet(nn.Module):
    def __init__(self, frozen_stages: int = 1, norm_eval: bool = True) -> None:
        super().__init__()
        self.frozen_stages = frozen_stages
        self.norm_eval = norm_eval
        self.stem = nn.Sequential(nn.Conv2d(3, 32, 3, 2, 1), nn.BatchNorm2d(32), nn.ReLU())
        self.stage1 = nn.Sequential(nn.Conv2d(32, 64, 3, 2, 1), nn.BatchNorm2d(64), nn.ReLU())
        self.stage2 = nn.Sequential(nn.Conv2d(64, 128, 3, 2, 1), nn.BatchNorm2d(128), nn.ReLU())
        self.classifier = nn.Linear(128, 10)

    def _freeze_stages(self) -> None:
        frozen = [self.stem, self.stage1][: self.frozen_stages + 1]
        for module in frozen:
            module.eval()
            for param in module.parameters():
                param.requires_grad = False

    def train(self, mode: bool = True):
        super().train(mode)
        self._freeze_stages()
        if mode and self.norm_eval:
            for module in self.modules():
                if isinstance(module, nn.BatchNorm2d):
                    module.eval()
        return self

    def forward(self, x):
        x = self.stage2(self.stage1(self.stem(x)))
        return self.classifier(x.mean(dim=(2, 3)))


def train_detector_backbone(loader, epochs=12):
    net = FrozenStemNet()
    params = [p for p in net.parameters() if p.requires_grad]
    optimizer = torch.optim.SGD(params, lr=0.02, momentum=0.9, weight_decay=1e-4)
    criterion = nn.CrossEntropyLoss()
    for _ in range(epochs):
        net.train()
        for images, labels in loader:
            optimizer.zero_grad()
            loss = criterion(net(images), labels)
            loss.backward()
            optimizer.step()
    return net
