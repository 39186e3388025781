"""TM203 examples, modelled on real training and evaluation code (see each comment)."""

from torchmode.rules.base import Invalid

INVALID: tuple[Invalid, ...] = (
    # validate() in an imagenet-style classification script: `no_grad` named, not called
    Invalid(
        """\
import torch


def validate(val_loader, model, criterion, device):
    model.eval()
    correct = 0
    total_loss = 0.0
    with torch.no_grad:
        for images, target in val_loader:
            images, target = images.to(device), target.to(device)
            output = model(images)
            total_loss += criterion(output, target).item()
            correct += (output.argmax(1) == target).sum().item()
    model.train()
    return total_loss / len(val_loader), correct / len(val_loader.dataset)
""",
        (8,),
        fix="""\
@@
     correct = 0
     total_loss = 0.0
-    with torch.no_grad:
+    with torch.no_grad():
         for images, target in val_loader:
             images, target = images.to(device), target.to(device)
""",
    ),
    # prediction script (vision references style) with `inference_mode` not called
    Invalid(
        """\
import torch
import torchvision

model = torchvision.models.resnet50()
model.load_state_dict(torch.load("checkpoint.pth", map_location="cpu"))
model.eval()

predictions = []
with torch.inference_mode:
    for images, _ in test_loader:
        logits = model(images)
        predictions.append(logits.argmax(dim=1))
predictions = torch.cat(predictions)
""",
        (9,),
        fix="""\
@@

 predictions = []
-with torch.inference_mode:
+with torch.inference_mode():
     for images, _ in test_loader:
         logits = model(images)
""",
    ),
    # trainer class evaluating on `self.model` after `from torch import no_grad`
    Invalid(
        """\
from torch import no_grad


class Trainer:
    def __init__(self, model, optimizer, val_loader):
        self.model = model
        self.optimizer = optimizer
        self.val_loader = val_loader

    def evaluate(self):
        self.model.eval()
        losses = []
        with no_grad:
            for batch in self.val_loader:
                outputs = self.model(**batch)
                losses.append(outputs.loss.item())
        self.model.train()
        return sum(losses) / len(losses)
""",
        (13,),
        fix="""\
@@
         self.model.eval()
         losses = []
-        with no_grad:
+        with no_grad():
             for batch in self.val_loader:
                 outputs = self.model(**batch)
""",
    ),
    # module imported as `T` (notebook-style); the `with` also enters autocast
    Invalid(
        """\
import torch as T

model.eval()
with T.autocast("cuda", dtype=T.float16), T.no_grad:
    for x, y in val_loader:
        logits = model(x.cuda())
        acc = (logits.argmax(-1) == y.cuda()).float().mean()
        print(f"val acc {acc.item():.3f}")
model.train()
""",
        (4,),
        fix="""\
@@

 model.eval()
-with T.autocast("cuda", dtype=T.float16), T.no_grad:
+with T.autocast("cuda", dtype=T.float16), T.no_grad():
     for x, y in val_loader:
         logits = model(x.cuda())
""",
    ),
    # test-time adaptation: global grad off, `enable_grad` not called around the update
    Invalid(
        """\
import torch

torch.set_grad_enabled(False)


def adapt(model, optimizer, x):
    model.train()
    with torch.enable_grad:
        logits = model(x)
        entropy = -(logits.softmax(1) * logits.log_softmax(1)).sum(1).mean()
        optimizer.zero_grad()
        entropy.backward()
        optimizer.step()
    return logits
""",
        (8,),
        fix="""\
@@
 def adapt(model, optimizer, x):
     model.train()
-    with torch.enable_grad:
+    with torch.enable_grad():
         logits = model(x)
         entropy = -(logits.softmax(1) * logits.log_softmax(1)).sum(1).mean()
""",
    ),
    # transfer-learning phase loop, `set_grad_enabled` not called: no automatic fix (needs an arg)
    Invalid(
        """\
import torch

for phase in ["train", "val"]:
    if phase == "train":
        model.train()
    else:
        model.eval()
    for inputs, labels in dataloaders[phase]:
        optimizer.zero_grad()
        with torch.set_grad_enabled:
            outputs = model(inputs)
            loss = criterion(outputs, labels)
            if phase == "train":
                loss.backward()
                optimizer.step()
""",
        (10,),
    ),
    # DQN action selection in a helper: `no_grad` named, not called
    Invalid(
        """\
import random

import torch


def select_action(policy_net, state, epsilon, n_actions):
    if random.random() < epsilon:
        return torch.tensor([[random.randrange(n_actions)]])
    with torch.no_grad:
        return policy_net(state).max(1).indices.view(1, 1)


for step in range(num_steps):
    action = select_action(policy_net, state, epsilon, env.action_space.n)
    state, reward, done = env.step(action.item())
""",
        (9,),
        fix="""\
@@
     if random.random() < epsilon:
         return torch.tensor([[random.randrange(n_actions)]])
-    with torch.no_grad:
+    with torch.no_grad():
         return policy_net(state).max(1).indices.view(1, 1)

""",
    ),
    # GAN sample grid every N iterations with two `with` statements, both not called
    Invalid(
        """\
import torch
from torchvision.utils import save_image

for i, (real, _) in enumerate(dataloader):
    train_step(netG, netD, optimizerG, optimizerD, real)
    if i % 500 == 0:
        netG.eval()
        with torch.no_grad:
            fake = netG(fixed_noise)
        save_image(fake, f"samples/{i:06d}.png", normalize=True)
        netG.train()
    if i % 5000 == 0:
        with torch.inference_mode:
            score = inception_score(netG, n_samples=1000)
        print(i, score)
""",
        (
            8,
            13,
        ),
        fix="""\
@@
     if i % 500 == 0:
         netG.eval()
-        with torch.no_grad:
+        with torch.no_grad():
             fake = netG(fixed_noise)
         save_image(fake, f"samples/{i:06d}.png", normalize=True)
         netG.train()
     if i % 5000 == 0:
-        with torch.inference_mode:
+        with torch.inference_mode():
             score = inception_score(netG, n_samples=1000)
         print(i, score)
""",
    ),
    # `torch.no_grad()` called on a line of its own, as if it switched gradients off
    Invalid(
        """\
import torch


def evaluate(model, loader):
    model.eval()
    torch.no_grad()
    for x in loader:
        print(model(x))
""",
        (6,),
        None,
    ),
)

