"""Models the DCGAN loop: two optimizers cleared through ``netD.zero_grad()`` / ``netG.zero_grad()``.

Pattern from pytorch/examples dcgan/main.py and pytorch/tutorials
beginner_source/dcgan_faces_tutorial.py: D is trained on real then fake (``fake.detach()``),
``errD = errD_real + errD_fake`` for logging, G trained through D, loss history kept with
``.item()``, fixed-noise samples generated under no_grad. Original code.
"""

import torch
import torch.nn as nn
import torchvision.utils as vutils


def train(netG, netD, dataloader, nz=100, epochs=5, lr=2e-4, device="cuda"):
    criterion = nn.BCELoss()
    fixed_noise = torch.randn(64, nz, 1, 1, device=device)
    optimizerD = torch.optim.Adam(netD.parameters(), lr=lr, betas=(0.5, 0.999))
    optimizerG = torch.optim.Adam(netG.parameters(), lr=lr, betas=(0.5, 0.999))
    G_losses, D_losses, img_list = [], [], []
    iters = 0
    for epoch in range(epochs):
        for i, (real, _) in enumerate(dataloader):
            netD.zero_grad()
            real = real.to(device)
            b_size = real.size(0)
            label = torch.full((b_size,), 1.0, device=device)
            output = netD(real).view(-1)
            errD_real = criterion(output, label)
            errD_real.backward()

            noise = torch.randn(b_size, nz, 1, 1, device=device)
            fake = netG(noise)
            label.fill_(0.0)
            output = netD(fake.detach()).view(-1)
            errD_fake = criterion(output, label)
            errD_fake.backward()
            errD = errD_real + errD_fake
            optimizerD.step()

            netG.zero_grad()
            label.fill_(1.0)
            output = netD(fake).view(-1)
            errG = criterion(output, label)
            errG.backward()
            optimizerG.step()

            G_losses.append(errG.item())
            D_losses.append(errD.item())
            if iters % 500 == 0:
                with torch.no_grad():
                    samples = netG(fixed_noise).detach().cpu()
                img_list.append(vutils.make_grid(samples, padding=2, normalize=True))
            iters += 1
        print(f"epoch {epoch}: D {D_losses[-1]:.3f} G {G_losses[-1]:.3f}")
    return img_list
