import torch.nn as nn
import torch.nn.functional as F


class SoftTarget(nn.Module):
    """Hinton's softened-logits distillation."""

    def __init__(self, temperature):
        super().__init__()
        self.temperature = temperature

    def forward(self, logits_s, logits_t):
        t = self.temperature
        p_s = F.log_softmax(logits_s / t, dim=1)
        p_t = F.softmax(logits_t / t, dim=1)
        return F.kl_div(p_s, p_t, reduction="batchmean") * t * t
