"""ImageNet-style distributed training: one process per GPU, started by mp.spawn."""

import argparse
import os

import torch
import torch.distributed as dist
import torch.multiprocessing as mp
import torch.nn as nn
import torchvision.models as models
from torch.nn.parallel import DistributedDataParallel as DDP
from torch.utils.data import DataLoader
from torch.utils.data.distributed import DistributedSampler
from torchvision import datasets, transforms


def train_one_epoch(model, loader, criterion, optimizer, gpu):
    model.train()
    for images, target in loader:
        images, target = images.cuda(gpu, non_blocking=True), target.cuda(gpu, non_blocking=True)
        loss = criterion(model(images), target)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()


def validate(model, loader, criterion, gpu):
    model.eval()
    total, correct, loss_sum = 0, 0, 0.0
    for images, target in loader:
        images, target = images.cuda(gpu), target.cuda(gpu)
        output = model(images)
        loss_sum += criterion(output, target).item() * target.size(0)
        correct += (output.argmax(1) == target).sum().item()
        total += target.size(0)
    return loss_sum / total, correct / total


def main_worker(gpu, cfg):
    dist.init_process_group("nccl", rank=gpu, world_size=cfg.world_size)
    torch.cuda.set_device(gpu)
    model = models.resnet50().cuda(gpu)
    model = DDP(model, device_ids=[gpu])
    criterion = nn.CrossEntropyLoss().cuda(gpu)
    optimizer = torch.optim.SGD(model.parameters(), cfg.lr, momentum=0.9, weight_decay=1e-4)

    tf = transforms.Compose([transforms.RandomResizedCrop(224), transforms.ToTensor()])
    train_set = datasets.ImageFolder(os.path.join(cfg.data, "train"), tf)
    val_set = datasets.ImageFolder(os.path.join(cfg.data, "val"), transforms.ToTensor())
    sampler = DistributedSampler(train_set)
    train_loader = DataLoader(train_set, batch_size=cfg.batch_size, sampler=sampler)
    val_loader = DataLoader(val_set, batch_size=cfg.batch_size)

    for epoch in range(cfg.epochs):
        sampler.set_epoch(epoch)
        train_one_epoch(model, train_loader, criterion, optimizer, gpu)
        val_loss, acc = validate(model, val_loader, criterion, gpu)
        if gpu == 0:
            print(f"epoch {epoch}: val loss {val_loss:.3f} acc@1 {acc:.3f}")
    dist.destroy_process_group()


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("data")
    parser.add_argument("--epochs", type=int, default=90)
    parser.add_argument("--lr", type=float, default=0.1)
    parser.add_argument("--batch-size", type=int, default=256)
    cfg = parser.parse_args()
    cfg.world_size = torch.cuda.device_count()
    mp.spawn(main_worker, nprocs=cfg.world_size, args=(cfg,))


if __name__ == "__main__":
    main()
