"""TM101 examples, modelled on real training scripts.

Invalid: an ``eval()`` that is still in force when the same model trains again. Valid: the
look-alikes real code is full of — the mode restored by the caller or the evaluation itself,
other models kept in eval on purpose, wrappers whose ``eval``/``train`` are not module switches.
"""

from torchmode.rules.base import Invalid
from torchmode.rules.examples import shared

_SWITCH_ALL_ACCURACY = """\
import torch


def switch_all(mode, nets):
    for net in nets:
        if net is None:
            continue
        if mode == "train":
            net.train()
        elif mode == "eval":
            net.eval()


def accuracy(encoder, decoder, critic, loader):
    switch_all("eval", [encoder, decoder, critic])
    hits = total = 0
    with torch.no_grad():
        for x, y in loader:
            hits += (decoder(encoder(x)).argmax(1) == y).sum().item()
            total += y.numel()
    switch_all("eval", [encoder, decoder, critic])
    return hits / total


def train(encoder, decoder, critic, optimizer, loader, val_loader, steps):
    switch_all("train", [encoder, decoder, critic])
    for step, (x, y) in enumerate(loader):
        optimizer.zero_grad()
        loss = torch.nn.functional.cross_entropy(decoder(encoder(x)), y)
        loss.backward()
        optimizer.step()
        if step % 500 == 0:
            print(step, accuracy(encoder, decoder, critic, val_loader))
        if step == steps:
            break
"""


# A DQN agent whose act() switches the network to eval only under a flag of its own: train()
# sets the flag to False before its loop, test() to True (and restores train mode itself).
_FLAGGED_AGENT = """\
import torch
import torch.nn as nn
import torch.nn.functional as F


class QNet(nn.Module):
    def __init__(self, n_obs, n_actions):
        super().__init__()
        self.body = nn.Sequential(nn.Linear(n_obs, 128), nn.ReLU(), nn.Dropout(0.1))
        self.head = nn.Linear(128, n_actions)

    def forward(self, x):
        return self.head(self.body(x))


class Agent:
    def __init__(self, env, n_obs, n_actions):
        self.env = env
        self.q = QNet(n_obs, n_actions)
        self.optimizer = torch.optim.Adam(self.q.parameters(), lr=1e-3)
        self.evaluating = False

    def act(self, obs):
        if self.evaluating:
            self.q.eval()
        with torch.no_grad():
            return self.q(torch.as_tensor(obs)).argmax().item()

    def learn(self, batch):
        obs, actions, targets = batch
        loss = F.smooth_l1_loss(self.q(obs).gather(1, actions), targets)
        self.optimizer.zero_grad()
        loss.backward()
        self.optimizer.step()

    def train(self, steps, buffer):
        self.evaluating = False
        obs = self.env.reset()
        for _ in range(steps):
            action = self.act(obs)
            obs, reward, done = self.env.step(action)
            buffer.add(obs, action, reward, done)
            self.learn(buffer.sample(64))
            if done:
                obs = self.env.reset()

    def test(self):
        self.evaluating = True
        obs, done, score = self.env.reset(), False, 0.0
        while not done:
            obs, reward, done = self.env.step(self.act(obs))
            score += reward
        self.q.train()
        return score
"""


def _agent_with_test_episodes() -> str:
    """The same agent running an evaluation episode whenever a training episode ends: the
    episode sets the flag and nothing clears it, so the next act() switches to eval."""
    return (
        _FLAGGED_AGENT.replace(
            "            if done:\n                obs = self.env.reset()\n",
            "            if done:\n                obs = self.env.reset()\n"
            "                print(self.test_episode())\n",
        )
        .replace("    def test(self):", "    def test_episode(self):")
        .replace("        self.q.train()\n        return score", "        return score")
    )


