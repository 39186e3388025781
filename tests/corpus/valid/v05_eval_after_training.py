"""Models a script that trains first and only evaluates once training has finished.

Pattern from pytorch/tutorials beginner_source/basics/quickstart_tutorial.py (its final
"load and predict" cell) and pytorch/examples word_language_model/main.py (reload the best
checkpoint, then evaluate on the test set). Original code.
"""

import torch
import torch.nn as nn

CLASSES = ["cat", "dog", "bird", "frog"]


class SmallClassifier(nn.Module):
    def __init__(self, features: int = 64) -> None:
        super().__init__()
        self.body = nn.Sequential(nn.Linear(features, 128), nn.ReLU(), nn.Dropout(0.2))
        self.head = nn.Linear(128, len(CLASSES))

    def forward(self, x):
        return self.head(self.body(x))


def fit(model, loader, epochs=3):
    loss_fn = nn.CrossEntropyLoss()
    optimizer = torch.optim.SGD(model.parameters(), lr=1e-2)
    model.train()
    for _ in range(epochs):
        for features, labels in loader:
            loss = loss_fn(model(features), labels)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()


def run(train_loader, test_loader):
    model = SmallClassifier()
    fit(model, train_loader)
    torch.save(model.state_dict(), "classifier.pth")

    # Reload the weights into a fresh module and evaluate on the held-out data.
    model = SmallClassifier()
    model.load_state_dict(torch.load("classifier.pth"))
    model.eval()
    correct = 0
    with torch.no_grad():
        for features, labels in test_loader:
            correct += (model(features).argmax(1) == labels).sum().item()
    print("accuracy", correct / len(test_loader.dataset))

    sample, label = next(iter(test_loader))
    with torch.no_grad():
        guess = model(sample[:1]).argmax(1).item()
    print(f"predicted {CLASSES[guess]}, actual {CLASSES[label[0]]}")
