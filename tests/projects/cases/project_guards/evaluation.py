"""Accuracy of a keyword-spotting model over a loader."""

from utils.torch_tools import no_grad_when_possible


@no_grad_when_possible()
def evaluate(model, loader, device):
    correct = total = 0
    for waveform, label in loader:
        logits = model(waveform.to(device))
        correct += (logits.argmax(-1).cpu() == label).sum().item()
        total += label.numel()
    return correct / max(total, 1)
