"""Models MAML: inner-loop updates with ``torch.autograd.grad`` and query losses summed across tasks.

Pattern from dragen1860/MAML-Pytorch meta.py: per task, fast weights from
``torch.autograd.grad(loss, params)``; query losses accumulated into ``losses_q[k] += loss_q``
across the task loop *on purpose* (the meta-gradient flows through them), accuracy bookkeeping
under ``torch.no_grad()``, then ``meta_optim.zero_grad(); loss_q.backward(); meta_optim.step()``;
fine-tuning at test time on a deep copy. Original code.
"""

from copy import deepcopy

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.func import functional_call


class Meta(nn.Module):
    def __init__(self, net: nn.Module, update_lr=0.4, meta_lr=1e-3, update_step=5, update_step_test=10):
        super().__init__()
        self.net = net
        self.update_lr = update_lr
        self.update_step = update_step
        self.update_step_test = update_step_test
        self.meta_optim = torch.optim.Adam(self.net.parameters(), lr=meta_lr)

    def adapt(self, net, params, x, y):
        loss = F.cross_entropy(functional_call(net, params, (x,)), y)
        grads = torch.autograd.grad(loss, list(params.values()), create_graph=True)
        return {name: p - self.update_lr * g for (name, p), g in zip(params.items(), grads)}

    def forward(self, x_spt, y_spt, x_qry, y_qry):
        task_num = x_spt.size(0)
        losses_q = [0 for _ in range(self.update_step + 1)]
        corrects = [0 for _ in range(self.update_step + 1)]
        for i in range(task_num):
            fast = dict(self.net.named_parameters())
            for k in range(self.update_step + 1):
                logits_q = functional_call(self.net, fast, (x_qry[i],))
                loss_q = F.cross_entropy(logits_q, y_qry[i])
                losses_q[k] += loss_q
                with torch.no_grad():
                    corrects[k] += (logits_q.argmax(dim=1) == y_qry[i]).sum().item()
                if k < self.update_step:
                    fast = self.adapt(self.net, fast, x_spt[i], y_spt[i])
        loss_q = losses_q[-1] / task_num
        self.meta_optim.zero_grad()
        loss_q.backward()
        self.meta_optim.step()
        return np.array(corrects) / (x_qry.size(1) * task_num)

    def finetune(self, x_spt, y_spt, x_qry, y_qry):
        net = deepcopy(self.net)
        fast = dict(net.named_parameters())
        corrects = []
        for _ in range(self.update_step_test):
            fast = {name: p.detach().requires_grad_() for name, p in self.adapt(net, fast, x_spt, y_spt).items()}
            with torch.no_grad():
                pred = functional_call(net, fast, (x_qry,)).argmax(dim=1)
                corrects.append((pred == y_qry).sum().item())
        del net
        return np.array(corrects) / x_qry.size(0)
