"""Run from the repository: python tools/train.py --data coco/"""

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

import torch  # noqa: E402

from detector.engine import train_one_epoch, validate  # noqa: E402
from detector.model import KeypointNet  # noqa: E402


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--data", required=True)
    parser.add_argument("--epochs", type=int, default=140)
    args = parser.parse_args()
    device = torch.device("cuda")
    model = KeypointNet().to(device)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    scaler = torch.cuda.amp.GradScaler()
    train_loader, val_loader = torch.load(Path(args.data) / "loaders.pt")
    for epoch in range(args.epochs):
        train_one_epoch(model, train_loader, optimizer, scaler, device)
        score = validate(model, val_loader, device)
        print(f"epoch {epoch}: PCK {score:.3f}")


if __name__ == "__main__":
    main()
