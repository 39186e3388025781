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
from torchvision.utils import save_image


def every(step, period):
    return step > 0 and step % period == 0


class DiffusionTrainer:
    def __init__(self, diffusion, loader, *, lr=8e-5, total_steps=700_000, accumulate=2,
                 ema_beta=0.995, sample_period=1000, n_samples=16, clip=1.0):
        self.accelerator = Accelerator(mixed_precision="fp16")
        self.diffusion = diffusion
        self.optimizer = torch.optim.Adam(diffusion.parameters(), lr=lr, betas=(0.9, 0.99))
        self.ema = EMA(diffusion, beta=ema_beta, update_every=10) if self.accelerator.is_main_process else None
        self.diffusion, self.optimizer, self.loader = self.accelerator.prepare(diffusion, self.optimizer, loader)
        self.total_steps, self.accumulate = total_steps, accumulate
        self.sample_period, self.n_samples, self.clip = sample_period, n_samples, clip
        self.step = 0

    def batches(self):
        while True:
            yield from self.loader

    def fit(self):
        acc = self.accelerator
        stream = self.batches()
        while self.step < self.total_steps:
            running = 0.0
            for _ in range(self.accumulate):
                images = next(stream)
                with acc.autocast():
                    loss = self.diffusion(images) / self.accumulate
                    running += loss.item()
                acc.backward(loss)
            acc.clip_grad_norm_(self.diffusion.parameters(), self.clip)
            self.optimizer.step()
            self.optimizer.zero_grad()
            acc.wait_for_everyone()
            self.step += 1
            if self.ema is None:
                continue
            self.ema.update()
            if every(self.step, self.sample_period):
                self.ema.ema_model.eval()
                with torch.inference_mode():
                    samples = self.ema.ema_model.sample(batch_size=self.n_samples)
                save_image(samples, f"samples/{self.step:07d}.png", nrow=4)
                print(f"step {self.step}: loss {running:.4f}")
