"""Models a linear-probe protocol that trains the classifier with the *whole* model in eval mode.

Pattern from facebookresearch/moco main_lincls.py: every parameter except ``fc`` is frozen with
``requires_grad = False``, the optimizer only receives the trainable parameters, and train()
deliberately calls ``model.eval()`` ("BatchNorm in train mode may revise running mean/std")
before its backward/step loop. Intentional; no mode leak. Original code.
"""

import torch
import torch.nn as nn
import torchvision.models as models


def build_probe(arch="resnet50", num_classes=1000):
    model = models.__dict__[arch]()
    for name, param in model.named_parameters():
        if name not in ("fc.weight", "fc.bias"):
            param.requires_grad = False
    model.fc.weight.data.normal_(mean=0.0, std=0.01)
    model.fc.bias.data.zero_()
    return model


def train(loader, model, criterion, optimizer, epoch):
    # Linear classification on frozen features: BatchNorm statistics must not change,
    # so the whole network stays in eval mode while the linear layer is optimised.
    model.eval()
    for i, (images, target) in enumerate(loader):
        output = model(images)
        loss = criterion(output, target)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        if i % 100 == 0:
            print(f"epoch {epoch} [{i}/{len(loader)}] loss {loss.item():.4f}")


def validate(loader, model, criterion):
    model.eval()
    correct, total = 0, 0
    with torch.no_grad():
        for images, target in loader:
            output = model(images)
            correct += (output.argmax(1) == target).sum().item()
            total += target.size(0)
    return 100.0 * correct / total


def main(train_loader, val_loader, epochs=100, lr=30.0):
    model = build_probe()
    criterion = nn.CrossEntropyLoss()
    parameters = [p for p in model.parameters() if p.requires_grad]
    assert len(parameters) == 2  # fc.weight, fc.bias
    optimizer = torch.optim.SGD(parameters, lr, momentum=0.9, weight_decay=0.0)
    best_acc1 = 0.0
    for epoch in range(epochs):
        train(train_loader, model, criterion, optimizer, epoch)
        best_acc1 = max(best_acc1, validate(val_loader, model, criterion))
    return best_acc1
