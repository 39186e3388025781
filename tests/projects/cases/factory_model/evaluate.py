import torch

from nets import counter, frozen_counter


def count_errors(loader, checkpoint):
    model = counter()
    model.load_state_dict(torch.load(checkpoint, map_location="cpu"))
    errors = []
    for images, counts in loader:
        with torch.no_grad():
            density = model(images)
        errors.append((density.sum() - counts.sum()).abs().item())
    return sum(errors) / len(errors)


def count_frozen(loader, checkpoint):
    model = frozen_counter(torch.load(checkpoint, map_location="cpu"))
    with torch.no_grad():
        return [model(images).sum().item() for images, _ in loader]
