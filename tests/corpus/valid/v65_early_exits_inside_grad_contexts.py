"""Models evaluation helpers that leave ``no_grad`` / ``inference_mode`` blocks early.

Real helpers return, break, continue or raise from inside the ``with`` block — the
transfer-learning tutorial's ``visualize_model`` returns from inside ``with torch.no_grad()``
(pytorch/tutorials beginner_source/transfer_learning_tutorial.py), the detection
``reduce_dict`` helpers (copied from pytorch/vision references/detection/utils.py) build their
result inside ``torch.no_grad()`` / ``torch.inference_mode()`` for logging, and data-loading
helpers ``yield`` from inside one. The context manager restores the previous grad mode on every
exit, so the training that follows keeps its graph. Original code.
"""

import torch
import torch.nn.functional as F


def first_confident_prediction(model, loader, threshold=0.9):
    model.eval()
    with torch.no_grad():
        for images, _ in loader:
            probs = model(images).softmax(dim=1)
            confident = probs.max(dim=1).values > threshold
            if confident.any():
                return probs[confident][0]
    return None


def logging_copy(terms):
    with torch.inference_mode():
        return {name: value.detach().float().mean() for name, value in terms.items()}


def count_until_error(model, loader, max_batches=10):
    model.eval()
    seen = 0
    with torch.no_grad():
        for i, (images, _) in enumerate(loader):
            if i >= max_batches:
                break
            if not torch.isfinite(images).all():
                continue
            model(images)
            seen += 1
    return seen


def checked_forward(model, images):
    try:
        with torch.no_grad():
            out = model(images)
            if not torch.isfinite(out).all():
                raise FloatingPointError("non-finite logits")
    except FloatingPointError:
        return None
    return out


def embeddings(model, loader):
    model.eval()
    with torch.no_grad():
        for images, _ in loader:
            yield model(images)


def train(model, loader, val_loader, epochs=10):
    optimizer = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
    for epoch in range(epochs):
        first_confident_prediction(model, val_loader)
        count_until_error(model, val_loader)
        bank = torch.cat(list(embeddings(model, val_loader)))
        model.train()
        for images, labels in loader:
            logits = model(images)
            loss = F.cross_entropy(logits, labels)
            stats = logging_copy({"loss": loss, "logit_norm": logits.norm(dim=1)})
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
        checked_forward(model, images)
        print(epoch, bank.shape, {name: value.item() for name, value in stats.items()})
