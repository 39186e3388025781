"""Models a GAN step whose discriminator optimizer is zeroed after the discriminator backward.

Real pattern: GAN loops reorganised from pytorch/examples dcgan/main.py where the
``optimizerD.zero_grad()`` line drifted below ``d_loss.backward()``; the generator half stays
correct. Reported at the misplaced ``zero_grad()``. Original code.
"""

import torch
import torch.nn as nn


def train(generator, discriminator, loader, latent_dim=100, epochs=50, device="cuda"):
    adversarial_loss = nn.BCEWithLogitsLoss()
    optimizer_G = torch.optim.Adam(generator.parameters(), lr=2e-4, betas=(0.5, 0.999))
    optimizer_D = torch.optim.Adam(discriminator.parameters(), lr=2e-4, betas=(0.5, 0.999))
    for epoch in range(epochs):
        for i, (imgs, _) in enumerate(loader):
            real_imgs = imgs.to(device)
            valid = torch.ones(imgs.size(0), 1, device=device)
            fake = torch.zeros(imgs.size(0), 1, device=device)

            optimizer_G.zero_grad()
            z = torch.randn(imgs.size(0), latent_dim, device=device)
            gen_imgs = generator(z)
            g_loss = adversarial_loss(discriminator(gen_imgs), valid)
            g_loss.backward()
            optimizer_G.step()

            real_loss = adversarial_loss(discriminator(real_imgs), valid)
            fake_loss = adversarial_loss(discriminator(gen_imgs.detach()), fake)
            d_loss = (real_loss + fake_loss) / 2
            d_loss.backward()
            optimizer_D.zero_grad()  # expect: TM302
            optimizer_D.step()

            if i % 400 == 0:
                print(f"[{epoch}/{epochs}] [{i}/{len(loader)}] D {d_loss.item():.4f} G {g_loss.item():.4f}")
        torch.save(
            {
                "epoch": epoch,
                "generator": generator.state_dict(),
                "discriminator": discriminator.state_dict(),
                "optimizer_G": optimizer_G.state_dict(),
                "optimizer_D": optimizer_D.state_dict(),
            },
            f"gan_{epoch}.pth",
        )
    return generator
