"""Models an old-style NMT trainer: a module-level ``eval()`` function, an optimizer wrapper class.

Pattern from pytorch/examples OpenNMT/train.py: ``def eval(model, criterion, data)`` (shadowing
the builtin) calls ``model.eval()`` and ends with ``model.train()``; the epoch loop calls
``eval(model, criterion, validData)``; gradients are cleared with ``model.zero_grad()``; the
generator loss is computed in shards on detached decoder outputs and pushed back with
``outputs.backward(grad_output)``; ``optim.step()`` is a wrapper that clips and steps.
Original code.
"""

import math

import torch
import torch.nn as nn


class Optim:
    def __init__(self, params, lr=1.0, max_grad_norm=5.0):
        self.params = list(params)
        self.optimizer = torch.optim.SGD(self.params, lr=lr)
        self.max_grad_norm = max_grad_norm

    def step(self):
        grad_norm = nn.utils.clip_grad_norm_(self.params, self.max_grad_norm)
        self.optimizer.step()
        return grad_norm


def memory_efficient_loss(outputs, targets, generator, criterion, evaluation=False, shard=32):
    outputs_detached = outputs.detach().requires_grad_(not evaluation)
    total = 0.0
    for out_t, targ_t in zip(outputs_detached.split(shard), targets.split(shard)):
        scores = generator(out_t.reshape(-1, out_t.size(-1)))
        loss_t = criterion(scores, targ_t.reshape(-1))
        total += loss_t.item()
        if not evaluation:
            loss_t.backward()
    return total, outputs_detached.grad


def eval(model, criterion, data):
    total_loss, total_words = 0.0, 0
    model.eval()
    with torch.no_grad():
        for src, tgt in data:
            outputs = model(src, tgt[:, :-1])
            targets = tgt[:, 1:]
            loss, _ = memory_efficient_loss(outputs, targets, model.generator, criterion, evaluation=True)
            total_loss += loss
            total_words += targets.ne(0).sum().item()
    model.train()
    return total_loss / total_words


def train_model(model, train_data, valid_data, epochs=13):
    optim = Optim(model.parameters())
    criterion = nn.NLLLoss(ignore_index=0, reduction="sum")
    model.train()
    for epoch in range(1, epochs + 1):
        total_loss, total_words = 0.0, 0
        for src, tgt in train_data:
            model.zero_grad()
            outputs = model(src, tgt[:, :-1])
            targets = tgt[:, 1:]
            loss, grad_output = memory_efficient_loss(outputs, targets, model.generator, criterion)
            outputs.backward(grad_output)
            optim.step()
            total_loss += loss
            total_words += targets.ne(0).sum().item()
        valid_loss = eval(model, criterion, valid_data)
        print(f"epoch {epoch}: train ppl {math.exp(total_loss / total_words):.2f} valid ppl {math.exp(valid_loss):.2f}")
