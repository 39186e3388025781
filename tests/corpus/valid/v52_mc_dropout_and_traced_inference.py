"""Models test-time uses of modes: Monte Carlo dropout after ``eval()``, and a traced frozen model.

MC dropout (Gal & Ghahramani) keeps only the Dropout layers stochastic: ``model.eval()`` then
``for m in model.modules(): if m.__class__.__name__.startswith('Dropout'): m.train()``
(cvpr1145/cvpr1145 utils/enable_dropout.py; Actis92/lit-saint's uncertainty docs do it inside a
Lightning ``predict_step``); BatchNorm stays in eval. The traced path follows
pytorch/tutorials recipes_source/recipes/tuning_guide.py (``resnet50().eval()``,
``torch.jit.trace``, ``torch.jit.freeze``, warm-up runs under ``torch.no_grad()``). Original code.
"""

import lightning as L
import torch
import torchvision


def enable_dropout(model):
    for module in model.modules():
        if module.__class__.__name__.startswith("Dropout"):
            module.train()


def mc_dropout_predict(model, x, samples=30):
    model.eval()
    enable_dropout(model)
    with torch.no_grad():
        probs = torch.stack([model(x).softmax(dim=-1) for _ in range(samples)])
    return probs.mean(dim=0), probs.var(dim=0)


class UncertainClassifier(L.LightningModule):
    def __init__(self, backbone, mc_samples=20):
        super().__init__()
        self.backbone = backbone
        self.mc_samples = mc_samples

    def forward(self, x):
        return self.backbone(x)

    def predict_step(self, batch, batch_idx, dataloader_idx=0):
        x, _ = batch
        for module in self.modules():
            if module.__class__.__name__.startswith("Dropout"):
                module.train()
        samples = torch.stack([self(x).softmax(-1) for _ in range(self.mc_samples)])
        return samples.mean(0), samples.std(0)


def traced_inference(batches):
    sample_input = [torch.rand(32, 3, 224, 224)]
    model = getattr(torchvision.models, "resnet50")().eval()
    traced_model = torch.jit.trace(model, sample_input)
    traced_model = torch.jit.freeze(traced_model)
    outputs = []
    with torch.no_grad():
        traced_model(*sample_input)
        traced_model(*sample_input)
        for batch in batches:
            outputs.append(traced_model(batch).argmax(1))
    return outputs
