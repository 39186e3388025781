"""Sentiment classification with an LSTM; the loops are closures over main()'s model."""

import argparse

import torch
import torch.nn as nn


class SentimentLSTM(nn.Module):
    def __init__(self, vocab_size, embed_dim=128, hidden=256):
        super().__init__()
        self.embed = nn.Embedding(vocab_size, embed_dim, padding_idx=0)
        self.lstm = nn.LSTM(embed_dim, hidden, batch_first=True)
        self.drop = nn.Dropout(0.3)
        self.head = nn.Linear(hidden, 2)

    def forward(self, tokens):
        _, (h, _) = self.lstm(self.embed(tokens))
        return self.head(self.drop(h[-1]))


def load_split(path):
    data = torch.load(path)
    return torch.utils.data.DataLoader(data, batch_size=32, shuffle=path.endswith("train.pt"))


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--data", default="data")
    parser.add_argument("--epochs", type=int, default=5)
    args = parser.parse_args()

    train_loader = load_split(f"{args.data}/train.pt")
    val_loader = load_split(f"{args.data}/val.pt")
    model = SentimentLSTM(vocab_size=30000)
    criterion = nn.CrossEntropyLoss()
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)

    def train():
        model.train()
        total = 0.0
        for tokens, labels in train_loader:
            optimizer.zero_grad()
            loss = criterion(model(tokens), labels)
            loss.backward()
            nn.utils.clip_grad_norm_(model.parameters(), 5.0)
            optimizer.step()
            total += loss.item()
        return total / len(train_loader)

    def validate():
        model.eval()
        hits = 0
        for tokens, labels in val_loader:
            logits = model(tokens)
            hits += (logits.argmax(-1) == labels).sum().item()
        return hits / len(val_loader.dataset)

    best = 0.0
    for epoch in range(args.epochs):
        loss = train()
        acc = validate()
        print(f"epoch {epoch}: train loss {loss:.3f}, val acc {acc:.3f}")
        if acc > best:
            best = acc
            torch.save(model.state_dict(), "best.pt")


if __name__ == "__main__":
    main()
