"""Models an evaluation helper that turns autograd off globally and never turns it back on.

Real pattern: ``torch.set_grad_enabled(False)`` used as a statement (not a context manager) at
the top of an evaluation routine, without the matching ``torch.set_grad_enabled(True)``; the
first epoch trains, the evaluation flips the global switch, and the next epoch's
``loss.backward()`` raises "element 0 of tensors does not require grad" — the symptom reported
in pykeen/pykeen issue #571 right after an evaluation round. Reported at ``backward()``.
Original code.
"""

import torch
import torch.nn as nn
import torch.nn.functional as F


class KGEModel(nn.Module):
    def __init__(self, num_entities: int, num_relations: int, dim: int = 200) -> None:
        super().__init__()
        self.entities = nn.Embedding(num_entities, dim)
        self.relations = nn.Embedding(num_relations, dim)
        self.dropout = nn.Dropout(0.2)

    def forward(self, heads, relations):
        query = self.dropout(self.entities(heads) * self.relations(relations))
        return query @ self.entities.weight.t()


def evaluate(model, loader, k=10):
    torch.set_grad_enabled(False)
    model.eval()
    hits = total = 0
    for heads, relations, tails in loader:
        scores = model(heads, relations)
        hits += (scores.topk(k, dim=1).indices == tails[:, None]).any(dim=1).sum().item()
        total += tails.numel()
    return hits / total


def train(model, train_loader, valid_loader, epochs=100, eval_every=10):
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    for epoch in range(epochs):
        model.train()
        for heads, relations, tails in train_loader:
            optimizer.zero_grad()
            loss = F.cross_entropy(model(heads, relations), tails, label_smoothing=0.1)
            loss.backward()  # expect: TM202
            optimizer.step()
        if (epoch + 1) % eval_every == 0:
            print(f"epoch {epoch + 1}: hits@10 {evaluate(model, valid_loader):.4f}")
    return model
