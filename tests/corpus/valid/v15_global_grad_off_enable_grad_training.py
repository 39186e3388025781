"""Models an inference service that disables autograd globally and adapts with ``enable_grad()``.

Test-time adaptation scripts (Tent-style entropy minimisation) turn gradients off for the whole
process with ``torch.set_grad_enabled(False)`` and re-enable them only around the adaptation
step with ``torch.enable_grad()``; the adapted BatchNorm affine parameters are the only ones
the optimizer sees. Original code.
"""

import torch
import torch.nn as nn

torch.set_grad_enabled(False)


def collect_norm_params(model):
    params = []
    for module in model.modules():
        if isinstance(module, nn.BatchNorm2d):
            module.requires_grad_(True)
            params += [module.weight, module.bias]
    return params


def entropy(logits):
    return -(logits.softmax(1) * logits.log_softmax(1)).sum(1).mean()


class TentAdapter:
    def __init__(self, model, lr=1e-3):
        self.model = model
        self.model.requires_grad_(False)
        self.optimizer = torch.optim.SGD(collect_norm_params(model), lr=lr, momentum=0.9)

    def adapt_and_predict(self, images):
        self.model.train()  # BatchNorm uses test-batch statistics during adaptation
        with torch.enable_grad():
            logits = self.model(images)
            loss = entropy(logits)
            self.optimizer.zero_grad()
            loss.backward()
            self.optimizer.step()
        return logits.argmax(1)


def serve(model, stream):
    adapter = TentAdapter(model)
    predictions = []
    for images in stream:
        predictions.append(adapter.adapt_and_predict(images))
    model.eval()
    final = [model(images).argmax(1) for images in stream]
    return predictions, final
