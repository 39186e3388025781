"""The training wrapper: it computes the detector's losses in forward() and takes one
optimisation step in train_step(), handing the losses back for logging."""

from collections import namedtuple

import torch.nn.functional as F
from torch import nn

Losses = namedtuple("Losses", ["proposal", "box", "total"])


class DetectorTrainer(nn.Module):
    def __init__(self, detector, optimizer):
        super().__init__()
        self.detector = detector
        self.optimizer = optimizer

    def forward(self, images, targets):
        proposal_out, box_out = self.detector(images)
        proposal_loss = F.smooth_l1_loss(proposal_out, targets["proposals"])
        box_loss = F.cross_entropy(box_out, targets["labels"])
        return Losses(proposal_loss, box_loss, proposal_loss + box_loss)

    def train_step(self, images, targets):
        self.optimizer.zero_grad()
        losses = self.forward(images, targets)
        losses.total.backward()
        self.optimizer.step()
        return losses
