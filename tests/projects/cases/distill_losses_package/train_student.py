import argparse

import torch
import torch.nn as nn

from kd_losses import *
from nets import StudentNet, TeacherNet


def train_epoch(loader, student, teacher, ce, kd, optimizer, weight):
    student.train()
    for images, labels in loader:
        feat_s, out_s = student(images)
        with torch.no_grad():
            feat_t, out_t = teacher(images)
        distill = kd(out_s, out_t) if args.mode == "st" else kd(feat_s, feat_t)
        loss = ce(out_s, labels) + weight * distill
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()


def test(loader, student, teacher, ce, kd):
    student.eval()
    total_ce, total_kd = 0.0, 0.0
    for images, labels in loader:
        with torch.no_grad():
            feat_s, out_s = student(images)
            feat_t, out_t = teacher(images)
        total_ce += ce(out_s, labels).item()
        if args.mode == "st":
            total_kd += kd(out_s, out_t.detach()).item()
        else:
            total_kd += kd(feat_s, feat_t.detach()).item()
    return total_ce / len(loader), total_kd / len(loader)


def main():
    teacher = TeacherNet()
    teacher.load_state_dict(torch.load(args.teacher_path))
    teacher.eval()
    student = StudentNet()
    ce = nn.CrossEntropyLoss()
    if args.mode == "st":
        kd = SoftTarget(args.temperature)
    else:
        kd = Hint()
    optimizer = torch.optim.SGD(student.parameters(), lr=0.1, momentum=0.9)
    train_loader, test_loader = make_loaders(args.batch_size)
    for epoch in range(args.epochs):
        train_epoch(train_loader, student, teacher, ce, kd, optimizer, args.weight)
        print(epoch, test(test_loader, student, teacher, ce, kd))


def make_loaders(batch_size):
    from torchvision import datasets, transforms
    from torch.utils.data import DataLoader

    tf = transforms.ToTensor()
    train = datasets.CIFAR10("data", train=True, download=True, transform=tf)
    test_set = datasets.CIFAR10("data", train=False, download=True, transform=tf)
    return DataLoader(train, batch_size, shuffle=True), DataLoader(test_set, batch_size)


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--mode", default="st")
    parser.add_argument("--temperature", type=float, default=4.0)
    parser.add_argument("--weight", type=float, default=0.9)
    parser.add_argument("--teacher-path", dest="teacher_path", default="teacher.pt")
    parser.add_argument("--batch-size", dest="batch_size", type=int, default=128)
    parser.add_argument("--epochs", type=int, default=100)
    args = parser.parse_args()
    main()
