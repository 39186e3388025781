"""Models fine-tuning a head on a frozen pretrained backbone kept in eval mode on purpose.

Pattern from pytorch/tutorials transfer_learning_tutorial.py ("ConvNet as fixed feature
extractor") and open-mmlab style frozen stages: the backbone gets ``requires_grad_(False)`` and
``eval()`` (BatchNorm statistics must not drift), only the head trains. Original code.
"""

import torch
import torch.nn as nn
import torchvision


class ProbeModel(nn.Module):
    def __init__(self, num_classes: int) -> None:
        super().__init__()
        backbone = torchvision.models.resnet50(weights="IMAGENET1K_V2")
        backbone.fc = nn.Identity()
        self.backbone = backbone
        self.head = nn.Sequential(nn.Dropout(0.1), nn.Linear(2048, num_classes))

    def forward(self, x):
        return self.head(self.backbone(x))


def train_probe(train_loader, val_loader, num_classes, epochs=20, device="cuda"):
    model = ProbeModel(num_classes).to(device)
    model.backbone.requires_grad_(False)
    optimizer = torch.optim.SGD(model.head.parameters(), lr=0.1, momentum=0.9)
    criterion = nn.CrossEntropyLoss()

    for epoch in range(epochs):
        model.train()
        model.backbone.eval()  # frozen: keep BatchNorm running statistics fixed
        for images, labels in train_loader:
            images, labels = images.to(device), labels.to(device)
            logits = model(images)
            loss = criterion(logits, labels)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()

        model.eval()
        correct = 0
        with torch.no_grad():
            for images, labels in val_loader:
                logits = model(images.to(device))
                correct += (logits.argmax(1).cpu() == labels).sum().item()
        print(f"epoch {epoch}: val acc {correct / len(val_loader.dataset):.3f}")
    return model
