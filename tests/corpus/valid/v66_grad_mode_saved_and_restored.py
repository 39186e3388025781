"""Models code that saves ``torch.is_grad_enabled()``, switches autograd globally, and restores it.

The grad-mode twin of ``was_training``: ``prev_grad = torch.is_grad_enabled();
torch.set_grad_enabled(False); try: ... finally: torch.set_grad_enabled(prev_grad)`` — the shape
of ``_use_grad_for_differentiable`` in pytorch/pytorch torch/optim/optimizer.py and of many
evaluators found by a code search for ``torch.set_grad_enabled(prev_grad`` (one also restores
``policy.train()`` from a saved ``training`` flag), plus home-made context managers built with
``contextlib.contextmanager``. Training after these calls keeps its graph. Original code.
"""

import contextlib
import functools

import torch
import torch.nn.functional as F


def with_grad_mode(enabled):
    def decorate(fn):
        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            prev_grad = torch.is_grad_enabled()
            try:
                torch.set_grad_enabled(enabled)
                return fn(*args, **kwargs)
            finally:
                torch.set_grad_enabled(prev_grad)

        return wrapper

    return decorate


@contextlib.contextmanager
def grad_mode(enabled):
    prev_grad_state = torch.is_grad_enabled()
    torch.set_grad_enabled(enabled)
    try:
        yield
    finally:
        torch.set_grad_enabled(prev_grad_state)


def evaluate_policy(policy, episodes):
    training_state = policy.training
    policy.eval()
    prev_grad = torch.is_grad_enabled()
    torch.set_grad_enabled(False)
    try:
        returns = [sum(policy(obs).max(dim=-1).values.sum().item() for obs in episode) for episode in episodes]
    finally:
        torch.set_grad_enabled(prev_grad)
        if training_state:
            policy.train()
    return sum(returns) / len(returns)


@with_grad_mode(False)
def feature_bank(encoder, loader):
    encoder.eval()
    return torch.cat([encoder(x) for x, _ in loader])


def train(policy, encoder, loader, episodes, epochs=20):
    optimizer = torch.optim.Adam(list(policy.parameters()) + list(encoder.parameters()), lr=3e-4)
    for epoch in range(epochs):
        policy.train()
        encoder.train()
        for x, y in loader:
            optimizer.zero_grad()
            loss = F.cross_entropy(policy(encoder(x)), y)
            loss.backward()
            optimizer.step()
        score = evaluate_policy(policy, episodes)
        bank = feature_bank(encoder, loader)
        with grad_mode(False):
            drift = (encoder(next(iter(loader))[0]) - bank[:1]).norm().item()
        print(epoch, score, drift)
