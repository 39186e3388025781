"""Models early d2l.ai helpers: ``evaluate_accuracy`` / ``evaluate_loss`` without ``torch.no_grad()``.

Real pattern: d2l-ai/d2l-en d2l/torch.py in versions where ``evaluate_accuracy`` ran
``net(X)`` with autograd on (later wrapped in ``torch.no_grad()``) and ``evaluate_loss`` neither
disabled autograd nor switched to eval mode; copies of these helpers live on in many course
repositories. TM201 at each evaluation's forward; ``evaluate_loss`` also runs the dropout MLP
in train mode right after ``train_epoch`` (TM102). Original code.
"""

import torch
from torch import nn


class Accumulator:
    def __init__(self, n):
        self.data = [0.0] * n

    def add(self, *args):
        self.data = [a + float(b) for a, b in zip(self.data, args)]

    def __getitem__(self, idx):
        return self.data[idx]


def accuracy(y_hat, y):
    if y_hat.ndim > 1 and y_hat.shape[1] > 1:
        y_hat = y_hat.argmax(axis=1)
    return float((y_hat.type(y.dtype) == y).sum())


def evaluate_accuracy(net, data_iter):
    if isinstance(net, nn.Module):
        net.eval()
    metric = Accumulator(2)
    for X, y in data_iter:
        metric.add(accuracy(net(X), y), y.numel())  # expect: TM201
    return metric[0] / metric[1]


def evaluate_loss(net, data_iter, loss):
    metric = Accumulator(2)
    for X, y in data_iter:
        out = net(X)  # expect: TM102, TM201
        l = loss(out, y.reshape(out.shape))
        metric.add(l.sum(), l.numel())
    return metric[0] / metric[1]


def train_epoch(net, train_iter, loss, updater):
    if isinstance(net, nn.Module):
        net.train()
    metric = Accumulator(3)
    for X, y in train_iter:
        y_hat = net(X)
        l = loss(y_hat, y)
        updater.zero_grad()
        l.mean().backward()
        updater.step()
        metric.add(float(l.sum()), accuracy(y_hat, y), y.numel())
    return metric[0] / metric[2], metric[1] / metric[2]


def train_classifier(net, train_iter, test_iter, num_epochs=10, lr=0.1):
    loss = nn.CrossEntropyLoss(reduction="none")
    trainer = torch.optim.SGD(net.parameters(), lr=lr)
    for epoch in range(num_epochs):
        train_loss, train_acc = train_epoch(net, train_iter, loss, trainer)
        print(epoch + 1, train_loss, train_acc, evaluate_accuracy(net, test_iter))


def fit_regression(train_iter, test_iter, num_inputs, num_epochs=400, lr=0.01):
    net = nn.Sequential(nn.Linear(num_inputs, 64), nn.ReLU(), nn.Dropout(0.2), nn.Linear(64, 1))
    loss = nn.MSELoss(reduction="none")
    trainer = torch.optim.SGD(net.parameters(), lr=lr)
    for epoch in range(num_epochs):
        train_epoch(net, train_iter, loss, trainer)
        if epoch == 0 or (epoch + 1) % 20 == 0:
            print(epoch + 1, evaluate_loss(net, train_iter, loss), evaluate_loss(net, test_iter, loss))
