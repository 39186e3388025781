"""Models a BasicSR-style restoration model: a non-Module wrapper owning ``net_g``, ``optimize_parameters``, ``test()``.

Pattern from XPixelGroup/BasicSR basicsr/models/sr_model.py: ``l_total = 0; l_total += l_pix``
within one iteration and a ``loss_dict`` logged through ``.item()``; ``test()`` does
``self.net_g.eval()``, a no_grad forward and ``self.net_g.train()``, or uses a separate EMA
generator kept in eval; validation is called every ``val_freq`` iterations from a
``while current_iter <= total_iters`` pipeline. Original code.
"""
from collections import OrderedDict

import torch


class RestorationModel:
    """Owns the generator, its losses, optimizer and an optional EMA copy; not an nn.Module."""

    def __init__(self, net_g, pixel_criterion, perceptual_criterion=None, ema_decay=0.999, lr=2e-4):
        self.net_g = net_g
        self.pixel_criterion = pixel_criterion
        self.perceptual_criterion = perceptual_criterion
        self.ema_decay = ema_decay
        if ema_decay > 0:
            self.net_g_ema = type(net_g)()
            self.net_g_ema.load_state_dict(net_g.state_dict())
            self.net_g_ema.eval()
        self.optimizer_g = torch.optim.Adam(self.net_g.parameters(), lr=lr, betas=(0.9, 0.99))
        self.net_g.train()

    def feed_data(self, batch):
        self.lq = batch["lq"]
        self.gt = batch.get("gt")

    def optimize_parameters(self, current_iter):
        self.optimizer_g.zero_grad()
        self.output = self.net_g(self.lq)
        l_total = 0
        loss_dict = OrderedDict()
        l_pix = self.pixel_criterion(self.output, self.gt)
        l_total += l_pix
        loss_dict["l_pix"] = l_pix
        if self.perceptual_criterion is not None:
            l_percep, l_style = self.perceptual_criterion(self.output, self.gt)
            for name, term in (("l_percep", l_percep), ("l_style", l_style)):
                if term is not None:
                    l_total += term
                    loss_dict[name] = term
        l_total.backward()
        self.optimizer_g.step()
        self.log_dict = {name: term.item() for name, term in loss_dict.items()}
        if self.ema_decay > 0:
            self.update_ema()

    @torch.no_grad()
    def update_ema(self):
        for ema_param, param in zip(self.net_g_ema.parameters(), self.net_g.parameters()):
            ema_param.lerp_(param, 1 - self.ema_decay)

    def test(self):
        if self.ema_decay > 0:
            with torch.no_grad():
                self.output = self.net_g_ema(self.lq)
            return
        self.net_g.eval()
        with torch.no_grad():
            self.output = self.net_g(self.lq)
        self.net_g.train()

    def validation(self, loader):
        psnr_sum = 0.0
        for batch in loader:
            self.feed_data(batch)
            self.test()
            mse = torch.mean((self.output.clamp(0, 1) - self.gt) ** 2)
            psnr_sum += (10 * torch.log10(1.0 / mse)).item()
        return psnr_sum / len(loader)


def train_pipeline(model, train_loader, val_loader, total_iters=300_000, val_freq=5_000, print_freq=100):
    current_iter = 0
    while current_iter < total_iters:
        for batch in train_loader:
            current_iter += 1
            model.feed_data(batch)
            model.optimize_parameters(current_iter)
            if current_iter % print_freq == 0:
                print(current_iter, model.log_dict)
            if current_iter % val_freq == 0:
                print("psnr", model.validation(val_loader))
            if current_iter >= total_iters:
                break
