"""Models inference scripts whose model comes out of a loader function already in eval mode.

Pattern from pytorch/tutorials beginner_source/saving_loading_models.py ("remember that you must
call model.eval() ... before running inference") as packaged in real inference code: a
``load_model(path)`` factory that builds, loads the state dict, calls ``eval()`` and returns the
module, used by ``infer()`` helpers under ``torch.no_grad()``; TorchScript and fully pickled
modules get their own ``eval()`` after ``torch.jit.load`` / ``torch.load``. Original code.
"""

import torch
import torch.nn as nn


class TabularNet(nn.Module):
    def __init__(self, features: int = 16, classes: int = 4) -> None:
        super().__init__()
        self.body = nn.Sequential(
            nn.Linear(features, 32), nn.BatchNorm1d(32), nn.ReLU(), nn.Dropout(0.3), nn.Linear(32, classes)
        )

    def forward(self, x):
        return self.body(x)


def load_model(path, device="cpu"):
    model = TabularNet()
    model.load_state_dict(torch.load(path, map_location=device))
    model.to(device)
    model.eval()
    return model


def infer(model, batches):
    with torch.no_grad():
        return torch.cat([model(x).argmax(dim=1) for x in batches])


def load_scripted(path):
    scripted = torch.jit.load(path, map_location="cpu")
    scripted.eval()
    return scripted


def main(state_dict_path, scripted_path, pickled_path, batches):
    model = load_model(state_dict_path)
    predictions = infer(model, batches)
    scripted = load_scripted(scripted_path)
    scripted_predictions = infer(scripted, batches)
    pickled = torch.load(pickled_path, weights_only=False)
    pickled.eval()
    with torch.inference_mode():
        pickled_predictions = torch.cat([pickled(x).argmax(dim=1) for x in batches])
    agreement = (predictions == scripted_predictions).float().mean().item()
    print(f"agreement {agreement:.3f}", (predictions == pickled_predictions).float().mean().item())
