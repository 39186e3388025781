"""Models a BasicSR-style restoration model: a non-Module wrapper owning ``net_g``, ``optimize_parameters``, ``test()``.

Pattern from XPixelGroup/BasicSR basicsr/models/sr_model.py: ``l_total = 0; l_total += l_pix``
within one iteration and a ``loss_dict`` logged through ``.item()``; ``test()`` does
``self.net_g.eval()``, a no_grad forward and ``self.net_g.train()``, or uses a separate EMA
generator kept in eval; validation is called every ``val_freq`` iterations from a
``while current_iter <= total_iters`` pipeline. Original code.
"""
from collections import OrderedDict

import torch


class SRModel:
    def __init__(self, net_g, cri_pix, cri_perceptual, opt):
        self.net_g = net_g
        self.cri_pix = cri_pix
        self.cri_perceptual = cri_perceptual
        self.ema_decay = opt.get("ema_decay", 0)
        if self.ema_decay > 0:
            self.net_g_ema = net_g.__class__()
            self.net_g_ema.eval()
        self.optimizer_g = torch.optim.Adam(self.net_g.parameters(), lr=2e-4)
        self.net_g.train()

    def feed_data(self, data):
        self.lq = data["lq"]
        self.gt = data.get("gt")

    def optimize_parameters(self, current_iter):
        self.optimizer_g.zero_grad()
        self.output = self.net_g(self.lq)
        l_total = 0
        loss_dict = OrderedDict()
        if self.cri_pix:
            l_pix = self.cri_pix(self.output, self.gt)
            l_total += l_pix
            loss_dict["l_pix"] = l_pix
        if self.cri_perceptual:
            l_percep, l_style = self.cri_perceptual(self.output, self.gt)
            if l_percep is not None:
                l_total += l_percep
                loss_dict["l_percep"] = l_percep
        l_total.backward()
        self.optimizer_g.step()
        self.log_dict = {k: v.item() for k, v in loss_dict.items()}
        if self.ema_decay > 0:
            self.model_ema(decay=self.ema_decay)

    @torch.no_grad()
    def model_ema(self, decay=0.999):
        for p_ema, p in zip(self.net_g_ema.parameters(), self.net_g.parameters()):
            p_ema.mul_(decay).add_(p, alpha=1 - decay)

    def test(self):
        if hasattr(self, "net_g_ema"):
            self.net_g_ema.eval()
            with torch.no_grad():
                self.output = self.net_g_ema(self.lq)
        else:
            self.net_g.eval()
            with torch.no_grad():
                self.output = self.net_g(self.lq)
            self.net_g.train()

    def validation(self, dataloader):
        psnr = 0.0
        for val_data in dataloader:
            self.feed_data(val_data)
            self.test()
            psnr += -10 * torch.log10(((self.output - self.gt) ** 2).mean()).item()
        return psnr / len(dataloader)


def train_pipeline(model, train_loader, val_loader, total_iters=400000, val_freq=5000):
    current_iter = 0
    while current_iter <= total_iters:
        for train_data in train_loader:
            current_iter += 1
            model.feed_data(train_data)
            model.optimize_parameters(current_iter)
            if current_iter % val_freq == 0:
                model.validation(val_loader)
