"""Models ``optimizer.zero_grad()`` placed between ``backward()`` and ``step()``.

Real pattern: a recurring forum/StackOverflow report ("my model doesn't learn, loss stays
flat") after moving zero_grad "next to" the step; the step then sees all-zero (or None)
gradients. Reported at the ``zero_grad()`` call. Original code.
"""

import torch
import torch.nn as nn


class SentimentLSTM(nn.Module):
    def __init__(self, vocab: int, dim: int = 128) -> None:
        super().__init__()
        self.embedding = nn.Embedding(vocab, dim, padding_idx=0)
        self.lstm = nn.LSTM(dim, dim, batch_first=True)
        self.dropout = nn.Dropout(0.3)
        self.fc = nn.Linear(dim, 1)

    def forward(self, tokens):
        _, (hidden, _) = self.lstm(self.embedding(tokens))
        return self.fc(self.dropout(hidden[-1])).squeeze(-1)


def train(model, train_loader, valid_loader, epochs=10, clip=5.0):
    criterion = nn.BCEWithLogitsLoss()
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    for epoch in range(epochs):
        model.train()
        epoch_loss = 0.0
        for tokens, labels in train_loader:
            predictions = model(tokens)
            loss = criterion(predictions, labels.float())
            loss.backward()
            nn.utils.clip_grad_norm_(model.parameters(), clip)
            optimizer.zero_grad()  # expect: TM302
            optimizer.step()
            epoch_loss += loss.item()

        model.eval()
        correct = 0
        with torch.no_grad():
            for tokens, labels in valid_loader:
                correct += ((model(tokens) > 0).long() == labels).sum().item()
        print(f"epoch {epoch}: loss {epoch_loss / len(train_loader):.3f} acc {correct / len(valid_loader.dataset):.3f}")
