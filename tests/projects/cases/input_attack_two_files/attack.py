"""Robust loss with an L2 attack that optimizes the perturbation with an optimizer of its own."""

import torch
import torch.nn.functional as F


def robust_loss(model, images, labels, optimizer, epsilon=0.5, steps=5):
    model.eval()
    delta = torch.zeros_like(images).normal_(0, 0.001).requires_grad_(True)
    delta_optimizer = torch.optim.SGD([delta], lr=2 * epsilon / steps)
    for _ in range(steps):
        delta_optimizer.zero_grad()
        attack_loss = -F.cross_entropy(model(images + delta), labels)
        attack_loss.backward()
        delta_optimizer.step()
        delta.data.renorm_(p=2, dim=0, maxnorm=epsilon)
    model.train()
    optimizer.zero_grad()
    adversarial = (images + delta).clamp(0, 1).detach()
    return F.cross_entropy(model(images), labels) + F.cross_entropy(model(adversarial), labels)
