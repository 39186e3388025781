"""Frame accuracy of a tagger on held-out recordings."""

import torch

from speechtag.system import TaggerSystem


def frame_accuracy(system, loader):
    system.inference_mode()
    correct, total = 0, 0
    with torch.no_grad():
        for mels, tags in loader:
            predicted = system.logits(mels).argmax(dim=1)
            correct += (predicted == tags).sum().item()
            total += tags.numel()
    return correct / max(total, 1)


def score_checkpoint(cfg, path, loader):
    system = TaggerSystem(cfg)
    state = torch.load(path)
    system.encoder.load_state_dict(state["encoder"])
    system.classifier.load_state_dict(state["classifier"])
    return frame_accuracy(system, loader)
