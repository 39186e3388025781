"""A generator sampled from random noise in train mode: an info-level TM102 when the file
trains it (GANs are often only ever run in train mode), a warning when nothing trains it (a
pretrained generator loaded to draw samples, whose BatchNorm statistics were learnt)."""

from __future__ import annotations

from torchmode.analysis import analyze
from torchmode.findings import Severity
from torchmode.settings import Settings

EVERYTHING = Settings(min_severity=Severity.HINT)

# a GAN script samples its generator from a fixed batch of noise after each epoch
SAMPLED = """\
import torch
import torch.nn as nn
from torch.autograd import Variable
from torchvision.utils import save_image


class Generator(nn.Module):
    def __init__(self, nz):
        super().__init__()
        self.net = nn.Sequential(
            nn.Linear(nz, 256), nn.BatchNorm1d(256), nn.ReLU(), nn.Linear(256, 784), nn.Tanh()
        )

    def forward(self, z):
        return self.net(z).view(-1, 1, 28, 28)


netG = Generator(64).cuda()
netD = nn.Sequential(nn.Flatten(), nn.Linear(784, 1)).cuda()
opt_g = torch.optim.Adam(netG.parameters(), lr=2e-4, betas=(0.5, 0.999))
opt_d = torch.optim.Adam(netD.parameters(), lr=2e-4, betas=(0.5, 0.999))
bce = nn.BCEWithLogitsLoss()


def train_epoch(loader):
    for real, _ in loader:
        real = real.cuda()
        z = torch.randn(real.size(0), 64).cuda()
        opt_d.zero_grad()
        fake = netG(z)
        d_loss = bce(netD(real), torch.ones(real.size(0), 1).cuda()) + bce(
            netD(fake.detach()), torch.zeros(real.size(0), 1).cuda()
        )
        d_loss.backward()
        opt_d.step()
        opt_g.zero_grad()
        bce(netD(fake), torch.ones(real.size(0), 1).cuda()).backward()
        opt_g.step()


sample_z = Variable(torch.FloatTensor(64, 64).normal_(0, 1).cuda())


def evaluate(epoch):
    with torch.no_grad():
        grid = netG(sample_z)
    save_image(grid, f"samples/{epoch:03d}.png", normalize=True)


for epoch in range(100):
    train_epoch(loader)
    evaluate(epoch)
"""

LOADED = """\
import torch
import torch.nn as nn
from torchvision.utils import save_image


class Generator(nn.Module):
    def __init__(self, nz):
        super().__init__()
        self.net = nn.Sequential(
            nn.Linear(nz, 256), nn.BatchNorm1d(256), nn.ReLU(), nn.Linear(256, 784)
        )

    def forward(self, z):
        return self.net(z).view(-1, 1, 28, 28)


netG = Generator(64)
netG.load_state_dict(torch.load("netG_epoch_99.pth", map_location="cpu"))
fixed_noise = torch.randn(64, 64)
with torch.no_grad():
    samples = netG(fixed_noise)
save_image(samples, "samples.png", normalize=True)
"""


def _tm102(source: str) -> list[tuple[int, Severity, str]]:
    return [
        (f.range.start.line + 1, f.severity, f.details)
        for f in analyze(source, EVERYTHING).findings
        if f.code == "TM102"
    ]


def test_a_generator_the_file_trains_sampled_from_noise_is_an_info() -> None:
    source = SAMPLED
    ((line, severity, details),) = _tm102(source)
    assert source.splitlines()[line - 1].strip() == "grid = netG(sample_z)"
    assert severity is Severity.INFO
    assert "samples from random noise" in details


def test_on_real_input_it_stays_a_warning() -> None:
    source = SAMPLED
    real = source.replace("grid = netG(sample_z)", "grid = netG(next(iter(loader))[0].cuda())")
    ((_, severity, details),) = _tm102(real)
    assert severity is Severity.WARNING
    assert "random noise" not in details


def test_a_loaded_generator_nothing_trains_stays_a_warning() -> None:
    ((line, severity, _),) = _tm102(LOADED)
    assert line == 21
    assert severity is Severity.WARNING
