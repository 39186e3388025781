"""Models an evaluation loop without no_grad that also sums the loss tensor across batches.

Real bug: facebookarchive/loop issue #57 ("Out of memory in validation step") and the
ResNet-50 measurement in design.md §3a: every batch's activations stay alive because
``total_loss += loss`` keeps each graph. TM201 at the first forward, TM204 at the
accumulation. Original code.
"""

import torch
import torch.nn as nn


class SpeakerModel(nn.Module):
    def __init__(self, n_mels: int = 80, speakers: int = 100) -> None:
        super().__init__()
        self.rnn = nn.GRU(n_mels, 256, num_layers=2, batch_first=True, dropout=0.2)
        self.proj = nn.Linear(256, speakers)

    def forward(self, features):
        output, _ = self.rnn(features)
        return self.proj(output[:, -1])


def train(model, loader, optimizer, criterion):
    model.train()
    for features, speaker in loader:
        optimizer.zero_grad()
        loss = criterion(model(features), speaker)
        loss.backward()
        optimizer.step()


def evaluate(model, loader, criterion):
    model.eval()
    total_loss = 0
    for features, speaker in loader:
        output = model(features)  # expect: TM201
        loss = criterion(output, speaker)
        total_loss += loss  # expect: TM204
    return total_loss.item() / len(loader)


def main(train_loader, valid_loader, epochs=50):
    model = SpeakerModel()
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    criterion = nn.CrossEntropyLoss()
    for epoch in range(epochs):
        train(model, train_loader, optimizer, criterion)
        print(f"epoch {epoch}: valid loss {evaluate(model, valid_loader, criterion):.4f}")
