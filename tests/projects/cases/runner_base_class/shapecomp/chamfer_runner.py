import torch

from shapecomp.meters import RunningMeans
from shapecomp.runner import Runner


def chamfer(a, b):
    d = torch.cdist(a, b)
    return d.min(dim=2).values.mean() + d.min(dim=1).values.mean()


class ChamferRunner(Runner):
    def __init__(self, cfg):
        super().__init__(cfg)
        self.meter = RunningMeans(["coarse", "fine"])

    def losses(self, partial, full):
        coarse, fine = self.net(partial)
        coarse_loss = chamfer(coarse, full)
        fine_loss = chamfer(fine, full)
        return coarse_loss + fine_loss, coarse_loss, fine_loss

    def train_step(self, batch):
        partial, full = batch["partial"].to(self.device), batch["full"].to(self.device)
        loss, coarse_loss, fine_loss = self.losses(partial, full)
        self.optimizer.zero_grad()
        loss.backward()
        self.optimizer.step()
        self.meter.update([coarse_loss * 1e3, fine_loss * 1e3])

    def end_epoch(self, epoch):
        coarse, fine = self.meter.means()
        print(f"epoch {epoch}: coarse {coarse:.3f} fine {fine:.3f}")
        self.meter.reset()
