"""TM302 examples: training code modelled on real scripts (see each comment)."""

from torchmode.rules.base import Invalid

INVALID: tuple[Invalid, ...] = (
    # beginner classification loop: zero_grad() moved "next to" the step
    Invalid(
        """\
import torch
import torch.nn as nn


def train(model, loader, epochs=5, lr=1e-3):
    criterion = nn.CrossEntropyLoss()
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    for epoch in range(epochs):
        for images, labels in loader:
            loss = criterion(model(images), labels)
            loss.backward()
            optimizer.zero_grad()
            optimizer.step()
        print(f"epoch {epoch}: {loss.item():.4f}")
""",
        (12,),
        fix="""\
@@
         for images, labels in loader:
             loss = criterion(model(images), labels)
+            optimizer.zero_grad()
             loss.backward()
-            optimizer.zero_grad()
             optimizer.step()
         print(f"epoch {epoch}: {loss.item():.4f}")
""",
    ),
    # trainer method with clipping: the clear sits between backward() and clip/step
    Invalid(
        """\
import torch


class Trainer:
    def __init__(self, model, optimizer, loader, max_norm=1.0):
        self.model = model
        self.optimizer = optimizer
        self.loader = loader
        self.max_norm = max_norm

    def train_epoch(self):
        self.model.train()
        for batch in self.loader:
            loss = self.model(**batch).loss
            loss.backward()
            self.optimizer.zero_grad()
            torch.nn.utils.clip_grad_norm_(self.model.parameters(), self.max_norm)
            self.optimizer.step()
""",
        (16,),
        fix="""\
@@
         for batch in self.loader:
             loss = self.model(**batch).loss
+            self.optimizer.zero_grad()
             loss.backward()
-            self.optimizer.zero_grad()
             torch.nn.utils.clip_grad_norm_(self.model.parameters(), self.max_norm)
             self.optimizer.step()
""",
    ),
    # mixed precision: zero_grad(set_to_none=True) after the scaled backward
    Invalid(
        """\
import torch

scaler = torch.amp.GradScaler("cuda")
for epoch in range(epochs):
    model.train()
    for x, y in train_loader:
        x, y = x.cuda(non_blocking=True), y.cuda(non_blocking=True)
        with torch.autocast("cuda", dtype=torch.float16):
            loss = criterion(model(x), y)
        scaler.scale(loss).backward()
        optimizer.zero_grad(set_to_none=True)
        scaler.step(optimizer)
        scaler.update()
""",
        (11,),
        fix="""\
@@
         with torch.autocast("cuda", dtype=torch.float16):
             loss = criterion(model(x), y)
+        optimizer.zero_grad(set_to_none=True)
         scaler.scale(loss).backward()
-        optimizer.zero_grad(set_to_none=True)
         scaler.step(optimizer)
         scaler.update()
""",
    ),
    # REINFORCE finish_episode(): policy loss backpropagated, then cleared before the step
    Invalid(
        """\
import torch

optimizer = torch.optim.Adam(policy.parameters(), lr=1e-2)


def finish_episode(gamma=0.99):
    R, returns = 0.0, []
    for r in reversed(policy.rewards):
        R = r + gamma * R
        returns.insert(0, R)
    returns = torch.tensor(returns)
    returns = (returns - returns.mean()) / (returns.std() + 1e-8)
    policy_loss = torch.stack([-lp * R for lp, R in zip(policy.saved_log_probs, returns)]).sum()
    policy_loss.backward()
    optimizer.zero_grad()
    optimizer.step()
    del policy.rewards[:], policy.saved_log_probs[:]
""",
        (15,),
        fix="""\
@@
     returns = (returns - returns.mean()) / (returns.std() + 1e-8)
     policy_loss = torch.stack([-lp * R for lp, R in zip(policy.saved_log_probs, returns)]).sum()
+    optimizer.zero_grad()
     policy_loss.backward()
-    optimizer.zero_grad()
     optimizer.step()
     del policy.rewards[:], policy.saved_log_probs[:]
""",
    ),
    # knowledge distillation: the student's optimizer cleared after the distillation backward
    Invalid(
        """\
import torch
import torch.nn.functional as F


def distill(teacher, student, loader, optimizer, T=2.0, alpha=0.25):
    teacher.eval()
    student.train()
    for inputs, labels in loader:
        with torch.no_grad():
            teacher_logits = teacher(inputs)
        student_logits = student(inputs)
        soft = F.kl_div(
            F.log_softmax(student_logits / T, dim=-1),
            F.softmax(teacher_logits / T, dim=-1),
            reduction="batchmean",
        ) * T * T
        loss = alpha * soft + (1 - alpha) * F.cross_entropy(student_logits, labels)
        loss.backward()
        student.zero_grad()
        optimizer.step()
""",
        (19,),
        fix="""\
@@
         ) * T * T
         loss = alpha * soft + (1 - alpha) * F.cross_entropy(student_logits, labels)
+        student.zero_grad()
         loss.backward()
-        student.zero_grad()
         optimizer.step()
""",
    ),
    # DQN-style optimize() helper of an agent class, clearing after backward
    Invalid(
        """\
import torch
import torch.nn.functional as F


class Agent:
    def __init__(self, q_net, target_net, lr=1e-4, gamma=0.99):
        self.q_net = q_net
        self.target_net = target_net
        self.optimizer = torch.optim.Adam(q_net.parameters(), lr=lr)
        self.gamma = gamma

    def learn(self, states, actions, rewards, next_states, dones):
        q = self.q_net(states).gather(1, actions.unsqueeze(1)).squeeze(1)
        with torch.no_grad():
            target = rewards + self.gamma * self.target_net(next_states).max(1).values * (1 - dones)
        loss = F.mse_loss(q, target)
        loss.backward()
        self.optimizer.zero_grad()
        self.optimizer.step()
        return loss.item()
""",
        (18,),
        fix="""\
@@
             target = rewards + self.gamma * self.target_net(next_states).max(1).values * (1 - dones)
         loss = F.mse_loss(q, target)
+        self.optimizer.zero_grad()
         loss.backward()
-        self.optimizer.zero_grad()
         self.optimizer.step()
         return loss.item()
""",
    ),
    # autoencoder script: model.zero_grad() after backward, optimizer built over the model
    Invalid(
        """\
import torch
import torch.nn as nn

model = nn.Sequential(
    nn.Linear(784, 128), nn.ReLU(), nn.Linear(128, 32), nn.ReLU(), nn.Linear(32, 128),
    nn.ReLU(), nn.Linear(128, 784), nn.Sigmoid(),
)
optimizer = torch.optim.Adam(model.parameters(), lr=1e-3, weight_decay=1e-5)
criterion = nn.MSELoss()
for epoch in range(20):
    for img, _ in loader:
        img = img.view(img.size(0), -1)
        loss = criterion(model(img), img)
        loss.backward()
        model.zero_grad()
        optimizer.step()
    print(f"epoch [{epoch + 1}/20], loss:{loss.item():.4f}")
""",
        (15,),
        fix="""\
@@
         img = img.view(img.size(0), -1)
         loss = criterion(model(img), img)
+        model.zero_grad()
         loss.backward()
-        model.zero_grad()
         optimizer.step()
     print(f"epoch [{epoch + 1}/20], loss:{loss.item():.4f}")
""",
    ),
    # accelerate loop: the clear placed after accelerator.backward() instead of after the step
    Invalid(
        """\
from accelerate import Accelerator

accelerator = Accelerator(mixed_precision="fp16")
model, optimizer, train_dataloader, lr_scheduler = accelerator.prepare(
    model, optimizer, train_dataloader, lr_scheduler
)
for epoch in range(num_train_epochs):
    model.train()
    for batch in train_dataloader:
        outputs = model(**batch)
        accelerator.backward(outputs.loss)
        optimizer.zero_grad()
        optimizer.step()
        lr_scheduler.step()
""",
        (12,),
        fix="""\
@@
     for batch in train_dataloader:
         outputs = model(**batch)
+        optimizer.zero_grad()
         accelerator.backward(outputs.loss)
-        optimizer.zero_grad()
         optimizer.step()
         lr_scheduler.step()
""",
    ),
    # Lightning manual optimisation with the clear between manual_backward() and step()
    Invalid(
        """\
import lightning as L
import torch


class LitRegressor(L.LightningModule):
    def __init__(self, net):
        super().__init__()
        self.net = net
        self.automatic_optimization = False

    def training_step(self, batch, batch_idx):
        opt = self.optimizers()
        x, y = batch
        loss = torch.nn.functional.mse_loss(self.net(x), y)
        self.manual_backward(loss)
        opt.zero_grad()
        opt.step()
        self.log("train_loss", loss)

    def configure_optimizers(self):
        return torch.optim.Adam(self.parameters(), lr=1e-3)
""",
        (16,),
        fix="""\
@@
         x, y = batch
         loss = torch.nn.functional.mse_loss(self.net(x), y)
+        opt.zero_grad()
         self.manual_backward(loss)
-        opt.zero_grad()
         opt.step()
         self.log("train_loss", loss)
""",
    ),
    # clip, then clear, then step: the clipped gradients are thrown away
    Invalid(
        """\
import torch


def train_epoch(model, loader, optimizer, criterion, clip=0.25):
    model.train()
    total = 0.0
    for x, y in loader:
        output = model(x)
        loss = criterion(output, y)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), clip)
        optimizer.zero_grad()
        optimizer.step()
        total += loss.item()
    return total / len(loader)
""",
        (12,),
        fix="""\
@@
         output = model(x)
         loss = criterion(output, y)
+        optimizer.zero_grad()
         loss.backward()
         torch.nn.utils.clip_grad_norm_(model.parameters(), clip)
-        optimizer.zero_grad()
         optimizer.step()
         total += loss.item()
""",
    ),
    # TM302: clear after the scaled backward, before unscale_/clip/scaler.step
    Invalid(
        """\
import torch


def train_step(model, batch, optimizer, scaler, max_norm=1.0):
    with torch.autocast("cuda", dtype=torch.bfloat16):
        loss = model(**batch).loss
    scaler.scale(loss).backward()
    optimizer.zero_grad(set_to_none=True)
    scaler.unscale_(optimizer)
    torch.nn.utils.clip_grad_norm_(model.parameters(), max_norm)
    scaler.step(optimizer)
    scaler.update()
    return loss.detach()
""",
        (8,),
        fix="""\
@@
     with torch.autocast("cuda", dtype=torch.bfloat16):
         loss = model(**batch).loss
+    optimizer.zero_grad(set_to_none=True)
     scaler.scale(loss).backward()
-    optimizer.zero_grad(set_to_none=True)
     scaler.unscale_(optimizer)
     torch.nn.utils.clip_grad_norm_(model.parameters(), max_norm)
""",
    ),
    # trainer class: self.model.zero_grad() between backward and the step of its optimizer
    Invalid(
        """\
import torch


class Seq2SeqTrainer:
    def __init__(self, model, lr=1e-3, clip=1.0):
        self.model = model
        self.optimizer = torch.optim.Adam(self.model.parameters(), lr=lr)
        self.clip = clip

    def train_batch(self, src, tgt):
        self.model.train()
        output = self.model(src, tgt[:, :-1])
        loss = torch.nn.functional.cross_entropy(
            output.reshape(-1, output.size(-1)), tgt[:, 1:].reshape(-1), ignore_index=0
        )
        loss.backward()
        torch.nn.utils.clip_grad_norm_(self.model.parameters(), self.clip)
        self.model.zero_grad(set_to_none=True)
        self.optimizer.step()
        return loss.item()
""",
        (18,),
        fix="""\
@@
             output.reshape(-1, output.size(-1)), tgt[:, 1:].reshape(-1), ignore_index=0
         )
+        self.model.zero_grad(set_to_none=True)
         loss.backward()
         torch.nn.utils.clip_grad_norm_(self.model.parameters(), self.clip)
-        self.model.zero_grad(set_to_none=True)
         self.optimizer.step()
         return loss.item()
""",
    ),
    # AMP on/off branches, each clearing after its backward
    Invalid(
        """\
import torch


def train_epoch(model, loader, optimizer, scaler, use_amp):
    model.train()
    for x, y in loader:
        with torch.autocast("cuda", enabled=use_amp):
            loss = torch.nn.functional.cross_entropy(model(x), y)
        if use_amp:
            scaler.scale(loss).backward()
            optimizer.zero_grad()
            scaler.step(optimizer)
            scaler.update()
        else:
            loss.backward()
            optimizer.zero_grad()
            optimizer.step()
""",
        (11, 16),
        fix="""\
@@
             loss = torch.nn.functional.cross_entropy(model(x), y)
         if use_amp:
+            optimizer.zero_grad()
             scaler.scale(loss).backward()
-            optimizer.zero_grad()
             scaler.step(optimizer)
             scaler.update()
         else:
+            optimizer.zero_grad()
             loss.backward()
-            optimizer.zero_grad()
             optimizer.step()
""",
    ),
    # gradient accumulation in a fine-tuning loop, undone by the clear at the top of the loop
    Invalid(
        """\
import torch
import torch.nn as nn


def finetune(model, loader, accum_steps=4, lr=2e-5):
    optimizer = torch.optim.AdamW(model.parameters(), lr=lr)
    criterion = nn.CrossEntropyLoss()
    model.train()
    for step, (inputs, targets) in enumerate(loader):
        optimizer.zero_grad()
        loss = criterion(model(inputs), targets) / accum_steps
        loss.backward()
        if (step + 1) % accum_steps == 0:
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            optimizer.step()
""",
        (10,),
        fix="""\
@@
     model.train()
     for step, (inputs, targets) in enumerate(loader):
-        optimizer.zero_grad()
         loss = criterion(model(inputs), targets) / accum_steps
         loss.backward()
         if (step + 1) % accum_steps == 0:
             torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
             optimizer.step()
+            optimizer.zero_grad()
""",
    ),
    # Lightning manual optimisation: training_step runs once per batch, the step every N
    Invalid(
        """\
import lightning as L
import torch


class Autoencoder(L.LightningModule):
    def __init__(self, encoder, decoder, accumulate=8):
        super().__init__()
        self.encoder = encoder
        self.decoder = decoder
        self.accumulate = accumulate
        self.automatic_optimization = False

    def training_step(self, batch, batch_idx):
        opt = self.optimizers()
        recon = self.decoder(self.encoder(batch))
        loss = torch.nn.functional.mse_loss(recon, batch)
        self.log("recon", loss)
        opt.zero_grad()
        self.manual_backward(loss)
        if (batch_idx + 1) % self.accumulate == 0:
            opt.step()

    def configure_optimizers(self):
        return torch.optim.Adam(self.parameters(), lr=1e-3)
""",
        (18,),
        fix="""\
@@
         loss = torch.nn.functional.mse_loss(recon, batch)
         self.log("recon", loss)
-        opt.zero_grad()
         self.manual_backward(loss)
         if (batch_idx + 1) % self.accumulate == 0:
             opt.step()
+            opt.zero_grad()
 
     def configure_optimizers(self):
""",
    ),
    # ignite-style update function of a dual translation model: the clear waits for the
    # accumulation window, the two optimizers (one loop over them) step on every call
    Invalid(
        """\
import torch
from torch.cuda.amp import autocast


def update(engine, batch):
    for model, optimizer in zip(engine.models, engine.optimizers):
        model.train()
        if engine.state.iteration % engine.accumulation == 1:
            optimizer.zero_grad()
    with autocast():
        losses = [m(batch.src, batch.tgt) / engine.accumulation for m in engine.models]
    for scaler, loss in zip(engine.scalers, losses):
        scaler.scale(loss).backward()
    for optimizer, scaler in zip(engine.optimizers, engine.scalers):
        if engine.use_amp:
            scaler.step(optimizer)
            scaler.update()
        else:
            optimizer.step()
    return [float(loss) for loss in losses]
""",
        (16,),
    ),
    # script loop that clears every few batches to "accumulate", but steps on every batch
    Invalid(
        """\
import torch
import torch.nn.functional as F


def fit(net, loader, accum_steps=4, lr=3e-4):
    opt = torch.optim.AdamW(net.parameters(), lr=lr)
    for i, (tokens, targets) in enumerate(loader):
        if i % accum_steps == 0:
            opt.zero_grad()
        logits = net(tokens)
        loss = F.cross_entropy(logits.flatten(0, 1), targets.flatten()) / accum_steps
        loss.backward()
        opt.step()
""",
        (13,),
    ),
)

