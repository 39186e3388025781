"""Models BatchNorm re-estimation: forward passes in train mode under no_grad, on purpose.

Pattern from pytorch/pytorch torch/optim/swa_utils.py ``update_bn`` (``@torch.no_grad()``,
``reset_running_stats()``, ``momentum = None``, ``model.train()``, one pass over the loader,
``model.train(was_training)``) as re-implemented in pruning/quantisation scripts, and the SWA
recipe from the same module's docs (``AveragedModel``, ``SWALR``, ``update_bn`` before
evaluating the averaged model). Forwards in train mode here exist to update statistics, not to
evaluate. Original code.
"""

import torch
import torch.nn.functional as F
from torch.optim.swa_utils import SWALR, AveragedModel, update_bn


@torch.no_grad()
def recalibrate_batchnorm(model, loader, num_batches=200):
    momenta = {}
    for module in model.modules():
        if isinstance(module, torch.nn.modules.batchnorm._BatchNorm):
            module.reset_running_stats()
            momenta[module] = module.momentum
            module.momentum = None
    if not momenta:
        return model
    was_training = model.training
    model.train()
    for i, (images, _) in enumerate(loader):
        model(images)
        if i + 1 >= num_batches:
            break
    for module, momentum in momenta.items():
        module.momentum = momentum
    model.train(was_training)
    return model


@torch.no_grad()
def accuracy(model, loader):
    model.eval()
    correct = sum((model(x).argmax(1) == y).sum().item() for x, y in loader)
    return correct / len(loader.dataset)


def train_swa(model, loader, test_loader, epochs=300, swa_start=160):
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9, weight_decay=5e-4)
    scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=swa_start)
    swa_model = AveragedModel(model)
    swa_scheduler = SWALR(optimizer, swa_lr=0.05, anneal_epochs=10)
    for epoch in range(epochs):
        model.train()
        for images, labels in loader:
            optimizer.zero_grad()
            F.cross_entropy(model(images), labels).backward()
            optimizer.step()
        if epoch > swa_start:
            swa_model.update_parameters(model)
            swa_scheduler.step()
        else:
            scheduler.step()
    update_bn(loader, swa_model)
    return accuracy(swa_model, test_loader)


def prune_and_recalibrate(model, loader, test_loader, amount=0.3):
    for module in model.modules():
        if isinstance(module, torch.nn.Conv2d):
            torch.nn.utils.prune.l1_unstructured(module, name="weight", amount=amount)
    recalibrate_batchnorm(model, loader)
    return accuracy(model, test_loader)
