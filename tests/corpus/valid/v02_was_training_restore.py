"""Models a visualisation helper that restores the caller's mode with ``model.train(mode=was_training)``.

Pattern from pytorch/tutorials beginner_source/transfer_learning_tutorial.py (visualize_model),
here called in the middle of training, including an early ``return`` that also restores the
mode. Original code.
"""

import torch
import torch.nn as nn
import torchvision


def show_predictions(model, loader, device, limit=6):
    was_training = model.training
    model.eval()
    shown = []
    with torch.no_grad():
        for images, labels in loader:
            scores = model(images.to(device))
            predicted = scores.argmax(dim=1).cpu()
            for label, guess in zip(labels.tolist(), predicted.tolist()):
                shown.append((label, guess))
                if len(shown) == limit:
                    model.train(mode=was_training)
                    return shown
    model.train(mode=was_training)
    return shown


def fine_tune(train_loader, val_loader, num_classes, epochs=10):
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    model = torchvision.models.resnet18(weights="IMAGENET1K_V1")
    model.fc = nn.Linear(model.fc.in_features, num_classes)
    model = model.to(device)
    criterion = nn.CrossEntropyLoss()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.001, momentum=0.9)

    model.train()
    for epoch in range(epochs):
        for step, (images, labels) in enumerate(train_loader):
            images, labels = images.to(device), labels.to(device)
            optimizer.zero_grad()
            loss = criterion(model(images), labels)
            loss.backward()
            optimizer.step()
            if step % 200 == 0:
                # peek at a few validation predictions without disturbing training
                print(epoch, step, loss.item(), show_predictions(model, val_loader, device))
    return model
