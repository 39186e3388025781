"""Train a keyword-spotting CNN on log-mel spectrograms."""

import torch
import torch.nn as nn
import torchaudio

from evaluation import evaluate
from utils.torch_tools import count_parameters, evaluating


class KeywordNet(nn.Module):
    def __init__(self, n_classes=35, n_mels=64):
        super().__init__()
        self.mel = torchaudio.transforms.MelSpectrogram(16000, n_mels=n_mels)
        self.body = nn.Sequential(
            nn.Conv2d(1, 32, 3, padding=1),
            nn.BatchNorm2d(32),
            nn.ReLU(),
            nn.MaxPool2d(2),
            nn.Conv2d(32, 64, 3, padding=1),
            nn.BatchNorm2d(64),
            nn.ReLU(),
            nn.AdaptiveAvgPool2d(1),
            nn.Flatten(),
            nn.Dropout(0.2),
            nn.Linear(64, n_classes),
        )

    def forward(self, waveform):
        return self.body(self.mel(waveform).unsqueeze(1).log1p())


def train(train_loader, val_loader, epochs=30, device="cuda"):
    model = KeywordNet().to(device)
    print(f"{count_parameters(model)} parameters")
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-3)
    scheduler = torch.optim.lr_scheduler.OneCycleLR(
        optimizer, max_lr=1e-2, total_steps=epochs * len(train_loader)
    )
    loss_fn = nn.CrossEntropyLoss(label_smoothing=0.1)
    for epoch in range(epochs):
        for waveform, label in train_loader:
            optimizer.zero_grad(set_to_none=True)
            loss = loss_fn(model(waveform.to(device)), label.to(device))
            loss.backward()
            optimizer.step()
            scheduler.step()
        with evaluating(model):
            acc = evaluate(model, val_loader, device)
        print(f"epoch {epoch}: val accuracy {acc:.3f}")
    return model


if __name__ == "__main__":
    from data import loaders

    train(*loaders("speech_commands"))
