import torch
import torch.nn as nn

from attack import robust_loss


class SmallNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.features = nn.Sequential(nn.Conv2d(1, 16, 3), nn.BatchNorm2d(16), nn.ReLU())
        self.head = nn.Sequential(nn.Flatten(), nn.Dropout(0.3), nn.LazyLinear(10))

    def forward(self, x):
        return self.head(self.features(x))


def train_epoch(model, loader, optimizer):
    model.train()
    for images, labels in loader:
        optimizer.zero_grad()
        loss = robust_loss(model, images, labels, optimizer)
        loss.backward()
        optimizer.step()


def main(train_loader, epochs=10):
    model = SmallNet()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    for _ in range(epochs):
        train_epoch(model, train_loader, optimizer)
    return model