INVALID = (
    # torchtext SST classifier: dev evaluation every N iterations inside the batch loop,
    # `model.train()` only at the start of the epoch.
    Invalid(
        """\
import torch

for epoch in range(1, args.epochs + 1):
    model.train()
    for batch_idx, batch in enumerate(train_loader):
        optimizer.zero_grad()
        loss = criterion(model(batch.text), batch.label)
        loss.backward()
        optimizer.step()
        model.eval()
        if iterations % args.dev_every == 0:
            with torch.no_grad():
                for dev_batch in dev_loader:
                    answer = model(dev_batch.text)
""",
        (10,),
        fix="""\
@@
                 for dev_batch in dev_loader:
                     answer = model(dev_batch.text)
+        model.train()
""",
    ),
    # Quickstart-tutorial layout: `test()` switches to eval, `train()` never switches back,
    # and the epoch loop alternates the two.
    Invalid(
        """\
import torch


def train(dataloader, model, loss_fn, optimizer):
    for X, y in dataloader:
        loss = loss_fn(model(X), y)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()


def test(dataloader, model, loss_fn):
    model.eval()
    test_loss = 0.0
    with torch.no_grad():
        for X, y in dataloader:
            test_loss += loss_fn(model(X), y).item()
    return test_loss / len(dataloader)


for t in range(epochs):
    train(train_dataloader, model, loss_fn, optimizer)
    print(f"epoch {t}: test loss {test(test_dataloader, model, loss_fn):.4f}")
""",
        (23,),
        fix="""\
@@
     train(train_dataloader, model, loss_fn, optimizer)
     print(f"epoch {t}: test loss {test(test_dataloader, model, loss_fn):.4f}")
+    model.train()
""",
    ),
    # Segmentation trainer class: `train_epoch()` validates every `interval_validate`
    # iterations through `self.validate()`, which never restores train mode.
    Invalid(
        """\
import torch


class Trainer:
    def __init__(self, model, optimizer, train_loader, val_loader, interval_validate):
        self.model = model
        self.optim = optimizer
        self.train_loader = train_loader
        self.val_loader = val_loader
        self.interval_validate = interval_validate
        self.iteration = 0

    def validate(self):
        self.model.eval()
        with torch.no_grad():
            scores = [self.model(x).argmax(1).eq(y).float().mean() for x, y in self.val_loader]
        return sum(scores) / len(scores)

    def train_epoch(self):
        self.model.train()
        for data, target in self.train_loader:
            if self.iteration % self.interval_validate == 0:
                self.validate()
            self.optim.zero_grad()
            loss = cross_entropy2d(self.model(data), target)
            loss.backward()
            self.optim.step()
            self.iteration += 1
""",
        (23,),
        fix="""\
@@
             if self.iteration % self.interval_validate == 0:
                 self.validate()
+                self.model.train()
             self.optim.zero_grad()
             loss = cross_entropy2d(self.model(data), target)
""",
    ),
    # nanoGPT-style script: `estimate_loss()` switches to eval under `@torch.no_grad()` and
    # forgets the final `model.train()`; the training loop calls it every `eval_interval`.
    Invalid(
        """\
import torch


@torch.no_grad()
def estimate_loss():
    out = {}
    model.eval()
    for split in ["train", "val"]:
        losses = torch.zeros(eval_iters)
        for k in range(eval_iters):
            X, Y = get_batch(split)
            logits, loss = model(X, Y)
            losses[k] = loss.item()
        out[split] = losses.mean()
    return out


model.train()
for iter_num in range(max_iters):
    if iter_num % eval_interval == 0:
        losses = estimate_loss()
        print(f"step {iter_num}: val loss {losses['val']:.4f}")
    X, Y = get_batch("train")
    logits, loss = model(X, Y)
    optimizer.zero_grad(set_to_none=True)
    loss.backward()
    optimizer.step()
""",
        (21,),
        fix="""\
@@
     if iter_num % eval_interval == 0:
         losses = estimate_loss()
+        model.train()
         print(f"step {iter_num}: val loss {losses['val']:.4f}")
     X, Y = get_batch("train")
""",
    ),
    # Hugging Face `accelerate` fine-tuning loop that evaluates every `eval_steps` optimizer
    # steps inside the batch loop; `model.train()` sits only at the top of the epoch.
    Invalid(
        """\
import torch

for epoch in range(num_train_epochs):
    model.train()
    for step, batch in enumerate(train_dataloader):
        outputs = model(**batch)
        accelerator.backward(outputs.loss)
        optimizer.step()
        lr_scheduler.step()
        optimizer.zero_grad()
        completed_steps += 1
        if completed_steps % eval_steps == 0:
            model.eval()
            for eval_batch in eval_dataloader:
                with torch.no_grad():
                    logits = model(**eval_batch).logits
                metric.add_batch(predictions=logits.argmax(dim=-1), references=eval_batch["labels"])
            accelerator.print(completed_steps, metric.compute())
""",
        (13,),
        fix="""\
@@
                     logits = model(**eval_batch).logits
                 metric.add_batch(predictions=logits.argmax(dim=-1), references=eval_batch["labels"])
+            model.train()
             accelerator.print(completed_steps, metric.compute())
""",
    ),
    # VQA-style script: `net.train()` once before the epoch loop, `net.eval()` for the
    # end-of-epoch validation, so every epoch after the first trains in eval mode.
    Invalid(
        """\
import torch

net = build_net(cfg).cuda()
optim = torch.optim.Adam(net.parameters(), lr=cfg.lr)
net.train()
for epoch in range(cfg.max_epoch):
    for img, ques, ans in train_loader:
        optim.zero_grad()
        loss = loss_fn(net(img, ques), ans)
        loss.backward()
        optim.step()
    net.eval()
    correct = 0
    with torch.no_grad():
        for img, ques, ans in val_loader:
            correct += (net(img, ques).argmax(-1) == ans).sum().item()
    print(f"epoch {epoch}: val acc {correct / len(val_set):.4f}")
""",
        (12,),
        fix="""\
@@
         for img, ques, ans in val_loader:
             correct += (net(img, ques).argmax(-1) == ans).sum().item()
+    net.train()
     print(f"epoch {epoch}: val acc {correct / len(val_set):.4f}")
""",
    ),
    # Seq2seq toolkit: the evaluation is two calls deep (`validate_on_data()` ->
    # `run_greedy()` sets eval); the training step runs right after the periodic validation.
    Invalid(
        """\
import torch


def run_greedy(model, batch):
    model.eval()
    with torch.no_grad():
        return model.decode(batch.src, max_len=100)


def validate_on_data(model, data):
    hyps = [run_greedy(model, batch) for batch in data]
    return bleu(hyps, [batch.trg for batch in data])


def train_and_validate(model, optimizer, train_iter, dev_data, validation_freq):
    model.train()
    for step, batch in enumerate(train_iter):
        if step % validation_freq == 0:
            score = validate_on_data(model, dev_data)
            log.info("step %d: dev bleu %.2f", step, score)
        loss = model(return_type="loss", **vars(batch))
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
""",
        (19,),
        fix="""\
@@
         if step % validation_freq == 0:
             score = validate_on_data(model, dev_data)
+            model.train()
             log.info("step %d: dev bleu %.2f", step, score)
         loss = model(return_type="loss", **vars(batch))
""",
    ),
    # Trainer class with AMP: `self.model.train()` once before the epoch loop, and the
    # end-of-epoch `self.evaluate()` (under `inference_mode`) leaves the model in eval.
    Invalid(
        """\
import torch


class Trainer:
    def __init__(self, model, optimizer, train_loader, val_loader):
        self.model = model
        self.optimizer = optimizer
        self.scaler = torch.cuda.amp.GradScaler()
        self.train_loader = train_loader
        self.val_loader = val_loader

    @torch.inference_mode()
    def evaluate(self):
        self.model.eval()
        losses = [self.model(x, labels=y).loss.item() for x, y in self.val_loader]
        return sum(losses) / len(losses)

    def fit(self, epochs):
        best = float("inf")
        self.model.train()
        for epoch in range(epochs):
            for x, y in self.train_loader:
                self.optimizer.zero_grad(set_to_none=True)
                with torch.autocast("cuda", dtype=torch.float16):
                    loss = self.model(x, labels=y).loss
                self.scaler.scale(loss).backward()
                self.scaler.step(self.optimizer)
                self.scaler.update()
            val_loss = self.evaluate()
            if val_loss < best:
                best = val_loss
                torch.save(self.model.state_dict(), "best.pt")
""",
        (29,),
        fix="""\
@@
                 best = val_loss
                 torch.save(self.model.state_dict(), "best.pt")
+            self.model.train()
""",
    ),
    # PyTorch-intro style: `model.train(False)` as the evaluation switch, `model.train(True)` only
    # once before the epoch loop.
    Invalid(
        """\
import torch


def validate_one_epoch(model, loader, loss_fn):
    model.train(False)
    running_vloss = 0.0
    with torch.no_grad():
        for inputs, labels in loader:
            running_vloss += loss_fn(model(inputs), labels).item()
    return running_vloss / len(loader)


model.train(True)
for epoch in range(EPOCHS):
    for inputs, labels in training_loader:
        optimizer.zero_grad()
        loss = loss_fn(model(inputs), labels)
        loss.backward()
        optimizer.step()
    avg_vloss = validate_one_epoch(model, validation_loader, loss_fn)
    print(f"epoch {epoch + 1}: valid loss {avg_vloss:.4f}")
""",
        (20,),
        fix="""\
@@
         optimizer.step()
     avg_vloss = validate_one_epoch(model, validation_loader, loss_fn)
+    model.train()
     print(f"epoch {epoch + 1}: valid loss {avg_vloss:.4f}")
""",
    ),
    # PPO-style RL: evaluation episodes every few updates switch the agent to eval; the next
    # update trains it without `agent.train()`.
    Invalid(
        """\
import torch


def evaluate_policy(agent, env, episodes=5):
    agent.eval()
    returns = []
    for _ in range(episodes):
        obs, done, total = env.reset(), False, 0.0
        while not done:
            with torch.no_grad():
                action = agent.act(torch.as_tensor(obs)).argmax().item()
            obs, reward, done, _ = env.step(action)
            total += reward
        returns.append(total)
    return sum(returns) / episodes


agent.train()
for update in range(num_updates):
    rollout = collect_rollout(agent, envs)
    for epoch in range(update_epochs):
        loss = ppo_loss(agent(rollout.obs), rollout)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    if update % eval_every == 0:
        writer.add_scalar("eval/return", evaluate_policy(agent, eval_env), update)
""",
        (27,),
        fix="""\
@@
     if update % eval_every == 0:
         writer.add_scalar("eval/return", evaluate_policy(agent, eval_env), update)
+        agent.train()
""",
    ),
    # Trainer class with the training step in `train_step()` and a `validate()` method called
    # every `val_every` batches: the step is hidden in a helper, the eval is never undone.
    Invalid(
        """\
import torch


class Trainer:
    def train_step(self, batch):
        self.optimizer.zero_grad()
        loss = self.criterion(self.model(batch["x"]), batch["y"])
        loss.backward()
        self.optimizer.step()
        return loss.item()

    def validate(self):
        self.model.eval()
        with torch.no_grad():
            return [self.model(b["x"]) for b in self.val_loader]

    def fit(self):
        self.model.train()
        for epoch in range(self.epochs):
            for i, batch in enumerate(self.train_loader):
                self.train_step(batch)
                if i % self.val_every == 0:
                    self.validate()
""",
        (23,),
        fix="""\
@@
                 if i % self.val_every == 0:
                     self.validate()
+                    self.model.train()
""",
    ),
    # DDP evaluation that restores train mode on rank 0 only: the other ranks return early and
    # keep training in eval mode.
    Invalid(
        """\
import torch
import torch.distributed as dist


def evaluate(model, loader):
    model.eval()
    if dist.get_rank() != 0:
        return None
    with torch.no_grad():
        acc = sum((model(x).argmax(1) == y).float().mean().item() for x, y in loader)
    model.train()
    return acc / len(loader)


model.train()
for step, (x, y) in enumerate(train_loader):
    optimizer.zero_grad()
    criterion(model(x), y).backward()
    optimizer.step()
    if step % 100 == 0:
        print(evaluate(model, val_loader))
""",
        (21,),
        fix="""\
@@
     if step % 100 == 0:
         print(evaluate(model, val_loader))
+        model.train()
""",
    ),
    # An `Evaluator` object whose `run(model)` switches the model to eval; the training loop calls
    # it every 1000 steps and never switches back.
    Invalid(
        """\
import torch


class Evaluator:
    def __init__(self, loader, metric):
        self.loader = loader
        self.metric = metric

    def run(self, model):
        model.eval()
        with torch.no_grad():
            for x, y in self.loader:
                self.metric.update(model(x), y)
        return self.metric.compute()


evaluator = Evaluator(val_loader, metric)
model.train()
for step, (x, y) in enumerate(train_loader):
    optimizer.zero_grad()
    criterion(model(x), y).backward()
    optimizer.step()
    if step % 1000 == 0:
        print(evaluator.run(model))
""",
        (24,),
        fix="""\
@@
     if step % 1000 == 0:
         print(evaluator.run(model))
+        model.train()
""",
    ),
    # Fine-tuning a Hugging Face model in a plain PyTorch loop: `from_pretrained()` returns the
    # model in eval mode and nothing calls `model.train()` (transformers PR #1703).
    Invalid(
        """\
import torch
from transformers import AutoModelForSequenceClassification

model = AutoModelForSequenceClassification.from_pretrained("bert-base-uncased", num_labels=2)
optimizer = torch.optim.AdamW(model.parameters(), lr=2e-5)
for epoch in range(3):
    for batch in train_dataloader:
        outputs = model(**batch)
        outputs.loss.backward()
        optimizer.step()
        scheduler.step()
        optimizer.zero_grad()
""",
        (4,),
        fix="""\
@@
 model = AutoModelForSequenceClassification.from_pretrained("bert-base-uncased", num_labels=2)
 optimizer = torch.optim.AdamW(model.parameters(), lr=2e-5)
+model.train()
 for epoch in range(3):
     for batch in train_dataloader:
""",
    ),
    # Notebook cells: train, evaluate in eval mode, then "train for 5 more epochs" in a later cell
    # without switching back.
    Invalid(
        """\
import torch

model.train()
for epoch in range(10):
    for x, y in train_loader:
        optimizer.zero_grad()
        criterion(model(x), y).backward()
        optimizer.step()

model.eval()
with torch.no_grad():
    val_acc = (model(X_val).argmax(1) == y_val).float().mean().item()
print(f"validation accuracy after 10 epochs: {val_acc:.3f}")

# not converged yet: train for 5 more epochs
for epoch in range(5):
    for x, y in train_loader:
        optimizer.zero_grad()
        criterion(model(x), y).backward()
        optimizer.step()
""",
        (10,),
        fix="""\
@@
 with torch.no_grad():
     val_acc = (model(X_val).argmax(1) == y_val).float().mean().item()
+model.train()
 print(f"validation accuracy after 10 epochs: {val_acc:.3f}")

""",
    ),
    # A one-line `if step % 100 == 0: print(step, evaluate(model, val_loader))`: no room after the
    # evaluation, so the fix restores train mode at the start of each training iteration.
    Invalid(
        """\
import torch


def evaluate(model, loader):
    model.eval()
    with torch.no_grad():
        return sum(criterion(model(x), y).item() for x, y in loader) / len(loader)


model.train()
for step, (x, y) in enumerate(train_loader):
    optimizer.zero_grad()
    criterion(model(x), y).backward()
    optimizer.step()
    if step % 100 == 0: print(step, evaluate(model, val_loader))
""",
        (15,),
        fix="""\
@@
 model.train()
 for step, (x, y) in enumerate(train_loader):
+    model.train()
     optimizer.zero_grad()
     criterion(model(x), y).backward()
""",
    ),
    # In-loop validation with checkpointing and early-stopping patience, and no `model.train()`
    # after it.
    Invalid(
        """\
import torch

model.train()
for step, (x, y) in enumerate(train_loader):
    optimizer.zero_grad()
    criterion(model(x), y).backward()
    optimizer.step()
    if step % 100 == 0:
        model.eval()
        with torch.no_grad():
            val = sum(criterion(model(vx), vy).item() for vx, vy in val_loader)
        if val < best:
            best = val
            torch.save(model.state_dict(), "best.pt")
        else:
            patience -= 1
            if patience == 0:
                break
""",
        (9,),
        fix="""\
@@
             if patience == 0:
                 break
+        model.train()
""",
    ),
    # Lightning Fabric loop (lit-gpt style): `fabric.backward(loss)`, validation every
    # `eval_interval` iterations in eval mode, never switched back.
    Invalid(
        """\
import lightning as L
import torch

fabric = L.Fabric(accelerator="cuda", devices=2, precision="bf16-mixed")
fabric.launch()
model, optimizer = fabric.setup(model, optimizer)
train_loader, val_loader = fabric.setup_dataloaders(train_loader, val_loader)
model.train()
for iteration, batch in enumerate(train_loader):
    input_ids, targets = batch
    loss = torch.nn.functional.cross_entropy(model(input_ids).flatten(0, 1), targets.flatten())
    fabric.backward(loss)
    optimizer.step()
    optimizer.zero_grad()
    if iteration % eval_interval == 0:
        model.eval()
        with torch.no_grad():
            val_loss = torch.stack([validate_batch(model, b) for b in val_loader]).mean()
        fabric.print(f"iter {iteration}: val loss {val_loss.item():.4f}")
""",
        (16,),
        fix="""\
@@
         with torch.no_grad():
             val_loss = torch.stack([validate_batch(model, b) for b in val_loader]).mean()
+        model.train()
         fabric.print(f"iter {iteration}: val loss {val_loss.item():.4f}")
""",
    ),
    # StyleGAN-like loop with FID evaluation: both networks are switched to eval, only the
    # generator is switched back, so the discriminator trains in eval mode.
    Invalid(
        """\
import torch
import torch.nn.functional as F

for epoch in range(num_epochs):
    G.train()
    D.train()
    for real, _ in loader:
        z = torch.randn(real.size(0), latent_dim, device=device)
        d_loss = F.softplus(D(G(z).detach())).mean() + F.softplus(-D(real)).mean()
        opt_d.zero_grad()
        d_loss.backward()
        opt_d.step()
        g_loss = F.softplus(-D(G(z))).mean()
        opt_g.zero_grad()
        g_loss.backward()
        opt_g.step()
        step += 1
        if step % fid_every == 0:
            G.eval()
            D.eval()
            with torch.no_grad():
                fid = compute_fid(G, fid_stats, n_samples=10_000)
                real_score = torch.cat([D(x) for x, _ in val_loader]).mean()
            G.train()
""",
        (20,),
        fix="""\
@@
                 fid = compute_fid(G, fid_stats, n_samples=10_000)
                 real_score = torch.cat([D(x) for x, _ in val_loader]).mean()
+            D.train()
             G.train()
""",
    ),
    # pytorch/examples DCGAN loop (`netG.zero_grad()` idiom) with a sample grid drawn in eval mode
    # every 500 iterations; the generator keeps training in eval mode afterwards.
    Invalid(
        """\
import torch

for epoch in range(num_epochs):
    for i, (real, _) in enumerate(dataloader):
        netD.zero_grad()
        noise = torch.randn(real.size(0), nz, 1, 1, device=device)
        fake = netG(noise)
        errD = criterion(netD(real), ones) + criterion(netD(fake.detach()), zeros)
        errD.backward()
        optimizerD.step()
        netG.zero_grad()
        errG = criterion(netD(fake), ones)
        errG.backward()
        optimizerG.step()
        if i % 500 == 0:
            netG.eval()
            with torch.no_grad():
                grid = netG(fixed_noise).detach().cpu()
            img_list.append(vutils.make_grid(grid, padding=2, normalize=True))
""",
        (16,),
        fix="""\
@@
             with torch.no_grad():
                 grid = netG(fixed_noise).detach().cpu()
+            netG.train()
             img_list.append(vutils.make_grid(grid, padding=2, normalize=True))
""",
    ),
    # Research-script style: the evaluation helper is a closure defined inside `train()`.
    Invalid(
        """\
import torch


def train(model, train_loader, val_loader, optimizer, epochs):
    def evaluate():
        model.eval()
        with torch.no_grad():
            return sum(criterion(model(x), y).item() for x, y in val_loader)

    model.train()
    for epoch in range(epochs):
        for step, (x, y) in enumerate(train_loader):
            optimizer.zero_grad()
            criterion(model(x), y).backward()
            optimizer.step()
            if step % 500 == 0:
                print(evaluate())
""",
        (17,),
        fix="""\
@@
             if step % 500 == 0:
                 print(evaluate())
+                model.train()
""",
    ),
    # A runner that takes a local name for its model in both train() and evaluate(), wrapped
    # in DataParallel on some machines: the evaluate() called mid-epoch switches the same
    # module to eval mode for good.
    Invalid(
        """\
import torch
from torch import nn


class Runner:
    def __init__(self, model):
        self.model = model
        self.optimizer = torch.optim.AdamW(self.model.parameters(), lr=3e-5)

    def train(self, loader, eval_loader, eval_every=500):
        model = self.model
        model.train()
        for step, (x, y) in enumerate(loader):
            loss = nn.functional.cross_entropy(model(x), y)
            loss.backward()
            self.optimizer.step()
            self.optimizer.zero_grad()
            if step % eval_every == 0:
                self.evaluate(eval_loader)

    def evaluate(self, loader):
        model = self.model
        if torch.cuda.device_count() > 1:
            model = nn.DataParallel(model)
        model.eval()
        with torch.no_grad():
            return sum(model(x).argmax(-1).eq(y).sum().item() for x, y in loader)
""",
        (19,),
        fix="""\
@@
             if step % eval_every == 0:
                 self.evaluate(eval_loader)
+                self.model.train()
""",
    ),
    # A fine-tuning script that resumes its optimizer from a checkpoint: the optimizer's own
    # load_state_dict() does not make it a module, and its step() is the training step.
    Invalid(
        """\
import torch
from pytorch_pretrained_bert.optimization import BertAdam
from torch import nn

model = nn.Sequential(nn.Linear(768, 768), nn.Dropout(0.1), nn.Linear(768, 2))
optim = BertAdam(model.parameters(), lr=2e-5)
state = torch.load("checkpoint.pt")
model.load_state_dict(state["model"])
optim.load_state_dict(state["optim"])


def eval_epoch():
    model.eval()
    with torch.no_grad():
        return sum(model(x).argmax(-1).eq(y).sum().item() for x, y in dev_loader)


for epoch in range(3):
    for x, y in train_loader:
        loss = nn.functional.cross_entropy(model(x), y)
        loss.backward()
        optim.step()
        optim.zero_grad()
    eval_epoch()
""",
        (24,),
        fix="""\
@@
         optim.zero_grad()
     eval_epoch()
+    model.train()
""",
    ),
    # A trainer whose base class (in another file) runs `_train()` and `_test()` in turns every
    # epoch: `_test()` switches to eval mode and nothing ever switches back, so from the second
    # epoch on the tagger trains with its Dropout off.
    Invalid(
        """\
import torch
from torch import nn

from .base import EpochTrainer


class TaggerTrainer(EpochTrainer):
    def __init__(self, model, lr):
        super().__init__()
        self.model = model
        self.optimizer = torch.optim.Adam(model.parameters(), lr=lr)

    def _test(self, batches):
        self.model.eval()
        correct = total = 0
        with torch.no_grad():
            for words, tags in batches:
                guess = self.model(words).argmax(-1)
                correct += (guess == tags).sum().item()
                total += tags.numel()
        return {"acc": correct / total}

    def _train(self, batches):
        total_loss = 0.0
        for words, tags in batches:
            self.optimizer.zero_grad()
            loss = nn.functional.cross_entropy(self.model(words).transpose(1, 2), tags)
            total_loss += loss.item()
            loss.backward()
            self.optimizer.step()
        return {"avg_loss": total_loss / len(batches)}
""",
        (14,),
        fix="""\
@@
     def _train(self, batches):
+        self.model.train()
         total_loss = 0.0
         for words, tags in batches:
""",
    ),
    # a factory-built validation step switches to eval mode, and the factory-built training step
    # never switches back: from the second epoch on the model trains without dropout
    Invalid(
        shared.step_factories(val_switch="net.eval()"),
        (32,),
        fix="""\
@@
         val_loss = sum(check(inputs, targets) for inputs, targets in val_batches)
+        classifier.train()
""",
    ),
    # A helper switches every model of the list it is given, by a mode string; the accuracy
    # check called from the training loop ends with "eval" where it meant "train".
    Invalid(
        _SWITCH_ALL_ACCURACY,
        (33,),
    ),
    Invalid(
        _agent_with_test_episodes(),
        (40,),
        fix="""\
@@
             action = self.act(obs)
+            self.q.train()
""",
    ),
    # a setting at the top of a script (edited by hand, not by the program): the helper's
    # eval() under it is code that runs once the user turns it on, and then it leaks
    Invalid(
        """\
import torch

EVALUATE_EACH_EPOCH = False


def validate(model, loader):
    if EVALUATE_EACH_EPOCH:
        model.eval()
    total = 0.0
    for x, y in loader:
        total += torch.nn.functional.cross_entropy(model(x), y).item()
    return total


model = torch.nn.Sequential(torch.nn.Linear(8, 8), torch.nn.Dropout(0.2), torch.nn.Linear(8, 2))
optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
for epoch in range(10):
    model.train()
    for x, y in loader:
        optimizer.zero_grad()
        torch.nn.functional.cross_entropy(model(x), y).backward()
        optimizer.step()
        print(validate(model, val_loader))
""",
        (23,),
        fix="""\
@@
         print(validate(model, val_loader))
+        model.train()
""",
    ),
    # the mode is picked per epoch, but the eval() branch also validates: on those epochs the
    # whole epoch then trains with Dropout off and BatchNorm frozen
    Invalid(
        """\
import torch
import torch.nn as nn
import torch.nn.functional as F


class Classifier(nn.Module):
    def __init__(self):
        super().__init__()
        self.body = nn.Sequential(nn.Linear(64, 128), nn.BatchNorm1d(128), nn.ReLU(), nn.Dropout(0.5))
        self.head = nn.Linear(128, 5)

    def forward(self, x):
        return self.head(self.body(x))


class Runner:
    def __init__(self):
        self.net = Classifier()
        self.optimizer = torch.optim.Adam(self.net.parameters(), lr=1e-3)

    def accuracy(self, loader):
        with torch.no_grad():
            hits = sum((self.net(x).argmax(1) == y).sum().item() for x, y in loader)
        return hits / len(loader.dataset)

    def run(self, train_loader, val_loader, epochs, every=5):
        for epoch in range(epochs):
            if epoch % every == 0:
                self.net.eval()
                print(epoch, self.accuracy(val_loader))
            else:
                self.net.train()
            for x, y in train_loader:
                loss = F.cross_entropy(self.net(x), y)
                self.optimizer.zero_grad()
                loss.backward()
                self.optimizer.step()
""",
        (29,),
        fix="""\
@@
             else:
                 self.net.train()
+            self.net.train()
             for x, y in train_loader:
""",
    ),

    # a pretraining function hands back the modules it was given (``return encoder,
    # decoder``) after switching them to eval mode: the name the caller gives the encoder is
    # the same module, still in eval mode when the classifier is fine-tuned on it
    Invalid(
        """\
import torch
import torch.nn.functional as F
from torch import nn


def pretrain(encoder, decoder, loader, epochs):
    params = list(encoder.parameters()) + list(decoder.parameters())
    optimizer = torch.optim.Adam(params, lr=1e-3)
    encoder.train()
    decoder.train()
    for _ in range(epochs):
        for images, _ in loader:
            optimizer.zero_grad()
            F.mse_loss(decoder(encoder(images)), images).backward()
            optimizer.step()
    encoder.eval()
    decoder.eval()
    return encoder, decoder


encoder = nn.Sequential(nn.Flatten(), nn.Linear(784, 128), nn.BatchNorm1d(128), nn.ReLU())
decoder = nn.Sequential(nn.Linear(128, 784), nn.Unflatten(1, (1, 28, 28)))
features, _ = pretrain(encoder, decoder, unlabelled_loader, epochs=20)

head = nn.Linear(128, 10)
optimizer = torch.optim.SGD(list(features.parameters()) + list(head.parameters()), lr=0.01)
for epoch in range(5):
    for images, labels in labelled_loader:
        optimizer.zero_grad()
        F.cross_entropy(head(features(images)), labels).backward()
        optimizer.step()
""",
        (23,),
        fix="""\
@@
 optimizer = torch.optim.SGD(list(features.parameters()) + list(head.parameters()), lr=0.01)
+features.train()
 for epoch in range(5):
""",
    ),
    # an RLHF trainer (a plain class) whose own eval() leaves the policy in eval mode, called
    # from its train() loop: the policy is named, and its train(), not the trainer's (HALOs)
    Invalid(
        """\
import torch


class PolicyTrainer(object):
    # runs the loop; the policy it trains is a module, the trainer is not

    def __init__(self, policy, accelerator, train_batches, eval_batches, eval_every):
        self.policy = policy
        self.accelerator = accelerator
        self.train_batches = train_batches
        self.eval_batches = eval_batches
        self.eval_every = eval_every
        self.optimizer = torch.optim.AdamW(policy.parameters(), lr=1e-5)

    def batch_loss(self, batch):
        return self.policy(batch["input_ids"], labels=batch["labels"]).loss

    def eval(self):
        self.policy.eval()
        with torch.no_grad():
            losses = [self.batch_loss(batch).item() for batch in self.eval_batches]
        return sum(losses) / len(losses)

    def train(self):
        self.policy.train()
        for step, batch in enumerate(self.train_batches):
            if step % self.eval_every == 0:
                print(step, self.eval())
            self.optimizer.zero_grad()
            loss = self.batch_loss(batch)
            self.accelerator.backward(loss)
            self.optimizer.step()
""",
        (28,),
        fix="""\
@@
             if step % self.eval_every == 0:
                 print(step, self.eval())
+                self.policy.train()
             self.optimizer.zero_grad()
""",
    ),
)

