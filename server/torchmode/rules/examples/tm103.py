"""TM103 examples, modelled on real training and evaluation code.

Invalid: ``model.eval`` / ``model.train`` written as a statement without the call. Valid: the
correct spellings real code uses — ``train(False)``, ``train(mode=...)``, assignment and chained
forms, references passed as callbacks, functions and classes of their own named ``eval``/``train``.
"""

from torchmode.rules.base import Invalid

INVALID = (
    # Image-classification `validate()` with `model.eval` missing its parentheses.
    Invalid(
        """\
import torch


def validate(model, loader, criterion):
    model.eval
    total, correct = 0, 0
    with torch.no_grad():
        for images, labels in loader:
            outputs = model(images)
            correct += (outputs.argmax(1) == labels).sum().item()
            total += labels.size(0)
    return correct / total
""",
        (5,),
        fix="""\
@@

 def validate(model, loader, criterion):
-    model.eval
+    model.eval()
     total, correct = 0, 0
     with torch.no_grad():
""",
    ),
    # pytorch/examples-style epoch loop whose `model.train` at the epoch start does nothing.
    Invalid(
        """\
import torch

for epoch in range(args.epochs):
    model.train
    for batch_idx, (data, target) in enumerate(train_loader):
        optimizer.zero_grad()
        loss = criterion(model(data), target)
        loss.backward()
        optimizer.step()
        if batch_idx % args.log_interval == 0:
            print(f"epoch {epoch} [{batch_idx}/{len(train_loader)}] loss {loss.item():.4f}")
    test(model, test_loader)
""",
        (4,),
        fix="""\
@@

 for epoch in range(args.epochs):
-    model.train
+    model.train()
     for batch_idx, (data, target) in enumerate(train_loader):
         optimizer.zero_grad()
""",
    ),
    # Evaluator class: `self.model.eval` under `@torch.inference_mode()`.
    Invalid(
        """\
import torch


class Evaluator:
    def __init__(self, model, loader, device):
        self.model = model
        self.loader = loader
        self.device = device

    @torch.inference_mode()
    def run(self):
        self.model.eval
        preds, targets = [], []
        for batch in self.loader:
            logits = self.model(batch["input_ids"].to(self.device))
            preds.append(logits.argmax(-1).cpu())
            targets.append(batch["labels"])
        return torch.cat(preds), torch.cat(targets)
""",
        (12,),
        fix="""\
@@
     @torch.inference_mode()
     def run(self):
-        self.model.eval
+        self.model.eval()
         preds, targets = [], []
         for batch in self.loader:
""",
    ),
    # GAN script: both switches around the end-of-epoch sample grid are written without `()`.
    Invalid(
        """\
import torch

fixed_noise = torch.randn(16, latent_dim)
for epoch in range(n_epochs):
    for i, (imgs, _) in enumerate(dataloader):
        train_discriminator_step(generator, discriminator, imgs)
        train_generator_step(generator, discriminator, imgs.size(0))
    generator.eval
    with torch.no_grad():
        samples = generator(fixed_noise)
    save_image(samples, f"images/{epoch}.png", nrow=4, normalize=True)
    generator.train
""",
        (8, 12),
        fix="""\
@@
         train_discriminator_step(generator, discriminator, imgs)
         train_generator_step(generator, discriminator, imgs.size(0))
-    generator.eval
+    generator.eval()
     with torch.no_grad():
         samples = generator(fixed_noise)
     save_image(samples, f"images/{epoch}.png", nrow=4, normalize=True)
-    generator.train
+    generator.train()
""",
    ),
    # Encoder-decoder `evaluate()`: the decoder's `eval`/`train` are no-ops.
    Invalid(
        """\
import torch


def evaluate(encoder, decoder, loader):
    encoder.eval()
    decoder.eval
    bleu_scores = []
    with torch.no_grad():
        for src, tgt in loader:
            memory = encoder(src)
            hyp = decoder.greedy_decode(memory, max_len=tgt.size(1))
            bleu_scores.append(sentence_bleu(hyp, tgt))
    encoder.train()
    decoder.train
    return sum(bleu_scores) / len(bleu_scores)
""",
        (6, 14),
        fix="""\
@@
 def evaluate(encoder, decoder, loader):
     encoder.eval()
-    decoder.eval
+    decoder.eval()
     bleu_scores = []
     with torch.no_grad():
@@
             bleu_scores.append(sentence_bleu(hyp, tgt))
     encoder.train()
-    decoder.train
+    decoder.train()
     return sum(bleu_scores) / len(bleu_scores)
""",
    ),
    # DDP trainer: the wrapped module's `eval` reached through `self.model.module`, not called.
    Invalid(
        """\
import torch


class DDPTrainer:
    def __init__(self, model, gpu_id):
        self.model = torch.nn.parallel.DistributedDataParallel(model, device_ids=[gpu_id])

    def _evaluate(self, loader):
        self.model.module.eval
        with torch.no_grad():
            losses = [self.loss_fn(self.model(x), y).item() for x, y in loader]
        return sum(losses) / len(losses)
""",
        (9,),
        fix="""\
@@

     def _evaluate(self, loader):
-        self.model.module.eval
+        self.model.module.eval()
         with torch.no_grad():
             losses = [self.loss_fn(self.model(x), y).item() for x, y in loader]
""",
    ),
    # Notebook cell: reload the best checkpoint, `model.eval` without `()`, plot a prediction.
    Invalid(
        """\
import matplotlib.pyplot as plt
import torch

model.load_state_dict(torch.load("unet_best.pth", map_location=device))
model.eval
image, mask = val_ds[7]
with torch.no_grad():
    pred = torch.sigmoid(model(image.unsqueeze(0).to(device)))[0, 0].cpu()
fig, axes = plt.subplots(1, 3, figsize=(12, 4))
panels = {"image": image.permute(1, 2, 0), "mask": mask[0], "prediction": pred > 0.5}
for ax, (title, img) in zip(axes, panels.items()):
    ax.imshow(img)
    ax.set_title(title)
""",
        (5,),
        fix="""\
@@

 model.load_state_dict(torch.load("unet_best.pth", map_location=device))
-model.eval
+model.eval()
 image, mask = val_ds[7]
 with torch.no_grad():
""",
    ),
    # An `nn.Module` with its own `predict()` helper that writes `self.eval` without `()`.
    Invalid(
        """\
import torch
from torch import nn


class Classifier(nn.Module):
    def __init__(self, in_dim, n_classes):
        super().__init__()
        self.net = nn.Sequential(
            nn.Linear(in_dim, 256), nn.ReLU(), nn.Dropout(0.3), nn.Linear(256, n_classes)
        )

    def forward(self, x):
        return self.net(x)

    @torch.no_grad()
    def predict(self, x):
        self.eval
        return self.forward(x).argmax(-1)
""",
        (17,),
        fix="""\
@@
     @torch.no_grad()
     def predict(self, x):
-        self.eval
+        self.eval()
         return self.forward(x).argmax(-1)
""",
    ),
    # A one-line `if args.evaluate: model.eval` before the validation block.
    Invalid(
        """\
import torch

for epoch in range(epochs):
    model.train()
    train_one_epoch(model, train_loader, optimizer)
    if args.evaluate: model.eval
    with torch.no_grad():
        acc = accuracy(model, val_loader)
""",
        (6,),
        fix="""\
@@
     model.train()
     train_one_epoch(model, train_loader, optimizer)
-    if args.evaluate: model.eval
+    if args.evaluate: model.eval()
     with torch.no_grad():
         acc = accuracy(model, val_loader)
""",
    ),
    # Shared `run_epoch()` that writes `model.eval(True)` for the evaluation branch (a TypeError).
    Invalid(
        """\
import torch


def run_epoch(model, loader, optimizer=None):
    if optimizer is None:
        model.eval(True)
    else:
        model.train()
    total = 0.0
    with torch.set_grad_enabled(optimizer is not None):
        for x, y in loader:
            loss = criterion(model(x), y)
            if optimizer is not None:
                optimizer.zero_grad()
                loss.backward()
                optimizer.step()
            total += loss.item()
    return total / len(loader)
""",
        (6,),
        fix="""\
@@
 def run_epoch(model, loader, optimizer=None):
     if optimizer is None:
-        model.eval(True)
+        model.eval()
     else:
         model.train()
""",
    ),
    # `model.eval(False)` meant as "not eval" at the top of an AMP training epoch: a TypeError;
    # the fix (`train()`) guesses the intent, so it is unsafe.
    Invalid(
        """\
import torch


def train_one_epoch(model, loader, optimizer, scaler):
    model.eval(False)
    for images, targets in loader:
        with torch.autocast("cuda", dtype=torch.bfloat16):
            loss = criterion(model(images), targets)
        optimizer.zero_grad(set_to_none=True)
        scaler.scale(loss).backward()
        scaler.step(optimizer)
        scaler.update()
""",
        (5,),
        fix="""\
@@

 def train_one_epoch(model, loader, optimizer, scaler):
-    model.eval(False)
+    model.train()
     for images, targets in loader:
         with torch.autocast("cuda", dtype=torch.bfloat16):
""",
        unsafe=True,
    ),
)

