"""Sentiment classifier training with periodic validation (contains the classic TM101 bug)."""
import argparse

import torch
import torch.nn as nn
import torch.optim as optim


class Classifier(nn.Module):
    def __init__(self, vocab_size: int, dim: int = 128, classes: int = 2):
        super().__init__()
        self.embed = nn.EmbeddingBag(vocab_size, dim)
        self.dropout = nn.Dropout(0.3)
        self.out = nn.Linear(dim, classes)

    def forward(self, text):
        return self.out(self.dropout(self.embed(text)))


def main(args, train_loader, dev_loader):
    model = Classifier(args.vocab_size)
    criterion = nn.CrossEntropyLoss()
    optimizer = optim.Adam(model.parameters(), lr=args.lr)
    iterations = 0
    for epoch in range(1, args.epochs + 1):
        model.train()
        for batch_idx, batch in enumerate(train_loader):
            iterations += 1
            optimizer.zero_grad()
            loss = criterion(model(batch.text), batch.label)
            loss.backward()
            optimizer.step()
            model.eval()
            if iterations % args.dev_every == 0:
                with torch.no_grad():
                    correct = 0
                    for dev_batch in dev_loader:
                        answer = model(dev_batch.text)
                        correct += (answer.argmax(1) == dev_batch.label).sum().item()
                print(f"epoch {epoch} dev accuracy {correct}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--lr", type=float, default=1e-3)
    parser.add_argument("--dev-every", type=int, default=100)
    parser.add_argument("--vocab-size", type=int, default=20000)
    main(parser.parse_args(), [], [])