VALID = (
    _FLAGGED_AGENT,
    shared.TRAIN_OR_EVALUATE,
    # a module-level loop calls a step function that switches to train() itself before it
    # steps, then evaluates (graph tutorials' train_iter)
    """\
import torch
import torch.nn as nn
import torch.nn.functional as F


class GraphNet(nn.Module):
    def __init__(self, n_in, n_hidden, n_out, p):
        super().__init__()
        self.l1 = nn.Linear(n_in, n_hidden)
        self.drop = nn.Dropout(p)
        self.l2 = nn.Linear(n_hidden, n_out)

    def forward(self, x):
        return self.l2(self.drop(F.relu(self.l1(x))))


def evaluate(model, x, y):
    model.eval()
    with torch.no_grad():
        return (model(x).argmax(1) == y).float().mean().item()


def train_step(model, optimizer, x, y):
    model.train()
    optimizer.zero_grad()
    F.cross_entropy(model(x), y).backward()
    optimizer.step()
    return evaluate(model, x, y)


# the script's own optimizer has the same name as train_step's parameter
net = GraphNet(16, 32, 4, 0.5)
optimizer = torch.optim.Adam(net.parameters(), lr=0.01)
for epoch in range(100):
    print(epoch, train_step(net, optimizer, features, labels))
""",
    # pytorch/examples mnist: `model.train()` at the top of `train()`, `model.eval()` at the
    # top of `test()`, the two alternating every epoch.
    """\
import torch


def train(model, device, train_loader, optimizer):
    model.train()
    for data, target in train_loader:
        data, target = data.to(device), target.to(device)
        optimizer.zero_grad()
        loss = F.nll_loss(model(data), target)
        loss.backward()
        optimizer.step()


def test(model, device, test_loader):
    model.eval()
    correct = 0
    with torch.no_grad():
        for data, target in test_loader:
            pred = model(data.to(device)).argmax(dim=1)
            correct += pred.eq(target.to(device)).sum().item()
    return correct


for epoch in range(1, epochs + 1):
    train(model, device, train_loader, optimizer)
    test(model, device, test_loader)
""",
    # Validation every N steps inside the batch loop, with `model.train()` on the same line
    # as the step bookkeeping right after it.
    """\
import torch

model.train()
for step, (x, y) in enumerate(train_loader):
    optimizer.zero_grad()
    loss = criterion(model(x), y)
    loss.backward()
    optimizer.step()
    if step % eval_every == 0:
        model.eval()
        with torch.no_grad():
            val_loss = sum(criterion(model(vx), vy).item() for vx, vy in val_loader)
        model.train(); step_log.append((step, val_loss))
""",
    # `model.train()` at the top of every batch, on one line with `zero_grad()`, so a
    # validation at the end of the previous batch does not leak.
    """\
import torch

for epoch in range(epochs):
    for i, (images, labels) in enumerate(train_loader):
        model.train(); optimizer.zero_grad()
        loss = criterion(model(images.to(device)), labels.to(device))
        loss.backward()
        optimizer.step()
        if i % 200 == 0:
            model.eval()
            with torch.no_grad():
                acc = accuracy(model(val_images), val_labels)
            print(f"step {i}: val acc {acc:.3f}")
""",
    # `model.to(device).train()` at the top of every batch (a chain of methods that return the
    # module), so a validation at the end of the previous batch does not leak.
    """\
import torch

for epoch in range(epochs):
    for i, (images, labels) in enumerate(train_loader):
        model.to(device).train()
        optimizer.zero_grad()
        loss = criterion(model(images.to(device)), labels.to(device))
        loss.backward()
        optimizer.step()
        if i % 200 == 0:
            model.eval()
            with torch.no_grad():
                acc = accuracy(model(val_images), val_labels)
            print(f"step {i}: val acc {acc:.3f}")
""",
    # transfer-learning tutorial `visualize_model()`: remembers `model.training`, switches
    # to eval and restores the caller's mode before every return.
    """\
import torch


def visualize_model(model, loader, num_images=6):
    was_training = model.training
    model.eval()
    shown = 0
    with torch.no_grad():
        for inputs, labels in loader:
            preds = model(inputs).argmax(1)
            for j in range(inputs.size(0)):
                shown += 1
                show(inputs[j], class_names[preds[j]])
                if shown == num_images:
                    model.train(mode=was_training)
                    return
        model.train(mode=was_training)


for epoch in range(num_epochs):
    for inputs, labels in dataloader:
        optimizer.zero_grad()
        criterion(model(inputs), labels).backward()
        optimizer.step()
    visualize_model(model, val_loader)
""",
    # Trainer method that restores train mode only if the model was training when called.
    """\
import torch


class Trainer:
    def validate(self):
        training = self.model.training
        self.model.eval()
        total = 0.0
        with torch.no_grad():
            for x, y in self.val_loader:
                total += self.loss_fn(self.model(x), y).item()
        if training:
            self.model.train()
        return total / len(self.val_loader)

    def fit(self, epochs):
        self.model.train()
        for epoch in range(epochs):
            for i, (x, y) in enumerate(self.train_loader):
                self.optimizer.zero_grad()
                self.loss_fn(self.model(x), y).backward()
                self.optimizer.step()
                if i % self.val_every == 0:
                    self.validate()
""",
    # The caller brackets the evaluation: `model.eval(); evaluate(...); model.train()`.
    """\
import torch


@torch.no_grad()
def evaluate(model, loader):
    return sum((model(x).argmax(1) == y).sum().item() for x, y in loader)


model.train()
for step, (x, y) in enumerate(loader):
    optimizer.zero_grad()
    loss = criterion(model(x), y)
    loss.backward()
    optimizer.step()
    if step % 1000 == 0:
        model.eval()
        print(step, evaluate(model, val_loader))
        model.train()
""",
    # Evaluation only after training has finished: best checkpoint reloaded, then tested.
    """\
import torch

for epoch in range(args.epochs):
    model.train()
    for data, targets in train_loader:
        optimizer.zero_grad()
        loss = criterion(model(data), targets)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), args.clip)
        optimizer.step()

model.load_state_dict(torch.load(args.save))
model.eval()
with torch.no_grad():
    test_loss = sum(criterion(model(d), t).item() for d, t in test_loader)
print(f"test loss {test_loss / len(test_loader):.2f}")
""",
    # Fixed feature extractor: the pretrained backbone is frozen and kept in eval while a new
    # classifier head trains on its features.
    """\
import torch
import torchvision

backbone = torchvision.models.resnet18(weights="IMAGENET1K_V1")
backbone.fc = torch.nn.Identity()
backbone.requires_grad_(False)
backbone.eval()
head = torch.nn.Linear(512, num_classes)
optimizer = torch.optim.SGD(head.parameters(), lr=0.01, momentum=0.9)
for epoch in range(epochs):
    head.train()
    for images, labels in train_loader:
        with torch.no_grad():
            features = backbone(images)
        loss = criterion(head(features), labels)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
""",
    # Detection backbone with frozen BatchNorm: `train()` is overridden to put the norm
    # layers back in eval every time the detector switches to train mode.
    """\
import torch
from torch import nn


class ResNetBackbone(nn.Module):
    def __init__(self, norm_eval=True):
        super().__init__()
        self.norm_eval = norm_eval
        self.stem = nn.Sequential(nn.Conv2d(3, 64, 7, 2, 3), nn.BatchNorm2d(64), nn.ReLU())

    def train(self, mode=True):
        super().train(mode)
        if mode and self.norm_eval:
            for m in self.modules():
                if isinstance(m, nn.BatchNorm2d):
                    m.eval()
        return self

    def forward(self, x):
        return self.stem(x)


backbone = ResNetBackbone()
optimizer = torch.optim.SGD(backbone.parameters(), lr=0.02)
backbone.train()
for images, targets in loader:
    optimizer.zero_grad()
    detection_loss(backbone(images), targets).backward()
    optimizer.step()
""",
    # Knowledge distillation: the teacher stays in eval for the whole run while the student
    # trains on its soft targets.
    """\
import torch
import torch.nn.functional as F

teacher.eval()
student.train()
for epoch in range(epochs):
    for inputs, labels in train_loader:
        optimizer.zero_grad()
        with torch.no_grad():
            teacher_logits = teacher(inputs)
        student_logits = student(inputs)
        soft = F.kl_div(
            F.log_softmax(student_logits / T, dim=-1),
            F.softmax(teacher_logits / T, dim=-1),
            reduction="batchmean",
        )
        loss = alpha * soft * T * T + (1 - alpha) * F.cross_entropy(student_logits, labels)
        loss.backward()
        optimizer.step()
""",
    # DQN tutorial: the target network is kept in eval while the policy network trains.
    """\
import torch

policy_net = DQN(n_observations, n_actions)
target_net = DQN(n_observations, n_actions)
target_net.load_state_dict(policy_net.state_dict())
target_net.eval()
optimizer = torch.optim.AdamW(policy_net.parameters(), lr=1e-4, amsgrad=True)
for episode in range(num_episodes):
    state = env.reset()
    for t in range(max_steps):
        action = select_action(state)
        state, batch = step_and_sample(env, action)
        with torch.no_grad():
            next_values = target_net(batch.next_states).max(1).values
        expected = batch.rewards + gamma * next_values
        loss = F.smooth_l1_loss(policy_net(batch.states).gather(1, batch.actions), expected)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
""",
    # Assignment and chained forms: `net = net.eval()` for export, a fresh `Net().train()`.
    """\
import torch

net = Net().to(device).train()
optimizer = torch.optim.Adam(net.parameters())
for x, y in loader:
    optimizer.zero_grad()
    criterion(net(x), y).backward()
    optimizer.step()
net = net.eval()
example = torch.randn(1, 3, 224, 224)
traced = torch.jit.trace(net, example)
traced.save("model.pt")
""",
    # CycleGAN-style model wrapper: its own `eval()`/`test()`/`train` methods are not
    # `nn.Module` mode switches, and it is never trained by `backward()` directly.
    """\
import torch


class CycleGANModel:
    def __init__(self, netG_A, netG_B):
        self.netG_A = netG_A
        self.netG_B = netG_B

    def eval(self):
        for net in (self.netG_A, self.netG_B):
            net.eval()

    def test(self):
        with torch.no_grad():
            self.fake_B = self.netG_A(self.real_A)

    def optimize_parameters(self):
        self.forward()
        self.optimizer_G.zero_grad()
        self.backward_G()
        self.optimizer_G.step()


model = CycleGANModel(netG_A, netG_B)
for epoch in range(n_epochs):
    for data in dataset:
        model.set_input(data)
        model.optimize_parameters()
""",
    # Transfer-learning tutorial: one loop over phases, `model.train()` or `model.eval()`
    # chosen per phase and `backward()` only in the training phase.
    """\
import torch

for epoch in range(num_epochs):
    for phase in ["train", "val"]:
        if phase == "train":
            model.train()
        else:
            model.eval()
        for inputs, labels in dataloaders[phase]:
            optimizer.zero_grad()
            with torch.set_grad_enabled(phase == "train"):
                outputs = model(inputs)
                loss = criterion(outputs, labels)
                if phase == "train":
                    loss.backward()
                    optimizer.step()
""",
    # A shared `run_epoch()` for training and evaluation: the mode follows `is_train`.
    """\
import torch


def run_epoch(model, loader, optimizer=None):
    is_train = optimizer is not None
    model.train(is_train)
    total = 0.0
    with torch.enable_grad() if is_train else torch.no_grad():
        for x, y in loader:
            loss = criterion(model(x), y)
            if is_train:
                optimizer.zero_grad()
                loss.backward()
                optimizer.step()
            total += loss.item()
    return total / len(loader)


for epoch in range(epochs):
    run_epoch(model, train_loader, optimizer)
    run_epoch(model, val_loader)
""",
    # MoCo linear classification: the whole pretrained model is kept in eval on purpose
    # (BatchNorm statistics must not change) and only the frozen-backbone `fc` is trained.
    """\
import torch


def train(train_loader, model, criterion, optimizer):
    # only the linear classifier is trained; keep BN statistics of the backbone fixed
    model.eval()
    for images, target in train_loader:
        output = model(images)
        loss = criterion(output, target)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()


for name, param in model.named_parameters():
    if name not in ["fc.weight", "fc.bias"]:
        param.requires_grad = False
parameters = [p for p in model.parameters() if p.requires_grad]
optimizer = torch.optim.SGD(parameters, lr=30.0, momentum=0.9)
for epoch in range(epochs):
    train(train_loader, model, criterion, optimizer)
""",
    # k-fold cross-validation: each fold evaluates in eval mode, then re-binds `model` to a
    # freshly built network (in train mode) for the next fold.
    """\
import torch

for fold, (train_idx, val_idx) in enumerate(kfold.split(dataset)):
    model = build_model().to(device)
    optimizer = torch.optim.Adam(model.parameters(), lr=3e-4)
    for epoch in range(epochs):
        for x, y in subset_loader(dataset, train_idx):
            optimizer.zero_grad()
            loss = criterion(model(x), y)
            loss.backward()
            optimizer.step()
    model.eval()
    with torch.no_grad():
        scores.append(evaluate(model, subset_loader(dataset, val_idx)))
""",
    # Trainer with a mode helper taking the mode as an argument.
    """\
import torch


class Solver:
    def _mode_setting(self, is_train=True):
        self.model.train(is_train)

    def validate(self):
        self._mode_setting(is_train=False)
        with torch.no_grad():
            return [self.model(x) for x, _ in self.val_loader]

    def train(self, epochs):
        for epoch in range(epochs):
            self._mode_setting(is_train=True)
            for x, y in self.train_loader:
                self.optimizer.zero_grad()
                self.criterion(self.model(x), y).backward()
                self.optimizer.step()
            self.validate()
""",
    # nanoGPT `estimate_loss()`: evaluates under `@torch.no_grad()` and ends with
    # `model.train()` itself.
    """\
import torch


@torch.no_grad()
def estimate_loss():
    out = {}
    model.eval()
    for split in ["train", "val"]:
        losses = torch.zeros(eval_iters)
        for k in range(eval_iters):
            X, Y = get_batch(split)
            logits, loss = model(X, Y)
            losses[k] = loss.item()
        out[split] = losses.mean()
    model.train()
    return out


for iter_num in range(max_iters):
    if iter_num % eval_interval == 0:
        losses = estimate_loss()
    X, Y = get_batch("train")
    logits, loss = model(X, Y)
    loss.backward()
    optimizer.step()
    optimizer.zero_grad(set_to_none=True)
""",
    # d2l's helpers: the same `isinstance(net, nn.Module)` guard around both `net.train()` and
    # `net.eval()`, so "eval ran but train did not" is not a real path.
    """\
import torch
from torch import nn


def evaluate_accuracy(net, data_iter):
    if isinstance(net, nn.Module):
        net.eval()
    metric = Accumulator(2)
    with torch.no_grad():
        for X, y in data_iter:
            metric.add(accuracy(net(X), y), y.numel())
    return metric[0] / metric[1]


def train_epoch(net, train_iter, loss, updater):
    if isinstance(net, nn.Module):
        net.train()
    for X, y in train_iter:
        l = loss(net(X), y)
        updater.zero_grad()
        l.mean().backward()
        updater.step()


for epoch in range(num_epochs):
    train_epoch(net, train_iter, loss, updater)
    test_acc = evaluate_accuracy(net, test_iter)
""",
    # A context manager that switches to eval and restores the previous mode in `finally`.
    """\
import contextlib

import torch


@contextlib.contextmanager
def evaluating(model):
    was_training = model.training
    model.eval()
    try:
        yield model
    finally:
        model.train(was_training)


model.train()
for step, (x, y) in enumerate(loader):
    optimizer.zero_grad()
    criterion(model(x), y).backward()
    optimizer.step()
    if step % log_every == 0:
        with evaluating(model), torch.no_grad():
            val_acc = accuracy(model(val_x), val_y)
""",
    # Hugging Face `Trainer` subclass for distillation: the teacher is put in eval once; the
    # Trainer itself switches the student's mode around training and evaluation.
    """\
import torch
from transformers import Trainer


class DistillationTrainer(Trainer):
    def __init__(self, *args, teacher_model=None, temperature=2.0, **kwargs):
        super().__init__(*args, **kwargs)
        self.teacher = teacher_model
        self.teacher.eval()
        self.temperature = temperature

    def compute_loss(self, model, inputs, return_outputs=False, **kwargs):
        outputs = model(**inputs)
        with torch.no_grad():
            teacher_logits = self.teacher(**inputs).logits
        kd = torch.nn.functional.kl_div(
            torch.log_softmax(outputs.logits / self.temperature, dim=-1),
            torch.softmax(teacher_logits / self.temperature, dim=-1),
            reduction="batchmean",
        )
        loss = 0.5 * outputs.loss + 0.5 * kd
        return (loss, outputs) if return_outputs else loss
""",
    # PyTorch-intro training loop: `model.train(True)` at the top of every epoch and
    # `model.train(mode=False)` as the switch to evaluation.
    """\
import torch

for epoch in range(EPOCHS):
    model.train(True)
    running_loss = 0.0
    for inputs, labels in training_loader:
        optimizer.zero_grad()
        loss = loss_fn(model(inputs), labels)
        loss.backward()
        optimizer.step()
        running_loss += loss.item()
    model.train(mode=False)
    running_vloss = 0.0
    with torch.no_grad():
        for vinputs, vlabels in validation_loader:
            running_vloss += loss_fn(model(vinputs), vlabels).item()
    print(f"loss train {running_loss:.3f} valid {running_vloss:.3f}")
""",
    # Metric learning with frozen BatchNorm: `model.train()` then `model.apply(set_bn_eval)`
    # every epoch, on purpose.
    """\
import torch
from torch import nn


def set_bn_eval(m):
    if isinstance(m, nn.modules.batchnorm._BatchNorm):
        m.eval()


for epoch in range(epochs):
    model.train()
    # small per-GPU batches: keep the ImageNet BatchNorm statistics frozen
    model.apply(set_bn_eval)
    for images, labels in train_loader:
        embeddings = model(images)
        loss = metric_loss(embeddings, labels)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
""",
    # A separate evaluation script: load a checkpoint, `eval()`, test; nothing trains.
    """\
import argparse

import torch

parser = argparse.ArgumentParser()
parser.add_argument("checkpoint")
args = parser.parse_args()

model = build_model(num_classes=10)
model.load_state_dict(torch.load(args.checkpoint, map_location="cpu"))
model.eval()
correct = total = 0
with torch.inference_mode():
    for images, labels in test_loader:
        correct += (model(images).argmax(1) == labels).sum().item()
        total += labels.numel()
print(f"top-1: {100 * correct / total:.2f}%")
""",
    # EMA shadow built with `copy.deepcopy(model).eval()` and evaluated while `model` trains.
    """\
import copy

import torch

ema_model = copy.deepcopy(model).eval()
ema_model.requires_grad_(False)
model.train()
for step, (x, y) in enumerate(loader):
    loss = criterion(model(x), y)
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    with torch.no_grad():
        for ema_p, p in zip(ema_model.parameters(), model.parameters()):
            ema_p.mul_(0.999).add_(p.detach(), alpha=0.001)
    if step % 1000 == 0:
        with torch.no_grad():
            val_acc = accuracy(ema_model(val_x), val_y)
""",
    # Assignment form: `model = model.eval()` for the periodic validation, `model = model.train()`
    # right after it.
    """\
import torch

for epoch in range(epochs):
    for step, (x, y) in enumerate(train_loader):
        loss = criterion(model(x), y)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        if step % eval_every == 0:
            model = model.eval()
            with torch.no_grad():
                val_loss = sum(criterion(model(vx), vy).item() for vx, vy in val_loader)
            model = model.train()
""",
    # Lightning GAN with manual optimisation: samples drawn in eval mode in
    # `on_validation_epoch_end`; Lightning restores the modules' modes before training resumes.
    """\
import lightning as L
import torch


class GAN(L.LightningModule):
    def __init__(self, generator, discriminator):
        super().__init__()
        self.automatic_optimization = False
        self.generator = generator
        self.discriminator = discriminator

    def training_step(self, batch, batch_idx):
        opt_g, opt_d = self.optimizers()
        z = torch.randn(batch.size(0), self.hparams.latent_dim, device=self.device)
        g_loss = adversarial_loss(self.discriminator(self.generator(z)), valid_labels(batch))
        opt_g.zero_grad()
        self.manual_backward(g_loss)
        opt_g.step()

    def on_validation_epoch_end(self):
        self.generator.eval()
        with torch.no_grad():
            samples = self.generator(self.validation_z.to(self.device))
        self.logger.experiment.add_images("samples", samples, self.current_epoch)
""",
    # Hugging Face `run_glue_no_trainer` layout: `model.train()` at the top of each epoch, the
    # `accelerate` loop, then `model.eval()` for the end-of-epoch evaluation.
    """\
import torch

for epoch in range(args.num_train_epochs):
    model.train()
    for step, batch in enumerate(train_dataloader):
        with accelerator.accumulate(model):
            outputs = model(**batch)
            accelerator.backward(outputs.loss)
            optimizer.step()
            lr_scheduler.step()
            optimizer.zero_grad()
    model.eval()
    for batch in eval_dataloader:
        with torch.no_grad():
            outputs = model(**batch)
        predictions, references = accelerator.gather_for_metrics(
            (outputs.logits.argmax(dim=-1), batch["labels"])
        )
        metric.add_batch(predictions=predictions, references=references)
    logger.info(f"epoch {epoch}: {metric.compute()}")
""",
    # `accelerate` loop evaluating on the main process only, with `model.train()` right after the
    # evaluation inside the same branch.
    """\
import torch

model.train()
for step, batch in enumerate(train_dataloader):
    loss = model(**batch).loss
    accelerator.backward(loss)
    optimizer.step()
    optimizer.zero_grad()
    if step % eval_steps == 0 and accelerator.is_main_process:
        model.eval()
        with torch.no_grad():
            val_loss = sum(model(**b).loss.item() for b in eval_dataloader)
        model.train()
        accelerator.log({"val_loss": val_loss}, step=step)
""",
    # Custom trainer copying HF `Trainer`'s habit: `_train_step()` calls `self.model.train()`
    # itself, so the periodic `_evaluate()` (which only switches to eval) cannot leak.
    """\
import torch


class Trainer:
    def _train_step(self, batch):
        self.model.train()
        loss = self.model(**batch).loss
        self.accelerator.backward(loss)
        self.optimizer.step()
        self.scheduler.step()
        self.optimizer.zero_grad()
        return loss.detach()

    @torch.no_grad()
    def _evaluate(self):
        self.model.eval()
        losses = [self.model(**b).loss for b in self.eval_loader]
        return torch.stack(losses).mean().item()

    def train(self):
        for step, batch in enumerate(self.train_loader):
            self._train_step(batch)
            if step % self.args.eval_steps == 0:
                self.log({"eval_loss": self._evaluate()})
""",
    # OpenNMT-py's early `train.py`: a module-level function literally named `eval(model,
    # criterion, data)` that ends with `model.train()`, called every `eval_every` steps.
    """\
import math

import torch


def eval(model, criterion, data):
    total_loss, total_words = 0.0, 0
    model.eval()
    with torch.no_grad():
        for src, tgt in data:
            outputs = model(src, tgt[:-1])
            total_loss += criterion(outputs.flatten(0, 1), tgt[1:].flatten()).item()
            total_words += tgt[1:].ne(PAD).sum().item()
    model.train()
    return total_loss / total_words


model.train()
for epoch in range(1, opt.epochs + 1):
    for i, (src, tgt) in enumerate(trainData):
        model.zero_grad()
        outputs = model(src, tgt[:-1])
        loss = criterion(outputs.flatten(0, 1), tgt[1:].flatten())
        loss.backward()
        optim.step()
        if i % opt.eval_every == 0:
            valid_loss = eval(model, criterion, validData)
            print(f"epoch {epoch} step {i}: valid ppl {math.exp(valid_loss):.2f}")
""",
    # FGSM robustness evaluation: `backward()` in eval mode computes gradients for the inputs;
    # no optimizer step, nothing is trained.
    """\
import torch
import torch.nn.functional as F


def fgsm_attack(model, images, labels, epsilon):
    images = images.clone().requires_grad_(True)
    loss = F.cross_entropy(model(images), labels)
    model.zero_grad()
    loss.backward()
    return (images + epsilon * images.grad.sign()).clamp(0, 1).detach()


model.load_state_dict(torch.load("cifar_resnet.pt"))
model.eval()
for epsilon in [0.0, 0.01, 0.03, 0.1]:
    correct = 0
    for images, labels in test_loader:
        adv = fgsm_attack(model, images, labels, epsilon)
        with torch.no_grad():
            correct += (model(adv).argmax(1) == labels).sum().item()
    print(f"epsilon {epsilon}: robust accuracy {correct / len(test_loader.dataset):.3f}")
""",
    # Madry-style adversarial training: `model.eval()` while the PGD attack is crafted,
    # `model.train()` before the update, every batch.
    """\
import torch
import torch.nn.functional as F


def pgd(model, x, y, eps=8 / 255, alpha=2 / 255, steps=10):
    delta = torch.zeros_like(x).uniform_(-eps, eps).requires_grad_(True)
    for _ in range(steps):
        loss = F.cross_entropy(model(x + delta), y)
        (grad,) = torch.autograd.grad(loss, delta)
        delta = (delta + alpha * grad.sign()).clamp(-eps, eps).detach().requires_grad_(True)
    return (x + delta).clamp(0, 1).detach()


for epoch in range(epochs):
    for x, y in train_loader:
        model.eval()
        x_adv = pgd(model, x, y)
        model.train()
        loss = F.cross_entropy(model(x_adv), y)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
""",
    # Adversarial training whose attack optimizes the perturbation with an optimizer of its own:
    # `backward()` runs in eval mode, but the only optimizer stepped there is built over the
    # perturbation tensor; the model's stale gradients are cleared before its own update.
    """\
import torch
import torch.nn.functional as F


def robust_loss(model, x, y, optimizer, eps=0.5, steps=5):
    model.eval()
    delta = torch.zeros_like(x).normal_(0, 0.001).requires_grad_(True)
    delta_opt = torch.optim.SGD([delta], lr=2 * eps / steps)
    for _ in range(steps):
        delta_opt.zero_grad()
        attack = -F.cross_entropy(model(x + delta), y)
        attack.backward()
        delta_opt.step()
        delta.data.renorm_(p=2, dim=0, maxnorm=eps)
    model.train()
    optimizer.zero_grad()
    return F.cross_entropy(model(x), y) + F.cross_entropy(model((x + delta).detach()), y)


for epoch in range(epochs):
    for x, y in train_loader:
        loss = robust_loss(model, x, y, optimizer)
        loss.backward()
        optimizer.step()
""",
    # An `evaluate()` that restores train mode in a `finally:` block, returning from inside the
    # `try`.
    """\
import torch


def evaluate(model, loader):
    model.eval()
    try:
        with torch.no_grad():
            return sum((model(x).argmax(1) == y).float().mean().item() for x, y in loader)
    finally:
        model.train()


model.train()
for step, (x, y) in enumerate(train_loader):
    optimizer.zero_grad()
    criterion(model(x), y).backward()
    optimizer.step()
    if step % 100 == 0:
        print(evaluate(model, val_loader))
""",
    # DDP script that restores the wrapped module with `model.module.train()` after an evaluation
    # of the wrapper.
    """\
import torch

model = DDP(net, device_ids=[rank])
for epoch in range(epochs):
    model.module.train()
    for x, y in train_loader:
        optimizer.zero_grad()
        criterion(model(x), y).backward()
        optimizer.step()
        if step % 100 == 0:
            model.eval()
            with torch.no_grad():
                val = evaluate(model, val_loader)
            model.module.train()
""",
    # Frozen feature extractor kept in eval on purpose: `model.eval()`, then only the classifier
    # head back to `train()`; the optimizer holds the head's parameters only.
    """\
import torch

model.eval()
model.classifier.train()
for p in model.features.parameters():
    p.requires_grad = False
optimizer = torch.optim.SGD(model.classifier.parameters(), lr=1e-3, momentum=0.9)
for epoch in range(epochs):
    for images, labels in train_loader:
        loss = criterion(model(images), labels)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
""",
    # BasicSR-style model wrapper: `test()` evaluates the EMA generator (kept in eval) or puts
    # `net_g` in eval and back in train; training happens in `optimize_parameters()`.
    """\
import torch


class SRModel(BaseModel):
    def optimize_parameters(self, current_iter):
        self.optimizer_g.zero_grad()
        self.output = self.net_g(self.lq)
        l_pix = self.cri_pix(self.output, self.gt)
        l_pix.backward()
        self.optimizer_g.step()
        if self.ema_decay > 0:
            self.model_ema(decay=self.ema_decay)

    def test(self):
        if hasattr(self, "net_g_ema"):
            self.net_g_ema.eval()
            with torch.no_grad():
                self.output = self.net_g_ema(self.lq)
        else:
            self.net_g.eval()
            with torch.no_grad():
                self.output = self.net_g(self.lq)
            self.net_g.train()

    def validation(self, dataloader, current_iter):
        for val_data in dataloader:
            self.feed_data(val_data)
            self.test()
            self.metric_results["psnr"] += calculate_psnr(self.output, self.gt)
""",
    # Hugging Face `TrainerCallback.on_evaluate` that generates samples in eval mode: the Trainer
    # switches the model back to train mode in every `training_step`.
    """\
import torch
from transformers import Trainer, TrainerCallback


class GenerateSamplesCallback(TrainerCallback):
    def __init__(self, tokenizer, prompts):
        self.tokenizer = tokenizer
        self.prompts = prompts

    def on_evaluate(self, args, state, control, model=None, **kwargs):
        model.eval()
        inputs = self.tokenizer(self.prompts, return_tensors="pt", padding=True).to(model.device)
        with torch.no_grad():
            out = model.generate(**inputs, max_new_tokens=32)
        for text in self.tokenizer.batch_decode(out, skip_special_tokens=True):
            print(f"[step {state.global_step}] {text}")


trainer = Trainer(model=model, args=training_args, train_dataset=train_ds, eval_dataset=val_ds)
trainer.add_callback(GenerateSamplesCallback(tokenizer, ["The capital of France is"]))
trainer.train()
""",
    # Latent-diffusion style frozen text encoder: it puts itself in eval in `__init__` and overrides
    # `train()` to stay there, while the UNet trains on its outputs.
    """\
import torch
from torch import nn


class FrozenCLIPEncoder(nn.Module):
    def __init__(self, clip_model):
        super().__init__()
        self.clip = clip_model
        self.clip.requires_grad_(False)
        self.clip.eval()

    def train(self, mode=True):
        # keep the frozen encoder in eval whatever the parent module does
        return super().train(False)

    def forward(self, tokens):
        return self.clip.encode_text(tokens)


text_encoder = FrozenCLIPEncoder(clip_model)
unet.train()
for images, tokens in loader:
    with torch.no_grad():
        cond = text_encoder(tokens)
    loss = diffusion_loss(unet, images, cond)
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
""",
    # the project's own from_pretrained() builds the model itself (it does not call eval()), so
    # fine-tuning right after it trains in train mode
    """\
import torch
from torch import nn


class GPT(nn.Module):
    def __init__(self, width):
        super().__init__()
        self.drop = nn.Dropout(0.1)
        self.head = nn.Linear(width, width)

    def forward(self, x):
        return self.head(self.drop(x))

    @classmethod
    def from_pretrained(cls, name):
        model = GPT(768)
        model.load_state_dict(torch.load(f"{name}.pt"))
        return model


model = GPT.from_pretrained("gpt2")
optimizer = torch.optim.AdamW(model.parameters(), lr=6e-4)
optimizer.load_state_dict(torch.load("ckpt.pt")["optimizer"])
for x, y in loader:
    loss = nn.functional.cross_entropy(model(x), y)
    loss.backward()
    optimizer.step()
    optimizer.zero_grad()
""",
    # a local name taken from the attribute before the attribute is rebuilt keeps the old module
    """\
import torch
from torch import nn


class Runner:
    def __init__(self):
        self.model = nn.Sequential(nn.Linear(4, 4), nn.Dropout(0.5))
        self.optimizer = torch.optim.SGD(self.model.parameters(), lr=0.1)

    def train(self, loader):
        old = self.model
        old.eval()
        self.model = nn.Sequential(nn.Linear(4, 4), nn.Dropout(0.5))
        self.optimizer = torch.optim.SGD(self.model.parameters(), lr=0.1)
        for x, y in loader:
            loss = (self.model(x) - y).pow(2).mean()
            self.optimizer.zero_grad()
            loss.backward()
            self.optimizer.step()
""",
    # the same protocol done right: `_train()` sets train mode itself
    """\
import torch
from torch import nn


class TaggerTrainer(EpochTrainer):
    def __init__(self, model, lr):
        super().__init__()
        self.model = model
        self.optimizer = torch.optim.Adam(model.parameters(), lr=lr)

    def _test(self, batches):
        self.model.eval()
        with torch.no_grad():
            return sum((self.model(w).argmax(-1) == t).sum().item() for w, t in batches)

    def _train(self, batches):
        self.model.train()
        for words, tags in batches:
            self.optimizer.zero_grad()
            nn.functional.cross_entropy(self.model(words).transpose(1, 2), tags).backward()
            self.optimizer.step()
""",
    # a scikit-learn style estimator: fit() trains, predict() switches to eval mode for the
    # caller's predictions after fitting, not between epochs
    """\
import torch
from torch import nn


class TorchClassifier:
    def __init__(self, hidden=64, epochs=10):
        self.hidden = hidden
        self.epochs = epochs
        self.model = None

    def fit(self, X, y):
        self.model = nn.Sequential(
            nn.Linear(X.shape[1], self.hidden), nn.Dropout(0.2), nn.Linear(self.hidden, 2)
        )
        optimizer = torch.optim.Adam(self.model.parameters())
        for _ in range(self.epochs):
            optimizer.zero_grad()
            nn.functional.cross_entropy(self.model(X), y).backward()
            optimizer.step()
        return self

    def predict(self, X):
        self.model.eval()
        with torch.no_grad():
            return self.model(X).argmax(1)
""",
    # the same accuracy check, ending with "train": the models train in train mode again
    _SWITCH_ALL_ACCURACY.replace(
        '    switch_all("eval", [encoder, decoder, critic])\n    return',
        '    switch_all("train", [encoder, decoder, critic])\n    return',
    ),
    # distillation epoch: the optimizer comes from the caller, and the teacher put in eval mode
    # here only ever runs under no_grad, so the step cannot be training it
    """\
import torch


def train_one_epoch(student, teacher, loader, optimizer, criterion, scaler):
    student.train()
    teacher.eval()
    for images, texts in loader:
        optimizer.zero_grad()
        with torch.autocast("cuda"):
            out = student(images, texts)
            with torch.no_grad():
                target = teacher(images, texts)
            loss = criterion(out, target)
        scaler.scale(loss).backward()
        scaler.step(optimizer)
        scaler.update()
""",
    # a regression net of plain Linear layers (`nn.Sequential(...).to(device)`): eval() each epoch and no train() after it changes nothing; reported as a hint at most
    """\
import torch
from torch import nn

torch.manual_seed(0)
x_train, y_train = torch.randn(80, 1), torch.randn(80, 1)
x_test, y_test = torch.randn(20, 1), torch.randn(20, 1)

# a regression network of plain linear layers
regressor = nn.Sequential(
    nn.Linear(in_features=1, out_features=10),
    nn.Linear(in_features=10, out_features=10),
    nn.Linear(in_features=10, out_features=1),
).to("cpu")
loss_fn = nn.L1Loss()
optimizer = torch.optim.SGD(regressor.parameters(), lr=0.01)

for epoch in range(500):
    loss = loss_fn(regressor(x_train), y_train)
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()

    regressor.eval()
    with torch.inference_mode():
        test_loss = loss_fn(regressor(x_test), y_test)
    if epoch % 50 == 0:
        print(f"{epoch}: {loss:.4f} {test_loss:.4f}")
""",
    # class-incremental learning: the first task trains the whole network; later tasks keep
    # the backbone fixed (eval mode, BatchNorm statistics kept) and fit only the classifier
    # on replayed features; an if/else picks the mode for each case and does nothing else
    """\
import torch
import torch.nn as nn
import torch.nn.functional as F


class IncrementalNet(nn.Module):
    def __init__(self, feat_dim=512, classes=10):
        super().__init__()
        self.backbone = nn.Sequential(
            nn.Conv2d(3, feat_dim, 3, padding=1), nn.BatchNorm2d(feat_dim), nn.ReLU(),
            nn.AdaptiveAvgPool2d(1), nn.Flatten(),
        )
        self.fc = nn.Linear(feat_dim, classes)

    def forward(self, x):
        return self.fc(self.backbone(x))


class FeatureReplayLearner:
    def __init__(self, device):
        self.net = IncrementalNet().to(device)
        self.task = 0
        self.device = device

    def fit_task(self, loader, epochs):
        optimizer = torch.optim.SGD(self.net.parameters(), lr=0.05, momentum=0.9)
        for epoch in range(epochs):
            # the first task trains everything; later tasks keep the backbone (and its
            # BatchNorm statistics) fixed and fit the classifier on replayed features
            if self.task == 0:
                self.net.train()
            else:
                self.net.eval()
            for inputs, targets in loader:
                inputs, targets = inputs.to(self.device), targets.to(self.device)
                if self.task == 0:
                    logits = self.net(inputs)
                else:
                    logits = self.net.fc(inputs)
                loss = F.cross_entropy(logits, targets)
                optimizer.zero_grad()
                loss.backward()
                optimizer.step()
        self.task += 1

    def learn(self, task_loaders, epochs):
        for loader in task_loaders:
            self.fit_task(loader, epochs)
""",
    # the pretraining function checks its reconstructions in eval mode at the end of each
    # epoch and switches back: the encoder it hands back is in train mode
    """\
import torch
import torch.nn.functional as F
from torch import nn


def pretrain(encoder, decoder, loader, epochs):
    params = list(encoder.parameters()) + list(decoder.parameters())
    optimizer = torch.optim.Adam(params, lr=1e-3)
    encoder.train()
    decoder.train()
    for _ in range(epochs):
        for images, _ in loader:
            optimizer.zero_grad()
            F.mse_loss(decoder(encoder(images)), images).backward()
            optimizer.step()
        encoder.eval()
        decoder.eval()
        with torch.no_grad():
            images, _ = next(iter(loader))
            print(F.mse_loss(decoder(encoder(images)), images).item())
        encoder.train()
        decoder.train()
    return encoder, decoder


encoder = nn.Sequential(nn.Flatten(), nn.Linear(784, 128), nn.BatchNorm1d(128), nn.ReLU())
decoder = nn.Sequential(nn.Linear(128, 784), nn.Unflatten(1, (1, 28, 28)))
features, _ = pretrain(encoder, decoder, unlabelled_loader, epochs=20)

head = nn.Linear(128, 10)
optimizer = torch.optim.SGD(list(features.parameters()) + list(head.parameters()), lr=0.01)
for epoch in range(5):
    for images, labels in labelled_loader:
        optimizer.zero_grad()
        F.cross_entropy(head(features(images)), labels).backward()
        optimizer.step()
""",
    # a notebook trains a classifier (eval() for the test pass of each epoch, train() at the
    # start of the next), then computes class activation maps: backward() of one logit at a
    # time only fills a hook's gradients, no optimizer steps after it
    """\
import torch
from torch import nn

model = nn.Sequential(nn.Conv2d(1, 8, 3, padding=1), nn.BatchNorm2d(8), nn.ReLU(),
                      nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(8, 10))
optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
loss_fn = nn.CrossEntropyLoss()
for epoch in range(5):
    model.train()
    for images, labels in train_loader:
        optimizer.zero_grad()
        loss = loss_fn(model(images), labels)
        loss.backward()
        optimizer.step()
    model.eval()
    with torch.no_grad():
        hits = sum((model(x).argmax(1) == y).sum().item() for x, y in test_loader)

grads = []
hook = model[2].register_full_backward_hook(lambda mod, gin, gout: grads.append(gout[0]))
images, labels = next(iter(test_loader))
scores = model(images)
for k in range(8):
    model.zero_grad()
    scores[k, labels[k]].backward(retain_graph=True)
    weights = grads[-1][k].mean(dim=(1, 2), keepdim=True)
    cam = (weights * grads[-1][k]).sum(0).clamp(min=0)
hook.remove()
""",
    # a speed-run script with a scoring-only mode: the sweep leaves the model in eval, but that
    # branch ends the process with sys.exit() before the training loop below
    """\
import sys

import torch
import torch.nn.functional as F
from torch import nn

net = nn.Sequential(nn.Linear(64, 256), nn.GELU(), nn.Dropout(0.1), nn.Linear(256, 64))
opt = torch.optim.AdamW(net.parameters(), lr=3e-4)
SCORE_ONLY = len(sys.argv) > 1


@torch.no_grad()
def held_out_loss(batches):
    net.eval()
    return sum(F.mse_loss(net(x), y).item() for x, y in batches) / len(batches)


def sweep_checkpoints(paths, batches):
    for path in paths:
        net.load_state_dict(torch.load(path))
        print(path, held_out_loss(batches))


if SCORE_ONLY:
    sweep_checkpoints(sys.argv[1:], val_batches)
    sys.exit(0)

for step, (x, y) in enumerate(train_batches):
    loss = F.mse_loss(net(x), y)
    opt.zero_grad(set_to_none=True)
    loss.backward()
    opt.step()
""",
    # the same trainer's own eval() puts the policy back in train mode: `self.eval()` is that
    # method, not Module.eval() on everything the trainer holds (HALOs)
    """\
import torch


class PolicyTrainer(object):
    # runs the loop; its own eval() puts the policy back in train mode when done

    def __init__(self, policy, accelerator, train_batches, eval_batches, eval_every):
        self.policy = policy
        self.accelerator = accelerator
        self.train_batches = train_batches
        self.eval_batches = eval_batches
        self.eval_every = eval_every
        self.optimizer = torch.optim.AdamW(policy.parameters(), lr=1e-5)

    def batch_loss(self, batch):
        return self.policy(batch["input_ids"], labels=batch["labels"]).loss

    def eval(self):
        self.policy.eval()
        with torch.no_grad():
            losses = [self.batch_loss(batch).item() for batch in self.eval_batches]
        self.policy.train()
        return sum(losses) / len(losses)

    def train(self):
        self.policy.train()
        for step, batch in enumerate(self.train_batches):
            if step % self.eval_every == 0:
                print(step, self.eval())
            self.optimizer.zero_grad()
            loss = self.batch_loss(batch)
            self.accelerator.backward(loss)
            self.optimizer.step()
""",
    # Adversarial segmentation: the critic only scores the segmentation in eval mode; its own
    # update clears the gradients that backward() left in it before stepping (`zero_grad()`).
    """\
import torch
import torch.nn.functional as F


def train(seg_net, critic, loader):
    seg_opt = torch.optim.SGD(seg_net.parameters(), lr=0.01, momentum=0.9)
    critic_opt = torch.optim.Adam(critic.parameters(), lr=1e-4)
    for images, masks in loader:
        seg_net.train()
        critic.eval()
        probs = torch.softmax(seg_net(images), dim=1)
        fool = F.cross_entropy(critic(probs), torch.ones(len(images), dtype=torch.long))
        loss = F.cross_entropy(seg_net(images), masks) + 0.1 * fool
        seg_opt.zero_grad()
        loss.backward()
        seg_opt.step()

        seg_net.eval()
        critic.train()
        with torch.no_grad():
            probs = torch.softmax(seg_net(images), dim=1)
        critic_loss = F.cross_entropy(critic(probs), torch.zeros(len(images), dtype=torch.long))
        critic_opt.zero_grad()
        critic_loss.backward()
        critic_opt.step()
""",
    # One epoch function for both phases: the caller passes `cross_valid=True` after `eval()`,
    # and the step runs only under `if not cross_valid:`.
    """\
import torch


class Solver:
    def __init__(self, model, optimizer, train_loader, valid_loader):
        self.model = model
        self.optimizer = optimizer
        self.train_loader = train_loader
        self.valid_loader = valid_loader

    def train(self, epochs):
        for epoch in range(epochs):
            self.model.train()
            train_loss = self._run_one_epoch(epoch)
            self.model.eval()
            with torch.no_grad():
                valid_loss = self._run_one_epoch(epoch, cross_valid=True)
            print(epoch, train_loss, valid_loss)

    def _run_one_epoch(self, epoch, cross_valid=False):
        loader = self.valid_loader if cross_valid else self.train_loader
        total = 0.0
        for mixture, sources in loader:
            loss = (self.model(mixture) - sources).abs().mean()
            if not cross_valid:
                self.optimizer.zero_grad()
                loss.backward()
                self.optimizer.step()
            total += loss.item()
        return total / len(loader)
""",
    # GAN inversion: the generator stays in eval mode; the optimizer covers only the latent
    # code and the noise maps (`[latent] + noises`), so the backward() trains no model.
    """\
import torch
import torch.nn.functional as F


def project(generator, target, steps):
    generator.load_state_dict(torch.load("g_ema.pt"))
    generator.eval()
    with torch.no_grad():
        latent_mean = generator.style(torch.randn(4096, 512)).mean(0)
    noises = generator.make_noise()
    latent = latent_mean.detach().clone().unsqueeze(0)
    latent.requires_grad = True
    for noise in noises:
        noise.requires_grad = True
    optimizer = torch.optim.Adam([latent] + noises, lr=0.1)
    for step in range(steps):
        image = generator([latent], input_is_latent=True, noise=noises)
        loss = F.mse_loss(image, target)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    return latent.detach()
""",
    # Feature distillation: the wrapper keeps the student it was built with as a child
    # (`self.student = student`), so `wrapper.train()` puts the student back in train mode
    # after `accuracy(student, ...)` left it in eval mode.
    """\
import torch
import torch.nn.functional as F
from torch import nn
from torchvision.models import resnet18, resnet50


class Distiller(nn.Module):
    def __init__(self, teacher, student):
        super().__init__()
        self.teacher = teacher
        self.student = student
        self.connector = nn.Sequential(nn.Conv2d(64, 256, 1), nn.BatchNorm2d(256))

    def forward(self, x):
        with torch.no_grad():
            t_feat, _ = self.teacher(x)
        s_feat, logits = self.student(x)
        return logits, F.mse_loss(self.connector(s_feat), t_feat)


def train_epoch(wrapper, loader):
    wrapper.train()
    wrapper.teacher.eval()
    for images, labels in loader:
        logits, distill = wrapper(images)
        loss = F.cross_entropy(logits, labels) + distill
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()


@torch.no_grad()
def accuracy(net, loader):
    net.eval()
    return sum((net(x).argmax(1) == y).sum().item() for x, y in loader) / len(loader.dataset)


if __name__ == "__main__":
    teacher = resnet50(num_classes=100)
    teacher.load_state_dict(torch.load("teacher.pt"))
    student = resnet18(num_classes=100)
    wrapper = Distiller(teacher, student)
    optimizer = torch.optim.SGD(
        [{"params": student.parameters()}, {"params": wrapper.connector.parameters()}], lr=0.1
    )
    for epoch in range(200):
        train_epoch(wrapper, train_loader)
        print(epoch, accuracy(student, test_loader))
""",
    # a distillation trainer keeps its student under two attributes, the module and its
    # DataParallel wrapper; each step switches the wrapper, and with it the student, to train
    # mode after the validation left the student in eval mode
    """\
import torch
import torch.nn as nn
import torch.nn.functional as F


class StudentNet(nn.Module):
    def __init__(self, classes=19):
        super().__init__()
        self.body = nn.Sequential(nn.Conv2d(3, 32, 3, padding=1), nn.BatchNorm2d(32), nn.ReLU())
        self.head = nn.Conv2d(32, classes, 1)

    def forward(self, x):
        return self.head(self.body(x))


def validate(net, loader):
    net.eval()
    scores = []
    with torch.no_grad():
        for images, labels in loader:
            scores.append((net(images).argmax(1) == labels).float().mean().item())
    return sum(scores) / len(scores)


class Distillation:
    def __init__(self, teacher, lr=0.01):
        student = StudentNet()
        self.student = student
        self.parallel_student = nn.DataParallel(student)
        self.teacher = teacher.eval()
        self.optimizer = torch.optim.SGD(self.student.parameters(), lr=lr, momentum=0.9)

    def step(self, images, labels):
        self.parallel_student.train()
        logits = self.parallel_student(images)
        with torch.no_grad():
            soft = F.softmax(self.teacher(images), dim=1)
        loss = F.cross_entropy(logits, labels) + F.kl_div(
            F.log_softmax(logits, dim=1), soft, reduction="batchmean"
        )
        self.optimizer.zero_grad()
        loss.backward()
        self.optimizer.step()


def run(teacher, train_loader, val_loader, epochs):
    trainer = Distillation(teacher)
    for epoch in range(epochs):
        for images, labels in train_loader:
            trainer.step(images, labels)
        print(epoch, validate(trainer.student, val_loader))
""",
)
