import torch

from .losses import neg_si_sdr


def evaluate(model, loader):
    model.eval()
    with torch.no_grad():
        losses = [
            neg_si_sdr(torch.stack(model(mixture), 1), sources).item()
            for mixture, sources in loader
        ]
    return sum(losses) / len(losses)