VALID: tuple[str, ...] = (
    # gradients switched off for a whole evaluation by a bare `set_grad_enabled(False)`
    """\
import torch


def evaluate(model, loader):
    model.eval()
    torch.set_grad_enabled(False)
    outputs = [model(x) for x in loader]
    torch.set_grad_enabled(True)
    return outputs
""",
    # the called forms of all four context managers
    """\
import torch

with torch.no_grad():
    preds = model(x)
with torch.inference_mode():
    preds = model(x)
with torch.set_grad_enabled(False):
    preds = model(x)
with torch.enable_grad():
    loss = criterion(model(x), y)
""",
    # bare decorators work since PyTorch 2.1 (pytorch PR #107086): estimate_loss, predict
    """\
import torch


@torch.no_grad
def estimate_loss(model, get_batch, eval_iters):
    model.eval()
    losses = torch.zeros(eval_iters)
    for k in range(eval_iters):
        x, y = get_batch("val")
        _, loss = model(x, y)
        losses[k] = loss.item()
    model.train()
    return losses.mean()


@torch.inference_mode
def predict(model, x):
    return model(x).softmax(-1)
""",
    # a context manager instance built once and re-entered (shared evaluation context)
    """\
import torch

no_grad = torch.no_grad()
model.eval()
for loader in (val_loader, test_loader):
    with no_grad:
        for x, y in loader:
            correct = (model(x).argmax(1) == y).sum().item()
            print(correct)
""",
    # class chosen at run time and called in the `with` (shared run_epoch for train and eval)
    """\
import contextlib

import torch


def run_epoch(model, loader, optimizer=None):
    is_train = optimizer is not None
    model.train(is_train)
    grad_ctx = contextlib.nullcontext if is_train else torch.no_grad
    total = 0.0
    for x, y in loader:
        with grad_ctx():
            loss = criterion(model(x), y)
        if is_train:
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
        total += loss.item()
    return total / len(loader)
""",
    # context chosen as an instance at run time (`enable_grad() if train else no_grad()`)
    """\
import torch


def step(model, batch, train):
    ctx = torch.enable_grad() if train else torch.no_grad()
    with ctx:
        logits = model(batch["input_ids"])
        loss = torch.nn.functional.cross_entropy(logits, batch["labels"])
    return loss
""",
    # `set_grad_enabled(phase == 'train')` in the transfer-learning phase loop
    """\
import torch

for phase in ["train", "val"]:
    model.train(phase == "train")
    for inputs, labels in dataloaders[phase]:
        optimizer.zero_grad()
        with torch.set_grad_enabled(phase == "train"):
            outputs = model(inputs)
            loss = criterion(outputs, labels)
            if phase == "train":
                loss.backward()
                optimizer.step()
""",
    # ExitStack entering `no_grad()` conditionally (library-style evaluation helper)
    """\
import contextlib

import torch


def forward_all(model, loader, track_grad=False):
    outputs = []
    with contextlib.ExitStack() as stack:
        if not track_grad:
            stack.enter_context(torch.no_grad())
        for x in loader:
            outputs.append(model(x))
    return outputs
""",
    # `inference_mode(mode=...)` with an argument, as a decorator and a context manager
    """\
import torch


class Predictor:
    def __init__(self, model):
        self.model = model.eval()

    @torch.inference_mode(mode=True)
    def __call__(self, image):
        return self.model(image[None])[0]

    def embed(self, images, keep_graph=False):
        with torch.inference_mode(mode=not keep_graph):
            return self.model.backbone(images)
""",
    # a user's own context manager called `no_grad` on another object (not torch)
    """\
import torch


class FrozenParams:
    def __init__(self, module):
        self.module = module

    def __enter__(self):
        for p in self.module.parameters():
            p.requires_grad_(False)

    def __exit__(self, *exc):
        for p in self.module.parameters():
            p.requires_grad_(True)


helpers = {"no_grad": FrozenParams(teacher)}
with helpers["no_grad"]:
    soft_targets = teacher(x).softmax(-1)
""",
    # the class passed around uncalled as a value (a factory), then instantiated
    """\
import torch

EVAL_CONTEXTS = {"no_grad": torch.no_grad, "inference": torch.inference_mode}


def evaluate(model, loader, context="no_grad"):
    model.eval()
    make_context = EVAL_CONTEXTS[context]
    with make_context():
        return [model(x).argmax(-1) for x in loader]
""",
    # autocast and no_grad together, both called (AMP evaluation)
    """\
import torch

model.eval()
with torch.autocast(device_type="cuda", dtype=torch.bfloat16), torch.no_grad():
    for batch in eval_loader:
        out = model(batch["pixel_values"].cuda())
        metric.update(out.argmax(-1), batch["labels"].cuda())
print(metric.compute())
""",
)
