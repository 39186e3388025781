"""Train the frame tagger, scoring it on the dev set after every epoch."""

import argparse

from speechtag.data import make_loaders
from speechtag.scoring import frame_accuracy
from speechtag.system import TaggerSystem


def run_epochs(system, train_loader, dev_loader, epochs):
    system.training_mode()
    best = 0.0
    for epoch in range(epochs):
        for mels, tags in train_loader:
            system.fit_batch(mels, tags)
        accuracy = frame_accuracy(system, dev_loader)
        best = max(best, accuracy)
        print(f"epoch {epoch}: dev frame accuracy {accuracy:.3f}")
    return best


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--n-mels", dest="n_mels", type=int, default=80)
    parser.add_argument("--hidden", type=int, default=256)
    parser.add_argument("--n-tags", dest="n_tags", type=int, default=40)
    parser.add_argument("--lr", type=float, default=1e-3)
    parser.add_argument("--epochs", type=int, default=20)
    parser.add_argument("--data", default="features")
    cfg = parser.parse_args()
    train_loader, dev_loader = make_loaders(cfg)
    system = TaggerSystem(cfg)
    run_epochs(system, train_loader, dev_loader, cfg.epochs)


if __name__ == "__main__":
    main()
