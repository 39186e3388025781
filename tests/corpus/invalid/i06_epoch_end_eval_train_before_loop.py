"""Models per-epoch validation with ``net.train()`` only before the epoch loop.

Real bug reports: MILVLG/mcan-vqa issue #26 ("net.train() not called again after evaluation
finishes", train() is called before the epoch loop) and tk-rusch/coRNN issue #1. The second
epoch onwards trains in eval mode. Original code.
"""

import torch
import torch.nn as nn


class VQAHead(nn.Module):
    def __init__(self, dim: int = 512, answers: int = 3129) -> None:
        super().__init__()
        self.fuse = nn.Sequential(nn.Linear(2 * dim, dim), nn.ReLU(), nn.Dropout(0.1))
        self.classify = nn.Linear(dim, answers)

    def forward(self, image_feat, question_feat):
        return self.classify(self.fuse(torch.cat([image_feat, question_feat], dim=-1)))


def train_engine(train_loader, val_loader, epochs=13, lr=1e-4):
    net = VQAHead()
    optim = torch.optim.Adam(net.parameters(), lr=lr)
    loss_fn = nn.BCEWithLogitsLoss(reduction="sum")
    net.train()
    for epoch in range(epochs):
        loss_sum = 0.0
        for image_feat, question_feat, answer in train_loader:
            optim.zero_grad()
            pred = net(image_feat, question_feat)
            loss = loss_fn(pred, answer)
            loss.backward()
            optim.step()
            loss_sum += loss.item()
        print(f"epoch {epoch + 1}: loss {loss_sum / len(train_loader.dataset):.4f}")

        net.eval()  # expect: TM101
        hits = 0
        with torch.no_grad():
            for image_feat, question_feat, answer in val_loader:
                pred = net(image_feat, question_feat)
                hits += (pred.argmax(-1) == answer.argmax(-1)).sum().item()
        print(f"epoch {epoch + 1}: val acc {hits / len(val_loader.dataset):.4f}")
        torch.save(net.state_dict(), f"epoch{epoch + 1}.pkl")
