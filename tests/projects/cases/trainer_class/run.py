"""Fine-tune a BERT classifier on a CSV of texts and labels."""

import sys

import torch
from transformers import AutoModelForSequenceClassification

from textcls.data import make_loaders
from textcls.trainer import Trainer

if __name__ == "__main__":
    model = AutoModelForSequenceClassification.from_pretrained("bert-base-uncased", num_labels=4)
    optimizer = torch.optim.AdamW(model.parameters(), lr=2e-5)
    train_loader, val_loader = make_loaders(sys.argv[1], tokenizer="bert-base-uncased")
    Trainer(model, optimizer, train_loader, val_loader).train(max_steps=10_000)
