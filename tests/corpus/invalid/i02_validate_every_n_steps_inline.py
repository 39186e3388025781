"""Models the canonical "validate every N steps, never switch back" bug, eval inside the ``if``.

Real pattern: issue 2's canonical case (a widely read post about this bug) and
wkentaro/pytorch-fcn issue #57 / PR #56: ``model.train()`` only at the top of the epoch, an
in-loop validation calls ``model.eval()`` and the rest of the epoch trains in eval mode.
Original code.
"""

import torch
import torch.nn as nn


class TextClassifier(nn.Module):
    def __init__(self, vocab_size: int, dim: int = 256, classes: int = 4) -> None:
        super().__init__()
        self.embed = nn.EmbeddingBag(vocab_size, dim)
        self.dropout = nn.Dropout(0.5)
        self.fc = nn.Linear(dim, classes)

    def forward(self, tokens, offsets):
        return self.fc(self.dropout(self.embed(tokens, offsets)))


def train(model, train_loader, dev_loader, epochs=10, dev_every=500):
    criterion = nn.CrossEntropyLoss()
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    iterations = 0
    best_acc = 0.0
    for epoch in range(epochs):
        model.train()
        for tokens, offsets, labels in train_loader:
            iterations += 1
            optimizer.zero_grad()
            loss = criterion(model(tokens, offsets), labels)
            loss.backward()
            optimizer.step()

            if iterations % dev_every == 0:
                model.eval()  # expect: TM101
                correct = total = 0
                with torch.no_grad():
                    for dev_tokens, dev_offsets, dev_labels in dev_loader:
                        answer = model(dev_tokens, dev_offsets)
                        correct += (answer.argmax(1) == dev_labels).sum().item()
                        total += dev_labels.numel()
                acc = correct / total
                if acc > best_acc:
                    best_acc = acc
                    torch.save(model.state_dict(), "best.pt")
                print(f"epoch {epoch} iter {iterations}: loss {loss.item():.3f} dev acc {acc:.3f}")
    return best_acc
