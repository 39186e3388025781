"""Models ``model.train`` written without parentheses at the start of each epoch.

Real pattern: the "statement has no effect" typo at the top of an epoch loop; the per-epoch
validate() switches to eval, and because ``model.train`` (no call) does nothing, every later
epoch trains in eval mode. TM103 at the attribute, TM101 at the validate() call whose eval
mode reaches the next epoch's training. Original code.
"""

import torch
import torch.nn as nn


class AudioTagger(nn.Module):
    def __init__(self, n_mels: int = 64, classes: int = 527) -> None:
        super().__init__()
        self.conv = nn.Sequential(
            nn.Conv2d(1, 32, 3, padding=1), nn.BatchNorm2d(32), nn.ReLU(), nn.AdaptiveAvgPool2d((1, None))
        )
        self.dropout = nn.Dropout(0.5)
        self.fc = nn.Linear(32, classes)

    def forward(self, spec):
        x = self.conv(spec.unsqueeze(1)).squeeze(2).mean(-1)
        return self.fc(self.dropout(x))


@torch.no_grad()
def validate(model, loader):
    model.eval()
    hits = total = 0
    for spec, labels in loader:
        predicted = model(spec).sigmoid() > 0.5
        hits += (predicted == labels.bool()).sum().item()
        total += labels.numel()
    return hits / total


def fit(train_loader, val_loader, epochs=60):
    model = AudioTagger()
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-3)
    criterion = nn.BCEWithLogitsLoss()
    for epoch in range(epochs):
        model.train  # expect: TM103
        for spec, labels in train_loader:
            optimizer.zero_grad()
            loss = criterion(model(spec), labels)
            loss.backward()
            optimizer.step()
        print(f"epoch {epoch}: val acc {validate(model, val_loader):.4f}")  # expect: TM101
    return model
