import torch
from torch import nn


class CompletionNet(nn.Module):
    """Completes a partial point cloud: a coarse guess, then a refined one."""

    def __init__(self, n_points=2048, width=256):
        super().__init__()
        self.n_points = n_points
        self.encoder = nn.Sequential(nn.Linear(3, width), nn.ReLU(), nn.Linear(width, width))
        self.coarse = nn.Sequential(nn.Linear(width, width), nn.Dropout(0.2), nn.Linear(width, 3 * 256))
        self.refine = nn.Sequential(nn.Linear(3 + width, width), nn.ReLU(), nn.Linear(width, 3))

    def forward(self, partial):
        feat = self.encoder(partial).max(dim=1).values
        coarse = self.coarse(feat).view(-1, 256, 3)
        seeds = coarse.repeat_interleave(self.n_points // 256, dim=1)
        ctx = feat.unsqueeze(1).expand(-1, seeds.shape[1], -1)
        return coarse, seeds + self.refine(torch.cat([seeds, ctx], dim=-1))
