import torch.nn as nn


class Classifier(nn.Module):
    def __init__(self, features=16, classes=3):
        super().__init__()
        self.body = nn.Sequential(nn.Linear(features, 32), nn.Dropout(0.2), nn.Linear(32, classes))

    def forward(self, x):
        return self.body(x)
