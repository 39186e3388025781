"""TM204 examples, modelled on real training and evaluation code (see each comment)."""

from torchmode.rules.base import Invalid

INVALID: tuple[Invalid, ...] = (
    # epoch loss summed as tensors in the training loop (brax #152, ray #40940)
    Invalid(
        """\
import torch


def train_one_epoch(model, loader, criterion, optimizer):
    model.train()
    total_loss = 0
    for inputs, targets in loader:
        optimizer.zero_grad()
        loss = criterion(model(inputs), targets)
        loss.backward()
        optimizer.step()
        total_loss += loss
    return total_loss / len(loader)
""",
        (12,),
        fix="""\
@@
         loss.backward()
         optimizer.step()
-        total_loss += loss
+        total_loss += loss.item()
     return total_loss / len(loader)
""",
    ),
    # weighted running total `totalloss += loss * len(y)` (MultiBench Supervised_Learning)
    Invalid(
        """\
import torch

for epoch in range(total_epochs):
    model.train()
    totalloss = 0.0
    totals = 0
    for j in train_dataloader:
        optimizer.zero_grad()
        out = model([i.float().cuda() for i in j[:-1]])
        loss = criterion(out, j[-1].cuda())
        totalloss += loss * len(j[-1])
        totals += len(j[-1])
        loss.backward()
        optimizer.step()
    print(f"Epoch {epoch} train loss: {totalloss / totals}")
""",
        (11,),
        fix="""\
@@
         out = model([i.float().cuda() for i in j[:-1]])
         loss = criterion(out, j[-1].cuda())
-        totalloss += loss * len(j[-1])
+        totalloss += (loss * len(j[-1])).item()
         totals += len(j[-1])
         loss.backward()
""",
    ),
    # losses appended with their graphs for a plot (packnet-sfm PR #51, mi-prometheus #111)
    Invalid(
        """\
import matplotlib.pyplot as plt
import torch

train_losses = []
for epoch in range(n_epochs):
    model.train()
    for x_batch, y_batch in train_loader:
        yhat = model(x_batch)
        loss = loss_fn(yhat, y_batch)
        loss.backward()
        optimizer.step()
        optimizer.zero_grad()
        train_losses.append(loss)
plt.plot(torch.stack(train_losses).detach().numpy())
""",
        (13,),
        fix="""\
@@
         optimizer.step()
         optimizer.zero_grad()
-        train_losses.append(loss)
+        train_losses.append(loss.detach())
 plt.plot(torch.stack(train_losses).detach().numpy())
""",
    ),
    # per-term running totals in a dict (MultimediaTechLab/YOLO PR #83)
    Invalid(
        """\
import torch


def train_epoch(model, loader, loss_fn, optimizer):
    model.train()
    running = {"box": 0.0, "cls": 0.0, "dfl": 0.0}
    for images, targets in loader:
        preds = model(images)
        loss, loss_dict = loss_fn(preds, targets)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        for name, value in loss_dict.items():
            running[name] += value
    return {name: total / len(loader) for name, total in running.items()}
""",
        (14,),
        fix="""\
@@
         optimizer.step()
         for name, value in loss_dict.items():
-            running[name] += value
+            running[name] += value.item()
     return {name: total / len(loader) for name, total in running.items()}
""",
    ),
    # validation without no_grad summing `vloss` tensors (trainingyt): memory grows per batch
    Invalid(
        """\
import torch


def validate(model, loader, loss_fn):
    model.eval()
    running_vloss = 0.0
    for vinputs, vlabels in loader:
        voutputs = model(vinputs)
        vloss = loss_fn(voutputs, vlabels)
        running_vloss += vloss
    model.train()
    return running_vloss / len(loader)
""",
        (10,),
        fix="""\
@@
         voutputs = model(vinputs)
         vloss = loss_fn(voutputs, vlabels)
-        running_vloss += vloss
+        running_vloss += vloss.item()
     model.train()
     return running_vloss / len(loader)
""",
    ),
    # trainer class keeping its loss history on `self` (minGPT-style trainer)
    Invalid(
        """\
import torch


class Trainer:
    def __init__(self, model, optimizer, loader):
        self.model = model
        self.optimizer = optimizer
        self.loader = loader
        self.history = []

    def run_epoch(self):
        self.model.train()
        for x, y in self.loader:
            logits, loss = self.model(x, y)
            self.model.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(self.model.parameters(), 1.0)
            self.optimizer.step()
            self.history.append(loss)
""",
        (19,),
        fix="""\
@@
             torch.nn.utils.clip_grad_norm_(self.model.parameters(), 1.0)
             self.optimizer.step()
-            self.history.append(loss)
+            self.history.append(loss.detach())
""",
    ),
    # per-epoch loss history indexed by epoch (notebook-style script)
    Invalid(
        """\
import torch

epoch_losses = torch.zeros(num_epochs)
for epoch in range(num_epochs):
    model.train()
    for x, y in train_loader:
        optimizer.zero_grad()
        loss = criterion(model(x), y)
        loss.backward()
        optimizer.step()
        epoch_losses[epoch] += loss
print(epoch_losses / len(train_loader))
""",
        (11,),
        fix="""\
@@
         loss.backward()
         optimizer.step()
-        epoch_losses[epoch] += loss
+        epoch_losses[epoch] += loss.item()
 print(epoch_losses / len(train_loader))
""",
    ),
    # un-no_grad validate() summing criterion outputs; the total is used as a tensor, so `.detach()`
    Invalid(
        """\
import torch


def validate(model, val_loader, criterion, device):
    model.eval()
    val_loss = 0
    for images, masks in val_loader:
        images, masks = images.to(device), masks.to(device)
        val_loss += criterion(model(images), masks)
    model.train()
    return (val_loss / len(val_loader)).item()
""",
        (9,),
        fix="""\
@@
     for images, masks in val_loader:
         images, masks = images.to(device), masks.to(device)
-        val_loss += criterion(model(images), masks)
+        val_loss += criterion(model(images), masks).detach()
     model.train()
     return (val_loss / len(val_loader)).item()
""",
    ),
    # A label model that is its own nn.Module and trains itself: its forward is `self(...)`,
    # which the loss's backward() proves carries a graph, and the epoch's running total keeps
    # every step's graph alive.
    Invalid(
        """\
import torch
from torch import nn


class LabelModel(nn.Module):
    def __init__(self, n):
        super().__init__()
        self.acc = nn.Parameter(torch.zeros(n))

    def forward(self, votes):
        return (votes * self.acc).sum(1)

    def estimate(self, batches, epochs=5):
        optimizer = torch.optim.SGD(self.parameters(), lr=0.01)
        for epoch in range(epochs):
            running_loss = 0.0
            for votes in batches:
                optimizer.zero_grad()
                loss = -torch.mean(self(votes))
                loss.backward()
                optimizer.step()
                running_loss += loss
            print(running_loss / len(batches))
""",
        (22,),
        fix="""\
@@
-                running_loss += loss
+                running_loss += loss.item()
""",
    ),
    # A prompt-tuning loop that logs every step's loss in a dict keyed by the step count.
    Invalid(
        """\
import torch


def tune(model, loader, optimizer, accelerator, epochs):
    step = 1
    for epoch in range(epochs):
        step_loss_log = {}
        model.train()
        for batch in loader:
            loss = model(**batch).loss
            accelerator.backward(loss)
            optimizer.step()
            optimizer.zero_grad()
            step_loss_log[step] = loss
            step += 1
        print(epoch, sum(step_loss_log.values()) / len(step_loss_log))
""",
        (14,),
        fix="""\
@@
-            step_loss_log[step] = loss
+            step_loss_log[step] = loss.detach()
""",
    ),
    # A script's epoch loop averaging the loss it has just backpropagated, and a second,
    # tuple-unpacked term from the same loss helper: both keep every step's graph.
    Invalid(
        """\
import torch

for epoch in range(epochs):
    net.train()
    epoch_loss = 0.0
    epoch_ce = 0.0
    for images, labels in train_loader:
        loss, ce = loss_terms(net(images), labels)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        epoch_loss += loss / len(train_loader)
        epoch_ce += ce
    print(epoch, float(epoch_loss), float(epoch_ce))
""",
        (12, 13),
        fix="""\
@@
-        epoch_loss += loss / len(train_loader)
-        epoch_ce += ce
+        epoch_loss += (loss / len(train_loader)).item()
+        epoch_ce += ce.item()
""",
    ),
    # A trainer keeping each step's output dict for an end-of-epoch hook: the dict holds the
    # loss it backpropagated, so the list keeps every step's graph. A dict has no `.detach()`:
    # the loss inside it is what to detach, and no fix is offered.
    Invalid(
        """\
import torch


def train_epoch(module, loader, optimizer):
    module.train()
    step_outputs = []
    for i, batch in enumerate(loader):
        optimizer.zero_grad()
        output = module.training_step(batch, i)
        output["loss"].backward()
        optimizer.step()
        step_outputs.append(output)
    return module.training_epoch_end(step_outputs)
""",
        (12,),
    ),
    # a running-average helper class of the file, given the loss tensor itself: its
    # `update()` sums what it is given, so every step's graph stays reachable from the meter
    Invalid(
        """\
import torch


class RunningAverage:
    def __init__(self):
        self.total = torch.zeros(())
        self.steps = 0

    def update(self, value, weight=1):
        self.total += value.cpu() * weight
        self.steps += weight

    def mean(self):
        return self.total / max(self.steps, 1)


def fit_epoch(net, batches, loss_fn, opt):
    net.train()
    meter = RunningAverage()
    for images, labels in batches:
        opt.zero_grad()
        loss = loss_fn(net(images), labels)
        loss.backward()
        opt.step()
        meter.update(loss, images.shape[0])
    return meter.mean()
""",
        (25,),
        fix="""\
@@
         loss.backward()
         opt.step()
-        meter.update(loss, images.shape[0])
+        meter.update(loss.detach(), images.shape[0])
     return meter.mean()
""",
    ),
    # a logger method that appends what it is handed to a list attribute
    Invalid(
        """\
import torch


class History:
    def __init__(self):
        self.records = []

    def log(self, tag, value):
        self.records.append((tag, value))


history = History()
for epoch in range(epochs):
    for x, y in loader:
        optimizer.zero_grad()
        loss = criterion(model(x), y)
        loss.backward()
        optimizer.step()
        history.log("train/loss", loss)
""",
        (19,),
        fix="""\
@@
         loss.backward()
         optimizer.step()
-        history.log("train/loss", loss)
+        history.log("train/loss", loss.detach())
""",
    ),
    # a GAN step helper returns the critic loss it just backpropagated; the loop keeps it in a
    # list for logging
    Invalid(
        """\
import torch


def critic_step(critic, critic_opt, real, fake):
    critic_opt.zero_grad()
    loss_c = critic(fake.detach()).mean() - critic(real).mean()
    loss_c.backward()
    critic_opt.step()
    return loss_c


critic_history = []
for real, noise in loader:
    fake = generator(noise)
    loss_c = critic_step(critic, critic_opt, real, fake)
    critic_history.append(loss_c)
""",
        (16,),
        fix="""\
@@
     fake = generator(noise)
     loss_c = critic_step(critic, critic_opt, real, fake)
-    critic_history.append(loss_c)
+    critic_history.append(loss_c.detach())
""",
    ),
    # probe losses gathered with gradients on before the step's own update: the backward()
    # after the loop is on the batch's loss, which the list does not feed, so every probe
    # batch's activations stay alive until the function returns
    Invalid(
        """\
import torch
import torch.nn.functional as F


def train_step(model, optimizer, batch, probe_batches):
    model.eval()
    probe_losses = []
    for x_probe, y_probe in probe_batches:
        probe_losses.append(F.cross_entropy(model(x_probe), y_probe))
    model.train()
    x, y = batch
    optimizer.zero_grad()
    loss = F.cross_entropy(model(x), y)
    loss.backward()
    optimizer.step()
    return loss.item(), sum(p.item() for p in probe_losses) / len(probe_losses)
""",
        (9,),
        fix="""\
@@
     for x_probe, y_probe in probe_batches:
-        probe_losses.append(F.cross_entropy(model(x_probe), y_probe))
+        probe_losses.append(F.cross_entropy(model(x_probe), y_probe).detach())
     model.train()
""",
    ),
    # a runner class whose base, from an installed package, calls train_step() once per
    # batch: the method takes a whole step, so what it adds to an attribute of the runner is
    # a running total across the steps
    Invalid(
        """\
import torch
import torch.nn.functional as F
from trainkit import Runner


class SegmentationRunner(Runner):
    def __init__(self, net, lr):
        super().__init__()
        self.net = net
        self.optimizer = torch.optim.SGD(net.parameters(), lr=lr, momentum=0.9)
        self.epoch_loss = 0.0

    def train_step(self, images, masks):
        self.optimizer.zero_grad()
        loss = F.cross_entropy(self.net(images), masks)
        loss.backward()
        self.optimizer.step()
        self.epoch_loss += loss

    def on_epoch_end(self, epoch):
        print(f"epoch {epoch}: {self.epoch_loss:.4f}")
        self.epoch_loss = 0.0
""",
        (18,),
        fix="""\
@@
         self.optimizer.step()
-        self.epoch_loss += loss
+        self.epoch_loss += loss.item()
 
""",
    ),
    # a fine-tuning trainer on a DeepSpeed engine (``deepspeed.initialize``): the framework
    # calls training_step() once per batch, the engine backpropagates and steps (its step
    # clears the gradients too), and the loss is added to an attribute with its graph
    Invalid(
        """\
import deepspeed
from trainkit import BaseTrainer


class SFTTrainer(BaseTrainer):
    def setup(self, args, model):
        self.engine, self.optimizer, _, self.scheduler = deepspeed.initialize(
            args=args, model=model, model_parameters=model.parameters(), config=args.ds_config
        )
        self.engine.train()
        self.epoch_loss = 0.0

    def training_step(self, batch):
        loss = self.engine(**batch).loss
        self.engine.backward(loss)
        self.engine.step()
        self.epoch_loss += loss
""",
        (17,),
        fix="""\
@@
         self.engine.step()
-        self.epoch_loss += loss
+        self.epoch_loss += loss.item()
""",
    ),
)


