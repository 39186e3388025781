"""Models a stand-alone inference script that loads weights but never calls ``model.eval()``.

Real bug reports: rsommerfeld/trocr issue #9 and the forum staple "predictions differ on every
run" — ``load_state_dict`` does not change the mode and a freshly built module is in train
mode, so Dropout stays active even under ``no_grad``. Reported at the first forward call.
Original code.
"""

import argparse

import torch
import torch.nn as nn
from torchvision import datasets, transforms


class Classifier(nn.Module):
    def __init__(self, classes: int = 10) -> None:
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(3, 32, 3, padding=1), nn.BatchNorm2d(32), nn.ReLU(), nn.MaxPool2d(2)
        )
        self.classifier = nn.Sequential(nn.Flatten(), nn.Dropout(0.5), nn.Linear(32 * 16 * 16, classes))

    def forward(self, x):
        return self.classifier(self.features(x))


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--weights", default="classifier.pt")
    parser.add_argument("--data", default="./data")
    args = parser.parse_args()

    model = Classifier()
    model.load_state_dict(torch.load(args.weights, map_location="cpu"))
    dataset = datasets.CIFAR10(args.data, train=False, transform=transforms.ToTensor())
    loader = torch.utils.data.DataLoader(dataset, batch_size=256)

    predictions = []
    with torch.no_grad():
        for images, _ in loader:
            logits = model(images)  # expect: TM102
            predictions.append(logits.argmax(1))
    predictions = torch.cat(predictions)
    accuracy = (predictions == torch.tensor(dataset.targets)).float().mean().item()
    print(f"accuracy {accuracy:.4f}")


if __name__ == "__main__":
    main()
