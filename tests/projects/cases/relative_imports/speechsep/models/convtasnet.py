import torch.nn as nn


class ConvTasNet(nn.Module):
    """A much reduced Conv-TasNet: encoder, a stack of 1-D convolutions, mask, decoder."""

    def __init__(self, n_src=2, n_filters=256, kernel=16):
        super().__init__()
        self.n_src = n_src
        self.encoder = nn.Conv1d(1, n_filters, kernel, stride=kernel // 2)
        self.separator = nn.Sequential(
            nn.Conv1d(n_filters, n_filters, 3, padding=1),
            nn.PReLU(),
            nn.BatchNorm1d(n_filters),
            nn.Dropout(0.1),
            nn.Conv1d(n_filters, n_src * n_filters, 1),
        )
        self.decoder = nn.ConvTranspose1d(n_filters, 1, kernel, stride=kernel // 2)

    def forward(self, mixture):
        feats = self.encoder(mixture.unsqueeze(1))
        masks = self.separator(feats).sigmoid().chunk(self.n_src, dim=1)
        return [self.decoder(feats * m).squeeze(1) for m in masks]
