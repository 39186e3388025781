"""Models trainers that keep their networks and optimizers in dicts, lists and ``getattr`` names.

GAN trainer frameworks keep ``self.models['G']`` / ``self.models['D']`` with ``self.optims['G']``
and give the trainer its own ``eval(self, epoch)`` method that samples from
``self.models['G']`` (found by a code search for ``self.models['G'].eval()``); ensembles keep
lists of members and optimizers and zero/step them in loops; CycleGAN-style classes reach
``getattr(self, 'net_' + name)``. None of these containers hides a bug here. Original code.
"""

import torch
import torch.nn as nn
import torch.nn.functional as F


class GANTrainer:
    def __init__(self, generator, critic, nz=64, lr=2e-4):
        self.models = {"G": generator, "D": critic}
        self.optims = {name: torch.optim.Adam(net.parameters(), lr=lr, betas=(0.5, 0.9)) for name, net in self.models.items()}
        self.nz = nz
        self.logs = {}

    def train_epoch(self, loader):
        for net in self.models.values():
            net.train()
        for real, _ in loader:
            z = torch.randn(real.size(0), self.nz)
            fake = self.models["G"](z)
            self.optims["D"].zero_grad()
            d_loss = self.models["D"](fake.detach()).mean() - self.models["D"](real).mean()
            d_loss.backward()
            self.optims["D"].step()
            self.optims["G"].zero_grad()
            g_loss = -self.models["D"](fake).mean()
            g_loss.backward()
            self.optims["G"].step()
            self.logs = {"D loss": d_loss.item(), "G loss": g_loss.item()}

    @torch.no_grad()
    def eval(self, epoch):
        self.models["G"].eval()
        samples = self.models["G"](torch.randn(64, self.nz))
        torch.save(samples, f"samples_{epoch}.pt")

    def fit(self, loader, epochs=100):
        for epoch in range(epochs):
            self.train_epoch(loader)
            self.eval(epoch)
            print(epoch, self.logs)


class Ensemble:
    def __init__(self, members, lr=0.1):
        self.members = members
        self.opts = [torch.optim.SGD(member.parameters(), lr=lr, momentum=0.9) for member in members]

    def train_epoch(self, loader):
        for member in self.members:
            member.train()
        for x, y in loader:
            for opt in self.opts:
                opt.zero_grad()
            loss = sum(F.cross_entropy(member(x), y) for member in self.members)
            loss.backward()
            for opt in self.opts:
                opt.step()

    @torch.no_grad()
    def accuracy(self, loader):
        for member in self.members:
            member.eval()
        hits = 0
        for x, y in loader:
            probs = torch.stack([member(x).softmax(-1) for member in self.members]).mean(0)
            hits += (probs.argmax(1) == y).sum().item()
        return hits / len(loader.dataset)


class TwoStage(nn.Module):
    def __init__(self, dim=32):
        super().__init__()
        self.net_enc = nn.Sequential(nn.Linear(dim, dim), nn.Dropout(0.1))
        self.net_dec = nn.Sequential(nn.Linear(dim, dim), nn.Dropout(0.1))
        self.stage_names = ("enc", "dec")

    def set_stages(self, training):
        for name in self.stage_names:
            getattr(self, "net_" + name).train(training)


def fit_two_stage(model, loader, epochs=20):
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    for _ in range(epochs):
        model.set_stages(True)
        for x, y in loader:
            optimizer.zero_grad()
            F.mse_loss(model.net_dec(model.net_enc(x)), y).backward()
            optimizer.step()
        model.set_stages(False)
        with torch.no_grad():
            error = sum(F.mse_loss(model.net_dec(model.net_enc(x)), y).item() for x, y in loader)
        print(error / len(loader))
