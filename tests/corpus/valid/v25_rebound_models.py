"""Models scripts that re-bind the model name after an ``eval()`` (compile, DataParallel, reload).

Patterns from karpathy/nanoGPT train.py (``model = torch.compile(model)``, ``model = DDP(model)``
after setup), facebookresearch/moco main_lincls.py (``model = torch.nn.DataParallel(model)``)
and pytorch/examples word_language_model/main.py (``model = torch.load(f)`` before the final
test). A sanity check runs the pretrained weights in eval first; the name is then bound to a
fresh object that is put in train mode. Original code.
"""

import torch
import torch.nn as nn
import torchvision


def sanity_check(model, loader):
    with torch.no_grad():
        images, labels = next(iter(loader))
        return (model(images).argmax(1) == labels).float().mean().item()


def main(train_loader, val_loader, epochs=10, use_compile=True):
    model = torchvision.models.resnet34(weights="IMAGENET1K_V1")
    model.eval()
    print("pretrained top-1 on one batch:", sanity_check(model, val_loader))

    model = torchvision.models.resnet34(weights="IMAGENET1K_V1")
    model.fc = nn.Linear(model.fc.in_features, 100)
    if torch.cuda.device_count() > 1:
        model = nn.DataParallel(model)
    if use_compile:
        model = torch.compile(model)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    criterion = nn.CrossEntropyLoss()

    for epoch in range(epochs):
        model.train()
        for images, labels in train_loader:
            optimizer.zero_grad()
            loss = criterion(model(images), labels)
            loss.backward()
            optimizer.step()
        print(f"epoch {epoch} done, last loss {loss.item():.3f}")
    torch.save(model, "finetuned.pt")

    model = torch.load("finetuned.pt", weights_only=False)
    model.eval()
    print("final batch accuracy:", sanity_check(model, val_loader))