VALID: tuple[str, ...] = (
    # second-order MAML: the query loss of each task of the meta-batch is backpropagated in the
    # loop (gradients for logging) and kept in a local list that the meta-update after the loop
    # differentiates again; the list dies when the step returns
    """\
import torch
import torch.nn.functional as F


def meta_step(model, meta_opt, tasks, inner_lr=0.4, inner_steps=1):
    query_losses = []
    for support_x, support_y, query_x, query_y in tasks:
        fast = dict(model.named_parameters())
        for _ in range(inner_steps):
            loss = F.cross_entropy(model.functional_forward(support_x, fast), support_y)
            grads = torch.autograd.grad(loss, fast.values(), create_graph=True)
            fast = {name: w - inner_lr * g for (name, w), g in zip(fast.items(), grads)}
        query_loss = F.cross_entropy(model.functional_forward(query_x, fast), query_y)
        query_loss.backward(retain_graph=True)
        query_losses.append(query_loss)
    meta_opt.zero_grad()
    meta_loss = torch.stack(query_losses).mean()
    meta_loss.backward()
    meta_opt.step()
    return meta_loss.item()


for epoch in range(100):
    for tasks in task_loader:
        print(meta_step(model, meta_opt, tasks))
""",
    # replay-based continual learning: one step sums a loss per earlier task, kept in local
    # lists (for logging) that die with the step; the backward() after the loop frees the graphs
    """\
import torch
import torch.nn.functional as F


def train_step(model, optimizer, x, y, replayed, weight=0.5):
    model.train()
    optimizer.zero_grad()
    current = F.cross_entropy(model(x), y)
    task_losses = [torch.tensor(0.0)] * len(replayed)
    for task, (x_old, soft_targets) in enumerate(replayed):
        log_probs = F.log_softmax(model(x_old), dim=1)
        task_losses[task] = F.kl_div(log_probs, soft_targets, reduction="batchmean")
    total = weight * current + (1 - weight) * sum(task_losses) / max(len(replayed), 1)
    total.backward()
    optimizer.step()
    return {"loss": total.item(), "replay": [t.item() for t in task_losses]}


for epoch in range(epochs):
    for x, y in train_loader:
        stats = train_step(model, optimizer, x, y, replay_buffer.sample(x.size(0)))
""",
    # the meter of the file given plain numbers, and the same meter filled under no_grad
    """\
import torch


class RunningAverage:
    def __init__(self):
        self.total = 0.0
        self.steps = 0

    def update(self, value, weight=1):
        self.total += value * weight
        self.steps += weight


def fit_epoch(net, batches, loss_fn, opt):
    net.train()
    meter = RunningAverage()
    for images, labels in batches:
        opt.zero_grad()
        loss = loss_fn(net(images), labels)
        loss.backward()
        opt.step()
        meter.update(loss.item(), images.shape[0])
    return meter.total / meter.steps


def check(net, batches, loss_fn):
    net.eval()
    meter = RunningAverage()
    with torch.no_grad():
        for images, labels in batches:
            meter.update(loss_fn(net(images), labels), images.shape[0])
    return meter.total / meter.steps
""",
    # the method detaches what it is given before keeping it
    """\
import torch


class Tracker:
    def __init__(self):
        self.values = []

    def add(self, value):
        self.values.append(value.detach().cpu())


tracker = Tracker()
for x, y in loader:
    optimizer.zero_grad()
    loss = criterion(model(x), y)
    loss.backward()
    optimizer.step()
    tracker.add(loss)
""",
    # `.item()` before accumulating (pytorch/examples mnist / vae)
    """\
import torch


def train(model, device, train_loader, optimizer, epoch):
    model.train()
    train_loss = 0
    for data, target in train_loader:
        data, target = data.to(device), target.to(device)
        optimizer.zero_grad()
        loss = torch.nn.functional.nll_loss(model(data), target)
        loss.backward()
        train_loss += loss.item()
        optimizer.step()
    return train_loss / len(train_loader)
""",
    # `float()`, `.detach()` and an averaging meter (timm `losses_m.update(loss.item())`)
    """\
import torch

losses_m = AverageMeter()
epoch_losses = []
total = torch.zeros(())
for x, y in loader:
    loss = criterion(model(x), y)
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    losses_m.update(loss.item(), x.size(0))
    epoch_losses.append(float(loss))
    total += loss.detach()
""",
    # accumulation under no_grad (pytorch/examples word_language_model evaluate)
    """\
import torch


def evaluate(model, data_source, criterion, bptt):
    model.eval()
    total_loss = 0.0
    hidden = model.init_hidden(eval_batch_size)
    with torch.no_grad():
        for i in range(0, data_source.size(0) - 1, bptt):
            data, targets = get_batch(data_source, i)
            output, hidden = model(data, hidden)
            total_loss += len(data) * criterion(output, targets)
    return total_loss / (len(data_source) - 1)
""",
    # regulariser added within one iteration (captioning doubly stochastic attention)
    """\
import torch

for imgs, caps, caplens in train_loader:
    scores, alphas = decoder(encoder(imgs), caps, caplens)
    loss = criterion(scores, caps[:, 1:])
    loss += alpha_c * ((1.0 - alphas.sum(dim=1)) ** 2).mean()
    for p in decoder.parameters():
        loss = loss + weight_decay * p.pow(2).sum()
    decoder_optimizer.zero_grad()
    loss.backward()
    decoder_optimizer.step()
""",
    # metric tensors that never require grad (transfer-learning tutorial `running_corrects`)
    """\
import torch

for epoch in range(num_epochs):
    model.train()
    running_loss = 0.0
    running_corrects = 0
    for inputs, labels in train_loader:
        optimizer.zero_grad()
        outputs = model(inputs)
        _, preds = torch.max(outputs, 1)
        loss = criterion(outputs, labels)
        loss.backward()
        optimizer.step()
        running_loss += loss.item() * inputs.size(0)
        running_corrects += torch.sum(preds == labels.data)
""",
    # REINFORCE: per-step losses collected, then one backward (pytorch/examples reinforce.py)
    """\
import torch


def finish_episode(policy, optimizer, gamma, eps):
    R = 0
    policy_loss = []
    returns = []
    for r in policy.rewards[::-1]:
        R = r + gamma * R
        returns.insert(0, R)
    returns = torch.tensor(returns)
    returns = (returns - returns.mean()) / (returns.std() + eps)
    for log_prob, R in zip(policy.saved_log_probs, returns):
        policy_loss.append(-log_prob * R)
    optimizer.zero_grad()
    policy_loss = torch.cat(policy_loss).sum()
    policy_loss.backward()
    optimizer.step()
""",
    # BPTT: loss summed over time steps, backpropagated once (char-RNN generation tutorial)
    """\
import torch


def train(rnn, category_tensor, input_line_tensor, target_line_tensor, lr):
    target_line_tensor.unsqueeze_(-1)
    hidden = rnn.initHidden()
    rnn.zero_grad()
    loss = 0
    for i in range(input_line_tensor.size(0)):
        output, hidden = rnn(category_tensor, input_line_tensor[i], hidden)
        loss += criterion(output, target_line_tensor[i])
    loss.backward()
    for p in rnn.parameters():
        p.data.add_(p.grad.data, alpha=-lr)
    return output, loss.item() / input_line_tensor.size(0)
""",
    # gradient accumulation: micro-batch losses summed, backward on the sum each k steps
    """\
import torch

for step, batch in enumerate(loader):
    if step % accum_steps == 0:
        accum_loss = 0
    out = model(**batch)
    accum_loss = accum_loss + out.loss / accum_steps
    if (step + 1) % accum_steps == 0:
        optimizer.zero_grad()
        accum_loss.backward()
        optimizer.step()
""",
    # yolov5 running mean of detached loss items: `mloss = (mloss * i + loss_items) / (i + 1)`
    """\
import torch

mloss = torch.zeros(3)
for i, (imgs, targets) in enumerate(train_loader):
    pred = model(imgs)
    loss, loss_items = compute_loss(pred, targets)
    scaler.scale(loss).backward()
    scaler.step(optimizer)
    scaler.update()
    optimizer.zero_grad()
    mloss = (mloss * i + loss_items) / (i + 1)
""",
    # accelerate eval after a no_grad forward (transformers run_clm_no_trainer)
    """\
import math

import torch

model.eval()
losses = []
for step, batch in enumerate(eval_dataloader):
    with torch.no_grad():
        outputs = model(**batch)
    loss = outputs.loss
    losses.append(accelerator.gather_for_metrics(loss.repeat(per_device_eval_batch_size)))
losses = torch.cat(losses)
perplexity = math.exp(torch.mean(losses))
""",
    # `total_loss += loss.detach().float()` (run_clm_no_trainer training loop)
    """\
import torch

for epoch in range(num_train_epochs):
    model.train()
    total_loss = 0
    for step, batch in enumerate(train_dataloader):
        with accelerator.accumulate(model):
            outputs = model(**batch)
            loss = outputs.loss
            total_loss += loss.detach().float()
            accelerator.backward(loss)
            optimizer.step()
            lr_scheduler.step()
            optimizer.zero_grad()
""",
    # MAML: query losses summed across tasks, one meta-backward (MAML-Pytorch meta.py)
    """\
import torch
import torch.nn.functional as F


def meta_step(net, meta_optim, tasks, update_lr):
    loss_q = 0
    for x_spt, y_spt, x_qry, y_qry in tasks:
        logits = net(x_spt)
        grads = torch.autograd.grad(F.cross_entropy(logits, y_spt), net.parameters())
        fast = [p - update_lr * g for p, g in zip(net.parameters(), grads)]
        loss_q += F.cross_entropy(net(x_qry, fast), y_qry)
    loss_q = loss_q / len(tasks)
    meta_optim.zero_grad()
    loss_q.backward()
    meta_optim.step()
""",
    # per-head loss sum within one batch (yolov5 utils/loss.py `lbox += ...` over layers)
    """\
import torch


def compute_loss(preds, targets, build_targets):
    lbox = torch.zeros(1)
    lobj = torch.zeros(1)
    tbox, indices = build_targets(preds, targets)
    for i, pi in enumerate(preds):
        b, a, gj, gi = indices[i]
        ps = pi[b, a, gj, gi]
        lbox += (1.0 - bbox_iou(ps[:, :4], tbox[i])).mean()
        lobj += torch.nn.functional.binary_cross_entropy_with_logits(pi[..., 4], targets[i])
    return lbox + lobj
""",
    # pre-0.4 style `loss.data` (no graph) accumulated, as in old pytorch/examples
    """\
import torch

model.train()
total_loss = 0
for batch, i in enumerate(range(0, train_data.size(0) - 1, bptt)):
    data, targets = get_batch(train_data, i)
    model.zero_grad()
    output, hidden = model(data, hidden)
    loss = criterion(output.view(-1, ntokens), targets)
    loss.backward()
    for p in model.parameters():
        p.data.add_(p.grad.data, alpha=-lr)
    total_loss += loss.data
""",
    # the latest loss kept under one key, overwritten every step: one graph at a time
    """\
import torch


def train(model, loader, optimizer, stats):
    for x, y in loader:
        loss = torch.nn.functional.mse_loss(model(x), y)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        stats["loss"] = loss
""",
    # a helper returning the loss with counts it has already turned into Python numbers: the
    # counts summed over the epoch carry nothing
    """\
import torch
import torch.nn.functional as F


def score_batch(logits, gold, pad_idx):
    loss = F.cross_entropy(logits, gold, ignore_index=pad_idx, reduction="sum")
    keep = gold.ne(pad_idx)
    n_correct = logits.argmax(1).eq(gold).masked_select(keep).sum().item()
    n_tokens = keep.sum().item()
    return loss, n_correct, n_tokens


def train_epoch(model, batches, optimizer, pad_idx):
    model.train()
    total_loss, tokens, correct = 0.0, 0, 0
    for src, gold in batches:
        optimizer.zero_grad()
        loss, n_correct, n_tokens = score_batch(model(src), gold, pad_idx)
        loss.backward()
        optimizer.step()
        tokens += n_tokens
        correct += n_correct
        total_loss += loss.item()
    return total_loss / tokens, correct / tokens
""",
    # a loss helper's per-frame terms gathered in a local list reset at each scale and concatenated into the batch's loss, which the caller backpropagates
    """\
import torch
from torch import nn


class StructuralSimilarity(nn.Module):
    def __init__(self):
        super().__init__()
        self.pool = nn.AvgPool2d(3, 1, padding=1)

    def forward(self, x, y):
        return 1 - self.pool(x * y) / (self.pool(x * x) + self.pool(y * y) + 1e-4)


class PhotometricTrainer:
    def __init__(self, opt, model):
        self.opt = opt
        self.model = model
        self.ssim = StructuralSimilarity()
        self.optimizer = torch.optim.Adam(model.parameters(), lr=1e-4)

    def fit(self, loader):
        self.model.train()
        for epoch in range(self.opt.epochs):
            self.fit_epoch(loader)

    def fit_epoch(self, loader):
        for batch in loader:
            outputs, losses = self.process(batch)
            self.optimizer.zero_grad()
            losses["loss"].backward()
            self.optimizer.step()

    def process(self, batch):
        outputs = self.model(batch["target"])
        return outputs, self.compute_losses(batch, outputs)

    def photometric_loss(self, pred, target):
        l1_loss = (pred - target).abs().mean(1, True)
        ssim_loss = self.ssim(pred, target).mean(1, True)
        return 0.85 * ssim_loss + 0.15 * l1_loss

    def compute_losses(self, batch, outputs):
        losses = {}
        total = 0
        for scale in self.opt.scales:
            # one term per source frame at this scale, gathered for this batch only
            errors = []
            for frame in self.opt.sources:
                errors.append(self.photometric_loss(outputs[scale], batch[frame]))
            errors = torch.cat(errors, 1)
            best, _ = torch.min(errors, dim=1)
            total += best.mean()
        losses["loss"] = total / len(self.opt.scales)
        return losses
""",
    # retriever/seq2seq helpers returning the loss beside plain counts: the count is read
    # with .item() after a tuple from another helper, the token total from lengths.data;
    # only the loss element carries a graph (DPR train_dense_encoder, seq2seq notebooks)
    """\
import torch
import torch.nn.functional as F


def contrastive_scores(q_vecs, p_vecs, positives):
    scores = q_vecs @ p_vecs.t()
    loss = F.nll_loss(F.log_softmax(scores, dim=1), positives)
    correct = scores.argmax(1) == positives
    return loss, correct


def encoder_step(encoder, batch, lengths):
    if encoder.training:
        q_vecs, p_vecs = encoder(batch["query"], batch["passages"])
    else:
        with torch.no_grad():
            q_vecs, p_vecs = encoder(batch["query"], batch["passages"])
    loss, correct = contrastive_scores(q_vecs, p_vecs, batch["positives"])
    correct = correct.sum().item()
    n_tokens = lengths.data.sum()
    return loss, correct, n_tokens


def fit_epoch(encoder, loader, optimizer):
    encoder.train()
    epoch_correct = 0
    epoch_tokens = 0
    for batch in loader:
        optimizer.zero_grad()
        loss, correct, n_tokens = encoder_step(encoder, batch, batch["lengths"])
        loss.backward()
        optimizer.step()
        epoch_correct += correct
        epoch_tokens += n_tokens
    return epoch_correct, epoch_tokens


def validate(encoder, loader):
    encoder.eval()
    total_loss = 0.0
    total_correct = 0
    for batch in loader:
        loss, correct, _ = encoder_step(encoder, batch, batch["lengths"])
        total_loss += loss.item()
        total_correct += correct
    return total_loss, total_correct
""",
    # multi-agent DDPG: one update trains each agent's critic with that agent's own optimizer
    # and returns the agents' losses; the list is built anew at every update
    """\
import torch
import torch.nn.functional as F


class MultiAgentLearner:
    def __init__(self, critics, optimizers, buffer, n_agents, batch_size=64):
        self.critics = critics
        self.critic_opts = optimizers
        self.buffer = buffer
        self.n_agents = n_agents
        self.batch_size = batch_size

    def update(self):
        critic_losses = []
        for i in range(self.n_agents):
            states, actions, targets = self.buffer.sample(self.batch_size)
            self.critic_opts[i].zero_grad()
            q = self.critics[i](states, actions)
            loss = F.mse_loss(q, targets)
            loss.backward()
            self.critic_opts[i].step()
            critic_losses.append(loss)
        return critic_losses
""",
    # the same runner keeps the loss as a number; and a step method that resets the total it
    # adds to is not a running total
    """\
import torch
import torch.nn.functional as F
from trainkit import Runner


class SegmentationRunner(Runner):
    def __init__(self, net, lr):
        super().__init__()
        self.net = net
        self.optimizer = torch.optim.SGD(net.parameters(), lr=lr, momentum=0.9)
        self.epoch_loss = 0.0
        self.step_loss = 0.0

    def train_step(self, images, masks):
        self.optimizer.zero_grad()
        loss = F.cross_entropy(self.net(images), masks)
        loss.backward()
        self.optimizer.step()
        self.epoch_loss += loss.item()
        self.step_loss = 0.0
        self.step_loss += loss
""",
    # a flow-matching wrapper returns its loss and a dict of per-sample losses already turned
    # into floats; the DeepSpeed engine runs that wrapper (minRF advanced/main_t2i.py)
    """\
import deepspeed
import torch


class RectifiedFlow(torch.nn.Module):
    def __init__(self, velocity_net):
        super().__init__()
        self.velocity_net = velocity_net

    def forward(self, x, cond):
        t = torch.sigmoid(torch.randn(x.shape[0], device=x.device))
        noise = torch.randn_like(x)
        xt = (1 - t.view(-1, 1, 1, 1)) * x + t.view(-1, 1, 1, 1) * noise
        per_sample_loss = ((noise - x - self.velocity_net(xt, t, cond)) ** 2).mean(dim=(1, 2, 3))
        logged = per_sample_loss.detach().cpu().tolist()
        return per_sample_loss.mean(), {"by_time": list(zip(t.tolist(), logged))}


def train(velocity_net, loader, ds_config, rank):
    flow = RectifiedFlow(velocity_net)
    engine, _, _, _ = deepspeed.initialize(
        model=flow, model_parameters=flow.parameters(), config=ds_config
    )
    if rank == 0:
        loss_by_bin = {i: 0.0 for i in range(10)}
        count_by_bin = {i: 0 for i in range(10)}
    for step, (x, cond) in enumerate(loader):
        loss, info = engine(x, cond)
        engine.backward(loss)
        engine.step()
        if rank == 0:
            for t, sample_loss in info["by_time"]:
                loss_by_bin[int(t * 10)] += sample_loss
                count_by_bin[int(t * 10)] += 1
            if step % 100 == 0:
                print({i: loss_by_bin[i] / max(count_by_bin[i], 1) for i in range(10)})
                loss_by_bin = {i: 0.0 for i in range(10)}
                count_by_bin = {i: 0 for i in range(10)}
""",
    # the same wrapper called directly
    """\
import torch


class RectifiedFlow(torch.nn.Module):
    def __init__(self, velocity_net):
        super().__init__()
        self.velocity_net = velocity_net

    def forward(self, x, cond):
        t = torch.sigmoid(torch.randn(x.shape[0], device=x.device))
        noise = torch.randn_like(x)
        xt = (1 - t.view(-1, 1, 1, 1)) * x + t.view(-1, 1, 1, 1) * noise
        per_sample_loss = ((noise - x - self.velocity_net(xt, t, cond)) ** 2).mean(dim=(1, 2, 3))
        logged = per_sample_loss.detach().cpu().tolist()
        return per_sample_loss.mean(), {"by_time": list(zip(t.tolist(), logged))}


def train(velocity_net, loader, rank):
    flow = RectifiedFlow(velocity_net)
    optimizer = torch.optim.AdamW(flow.parameters(), lr=1e-4)
    if rank == 0:
        loss_by_bin = {i: 0.0 for i in range(10)}
        count_by_bin = {i: 0 for i in range(10)}
    for step, (x, cond) in enumerate(loader):
        loss, info = flow(x, cond)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        if rank == 0:
            for t, sample_loss in info["by_time"]:
                loss_by_bin[int(t * 10)] += sample_loss
                count_by_bin[int(t * 10)] += 1
            if step % 100 == 0:
                print({i: loss_by_bin[i] / max(count_by_bin[i], 1) for i in range(10)})
                loss_by_bin = {i: 0.0 for i in range(10)}
                count_by_bin = {i: 0 for i in range(10)}
""",
    # the same DeepSpeed trainer, the loss taken as a number
    """\
import deepspeed
from trainkit import BaseTrainer


class SFTTrainer(BaseTrainer):
    def setup(self, args, model):
        self.engine, self.optimizer, _, self.scheduler = deepspeed.initialize(
            args=args, model=model, model_parameters=model.parameters(), config=args.ds_config
        )
        self.engine.train()
        self.epoch_loss = 0.0

    def training_step(self, batch):
        loss = self.engine(**batch).loss
        self.engine.backward(loss)
        self.engine.step()
        self.epoch_loss += loss.item()
""",
)
