"""Models a language-model loop that updates parameters by hand instead of an optimizer.

Pattern from pytorch/examples word_language_model/main.py: ``model.zero_grad()``, backward,
``clip_grad_norm_``, then ``p.data.add_(p.grad, alpha=-lr)`` for every parameter; hidden states
are detached between batches; the running loss is kept with ``.item()``; evaluate() runs under
no_grad and sums ``len(data) * loss.item()``. Original code.
"""

import math

import torch
import torch.nn as nn


def detach_hidden(hidden):
    if isinstance(hidden, torch.Tensor):
        return hidden.detach()
    return tuple(detach_hidden(h) for h in hidden)


def evaluate(model, source, criterion, bptt, get_batch):
    model.eval()
    total_loss = 0.0
    hidden = model.init_hidden(source.size(1))
    with torch.no_grad():
        for i in range(0, source.size(0) - 1, bptt):
            data, targets = get_batch(source, i)
            output, hidden = model(data, hidden)
            total_loss += len(data) * criterion(output.view(-1, output.size(-1)), targets).item()
            hidden = detach_hidden(hidden)
    return total_loss / (len(source) - 1)


def train_epoch(model, train_data, criterion, lr, bptt, clip, get_batch, log_interval=200):
    model.train()
    total_loss = 0.0
    hidden = model.init_hidden(train_data.size(1))
    for batch, i in enumerate(range(0, train_data.size(0) - 1, bptt)):
        data, targets = get_batch(train_data, i)
        hidden = detach_hidden(hidden)
        model.zero_grad()
        output, hidden = model(data, hidden)
        loss = criterion(output.view(-1, output.size(-1)), targets)
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), clip)
        for p in model.parameters():
            p.data.add_(p.grad, alpha=-lr)
        total_loss += loss.item()
        if batch % log_interval == 0 and batch > 0:
            cur = total_loss / log_interval
            print(f"batch {batch} lr {lr:.2f} loss {cur:.2f} ppl {math.exp(cur):.1f}")
            total_loss = 0.0


def main(model, train_data, val_data, get_batch, epochs=40, lr=20.0):
    criterion = nn.NLLLoss()
    best = None
    for epoch in range(1, epochs + 1):
        train_epoch(model, train_data, criterion, lr, 35, 0.25, get_batch)
        val_loss = evaluate(model, val_data, criterion, 35, get_batch)
        print(f"epoch {epoch} valid ppl {math.exp(val_loss):.2f}")
        if best is None or val_loss < best:
            best = val_loss
        else:
            lr /= 4.0
