"""Small PyTorch helpers shared by the training and evaluation code."""

import contextlib

import torch


def no_grad_when_possible():
    """``inference_mode`` where this PyTorch has it, else ``no_grad``; usable as a decorator."""
    if hasattr(torch, "inference_mode"):
        return torch.inference_mode()
    return torch.no_grad()


@contextlib.contextmanager
def evaluating(model):
    """Eval mode inside the block; the mode the model had before, after it."""
    was_training = model.training
    model.eval()
    try:
        yield model
    finally:
        model.train(was_training)


def count_parameters(model):
    return sum(p.numel() for p in model.parameters() if p.requires_grad)
