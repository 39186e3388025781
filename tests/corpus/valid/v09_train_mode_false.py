"""Models code that switches modes through ``train(False)`` / ``train(mode=...)`` instead of ``eval()``.

``model.train(False)`` is documented as equivalent to ``model.eval()``; pytorch/tutorials
beginner_source/introyt/trainingyt.py alternates ``model.train(True)`` / ``model.train(False)``
and the transfer-learning tutorial restores with ``model.train(mode=was_training)``.
Original code.
"""

import torch
import torch.nn as nn


class Tagger(nn.Module):
    def __init__(self, vocab: int, tags: int, dim: int = 100) -> None:
        super().__init__()
        self.embed = nn.Embedding(vocab, dim)
        self.rnn = nn.LSTM(dim, dim, batch_first=True, bidirectional=True)
        self.drop = nn.Dropout(0.5)
        self.out = nn.Linear(2 * dim, tags)

    def forward(self, tokens):
        hidden, _ = self.rnn(self.embed(tokens))
        return self.out(self.drop(hidden))


def run_epoch(model, loader, criterion, optimizer=None):
    training = optimizer is not None
    model.train(mode=training)
    total = 0.0
    with torch.set_grad_enabled(training):
        for tokens, tags in loader:
            scores = model(tokens)
            loss = criterion(scores.flatten(0, 1), tags.flatten())
            if training:
                optimizer.zero_grad()
                loss.backward()
                optimizer.step()
            total += loss.item()
    return total / len(loader)


def main(train_loader, dev_loader, vocab, tags, epochs=15):
    model = Tagger(vocab, tags)
    criterion = nn.CrossEntropyLoss(ignore_index=0)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    for epoch in range(epochs):
        train_loss = run_epoch(model, train_loader, criterion, optimizer)
        dev_loss = run_epoch(model, dev_loader, criterion)
        print(f"epoch {epoch}: train {train_loss:.3f} dev {dev_loss:.3f}")
    model.train(False)
    with torch.no_grad():
        sample = next(iter(dev_loader))[0][:1]
        print(model(sample).argmax(-1))
    return model