VALID = (
    # PyTorch-intro loop: `model.train(True)` / `model.train(False)` are the correct switches.
    """\
import torch

for epoch in range(EPOCHS):
    model.train(True)
    avg_loss = train_one_epoch(epoch)
    model.train(False)
    with torch.no_grad():
        avg_vloss = sum(loss_fn(model(x), y).item() for x, y in validation_loader)
    print(f"LOSS train {avg_loss:.3f} valid {avg_vloss / len(validation_loader):.3f}")
""",
    # `model.train(mode=was_training)` restoring the caller's mode; `model.train(is_train)` in a
    # shared epoch runner.
    """\
import torch


def visualize_predictions(model, images):
    was_training = model.training
    model.eval()
    with torch.no_grad():
        preds = model(images).argmax(1)
    model.train(mode=was_training)
    return preds


def run_epoch(model, loader, is_train):
    model.train(is_train)
    with torch.set_grad_enabled(is_train):
        return [criterion(model(x), y) for x, y in loader]
""",
    # Assignment and chained forms: `Net().to(device).train()`, `net = net.eval()` before export.
    """\
import torch

net = Net().to(device).train()
net = torch.compile(net)
for x, y in loader:
    optimizer.zero_grad()
    criterion(net(x), y).backward()
    optimizer.step()
net = net.eval()
scripted = torch.jit.script(net)
scripted.save("net.pt")
""",
    # OpenNMT-style module-level function named `eval(model, criterion, data)`, called as such.
    """\
import torch


def eval(model, criterion, data):
    total_loss = 0.0
    model.eval()
    with torch.no_grad():
        for batch in data:
            total_loss += criterion(model(batch.src), batch.tgt).item()
    model.train()
    return total_loss / len(data)


for epoch in range(1, opt.epochs + 1):
    train_loss = train_epoch(epoch)
    valid_loss = eval(model, criterion, validData)
    print(f"epoch {epoch}: train {train_loss:.3f} valid {valid_loss:.3f}")
""",
    # Command-line flags named `--train` / `--eval` read as `args.train` / `args.eval`.
    """\
import argparse

import torch

parser = argparse.ArgumentParser()
parser.add_argument("--train", action="store_true")
parser.add_argument("--eval", action="store_true")
args = parser.parse_args()

if args.train:
    fit(model, train_loader, optimizer, epochs=args.epochs)
if args.eval:
    model.eval()
    with torch.no_grad():
        print(evaluate(model, test_loader))
""",
    # An RL agent class (not an `nn.Module`) with its own `train()`/`eval()` methods.
    """\
import torch


class Agent:
    # an RL agent with its own train/eval switches (not an nn.Module)

    def __init__(self, policy):
        self.policy = policy
        self.training = True

    def train(self):
        self.training = True
        self.policy.train()

    def eval(self):
        self.training = False
        self.policy.eval()


agent = Agent(policy)
agent.eval()
with torch.no_grad():
    episode_return = rollout(agent, env)
agent.train()
""",
    # Bound methods used as values: `model.train if training else model.eval`, then called; hooks
    # registered as callbacks.
    """\
import torch


def set_mode(model, training):
    switch = model.train if training else model.eval
    switch()


callbacks = {"on_validation_start": model.eval, "on_validation_end": model.train}
for name, hook in callbacks.items():
    trainer.register_hook(name, hook)
""",
    # Frozen-BatchNorm backbone overriding `train(self, mode=True)`, calling `super().train(mode)`.
    """\
import torch
from torch import nn


class FrozenBNResNet(nn.Module):
    def __init__(self, backbone):
        super().__init__()
        self.backbone = backbone

    def train(self, mode=True):
        super().train(mode)
        for m in self.backbone.modules():
            if isinstance(m, nn.BatchNorm2d):
                m.eval()
        return self

    def forward(self, x):
        return self.backbone(x)
""",
    # `torch.hub.load(...).eval().to(device)` chained; Python's builtin `eval()` on a config string.
    """\
import torch

model = torch.hub.load("pytorch/vision", "resnet18", weights="IMAGENET1K_V1").eval().to(device)
assert not model.training
config = {"expr": "lr * 0.1"}
scale = eval(config["expr"], {"lr": base_lr})
with torch.inference_mode():
    logits = model(batch.to(device))
""",
    # `model.eval` mentioned in a comment and a docstring; the unbound
    # `nn.Module.train(model, flag)`.
    """\
import torch

# Note: `model.eval` alone does nothing - always call `model.eval()`.
'''Evaluate with model.eval and model.train(mode) as needed.'''
for split, loader in loaders.items():
    torch.nn.Module.train(model, split == "train")
    with torch.set_grad_enabled(split == "train"):
        for x, y in loader:
            loss = criterion(model(x), y)
""",
    # Dataset splits named `train`/`validation` read as attributes and keys.
    """\
import torch

dataset = load_dataset("glue", "sst2")
train_split = dataset["train"]
eval_split = dataset["validation"]
train_ds = dataset.train
model.eval()
with torch.no_grad():
    preds = [model(batch).argmax(-1) for batch in eval_loader]
""",
)
