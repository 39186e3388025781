"""Models an encoder/decoder trained with one optimizer but cleared module by module.

Pattern from pytorch/examples dcgan/main.py (gradients cleared with ``netD.zero_grad()``, the
module whose parameters the optimizer holds) as it appears in autoencoder and captioning
scripts that build a single optimizer over both halves and then call ``encoder.zero_grad();
decoder.zero_grad()`` before backward (found by a code search for ``decoder.zero_grad()``), and
from Ryu0w0/ConvAutoencoder utils/multiple_optimizer.py (a wrapper whose ``zero_grad()`` and
``step()`` fan out to two optimizers). Original code.
"""

import torch
import torch.nn as nn
import torch.nn.functional as F


class MultipleOptimizer:
    def __init__(self, *optimizers):
        self.optimizers = optimizers

    def zero_grad(self):
        for optimizer in self.optimizers:
            optimizer.zero_grad()

    def step(self):
        for optimizer in self.optimizers:
            optimizer.step()


def train_autoencoder(encoder, decoder, loader, iterations=10_000):
    optimizer = torch.optim.Adam(list(encoder.parameters()) + list(decoder.parameters()), lr=2e-4)
    for iteration, images in zip(range(iterations), loader):
        encoder.zero_grad()
        decoder.zero_grad()
        codes = encoder(images)
        reconstructions = decoder(codes)
        loss = F.mse_loss(reconstructions, images) + 1e-3 * codes.pow(2).mean()
        loss.backward()
        optimizer.step()
        if iteration % 500 == 0:
            print(iteration, loss.item())


def train_joint(cae: nn.Module, cnn: nn.Module, loader, epochs=20):
    optimizer = MultipleOptimizer(
        torch.optim.Adam(cae.parameters(), lr=1e-3),
        torch.optim.SGD(cnn.parameters(), lr=1e-2, momentum=0.9),
    )
    for epoch in range(epochs):
        cae.train()
        cnn.train()
        for images, labels in loader:
            optimizer.zero_grad()
            recon = cae(images)
            loss = F.mse_loss(recon, images) + F.cross_entropy(cnn(recon), labels)
            loss.backward()
            optimizer.step()
        print(f"epoch {epoch}: {loss.item():.4f}")


def main(encoder, decoder, classifier, unlabeled_loader, labeled_loader, epochs=10):
    train_autoencoder(encoder, decoder, unlabeled_loader)
    model = nn.Sequential(encoder, classifier)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    for epoch in range(epochs):
        model.train()
        for images, labels in labeled_loader:
            optimizer.zero_grad()
            F.cross_entropy(model(images), labels).backward()
            optimizer.step()
