"""Train the point-cloud completion network with the Chamfer distance."""

import argparse

from shapecomp.chamfer_runner import ChamferRunner
from shapecomp.data import shapenet_loader

if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--root", default="data/shapenet")
    parser.add_argument("--device", default="cuda")
    parser.add_argument("--n-points", type=int, default=2048)
    parser.add_argument("--lr", type=float, default=1e-4)
    parser.add_argument("--epochs", type=int, default=100)
    cfg = parser.parse_args()
    ChamferRunner(cfg).run(shapenet_loader(cfg.root), cfg.epochs)
