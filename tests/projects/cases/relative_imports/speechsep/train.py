"""python -m speechsep.train --data wsj0-2mix/"""

import argparse

import torch

from .evaluate import evaluate
from .losses import neg_si_sdr
from .models import ConvTasNet


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--data", required=True)
    parser.add_argument("--epochs", type=int, default=100)
    args = parser.parse_args()
    model = ConvTasNet()
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    train_loader, val_loader = torch.load(f"{args.data}/loaders.pt")
    for epoch in range(args.epochs):
        model.train()
        for mixture, sources in train_loader:
            loss = neg_si_sdr(torch.stack(model(mixture), 1), sources)
            optimizer.zero_grad()
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 5.0)
            optimizer.step()
        print(f"epoch {epoch}: val SI-SDR {-evaluate(model, val_loader):.2f} dB")


if __name__ == "__main__":
    main()
