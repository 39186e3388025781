"""Models the lucidrains diffusion ``Trainer``: accelerate, micro-batch accumulation, EMA sampling.

Pattern from lucidrains/denoising-diffusion-pytorch
denoising_diffusion_pytorch/denoising_diffusion_pytorch.py (and the many trainers copied from
it, which a code search for ``self.ema.ema_model.eval()`` finds): ``total_loss += loss.item()``
over ``gradient_accumulate_every`` micro-batches with ``accelerator.backward(loss)``, then
``self.opt.step(); self.opt.zero_grad()``; ``self.ema.update()``; every
``save_and_sample_every`` steps the EMA model is put in eval and sampled under
``torch.inference_mode()``. The trained model itself is never switched. Original code.
"""
import torch
from accelerate import Accelerator
from ema_pytorch import EMA
from torch.optim import Adam
from torchvision import utils


def divisible_by(numer, denom):
    return (numer % denom) == 0


class Trainer:
    def __init__(self, diffusion_model, dl, train_lr=1e-4, train_num_steps=100000, gradient_accumulate_every=1,
                 ema_decay=0.995, save_and_sample_every=1000, num_samples=25, max_grad_norm=1.0):
        self.accelerator = Accelerator()
        self.model = diffusion_model
        self.opt = Adam(diffusion_model.parameters(), lr=train_lr, betas=(0.9, 0.99))
        if self.accelerator.is_main_process:
            self.ema = EMA(diffusion_model, beta=ema_decay, update_every=10)
            self.ema.to(self.accelerator.device)
        self.model, self.opt = self.accelerator.prepare(self.model, self.opt)
        self.dl = self.accelerator.prepare(dl)
        self.step = 0
        self.train_num_steps = train_num_steps
        self.gradient_accumulate_every = gradient_accumulate_every
        self.save_and_sample_every = save_and_sample_every
        self.num_samples = num_samples
        self.max_grad_norm = max_grad_norm

    def train(self):
        accelerator = self.accelerator
        device = accelerator.device
        data_iter = iter(self.dl)
        while self.step < self.train_num_steps:
            total_loss = 0.0
            for _ in range(self.gradient_accumulate_every):
                data = next(data_iter).to(device)
                with accelerator.autocast():
                    loss = self.model(data)
                    loss = loss / self.gradient_accumulate_every
                    total_loss += loss.item()
                accelerator.backward(loss)
            accelerator.wait_for_everyone()
            accelerator.clip_grad_norm_(self.model.parameters(), self.max_grad_norm)
            self.opt.step()
            self.opt.zero_grad()
            accelerator.wait_for_everyone()
            self.step += 1
            if accelerator.is_main_process:
                self.ema.update()
                if self.step != 0 and divisible_by(self.step, self.save_and_sample_every):
                    self.ema.ema_model.eval()
                    with torch.inference_mode():
                        images = self.ema.ema_model.sample(batch_size=self.num_samples)
                    utils.save_image(images, f"sample-{self.step}.png", nrow=5)
