"""Models wrapper classes with their own ``train()`` / ``eval()`` / ``test()`` that are not nn.Modules.

Pattern from junyanz/pytorch-CycleGAN-and-pix2pix models/base_model.py (BaseModel.eval() loops
over its networks, BaseModel.test() wraps forward in no_grad) and its train.py / test.py
drivers, which call ``model.eval()`` on the wrapper. Original code.
"""

import torch
import torch.nn as nn


class TranslationModel:
    """Owns two generators and a discriminator; not an nn.Module itself."""

    def __init__(self, lr: float = 2e-4) -> None:
        self.netG_A = nn.Sequential(nn.Conv2d(3, 3, 3, padding=1), nn.Tanh())
        self.netG_B = nn.Sequential(nn.Conv2d(3, 3, 3, padding=1), nn.Tanh())
        self.netD = nn.Sequential(nn.Conv2d(3, 1, 4, 2, 1))
        self.model_names = ["G_A", "G_B", "D"]
        params_g = list(self.netG_A.parameters()) + list(self.netG_B.parameters())
        self.optimizer_G = torch.optim.Adam(params_g, lr=lr, betas=(0.5, 0.999))
        self.optimizer_D = torch.optim.Adam(self.netD.parameters(), lr=lr, betas=(0.5, 0.999))

    def eval(self):
        for name in self.model_names:
            getattr(self, "net" + name).eval()

    def train(self):
        for name in self.model_names:
            getattr(self, "net" + name).train()

    def test(self, real_a):
        with torch.no_grad():
            return self.netG_A(real_a)

    def optimize_parameters(self, real_a, real_b):
        fake_b = self.netG_A(real_a)
        rec_a = self.netG_B(fake_b)
        self.optimizer_G.zero_grad()
        loss_g = -self.netD(fake_b).mean() + (rec_a - real_a).abs().mean() * 10.0
        loss_g.backward()
        self.optimizer_G.step()
        self.optimizer_D.zero_grad()
        loss_d = self.netD(fake_b.detach()).mean() - self.netD(real_b).mean()
        loss_d.backward()
        self.optimizer_D.step()


def main(train_pairs, test_images, epochs=200):
    model = TranslationModel()
    for epoch in range(epochs):
        model.train()
        for real_a, real_b in train_pairs:
            model.optimize_parameters(real_a, real_b)
        if epoch % 5 == 0:
            model.eval()
            previews = [model.test(image) for image in test_images[:4]]
            print(epoch, len(previews))
    model.eval()
    return [model.test(image) for image in test_images]
