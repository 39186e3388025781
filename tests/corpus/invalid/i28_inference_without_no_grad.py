"""Models a batch-prediction script that calls ``model.eval()`` but keeps autograd on.

Real pattern: the ``model.eval()`` vs ``torch.no_grad()`` confusion (pytorch/pytorch issue
#4932 "Model.eval() get more and more gpu memory", multimodallearning/pytorch-mask-rcnn issue
#59): eval() changes layer behaviour but every forward still records a graph. Reported at the
forward call. Original code.
"""

import argparse
import csv

import torch
import torchvision
from torchvision import transforms


def load_model(weights_path, num_classes):
    model = torchvision.models.efficientnet_b0(num_classes=num_classes)
    model.load_state_dict(torch.load(weights_path, map_location="cpu"))
    return model


def predict(model, loader, device):
    model.eval()
    rows = []
    for images, names in loader:
        logits = model(images.to(device))  # expect: TM201
        probabilities = logits.softmax(dim=1)
        confidence, label = probabilities.max(dim=1)
        rows.extend(zip(names, label.tolist(), confidence.tolist()))
    return rows


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--weights", required=True)
    parser.add_argument("--images", required=True)
    parser.add_argument("--classes", type=int, default=5)
    parser.add_argument("--out", default="predictions.csv")
    args = parser.parse_args()
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    tf = transforms.Compose([transforms.Resize(256), transforms.CenterCrop(224), transforms.ToTensor()])
    dataset = torchvision.datasets.ImageFolder(args.images, transform=tf)
    loader = torch.utils.data.DataLoader(dataset, batch_size=64)
    model = load_model(args.weights, args.classes).to(device)
    rows = predict(model, loader, device)
    with open(args.out, "w", newline="") as handle:
        csv.writer(handle).writerows(rows)


if __name__ == "__main__":
    main()
