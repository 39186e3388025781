"""Models fine-tuning with BatchNorm frozen through ``model.apply(set_bn_eval)`` after ``model.train()``.

Pattern from msight-tech/research-ms-loss ret_benchmark/utils/freeze_bn.py (``set_bn_eval``
used as ``model.apply(set_bn_eval)`` at the start of each training epoch) and pytorch/vision
references/depth/stereo/utils/norm.py (``freeze_batch_norm(model)``): small batches, so the
pretrained running statistics are kept while the weights still train. Original code.
"""

import torch
import torch.nn as nn
import torch.nn.functional as F


def set_bn_eval(module):
    if isinstance(module, nn.modules.batchnorm._BatchNorm):
        module.eval()


def freeze_batch_norm(model):
    for module in model.modules():
        if isinstance(module, nn.BatchNorm2d):
            module.eval()


def train_epoch(model, loader, optimizer, margin=0.5):
    model.train()
    model.apply(set_bn_eval)
    running = 0.0
    for images, labels in loader:
        embeddings = F.normalize(model(images), dim=1)
        similarity = embeddings @ embeddings.t()
        same = labels[:, None] == labels[None, :]
        loss = F.relu(similarity[~same] - margin).mean() + (1 - similarity[same]).mean()
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        running += loss.item()
    return running / len(loader)


def train_stereo(model, loader, optimizer, steps=1000):
    model.train()
    freeze_batch_norm(model)
    for step, (left, right, disparity) in enumerate(loader):
        prediction = model(left, right)
        loss = F.smooth_l1_loss(prediction, disparity)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        if step >= steps:
            break


def main(model, loader, epochs=30):
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-5, weight_decay=5e-4)
    for epoch in range(epochs):
        print(epoch, train_epoch(model, loader, optimizer))