VALID: tuple[str, ...] = (
    # accumulation done right: cleared after the step, under its condition
    """\
import torch


def finetune(model, loader, criterion, accum_steps=4):
    optimizer = torch.optim.AdamW(model.parameters(), lr=2e-5)
    model.train()
    for step, (inputs, targets) in enumerate(loader):
        loss = criterion(model(inputs), targets) / accum_steps
        loss.backward()
        if (step + 1) % accum_steps == 0:
            optimizer.step()
            optimizer.zero_grad()
""",
    # accumulation with the clear at the start of each window
    """\
import torch


def finetune(model, loader, criterion, accum_steps=4):
    optimizer = torch.optim.SGD(model.parameters(), lr=0.01)
    for step, (inputs, targets) in enumerate(loader):
        if step % accum_steps == 0:
            optimizer.zero_grad()
        (criterion(model(inputs), targets) / accum_steps).backward()
        if (step + 1) % accum_steps == 0:
            optimizer.step()
""",
    # WGAN: the generator's whole update runs every n_critic iterations
    """\
import torch


def train(gen, critic, loader, n_critic=5, z_dim=128):
    opt_g = torch.optim.RMSprop(gen.parameters(), lr=5e-5)
    opt_c = torch.optim.RMSprop(critic.parameters(), lr=5e-5)
    for i, real in enumerate(loader):
        opt_c.zero_grad()
        fake = gen(torch.randn(real.size(0), z_dim)).detach()
        (critic(fake).mean() - critic(real).mean()).backward()
        opt_c.step()
        if i % n_critic == 0:
            opt_g.zero_grad()
            (-critic(gen(torch.randn(real.size(0), z_dim))).mean()).backward()
            opt_g.step()
""",
    # a step at every iteration; the remainder only decides when to log
    """\
import torch


def train(model, loader, criterion, log_every=100):
    optimizer = torch.optim.Adam(model.parameters())
    for i, (x, y) in enumerate(loader):
        optimizer.zero_grad()
        loss = criterion(model(x), y)
        loss.backward()
        optimizer.step()
        if i % log_every == 0:
            print("%d: %.4f" % (i, loss.item()))
""",
    # the canonical order: clear, forward, backward, step
    """\
import torch


def train(model, loader, optimizer, criterion, device):
    model.train()
    for data, target in loader:
        data, target = data.to(device), target.to(device)
        optimizer.zero_grad()
        output = model(data)
        loss = criterion(output, target)
        loss.backward()
        optimizer.step()
""",
    # clearing after the step (and once before the loop), as in accelerate examples
    """\
optimizer.zero_grad()
for epoch in range(num_train_epochs):
    model.train()
    for batch in train_dataloader:
        outputs = model(**batch)
        loss = outputs.loss
        accelerator.backward(loss)
        optimizer.step()
        lr_scheduler.step()
        optimizer.zero_grad()
""",
    # clear after the forward, right before backward()
    """\
import torch.nn as nn


def train_epoch(model, loader, optimizer):
    criterion = nn.CrossEntropyLoss()
    for i, (images, labels) in enumerate(loader):
        outputs = model(images.reshape(-1, 28 * 28))
        loss = criterion(outputs, labels)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
""",
    # GAN: the generator is cleared after the discriminator has stepped
    """\
for real, _ in dataloader:
    fake = netG(torch.randn(real.size(0), nz, 1, 1))
    netD.zero_grad()
    errD = criterion(netD(real), ones) + criterion(netD(fake.detach()), zeros)
    errD.backward()
    optimizerD.step()
    netG.zero_grad()
    errG = criterion(netD(fake), ones)
    errG.backward()
    optimizerG.step()
""",
    # actor-critic: another optimizer's clear between the critic's backward and step
    """\
import torch
import torch.nn.functional as F


def update(actor, critic, actor_opt, critic_opt, batch, gamma=0.99):
    s, a, r, s2, done = batch
    with torch.no_grad():
        target = r + gamma * (1 - done) * critic(s2, actor(s2))
    critic_opt.zero_grad()
    critic_loss = F.mse_loss(critic(s, a), target)
    critic_loss.backward()
    actor_opt.zero_grad()
    critic_opt.step()

    actor_loss = -critic(s, actor(s)).mean()
    actor_loss.backward()
    actor_opt.step()
""",
    # gradient accumulation: clear after the step inside the accumulation branch
    """\
import torch


def train(model, loader, optimizer, scheduler, accum=4):
    model.train()
    for step, (input_ids, labels) in enumerate(loader):
        loss = model(input_ids, labels=labels).loss / accum
        loss.backward()
        if (step + 1) % accum == 0:
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            optimizer.step()
            scheduler.step()
            optimizer.zero_grad()
""",
    # non-finite gradients: clear and skip the step, otherwise step
    """\
import torch


def train(model, loader, optimizer, max_norm=1.0):
    for batch in loader:
        optimizer.zero_grad()
        loss = model(**batch).loss
        loss.backward()
        grad_norm = torch.nn.utils.clip_grad_norm_(model.parameters(), max_norm)
        if not torch.isfinite(grad_norm):
            print("non-finite gradient norm, skipping batch")
            optimizer.zero_grad()
            continue
        optimizer.step()
""",
    # OOM recovery: the clear on the failure path never reaches the step
    """\
import torch


def train_epoch(model, criterion, optimizer, loader):
    for sample in loader:
        optimizer.zero_grad()
        try:
            loss = criterion(model(sample["input"]), sample["target"])
            loss.backward()
        except torch.cuda.OutOfMemoryError:
            optimizer.zero_grad()
            torch.cuda.empty_cache()
            continue
        optimizer.step()
""",
    # LBFGS: the clear inside the closure comes before the closure's backward
    """\
import torch

optimizer = torch.optim.LBFGS(model.parameters(), lr=1, history_size=10, max_iter=4)
for it in range(50):

    def closure():
        optimizer.zero_grad()
        loss = torch.nn.functional.mse_loss(model(x_train), y_train)
        loss.backward()
        return loss

    optimizer.step(closure)
""",
    # SAM: first_step(zero_grad=True) clears between the two backward passes by design
    """\
from sam import SAM

optimizer = SAM(model.parameters(), torch.optim.SGD, rho=0.05, lr=0.1, momentum=0.9)
for inputs, targets in loader:
    loss = loss_fn(model(inputs), targets)
    loss.backward()
    optimizer.first_step(zero_grad=True)
    loss_fn(model(inputs), targets).backward()
    optimizer.second_step(zero_grad=True)
""",
    # new-token embedding fine-tuning: gradients of the pretrained rows zeroed by hand
    """\
def train(model, loader, optimizer, num_old_tokens):
    embeddings = model.get_input_embeddings()
    for batch in loader:
        optimizer.zero_grad()
        loss = model(**batch).loss
        loss.backward()
        embeddings.weight.grad[:num_old_tokens] = 0
        optimizer.step()
""",
    # warm-up with a frozen encoder: its gradients dropped before the step for a few epochs
    """\
def train_epoch(model, loader, optimizer, criterion, epoch, freeze_epochs=2):
    for x, y in loader:
        optimizer.zero_grad()
        loss = criterion(model(x), y)
        loss.backward()
        if epoch < freeze_epochs:
            for p in model.encoder.parameters():
                p.grad = None
        optimizer.step()
""",
    # Lightning manual optimisation: opt.zero_grad() before manual_backward()
    """\
import lightning as L


class LitModel(L.LightningModule):
    def __init__(self, net):
        super().__init__()
        self.net = net
        self.automatic_optimization = False

    def training_step(self, batch, batch_idx):
        opt = self.optimizers()
        opt.zero_grad()
        loss = self.net.loss(*batch)
        self.manual_backward(loss)
        self.clip_gradients(opt, gradient_clip_val=0.5, gradient_clip_algorithm="norm")
        opt.step()
""",
    # WGAN-GP: torch.autograd.grad for the penalty, then one backward and one step
    """\
import torch


def critic_step(critic, critic_opt, real, fake, lambda_gp=10.0):
    critic_opt.zero_grad()
    eps = torch.rand(real.size(0), 1, 1, 1)
    mixed = (eps * real + (1 - eps) * fake.detach()).requires_grad_(True)
    grad = torch.autograd.grad(critic(mixed).sum(), mixed, create_graph=True)[0]
    penalty = ((grad.flatten(1).norm(2, dim=1) - 1) ** 2).mean()
    loss = critic(fake.detach()).mean() - critic(real).mean() + lambda_gp * penalty
    loss.backward()
    critic_opt.step()
    return loss.item()
""",
    # ignite-style update function: one batch per call, cleared first
    """\
from ignite.engine import Engine


def make_trainer(model, optimizer, loss_fn, device):
    def update(engine, batch):
        model.train()
        optimizer.zero_grad()
        x, y = batch[0].to(device), batch[1].to(device)
        loss = loss_fn(model(x), y)
        loss.backward()
        optimizer.step()
        return loss.item()

    return Engine(update)
""",
    # multi-loss step: two backward passes add into one set of gradients, one step
    """\
import torch.nn as nn


def train(model, loader, optimizer):
    seg_loss, depth_loss = nn.CrossEntropyLoss(ignore_index=255), nn.L1Loss()
    model.train()
    for images, masks, depths in loader:
        optimizer.zero_grad()
        seg, depth = model(images)
        seg_loss(seg, masks).backward(retain_graph=True)
        depth_loss(depth, depths).backward()
        optimizer.step()
""",
    # Fabric loop: fabric.backward(loss) between zero_grad and step
    """\
import lightning as L

fabric = L.Fabric(accelerator="cuda", devices=2, precision="bf16-mixed")
fabric.launch()
model, optimizer = fabric.setup(model, optimizer)
dataloader = fabric.setup_dataloaders(dataloader)
for epoch in range(num_epochs):
    for batch in dataloader:
        optimizer.zero_grad()
        loss = model(batch).mean()
        fabric.backward(loss)
        optimizer.step()
""",
    # clear in a finally block, so it also runs when a batch raises
    """\
def train(model, loader, optimizer, criterion):
    model.train()
    for x, y in loader:
        try:
            loss = criterion(model(x), y)
            loss.backward()
            optimizer.step()
        finally:
            optimizer.zero_grad(set_to_none=True)
""",
    # PCGrad-style gradient surgery: per-task gradients, cleared, merged gradient written back
    """\
import torch


def pcgrad_step(model, optimizer, task_losses, project):
    params = [p for p in model.parameters() if p.requires_grad]
    grads = []
    for loss in task_losses:
        optimizer.zero_grad()
        loss.backward(retain_graph=True)
        grads.append([p.grad.clone() for p in params])
    merged = project(grads)
    optimizer.zero_grad()
    for p, g in zip(params, merged):
        p.grad = g
    optimizer.step()
""",
    # gradient-similarity logging: auxiliary gradients read, cleared, then the main loss steps
    """\
import torch


def train_step(model, optimizer, main_loss, aux_loss, log):
    params = list(model.parameters())
    aux_loss.backward(retain_graph=True)
    g_aux = torch.cat([p.grad.flatten() for p in params])
    optimizer.zero_grad()
    main_loss.backward()
    g_main = torch.cat([p.grad.flatten() for p in params])
    log(torch.nn.functional.cosine_similarity(g_aux, g_main, dim=0).item())
    optimizer.step()
    optimizer.zero_grad()
""",
    # StyleGAN2-style lazy R1 regularisation: a second clear, backward and step every k iterations
    """\
import torch
import torch.nn.functional as F


def train_discriminator(generator, discriminator, d_optim, real_img, i, r1=10.0, d_reg_every=16):
    fake_img = generator(torch.randn(real_img.size(0), 512))
    discriminator.zero_grad()
    fake_pred = discriminator(fake_img.detach())
    real_pred = discriminator(real_img)
    d_loss = F.softplus(fake_pred).mean() + F.softplus(-real_pred).mean()
    d_loss.backward()
    d_optim.step()

    if i % d_reg_every == 0:
        real_img.requires_grad = True
        real_pred = discriminator(real_img)
        (grad_real,) = torch.autograd.grad(real_pred.sum(), real_img, create_graph=True)
        r1_loss = grad_real.pow(2).flatten(1).sum(1).mean()
        discriminator.zero_grad()
        (r1 / 2 * r1_loss * d_reg_every + 0 * real_pred[0]).backward()
        d_optim.step()
""",
    # GAN_stability-style discriminator step: real-data loss and its regulariser, then fake loss
    """\
def discriminator_trainstep(generator, discriminator, d_optimizer, compute_loss, reg, x_real, z):
    discriminator.train()
    d_optimizer.zero_grad()
    x_real.requires_grad_()
    d_real = discriminator(x_real)
    dloss_real = compute_loss(d_real, 1)
    dloss_real.backward(retain_graph=True)
    reg(d_real, x_real).mean().backward()
    x_fake = generator(z).detach()
    dloss_fake = compute_loss(discriminator(x_fake), 0)
    dloss_fake.backward()
    d_optimizer.step()
    return dloss_real.item() + dloss_fake.item()
""",
    # MMEngine-style optimizer wrapper: update_params() does backward, step and zero_grad
    """\
def train_epoch(model, optim_wrapper, loader):
    model.train()
    for data_batch in loader:
        with optim_wrapper.optim_context(model):
            data = model.data_preprocessor(data_batch, True)
            losses = model(**data, mode="loss")
        parsed_loss, log_vars = model.parse_losses(losses)
        optim_wrapper.update_params(parsed_loss)
""",
    # CycleGAN-style optimizers kept in a dict, cleared and stepped by key
    """\
import torch


class GANTrainer:
    def __init__(self, gen, disc, lr=2e-4):
        self.gen, self.disc = gen, disc
        self.optimizers = {
            "gen": torch.optim.Adam(gen.parameters(), lr=lr, betas=(0.5, 0.999)),
            "disc": torch.optim.Adam(disc.parameters(), lr=lr, betas=(0.5, 0.999)),
        }

    def train(self, loader, z_dim=100):
        for real in loader:
            fake = self.gen(torch.randn(real.size(0), z_dim))
            self.optimizers["disc"].zero_grad()
            d_loss = self.disc(fake.detach()).mean() - self.disc(real).mean()
            d_loss.backward()
            self.optimizers["disc"].step()
            self.optimizers["gen"].zero_grad()
            (-self.disc(fake).mean()).backward()
            self.optimizers["gen"].step()
""",
    # accumulation window: cleared when it opens, stepped when it closes (same counter)
    """\
import torch


def fit(net, loader, opt, accum_steps=4):
    for i, (x, y) in enumerate(loader):
        if i % accum_steps == 0:
            opt.zero_grad()
        (torch.nn.functional.mse_loss(net(x), y) / accum_steps).backward()
        if (i + 1) % accum_steps == 0:
            opt.step()
""",
    # per-batch function: the step runs with the clear, under the same condition
    """\
def update(engine, batch):
    model, optimizer = engine.model, engine.optimizer
    loss = model(batch) / engine.accumulation
    loss.backward()
    if engine.state.iteration % engine.accumulation == 0:
        optimizer.step()
        optimizer.zero_grad()
""",
    # a clear every iteration besides the periodic one (which only resets a statistics buffer)
    """\
import torch


def fit(net, loader, opt, stats, log_every=50):
    for i, (x, y) in enumerate(loader):
        opt.zero_grad()
        loss = torch.nn.functional.mse_loss(net(x), y)
        loss.backward()
        opt.step()
        if i % log_every == 0:
            stats.reset()
            opt.zero_grad(set_to_none=True)
""",
    # the periodic clear belongs to another optimizer of the same name in another loop
    """\
def update(engine, batch):
    for optimizer in engine.critic_optimizers:
        if engine.state.iteration % engine.n_critic == 0:
            optimizer.zero_grad()
    for net in engine.actors:
        net(batch).mean().backward()
    for optimizer in engine.actor_optimizers:
        optimizer.step()
""",
    # the periodic clear happens inside the batch loop, the step once after it (one update
    # per epoch over the last window's gradients)
    """\
import torch


def epoch(net, loader, opt, window=8):
    for i, (x, y) in enumerate(loader):
        if i % window == 0:
            opt.zero_grad()
        torch.nn.functional.mse_loss(net(x), y).backward()
    opt.step()
""",
    # a one-batch step whose caller clears before each call; the callee's periodic clear
    # (a left-over) changes nothing
    """\
import torch


def train_step(net, opt, x, y, it, every=10):
    if it % every == 0:
        opt.zero_grad()
    torch.nn.functional.mse_loss(net(x), y).backward()
    opt.step()


def train(net, opt, loader):
    for it, (x, y) in enumerate(loader):
        opt.zero_grad()
        train_step(net, opt, x, y, it)
""",
)
