"""A frame tagger: an acoustic encoder and a classifier head, held by a plain object that
builds their optimizer and knows how to take a training step."""

import torch
import torch.nn as nn
import torch.nn.functional as F


class AcousticEncoder(nn.Module):
    def __init__(self, n_mels, hidden):
        super().__init__()
        self.conv = nn.Conv1d(n_mels, hidden, kernel_size=5, padding=2)
        self.norm = nn.BatchNorm1d(hidden)
        self.drop = nn.Dropout(0.2)

    def forward(self, mels):
        return self.drop(F.relu(self.norm(self.conv(mels))))


class TaggerSystem:
    def __init__(self, cfg):
        self.encoder = AcousticEncoder(cfg.n_mels, cfg.hidden)
        self.classifier = nn.Conv1d(cfg.hidden, cfg.n_tags, kernel_size=1)
        params = list(self.encoder.parameters()) + list(self.classifier.parameters())
        self.optimizer = torch.optim.Adam(params, lr=cfg.lr)
        self.steps = 0

    def training_mode(self):
        self.encoder.train()
        self.classifier.train()

    def inference_mode(self):
        self.encoder.eval()
        self.classifier.eval()

    def logits(self, mels):
        return self.classifier(self.encoder(mels))

    def fit_batch(self, mels, tags):
        self.optimizer.zero_grad()
        loss = F.cross_entropy(self.logits(mels), tags)
        loss.backward()
        self.optimizer.step()
        self.steps += 1
        return loss.item()
