import torch
from torch import nn

from trainers.segmentation import SegmentationTrainer

if __name__ == "__main__":
    net = nn.Sequential(
        nn.Conv2d(3, 16, 3, padding=1),
        nn.BatchNorm2d(16),
        nn.ReLU(),
        nn.Conv2d(16, 1, 1),
    )
    opt = torch.optim.Adam(net.parameters(), lr=1e-3)
    trainer = SegmentationTrainer(net, opt, nn.BCEWithLogitsLoss(), ([], [], []), epochs=2)
    trainer.fit()
    trainer.test()
