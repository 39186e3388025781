"""Models a Lightning GAN with manual optimisation and two optimizers.

Pattern from Lightning-AI/pytorch-lightning docs/source-pytorch/model/manual_optimization.rst
and its SimpleGAN example: ``self.automatic_optimization = False``, ``opt_g, opt_d =
self.optimizers()``, ``opt.zero_grad(); self.manual_backward(loss); opt.step()``, generator
samples detached for the discriminator step. Original code.
"""

import lightning as L
import torch
import torch.nn.functional as F
from torch import nn


class GAN(L.LightningModule):
    def __init__(self, latent_dim: int = 100, lr: float = 2e-4) -> None:
        super().__init__()
        self.automatic_optimization = False
        self.latent_dim = latent_dim
        self.lr = lr
        self.G = nn.Sequential(nn.Linear(latent_dim, 256), nn.ReLU(), nn.Linear(256, 784), nn.Tanh())
        self.D = nn.Sequential(nn.Linear(784, 256), nn.LeakyReLU(0.2), nn.Linear(256, 1))

    def forward(self, z):
        return self.G(z)

    def training_step(self, batch, batch_idx):
        real, _ = batch
        real = real.flatten(1)
        opt_g, opt_d = self.optimizers()
        z = torch.randn(real.size(0), self.latent_dim, device=self.device)

        fake = self.G(z)
        g_loss = F.binary_cross_entropy_with_logits(self.D(fake), torch.ones(real.size(0), 1, device=self.device))
        opt_g.zero_grad()
        self.manual_backward(g_loss)
        opt_g.step()

        real_logits = self.D(real)
        fake_logits = self.D(fake.detach())
        d_loss = (
            F.binary_cross_entropy_with_logits(real_logits, torch.ones_like(real_logits))
            + F.binary_cross_entropy_with_logits(fake_logits, torch.zeros_like(fake_logits))
        ) / 2
        opt_d.zero_grad()
        self.manual_backward(d_loss)
        opt_d.step()
        self.log_dict({"g_loss": g_loss, "d_loss": d_loss}, prog_bar=True)

    def validation_step(self, batch, batch_idx):
        z = torch.randn(8, self.latent_dim, device=self.device)
        self.log("sample_mean", self(z).mean())

    def configure_optimizers(self):
        opt_g = torch.optim.Adam(self.G.parameters(), lr=self.lr, betas=(0.5, 0.999))
        opt_d = torch.optim.Adam(self.D.parameters(), lr=self.lr, betas=(0.5, 0.999))
        return [opt_g, opt_d]
