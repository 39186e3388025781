"""Models the legitimate places for ``zero_grad()``: after the forward, or after ``step()``.

Patterns from yunjey/pytorch-tutorial and thuml/Transfer-Learning-Library examples (forward and
loss first, then ``optimizer.zero_grad(); loss.backward(); optimizer.step()``; see
yunjey/pytorch-tutorial issue #238) and patrickloeber/pytorchTutorial's early lessons
(``loss.backward(); optimizer.step(); optimizer.zero_grad()``; issue #19), plus a DANN-style
step with a gradient-reversal domain head. Original code.
"""

import torch
import torch.nn as nn


class GradientReverse(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x, coeff):
        ctx.coeff = coeff
        return x.view_as(x)

    @staticmethod
    def backward(ctx, grad_output):
        return -ctx.coeff * grad_output, None


def train_classifier(model, loader, epochs=5, lr=1e-3):
    criterion = nn.CrossEntropyLoss()
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    for epoch in range(epochs):
        for i, (images, labels) in enumerate(loader):
            outputs = model(images.reshape(-1, 28 * 28))
            loss = criterion(outputs, labels)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            if (i + 1) % 100 == 0:
                print(f"Epoch [{epoch + 1}/{epochs}], Step [{i + 1}], Loss: {loss.item():.4f}")


def train_regression(model, x, y, n_iters=100, lr=0.01):
    loss_fn = nn.MSELoss()
    optimizer = torch.optim.SGD(model.parameters(), lr=lr)
    for epoch in range(n_iters):
        loss = loss_fn(model(x), y)
        loss.backward()
        optimizer.step()
        optimizer.zero_grad()
        if epoch % 10 == 0:
            print(f"epoch {epoch + 1}: loss = {loss.item():.8f}")


def train_dann(backbone, classifier, domain_head, source_loader, target_loader, steps=1000, trade_off=1.0):
    params = [*backbone.parameters(), *classifier.parameters(), *domain_head.parameters()]
    optimizer = torch.optim.SGD(params, lr=0.01, momentum=0.9, weight_decay=1e-3)
    for step, ((x_s, labels_s), (x_t, _)) in enumerate(zip(source_loader, target_loader)):
        features = backbone(torch.cat([x_s, x_t]))
        f_s, _ = features.chunk(2)
        cls_loss = nn.functional.cross_entropy(classifier(f_s), labels_s)
        domain_logits = domain_head(GradientReverse.apply(features, trade_off))
        domain_labels = torch.cat([torch.ones(len(x_s)), torch.zeros(len(x_t))]).long()
        loss = cls_loss + nn.functional.cross_entropy(domain_logits, domain_labels)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        if step >= steps:
            break
