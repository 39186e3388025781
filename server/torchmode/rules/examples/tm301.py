"""TM301 examples: training code modelled on real scripts (see each comment)."""

from torchmode.rules.base import Invalid

_DOMAIN_ADAPTER = """\
import torch
import torch.nn as nn
import torch.nn.functional as F


class Encoder(nn.Module):
    def __init__(self, in_dim, width):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(in_dim, width), nn.ReLU())
        self.optimizer = torch.optim.Adam(self.parameters(), lr=1e-3)

    def forward(self, x):
        return self.net(x)


class DomainCritic(nn.Module):
    def __init__(self, width):
        super().__init__()
        self.net = nn.Linear(width, 1)
        self.optimizer = torch.optim.Adam(self.parameters(), lr=1e-3)

    def forward(self, h):
        return self.net(h)


class DomainAdapter:
    def __init__(self, in_dim, width=64):
        self.encoder = Encoder(in_dim, width)
        self.critic = DomainCritic(width)

    def fit_batch(self, source, target):
        h_s, h_t = self.encoder(source).detach(), self.encoder(target).detach()
        critic_loss = F.softplus(-self.critic(h_s)).mean() + F.softplus(self.critic(h_t)).mean()
        critic_loss.backward()
        self.critic.optimizer.step()

        self.encoder.zero_grad()
        confusion = F.softplus(-self.critic(self.encoder(target))).mean()
        confusion.backward()
        self.encoder.optimizer.step()
        return critic_loss.item(), confusion.item()


adapter = DomainAdapter(in_dim=32)
for source, target in zip(source_loader, target_loader):
    adapter.fit_batch(source, target)
"""

INVALID: tuple[Invalid, ...] = (
    # notebook-style regression script: zero_grad() once before training instead of per batch
    Invalid(
        """\
import torch
import torch.nn as nn

model = nn.Sequential(nn.Linear(13, 64), nn.ReLU(), nn.Linear(64, 1))
optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
loss_fn = nn.MSELoss()

optimizer.zero_grad()
for epoch in range(200):
    for xb, yb in train_dl:
        pred = model(xb)
        loss = loss_fn(pred, yb)
        loss.backward()
        optimizer.step()
    print(f"epoch {epoch}: loss {loss.item():.4f}")
""",
        (14,),
        fix="""\
@@
         pred = model(xb)
         loss = loss_fn(pred, yb)
+        optimizer.zero_grad()
         loss.backward()
         optimizer.step()
""",
    ),
    # segmentation trainer class with AMP: scaled backward and scaler.step, never zeroed
    Invalid(
        """\
import torch


class SegmentationTrainer:
    def __init__(self, model, optimizer, loader, device):
        self.model = model
        self.optimizer = optimizer
        self.loader = loader
        self.device = device
        self.scaler = torch.cuda.amp.GradScaler()

    def train_epoch(self):
        self.model.train()
        running = 0.0
        for images, masks in self.loader:
            images, masks = images.to(self.device), masks.to(self.device)
            with torch.autocast("cuda", dtype=torch.float16):
                loss = self.model(images, masks)
            self.scaler.scale(loss).backward()
            self.scaler.step(self.optimizer)
            self.scaler.update()
            running += loss.item()
        return running / len(self.loader)
""",
        (20,),
        fix="""\
@@
             with torch.autocast("cuda", dtype=torch.float16):
                 loss = self.model(images, masks)
+            self.optimizer.zero_grad()
             self.scaler.scale(loss).backward()
             self.scaler.step(self.optimizer)
""",
    ),
    # DCGAN-style loop where the generator phase zeroes the discriminator's optimizer again
    Invalid(
        """\
import torch
import torch.nn.functional as F


def train_gan(generator, discriminator, loader, epochs, z_dim=100):
    opt_g = torch.optim.Adam(generator.parameters(), lr=2e-4, betas=(0.5, 0.999))
    opt_d = torch.optim.Adam(discriminator.parameters(), lr=2e-4, betas=(0.5, 0.999))
    for epoch in range(epochs):
        for real, _ in loader:
            fake = generator(torch.randn(real.size(0), z_dim))

            opt_d.zero_grad()
            d_real = discriminator(real)
            d_fake = discriminator(fake.detach())
            loss_d = F.binary_cross_entropy_with_logits(
                d_real, torch.ones_like(d_real)
            ) + F.binary_cross_entropy_with_logits(d_fake, torch.zeros_like(d_fake))
            loss_d.backward()
            opt_d.step()

            opt_d.zero_grad()
            d_out = discriminator(fake)
            loss_g = F.binary_cross_entropy_with_logits(d_out, torch.ones_like(d_out))
            loss_g.backward()
            opt_g.step()
""",
        (25,),
        fix="""\
@@
             opt_d.zero_grad()
+            opt_g.zero_grad()
             d_out = discriminator(fake)
             loss_g = F.binary_cross_entropy_with_logits(d_out, torch.ones_like(d_out))
""",
    ),
    # fairseq-style OOM recovery: gradients are only cleared when a batch runs out of memory
    Invalid(
        """\
import torch


def train_epoch(model, criterion, optimizer, loader, max_norm=1.0):
    model.train()
    for sample in loader:
        try:
            loss = criterion(model(**sample["net_input"]), sample["target"])
            loss.backward()
        except torch.cuda.OutOfMemoryError:
            print("| WARNING: ran out of memory, skipping batch")
            optimizer.zero_grad()
            torch.cuda.empty_cache()
            continue
        torch.nn.utils.clip_grad_norm_(model.parameters(), max_norm)
        optimizer.step()
""",
        (16,),
        fix="""\
@@
         torch.nn.utils.clip_grad_norm_(model.parameters(), max_norm)
         optimizer.step()
+        optimizer.zero_grad()
""",
    ),
    # PPO update: zero_grad() before the epoch/minibatch loops instead of per minibatch
    Invalid(
        """\
import torch


class PPO:
    def __init__(self, actor_critic, lr=3e-4, clip=0.2, epochs=4, max_grad_norm=0.5):
        self.actor_critic = actor_critic
        self.optimizer = torch.optim.Adam(actor_critic.parameters(), lr=lr, eps=1e-5)
        self.clip = clip
        self.epochs = epochs
        self.max_grad_norm = max_grad_norm

    def update(self, rollouts):
        self.optimizer.zero_grad()
        for _ in range(self.epochs):
            for obs, actions, old_logp, returns, adv in rollouts.minibatches():
                values, logp, entropy = self.actor_critic.evaluate_actions(obs, actions)
                ratio = torch.exp(logp - old_logp)
                clipped = torch.clamp(ratio, 1 - self.clip, 1 + self.clip)
                surr = torch.min(ratio * adv, clipped * adv)
                loss = -surr.mean() + 0.5 * (returns - values).pow(2).mean() - 0.01 * entropy.mean()
                loss.backward()
                torch.nn.utils.clip_grad_norm_(self.actor_critic.parameters(), self.max_grad_norm)
                self.optimizer.step()
""",
        (23,),
        fix="""\
@@
                 surr = torch.min(ratio * adv, clipped * adv)
                 loss = -surr.mean() + 0.5 * (returns - values).pow(2).mean() - 0.01 * entropy.mean()
+                self.optimizer.zero_grad()
                 loss.backward()
                 torch.nn.utils.clip_grad_norm_(self.actor_critic.parameters(), self.max_grad_norm)
""",
    ),
    # HF no_trainer-style fine-tuning loop driven by a step counter, zero_grad() forgotten
    Invalid(
        """\
import torch
from transformers import get_scheduler


def finetune(model, train_dataloader, num_training_steps, device):
    optimizer = torch.optim.AdamW(model.parameters(), lr=5e-5, weight_decay=0.01)
    lr_scheduler = get_scheduler("linear", optimizer, 0, num_training_steps)
    model.train()
    completed_steps = 0
    data_iter = iter(train_dataloader)
    while completed_steps < num_training_steps:
        batch = {k: v.to(device) for k, v in next(data_iter).items()}
        outputs = model(**batch)
        loss = outputs.loss
        loss.backward()
        optimizer.step()
        lr_scheduler.step()
        completed_steps += 1
    return model
""",
        (16,),
        fix="""\
@@
         outputs = model(**batch)
         loss = outputs.loss
+        optimizer.zero_grad()
         loss.backward()
         optimizer.step()
""",
    ),
    # trainer method that clears the model's gradients once per epoch, not per batch
    Invalid(
        """\
import torch.nn.functional as F


class Trainer:
    def __init__(self, model, optimizer, train_loader):
        self.model = model
        self.optimizer = optimizer
        self.train_loader = train_loader

    def fit(self, epochs):
        for epoch in range(epochs):
            self.model.train()
            self.model.zero_grad()
            for tokens, labels in self.train_loader:
                logits = self.model(tokens)
                loss = F.cross_entropy(logits.view(-1, logits.size(-1)), labels.view(-1))
                loss.backward()
                self.optimizer.step()
""",
        (18,),
        fix="""\
@@
                 logits = self.model(tokens)
                 loss = F.cross_entropy(logits.view(-1, logits.size(-1)), labels.view(-1))
+                self.optimizer.zero_grad()
                 loss.backward()
                 self.optimizer.step()
""",
    ),
    # DQN tutorial-style optimize_model() helper without zero_grad, called every environment step
    Invalid(
        """\
import torch
import torch.nn.functional as F


def optimize_model(policy_net, target_net, optimizer, memory, batch_size=128, gamma=0.99):
    states, actions, rewards, next_states, dones = memory.sample(batch_size)
    q_values = policy_net(states).gather(1, actions)
    with torch.no_grad():
        next_q = target_net(next_states).max(1).values
    expected = rewards + gamma * next_q * (1 - dones)
    loss = F.smooth_l1_loss(q_values.squeeze(1), expected)
    loss.backward()
    torch.nn.utils.clip_grad_value_(policy_net.parameters(), 100)
    optimizer.step()


def run(env, policy_net, target_net, memory, select_action, episodes=600):
    optimizer = torch.optim.AdamW(policy_net.parameters(), lr=1e-4, amsgrad=True)
    for episode in range(episodes):
        state, done = env.reset(), False
        while not done:
            action = select_action(policy_net, state)
            next_state, reward, done = env.step(action)
            memory.push(state, action, reward, next_state, done)
            state = next_state
            optimize_model(policy_net, target_net, optimizer, memory)
""",
        (26,),
        fix="""\
@@
     expected = rewards + gamma * next_q * (1 - dones)
     loss = F.smooth_l1_loss(q_values.squeeze(1), expected)
+    optimizer.zero_grad()
     loss.backward()
     torch.nn.utils.clip_grad_value_(policy_net.parameters(), 100)
""",
    ),
    # gradient accumulation that steps every k batches but never zeroes at all
    Invalid(
        """\
import torch


def train(model, loader, optimizer, accum_steps=8):
    model.train()
    for i, (x, y) in enumerate(loader):
        loss = torch.nn.functional.cross_entropy(model(x), y) / accum_steps
        loss.backward()
        if (i + 1) % accum_steps == 0:
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            optimizer.step()
""",
        (11,),
        fix="""\
@@
             torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
             optimizer.step()
+            optimizer.zero_grad()
""",
    ),
    # PyG-style full-graph GCN script: one step per epoch, gradients never cleared
    Invalid(
        """\
import torch
import torch.nn.functional as F
from torch_geometric.nn import GCNConv


class GCN(torch.nn.Module):
    def __init__(self, in_dim, hidden, classes):
        super().__init__()
        self.conv1 = GCNConv(in_dim, hidden)
        self.conv2 = GCNConv(hidden, classes)

    def forward(self, x, edge_index):
        x = F.dropout(F.relu(self.conv1(x, edge_index)), p=0.5, training=self.training)
        return self.conv2(x, edge_index)


model = GCN(dataset.num_features, 16, dataset.num_classes)
optimizer = torch.optim.Adam(model.parameters(), lr=0.01, weight_decay=5e-4)
model.train()
for epoch in range(1, 201):
    out = model(data.x, data.edge_index)
    loss = F.cross_entropy(out[data.train_mask], data.y[data.train_mask])
    loss.backward()
    optimizer.step()
""",
        (24,),
        fix="""\
@@
     out = model(data.x, data.edge_index)
     loss = F.cross_entropy(out[data.train_mask], data.y[data.train_mask])
+    optimizer.zero_grad()
     loss.backward()
     optimizer.step()
""",
    ),
    # pytorch/examples VAE-style train(epoch) on module globals, optimizer.zero_grad() forgotten
    Invalid(
        """\
import torch
import torch.nn.functional as F

model = VAE().to(device)
optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)


def loss_function(recon_x, x, mu, logvar):
    bce = F.binary_cross_entropy(recon_x, x.view(-1, 784), reduction="sum")
    return bce - 0.5 * torch.sum(1 + logvar - mu.pow(2) - logvar.exp())


def train(epoch):
    model.train()
    train_loss = 0
    for data, _ in train_loader:
        data = data.to(device)
        recon_batch, mu, logvar = model(data)
        loss = loss_function(recon_batch, data, mu, logvar)
        loss.backward()
        train_loss += loss.item()
        optimizer.step()
    print(f"====> Epoch: {epoch} Average loss: {train_loss / len(train_loader.dataset):.4f}")


for epoch in range(1, 11):
    train(epoch)
""",
        (22,),
        fix="""\
@@
         recon_batch, mu, logvar = model(data)
         loss = loss_function(recon_batch, data, mu, logvar)
+        optimizer.zero_grad()
         loss.backward()
         train_loss += loss.item()
""",
    ),
    # SimCLR-style contrastive pre-training: one optimizer over encoder and projector, never zeroed
    Invalid(
        """\
import torch


def train_simclr(encoder, projector, loader, criterion, epochs=100):
    params = list(encoder.parameters()) + list(projector.parameters())
    optimizer = torch.optim.SGD(params, lr=0.3, momentum=0.9, weight_decay=1e-6)
    scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, epochs)
    for epoch in range(epochs):
        for (x1, x2), _ in loader:
            z1 = projector(encoder(x1))
            z2 = projector(encoder(x2))
            loss = criterion(z1, z2)
            loss.backward()
            optimizer.step()
        scheduler.step()
""",
        (14,),
        fix="""\
@@
             z2 = projector(encoder(x2))
             loss = criterion(z1, z2)
+            optimizer.zero_grad()
             loss.backward()
             optimizer.step()
""",
    ),
    # online actor-critic: the actor's optimizer is cleared twice, the critic's never
    Invalid(
        """\
import torch


def run_episode(env, actor, critic, actor_opt, critic_opt, gamma=0.99):
    state, done = env.reset(), False
    while not done:
        dist = actor(state)
        action = dist.sample()
        next_state, reward, done = env.step(action)
        td_target = reward + gamma * critic(next_state).detach() * (1 - done)
        advantage = td_target - critic(state)

        actor_opt.zero_grad()
        (-dist.log_prob(action) * advantage.detach()).backward()
        actor_opt.step()

        actor_opt.zero_grad()
        advantage.pow(2).backward()
        critic_opt.step()
        state = next_state
""",
        (19,),
        fix="""\
@@

         actor_opt.zero_grad()
+        critic_opt.zero_grad()
         advantage.pow(2).backward()
         critic_opt.step()
""",
    ),
    # TD-learning per environment step, cleared once per episode in the outer loop
    Invalid(
        """\
import torch
import torch.nn.functional as F


def train(env, q_net, optimizer, episodes=500, gamma=0.99, epsilon=0.1):
    q_net.train()
    for episode in range(episodes):
        state, done = env.reset(), False
        optimizer.zero_grad()
        while not done:
            q = q_net(state)
            action = env.sample_action() if torch.rand(1) < epsilon else q.argmax().item()
            next_state, reward, done = env.step(action)
            with torch.no_grad():
                target = reward + gamma * q_net(next_state).max() * (1 - done)
            loss = F.smooth_l1_loss(q[action], target)
            loss.backward()
            optimizer.step()
            state = next_state
""",
        (18,),
        fix="""\
@@
                 target = reward + gamma * q_net(next_state).max() * (1 - done)
             loss = F.smooth_l1_loss(q[action], target)
+            optimizer.zero_grad()
             loss.backward()
             optimizer.step()
""",
    ),
    # apex amp mixed precision (older code): scaled backward and step, the clear forgotten
    Invalid(
        """\
from apex import amp


def train(model, optimizer, loader, criterion, epochs):
    model, optimizer = amp.initialize(model, optimizer, opt_level="O1")
    for epoch in range(epochs):
        model.train()
        for images, target in loader:
            loss = criterion(model(images), target)
            with amp.scale_loss(loss, optimizer) as scaled_loss:
                scaled_loss.backward()
            optimizer.step()
""",
        (12,),
        fix="""\
@@
                 scaled_loss.backward()
             optimizer.step()
+            optimizer.zero_grad()
""",
    ),
    # trainer with _backward()/_optimizer_step() helpers; neither clears the gradients
    Invalid(
        """\
import torch


class Trainer:
    def __init__(self, model, optimizer, loader, grad_clip=1.0):
        self.model = model
        self.optimizer = optimizer
        self.loader = loader
        self.grad_clip = grad_clip
        self.scaler = torch.amp.GradScaler("cuda")

    def _backward(self, loss):
        self.scaler.scale(loss).backward()

    def _optimizer_step(self):
        self.scaler.unscale_(self.optimizer)
        torch.nn.utils.clip_grad_norm_(self.model.parameters(), self.grad_clip)
        self.scaler.step(self.optimizer)
        self.scaler.update()

    def train_epoch(self):
        self.model.train()
        for batch in self.loader:
            with torch.autocast("cuda", dtype=torch.float16):
                loss = self.model(**batch).loss
            self._backward(loss)
            self._optimizer_step()
""",
        (27,),
        None,
    ),
    # optimizers kept in a dict: the discriminator's key cleared twice, the generator's never
    Invalid(
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
            self.optimizers["disc"].zero_grad()
            (-self.disc(fake).mean()).backward()
            self.optimizers["gen"].step()
""",
        (21,),
        fix="""\
@@
             self.optimizers["disc"].step()
             self.optimizers["disc"].zero_grad()
+            self.optimizers["gen"].zero_grad()
             (-self.disc(fake).mean()).backward()
             self.optimizers["gen"].step()
""",
    ),
    # model class whose own train_step(batch, optimizer) never clears, called from a loop
    Invalid(
        """\
import torch
import torch.nn as nn
import torch.nn.functional as F


class Classifier(nn.Module):
    def __init__(self, backbone, num_classes):
        super().__init__()
        self.backbone = backbone
        self.head = nn.Linear(backbone.out_features, num_classes)

    def forward(self, x):
        return self.head(self.backbone(x))

    def train_step(self, batch, optimizer):
        x, y = batch
        loss = F.cross_entropy(self(x), y)
        loss.backward()
        optimizer.step()
        return loss.item()


model = Classifier(backbone, 10)
optimizer = torch.optim.AdamW(model.parameters(), lr=3e-4)
for epoch in range(20):
    model.train()
    losses = [model.train_step(batch, optimizer) for batch in train_loader]
""",
        (27,),
        fix="""\
@@
         x, y = batch
         loss = F.cross_entropy(self(x), y)
+        optimizer.zero_grad()
         loss.backward()
         optimizer.step()
""",
    ),
    # domain adaptation: each network owns its optimizer; the encoder's zero_grad() does not
    # clear the critic's gradients, which a loop over the batches keeps adding to
    Invalid(
        _DOMAIN_ADAPTER,
        (46,),
        fix="""\
@@
         critic_loss = F.softplus(-self.critic(h_s)).mean() + F.softplus(self.critic(h_t)).mean()
+        self.critic.optimizer.zero_grad()
         critic_loss.backward()
         self.critic.optimizer.step()
""",
    ),
    # InfoGAN: the mutual-information optimizer covers both networks; the other two clear
    # them for their own losses, but nothing clears them between the generator's backward and
    # the information loss's, so its step applies the generator loss's gradients too
    Invalid(
        """\
import itertools

import torch
import torch.nn as nn
import torch.nn.functional as F


def fit(gen, disc, loader, code_dim=2, epochs=25):
    g_opt = torch.optim.Adam(gen.parameters(), lr=2e-4)
    d_opt = torch.optim.Adam(disc.parameters(), lr=2e-4)
    info_opt = torch.optim.Adam(itertools.chain(gen.parameters(), disc.parameters()), lr=2e-4)
    for epoch in range(epochs):
        for real in loader:
            z = torch.randn(len(real), 62)
            code = torch.rand(len(real), code_dim) * 2 - 1
            d_opt.zero_grad()
            real_score, _ = disc(real)
            fake_score, _ = disc(gen(z, code).detach())
            d_loss = F.softplus(-real_score).mean() + F.softplus(fake_score).mean()
            d_loss.backward()
            d_opt.step()

            g_opt.zero_grad()
            fake_score, code_guess = disc(gen(z, code))
            g_loss = F.softplus(-fake_score).mean()
            g_loss.backward(retain_graph=True)
            g_opt.step()

            info_loss = F.mse_loss(code_guess, code)
            info_loss.backward()
            info_opt.step()
""",
        (31,),
        fix="""\
@@
             g_loss.backward(retain_graph=True)
             g_opt.step()
+            info_opt.zero_grad()
 
             info_loss = F.mse_loss(code_guess, code)
""",
    ),
)

VALID: tuple[str, ...] = (
    # each network owns its optimizer, and each network's zero_grad() clears it
    _DOMAIN_ADAPTER.replace(
        "    def fit_batch(self, source, target):\n",
        "    def fit_batch(self, source, target):\n        self.critic.zero_grad()\n",
    ),
    # a benchmark of a layer's speed, written as a test
    """\
import time

import torch


def test_attention_speed(layer, batch, steps=100):
    # how long a forward and backward of the layer take, on made-up data
    optimizer = torch.optim.Adam(layer.parameters())
    target = torch.zeros_like(batch)
    start = time.time()
    for _ in range(steps):
        loss = ((layer(batch) - target) ** 2).mean()
        loss.backward()
        optimizer.step()
    return (time.time() - start) / steps
""",
    # a GAN vocoder gets its optimizers as one list and unpacks it
    """\
import torch


def train_epoch(nets, optims, scaler, loader):
    generator, discriminator = nets
    optim_g, optim_d = optims
    generator.train()
    discriminator.train()
    for mel, wav in loader:
        fake = generator(mel)
        loss_d = (discriminator(wav) - 1).pow(2).mean() + discriminator(fake.detach()).pow(2).mean()
        optim_d.zero_grad()
        scaler.scale(loss_d).backward()
        scaler.step(optim_d)
        loss_g = (discriminator(fake) - 1).pow(2).mean()
        optim_g.zero_grad()
        scaler.scale(loss_g).backward()
        scaler.step(optim_g)
        scaler.update()


def main(generator, discriminator, loader, epochs):
    optim_g = torch.optim.AdamW(generator.parameters(), 2e-4, betas=(0.8, 0.99))
    optim_d = torch.optim.AdamW(discriminator.parameters(), 2e-4, betas=(0.8, 0.99))
    scaler = torch.cuda.amp.GradScaler()
    for epoch in range(epochs):
        train_epoch([generator, discriminator], [optim_g, optim_d], scaler, loader)
""",
    # gradients cleared by a project helper imported from another file (diffusion trainers)
    """\
import torch

from .mixed_precision import zero_grad


class TrainLoop:
    def __init__(self, model, data, lr):
        self.model = model
        self.data = data
        self.params = list(model.parameters())
        self.opt = torch.optim.AdamW(self.params, lr=lr)

    def run(self, steps):
        for step in range(steps):
            batch = next(self.data)
            zero_grad(self.params)
            self.model(batch).mean().backward()
            self.opt.step()
""",
    # transformers no_trainer-style gradient accumulation: step and zero_grad every k batches
    """\
import torch


def train_epoch(model, optimizer, lr_scheduler, train_dataloader, gradient_accumulation_steps):
    model.train()
    for step, batch in enumerate(train_dataloader):
        outputs = model(**batch)
        loss = outputs.loss / gradient_accumulation_steps
        loss.backward()
        if (step + 1) % gradient_accumulation_steps == 0 or step == len(train_dataloader) - 1:
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            optimizer.step()
            lr_scheduler.step()
            optimizer.zero_grad()
""",
    # nanoGPT-style micro-steps: zero_grad(set_to_none=True) before the loop and after each step
    """\
import torch

optimizer = model.configure_optimizers(weight_decay, learning_rate, (beta1, beta2), device_type)
scaler = torch.cuda.amp.GradScaler(enabled=(dtype == "float16"))
X, Y = get_batch("train")
optimizer.zero_grad(set_to_none=True)
while iter_num < max_iters:
    for micro_step in range(gradient_accumulation_steps):
        with ctx:
            logits, loss = model(X, Y)
            loss = loss / gradient_accumulation_steps
        X, Y = get_batch("train")
        scaler.scale(loss).backward()
    if grad_clip != 0.0:
        scaler.unscale_(optimizer)
        torch.nn.utils.clip_grad_norm_(model.parameters(), grad_clip)
    scaler.step(optimizer)
    scaler.update()
    optimizer.zero_grad(set_to_none=True)
    iter_num += 1
""",
    # accelerate loop: accelerator.backward() inside accelerator.accumulate(model)
    """\
from accelerate import Accelerator

accelerator = Accelerator(gradient_accumulation_steps=4)
model, optimizer, train_dataloader, lr_scheduler = accelerator.prepare(
    model, optimizer, train_dataloader, lr_scheduler
)
for epoch in range(num_epochs):
    model.train()
    for batch in train_dataloader:
        with accelerator.accumulate(model):
            outputs = model(**batch)
            accelerator.backward(outputs.loss)
            if accelerator.sync_gradients:
                accelerator.clip_grad_norm_(model.parameters(), 1.0)
            optimizer.step()
            lr_scheduler.step()
            optimizer.zero_grad()
""",
    # vision-references-style AMP step: zero_grad first, then scaled backward and scaler.step()
    """\
import torch


def train_one_epoch(model, criterion, optimizer, data_loader, device, scaler=None, clip=None):
    model.train()
    for image, target in data_loader:
        image, target = image.to(device), target.to(device)
        with torch.autocast("cuda", enabled=scaler is not None):
            loss = criterion(model(image), target)
        optimizer.zero_grad(set_to_none=True)
        if scaler is not None:
            scaler.scale(loss).backward()
            if clip is not None:
                scaler.unscale_(optimizer)
                torch.nn.utils.clip_grad_norm_(model.parameters(), clip)
            scaler.step(optimizer)
            scaler.update()
        else:
            loss.backward()
            optimizer.step()
""",
    # trainer class: self.model = model, optimizer over model.parameters(), self.model.zero_grad()
    """\
import torch


class Trainer:
    def __init__(self, model, config, loader):
        self.model = model
        self.loader = loader
        self.optimizer = torch.optim.AdamW(model.parameters(), lr=config.learning_rate)
        self.grad_norm_clip = config.grad_norm_clip

    def run(self):
        self.model.train()
        for x, y in self.loader:
            logits, self.loss = self.model(x, y)
            self.model.zero_grad(set_to_none=True)
            self.loss.backward()
            torch.nn.utils.clip_grad_norm_(self.model.parameters(), self.grad_norm_clip)
            self.optimizer.step()
""",
    # the whole training step lives in a helper that clears, backpropagates and steps
    """\
import torch
import torch.nn.functional as F


def train_step(model, optimizer, images, labels):
    optimizer.zero_grad()
    loss = F.cross_entropy(model(images), labels)
    loss.backward()
    optimizer.step()
    return loss.item()


def fit(model, loader, epochs=10):
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9, nesterov=True)
    for epoch in range(epochs):
        model.train()
        losses = [train_step(model, optimizer, x, y) for x, y in loader]
        print(f"epoch {epoch}: {sum(losses) / len(losses):.3f}")
""",
    # time-sequence-prediction-style LBFGS: zero_grad and backward inside the closure
    """\
import torch
import torch.nn as nn

criterion = nn.MSELoss()
optimizer = torch.optim.LBFGS(seq.parameters(), lr=0.8)
for i in range(15):
    print("STEP:", i)

    def closure():
        optimizer.zero_grad()
        out = seq(inputs)
        loss = criterion(out, targets)
        print("loss:", loss.item())
        loss.backward()
        return loss

    optimizer.step(closure)
""",
    # d2l-style hand-written SGD: no optimizer, the update zeroes each parameter's grad itself
    """\
import torch


def sgd(params, lr, batch_size):
    with torch.no_grad():
        for param in params:
            param -= lr * param.grad / batch_size
            param.grad.zero_()


def train_linreg(w, b, features, labels, data_iter, lr=0.03, num_epochs=3, batch_size=10):
    for epoch in range(num_epochs):
        for X, y in data_iter(batch_size, features, labels):
            loss = ((X @ w + b - y) ** 2 / 2).sum()
            loss.backward()
            sgd([w, b], lr, batch_size)
""",
    # DCGAN-style: each network's module zero_grad() before its own backward and step
    """\
import torch

criterion = torch.nn.BCELoss()
optimizerD = torch.optim.Adam(netD.parameters(), lr=2e-4, betas=(0.5, 0.999))
optimizerG = torch.optim.Adam(netG.parameters(), lr=2e-4, betas=(0.5, 0.999))
for epoch in range(num_epochs):
    for real, _ in dataloader:
        netD.zero_grad()
        label = torch.full((real.size(0),), 1.0)
        errD_real = criterion(netD(real).view(-1), label)
        errD_real.backward()
        fake = netG(torch.randn(real.size(0), nz, 1, 1))
        errD_fake = criterion(netD(fake.detach()).view(-1), label.fill_(0.0))
        errD_fake.backward()
        optimizerD.step()

        netG.zero_grad()
        errG = criterion(netD(fake).view(-1), label.fill_(1.0))
        errG.backward()
        optimizerG.step()
""",
    # full-batch epochs: gradients summed over every batch, one step and one clear per epoch
    """\
import torch


def fit_full_batch(model, loader, optimizer, epochs):
    n = len(loader.dataset)
    for epoch in range(epochs):
        optimizer.zero_grad()
        for x, y in loader:
            loss = torch.nn.functional.mse_loss(model(x), y, reduction="sum") / n
            loss.backward()
        optimizer.step()
""",
    # Lightning manual optimisation (GAN): each optimizer cleared before manual_backward()
    """\
import lightning as L
import torch


class GAN(L.LightningModule):
    def __init__(self, generator, discriminator):
        super().__init__()
        self.generator = generator
        self.discriminator = discriminator
        self.automatic_optimization = False

    def training_step(self, batch, batch_idx):
        g_opt, d_opt = self.optimizers()
        fake = self.generator(torch.randn(batch.size(0), 128))

        d_opt.zero_grad()
        d_loss = self.discriminator.loss(batch, fake.detach())
        self.manual_backward(d_loss)
        d_opt.step()

        g_opt.zero_grad()
        g_loss = self.discriminator.adversarial_loss(fake)
        self.manual_backward(g_loss)
        g_opt.step()
""",
    # timm-style loss_scaler() helper that does backward and step, zero_grad in the loop
    """\
import torch


def train_one_epoch(model, loader, optimizer, loss_fn, loss_scaler=None, clip_grad=None):
    model.train()
    for input, target in loader:
        with torch.autocast("cuda"):
            loss = loss_fn(model(input), target)
        optimizer.zero_grad()
        if loss_scaler is not None:
            loss_scaler(loss, optimizer, clip_grad=clip_grad, parameters=model.parameters())
        else:
            loss.backward()
            if clip_grad is not None:
                torch.nn.utils.clip_grad_norm_(model.parameters(), clip_grad)
            optimizer.step()
""",
    # actor-critic update with two optimizers, each cleared before its own backward
    """\
import torch
import torch.nn.functional as F


def update(actor, critic, actor_opt, critic_opt, replay, steps, gamma=0.99):
    for _ in range(steps):
        s, a, r, s2, done = replay.sample(256)
        with torch.no_grad():
            target = r + gamma * (1 - done) * critic(s2, actor(s2))
        critic_loss = F.mse_loss(critic(s, a), target)
        critic_opt.zero_grad()
        critic_loss.backward()
        critic_opt.step()

        actor_loss = -critic(s, actor(s)).mean()
        actor_opt.zero_grad()
        actor_loss.backward()
        actor_opt.step()
""",
    # tuning-guide-style clearing by hand: param.grad = None for every parameter
    """\
import torch


def train(model, loader, optimizer, criterion):
    model.train()
    for data, target in loader:
        for param in model.parameters():
            param.grad = None
        loss = criterion(model(data), target)
        loss.backward()
        optimizer.step()
""",
    # DDP no_sync() accumulation: backward without all-reduce, clear after the synced step
    """\
import contextlib


def train(ddp_model, optimizer, loader, loss_fn, accumulate=4):
    ddp_model.train()
    for i, (inputs, labels) in enumerate(loader):
        sync = (i + 1) % accumulate == 0
        with contextlib.nullcontext() if sync else ddp_model.no_sync():
            loss = loss_fn(ddp_model(inputs), labels) / accumulate
            loss.backward()
        if sync:
            optimizer.step()
            optimizer.zero_grad(set_to_none=True)
""",
    # truncated BPTT language model: hidden state detached, model cleared per chunk
    """\
import torch


def train_epoch(model, criterion, train_data, bptt, lr, clip):
    model.train()
    hidden = model.init_hidden(train_data.size(1))
    optimizer = torch.optim.SGD(model.parameters(), lr=lr)
    for i in range(0, train_data.size(0) - 1, bptt):
        data, targets = get_batch(train_data, i, bptt)
        hidden = tuple(h.detach() for h in hidden)
        model.zero_grad()
        output, hidden = model(data, hidden)
        loss = criterion(output.view(-1, output.size(-1)), targets)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), clip)
        optimizer.step()
""",
    # HF Trainer subclass: the Trainer owns the loop, compute_loss only returns the loss
    """\
import torch
from transformers import Trainer


class WeightedLossTrainer(Trainer):
    def compute_loss(self, model, inputs, return_outputs=False, **kwargs):
        labels = inputs.pop("labels")
        outputs = model(**inputs)
        weight = torch.tensor([1.0, 3.0], device=labels.device)
        loss = torch.nn.functional.cross_entropy(outputs.logits, labels, weight=weight)
        return (loss, outputs) if return_outputs else loss


trainer = WeightedLossTrainer(model=model, args=training_args, train_dataset=train_ds)
trainer.train()
""",
    # SAM: first_step/second_step(zero_grad=True) clear the gradients themselves
    """\
def train(model, optimizer, loader, loss_fn, epochs):
    for epoch in range(epochs):
        model.train()
        for inputs, targets in loader:
            loss = loss_fn(model(inputs), targets)
            loss.backward()
            optimizer.first_step(zero_grad=True)

            loss_fn(model(inputs), targets).backward()
            optimizer.second_step(zero_grad=True)
""",
    # StarGAN-style solver: a reset_grad() helper clears both optimizers before each backward
    """\
import torch


class Solver:
    def __init__(self, G, D, loader, g_lr=1e-4, d_lr=1e-4):
        self.G, self.D, self.loader = G, D, loader
        self.g_optimizer = torch.optim.Adam(G.parameters(), g_lr, (0.5, 0.999))
        self.d_optimizer = torch.optim.Adam(D.parameters(), d_lr, (0.5, 0.999))

    def reset_grad(self):
        self.g_optimizer.zero_grad()
        self.d_optimizer.zero_grad()

    def train(self, num_iters, n_critic=5):
        for i, (x_real, c_org, c_trg) in zip(range(num_iters), self.loader):
            x_fake = self.G(x_real, c_trg)
            d_loss = self.D.loss_real(x_real, c_org) + self.D.loss_fake(x_fake.detach())
            self.reset_grad()
            d_loss.backward()
            self.d_optimizer.step()
            if (i + 1) % n_critic == 0:
                g_loss = self.D.loss_adv(x_fake)
                self.reset_grad()
                g_loss.backward()
                self.g_optimizer.step()
""",
    # DeepSpeed engine: model_engine.backward() and model_engine.step() clear gradients themselves
    """\
import deepspeed

model_engine, optimizer, train_loader, _ = deepspeed.initialize(
    args=cmd_args, model=model, model_parameters=model.parameters(), training_data=train_ds
)
for step, batch in enumerate(train_loader):
    batch = {k: v.to(model_engine.local_rank) for k, v in batch.items()}
    loss = model_engine(**batch).loss
    model_engine.backward(loss)
    model_engine.step()
    if step % save_interval == 0:
        model_engine.save_checkpoint(args.save_dir, tag=f"step{step}")
""",
    # discriminative fine-tuning: param groups over backbone and head, model.zero_grad() per batch
    """\
import torch


def finetune(model, loader, criterion, epochs=3):
    optimizer = torch.optim.AdamW(
        [
            {"params": model.backbone.parameters(), "lr": 1e-5},
            {"params": model.head.parameters(), "lr": 1e-3},
        ],
        weight_decay=0.05,
    )
    for epoch in range(epochs):
        model.train()
        for images, labels in loader:
            model.zero_grad()
            loss = criterion(model(images), labels)
            loss.backward()
            optimizer.step()
""",
    # a list of optimizers (multi-task heads) cleared and stepped together
    """\
def train(model, loader, optimizers, criterion):
    model.train()
    for x, y in loader:
        for opt in optimizers:
            opt.zero_grad()
        loss = criterion(model(x), y)
        loss.backward()
        for opt in optimizers:
            opt.step()
""",
    # Lightning hooks: optimizer_zero_grad() overridden, automatic optimisation does the rest
    """\
import lightning as L
import torch


class LitClassifier(L.LightningModule):
    def __init__(self, net):
        super().__init__()
        self.net = net

    def training_step(self, batch, batch_idx):
        x, y = batch
        loss = torch.nn.functional.cross_entropy(self.net(x), y)
        self.log("train_loss", loss)
        return loss

    def optimizer_zero_grad(self, epoch, batch_idx, optimizer):
        optimizer.zero_grad(set_to_none=True)

    def configure_optimizers(self):
        return torch.optim.SGD(self.parameters(), lr=0.1, momentum=0.9)
""",
    # SWA: swa_scheduler.step() and update_parameters() are not optimizer steps
    """\
import torch
from torch.optim.swa_utils import SWALR, AveragedModel, update_bn

swa_model = AveragedModel(model)
optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
swa_scheduler = SWALR(optimizer, swa_lr=0.05)
for epoch in range(300):
    for x, y in loader:
        optimizer.zero_grad()
        loss_fn(model(x), y).backward()
        optimizer.step()
    if epoch > 160:
        swa_model.update_parameters(model)
        swa_scheduler.step()
update_bn(loader, swa_model)
""",
    # skip-bad-batch loop: continue before backward, clear at the end of each iteration
    """\
import math


def train(model, loader, optimizer, scheduler):
    model.train()
    optimizer.zero_grad()
    for batch in loader:
        loss = model(**batch).loss
        if not math.isfinite(loss.item()):
            continue
        loss.backward()
        optimizer.step()
        scheduler.step()
        optimizer.zero_grad()
""",
    # optimizer over the trainable parameters only (filter on requires_grad), model cleared
    """\
import torch


def train_adapter(model, loader, epochs=1):
    trainable = [p for p in model.parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW(trainable, lr=3e-4)
    model.train()
    for epoch in range(epochs):
        for batch in loader:
            model.zero_grad()
            loss = model(**batch).loss
            loss.backward()
            optimizer.step()
""",
    # minGPT-style trainer: optimizer built by model.configure_optimizers(), model.zero_grad()
    """\
import torch


class Trainer:
    def __init__(self, config, model, train_dataset):
        self.config = config
        self.model = model
        self.train_dataset = train_dataset

    def run(self):
        model, config = self.model, self.config
        self.optimizer = model.configure_optimizers(config)
        loader = torch.utils.data.DataLoader(self.train_dataset, batch_size=config.batch_size)
        model.train()
        for x, y in loader:
            logits, self.loss = model(x, y)
            model.zero_grad(set_to_none=True)
            self.loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), config.grad_norm_clip)
            self.optimizer.step()
""",
    # accumulation window: cleared at the window's first micro-batch, stepped at its last
    """\
import torch


def train(model, loader, optimizer, accum=4):
    model.train()
    for i, (x, y) in enumerate(loader):
        if i % accum == 0:
            optimizer.zero_grad()
        loss = torch.nn.functional.cross_entropy(model(x), y) / accum
        loss.backward()
        if (i + 1) % accum == 0:
            optimizer.step()
""",
    # GAN optimizers cleared together by iterating over them
    """\
import torch


def train(gen, disc, loader, opt_g, opt_d, z_dim=128):
    for real in loader:
        for opt in (opt_g, opt_d):
            opt.zero_grad()
        fake = gen(torch.randn(real.size(0), z_dim))
        d_loss = disc(fake.detach()).mean() - disc(real).mean()
        d_loss.backward()
        opt_d.step()
        g_loss = -disc(fake).mean()
        g_loss.backward()
        opt_g.step()
""",
    # a local alias of the trainer's optimizer is cleared, the attribute is stepped
    """\
class Trainer:
    def __init__(self, model, optimizer, loader):
        self.model = model
        self.optimizer = optimizer
        self.loader = loader

    def train_epoch(self):
        opt = self.optimizer
        for batch in self.loader:
            opt.zero_grad(set_to_none=True)
            loss = self.model(**batch).loss
            loss.backward()
            self.optimizer.step()
""",
    # Reptile: inner SGD steps on a copy, outer update written by hand
    """\
import copy

import torch


def reptile(model, tasks, inner_steps=5, inner_lr=0.02, outer_lr=0.1):
    for task in tasks:
        fast = copy.deepcopy(model)
        inner_opt = torch.optim.SGD(fast.parameters(), lr=inner_lr)
        for x, y in task.batches(inner_steps):
            inner_opt.zero_grad()
            torch.nn.functional.mse_loss(fast(x), y).backward()
            inner_opt.step()
        with torch.no_grad():
            for p, q in zip(model.parameters(), fast.parameters()):
                p += outer_lr * (q - p)
""",
    # training loop with an endless iterator and a break on the step budget
    """\
def train(model, optimizer, loader, max_steps):
    step = 0
    model.train()
    while True:
        for batch in loader:
            optimizer.zero_grad()
            loss = model(**batch).loss
            loss.backward()
            optimizer.step()
            step += 1
            if step >= max_steps:
                return step
""",
    # diffusers-style EMA: ema_unet.step(parameters) after each synced optimizer step
    """\
import torch
import torch.nn.functional as F
from diffusers.training_utils import EMAModel

ema_unet = EMAModel(unet.parameters())
for epoch in range(num_train_epochs):
    unet.train()
    for batch in train_dataloader:
        with accelerator.accumulate(unet):
            latents = vae.encode(batch["pixel_values"]).latent_dist.sample() * 0.18215
            noise = torch.randn_like(latents)
            timesteps = torch.randint(0, 1000, (latents.shape[0],), device=latents.device)
            noisy = noise_scheduler.add_noise(latents, noise, timesteps)
            pred = unet(noisy, timesteps, text_encoder(batch["input_ids"])[0]).sample
            loss = F.mse_loss(pred.float(), noise.float(), reduction="mean")
            accelerator.backward(loss)
            optimizer.step()
            lr_scheduler.step()
            optimizer.zero_grad()
        if accelerator.sync_gradients:
            ema_unet.step(unet.parameters())
""",
    # torch.profiler recipe: prof.step() marks each training iteration
    """\
import torch
from torch.profiler import ProfilerActivity, profile, schedule, tensorboard_trace_handler


def profile_training(model, loader, optimizer, criterion, steps=7):
    model.train()
    with profile(
        activities=[ProfilerActivity.CPU, ProfilerActivity.CUDA],
        schedule=schedule(wait=1, warmup=1, active=3, repeat=1),
        on_trace_ready=tensorboard_trace_handler("./log/model"),
    ) as prof:
        for step, (x, y) in enumerate(loader):
            if step >= steps:
                break
            optimizer.zero_grad()
            loss = criterion(model(x), y)
            loss.backward()
            optimizer.step()
            prof.step()
""",
    # online actor-critic: env.step() in the same loop as the cleared optimizer's step
    """\
import torch


def run_episode(env, actor_critic, optimizer, gamma=0.99):
    actor_critic.train()
    state, done = env.reset(), False
    while not done:
        logits, value = actor_critic(state)
        dist = torch.distributions.Categorical(logits=logits)
        action = dist.sample()
        next_state, reward, done = env.step(action.item())
        with torch.no_grad():
            _, next_value = actor_critic(next_state)
        advantage = reward + gamma * next_value * (1 - done) - value
        loss = -dist.log_prob(action) * advantage.detach() + advantage.pow(2)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        state = next_state
""",
    # detectron2-style trainer: the base class loops, the subclass's run_step() clears and steps
    """\
class TrainerBase:
    def train(self, start_iter, max_iter):
        self.iter = start_iter
        for self.iter in range(start_iter, max_iter):
            self.before_step()
            self.run_step()
            self.after_step()


class SimpleTrainer(TrainerBase):
    def __init__(self, model, data_loader, optimizer):
        self.model = model
        self.data_loader = data_loader
        self._data_loader_iter = iter(data_loader)
        self.optimizer = optimizer

    def run_step(self):
        data = next(self._data_loader_iter)
        loss_dict = self.model(data)
        losses = sum(loss_dict.values())
        self.optimizer.zero_grad()
        losses.backward()
        self.optimizer.step()
""",
    # apex amp (older mixed-precision code): backward on the scaled loss inside a with block
    """\
from apex import amp


def train(model, optimizer, loader, criterion, epochs):
    model, optimizer = amp.initialize(model, optimizer, opt_level="O1")
    for epoch in range(epochs):
        model.train()
        for images, target in loader:
            loss = criterion(model(images), target)
            optimizer.zero_grad()
            with amp.scale_loss(loss, optimizer) as scaled_loss:
                scaled_loss.backward()
            optimizer.step()
""",
    # trainer with _backward()/_optimizer_step() helpers; the step helper clears after stepping
    """\
import torch


class Trainer:
    def __init__(self, model, optimizer, loader, grad_clip=1.0):
        self.model = model
        self.optimizer = optimizer
        self.loader = loader
        self.grad_clip = grad_clip
        self.scaler = torch.amp.GradScaler("cuda")

    def _backward(self, loss):
        self.scaler.scale(loss).backward()

    def _optimizer_step(self):
        self.scaler.unscale_(self.optimizer)
        torch.nn.utils.clip_grad_norm_(self.model.parameters(), self.grad_clip)
        self.scaler.step(self.optimizer)
        self.scaler.update()
        self.optimizer.zero_grad(set_to_none=True)

    def train_epoch(self):
        self.model.train()
        for batch in self.loader:
            with torch.autocast("cuda", dtype=torch.float16):
                loss = self.model(**batch).loss
            self._backward(loss)
            self._optimizer_step()
""",
    # model class with its own train_step(batch, optimizer), called from a plain loop
    """\
import torch
import torch.nn as nn
import torch.nn.functional as F


class Classifier(nn.Module):
    def __init__(self, backbone, num_classes):
        super().__init__()
        self.backbone = backbone
        self.head = nn.Linear(backbone.out_features, num_classes)

    def forward(self, x):
        return self.head(self.backbone(x))

    def train_step(self, batch, optimizer):
        x, y = batch
        optimizer.zero_grad()
        loss = F.cross_entropy(self(x), y)
        loss.backward()
        optimizer.step()
        return loss.item()


model = Classifier(backbone, 10)
optimizer = torch.optim.AdamW(model.parameters(), lr=3e-4)
for epoch in range(20):
    model.train()
    losses = [model.train_step(batch, optimizer) for batch in train_loader]
""",
    # Keras-like wrapper: the optimizer is attached in compile(), used in fit()
    """\
class KerasLike:
    def __init__(self, module):
        self.module = module

    def compile(self, optimizer, loss_fn):
        self.optimizer = optimizer
        self.loss_fn = loss_fn

    def fit(self, loader, epochs=1):
        self.module.train()
        for epoch in range(epochs):
            for x, y in loader:
                self.optimizer.zero_grad()
                loss = self.loss_fn(self.module(x), y)
                loss.backward()
                self.optimizer.step()
""",
    # optimizer built before the model is re-bound to torch.compile / DataParallel wrappers
    """\
import torch
import torch.nn as nn


def train(model, loader, criterion, epochs, compile_model=True):
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-3)
    if compile_model:
        model = torch.compile(model)
    if torch.cuda.device_count() > 1:
        model = nn.DataParallel(model)
    for epoch in range(epochs):
        model.train()
        for x, y in loader:
            model.zero_grad(set_to_none=True)
            loss = criterion(model(x), y)
            loss.backward()
            optimizer.step()
""",
    # captioning script: the encoder's optimizer exists only when the encoder is fine-tuned,
    # and its clear and its step sit under the same unchanged `is not None` test
    """\
import torch


def train_epoch(loader, encoder, decoder, enc_opt, dec_opt, criterion, clip=None):
    encoder.train()
    decoder.train()
    for images, captions in loader:
        feats = encoder(images)
        logits = decoder(feats, captions)
        loss = criterion(logits.flatten(0, 1), captions[:, 1:].flatten())
        dec_opt.zero_grad()
        if enc_opt is not None:
            enc_opt.zero_grad()
        loss.backward()
        if clip is not None:
            torch.nn.utils.clip_grad_norm_(decoder.parameters(), clip)
        dec_opt.step()
        if enc_opt is not None:
            enc_opt.step()
""",
    # gradient accumulation with a counter: cleared when it is 0, and the branch that steps sets it back to 0
    """\
import torch


def train(net, loader, optimizer, scheduler, epochs, accumulate=4):
    net.train()
    for epoch in range(epochs):
        pending = 0
        for batch in loader:
            if pending == 0:
                optimizer.zero_grad()
            heatmaps = net(batch["image"])
            loss = ((heatmaps - batch["target"]) ** 2 * batch["mask"]).mean() / accumulate
            loss.backward()
            pending += 1
            if pending == accumulate:
                optimizer.step()
                pending = 0
            else:
                continue
            print(f"epoch {epoch}: loss {loss.item() * accumulate:.4f}")
        scheduler.step()
""",
    # a reward model trained on a DeepSpeed engine: no zero_grad() anywhere, because the
    # engine's step() clears the gradients itself after the optimizer's update (DeepSpeed's
    # Training API loop is forward, engine.backward(loss), engine.step())
    """\
import deepspeed
import torch.nn.functional as F


class RewardModelTrainer:
    def __init__(self, args, model, loader):
        self.loader = loader
        self.model, self.optimizer, _, _ = deepspeed.initialize(
            args=args, model=model, model_parameters=model.parameters(), config=args.ds_config
        )

    def train(self, epochs):
        self.model.train()
        for epoch in range(epochs):
            for chosen, rejected in self.loader:
                margin = self.model(**chosen).logits - self.model(**rejected).logits
                loss = -F.logsigmoid(margin).mean()
                self.model.backward(loss)
                self.model.step()
""",
    # Single-task baseline: one branch per task, tests of one setting against different names,
    # so at most one backward()/step() runs in an iteration, after the one zero_grad().
    """\
import torch
import torch.nn.functional as F


def single_task_trainer(model, loader, optimizer, task, epochs):
    for epoch in range(epochs):
        model.train()
        for images, labels, depth in loader:
            pred = model(images)
            optimizer.zero_grad()
            if task == "semantic":
                loss = F.cross_entropy(pred, labels)
                loss.backward()
                optimizer.step()
            if task == "depth":
                loss = F.l1_loss(pred, depth)
                loss.backward()
                optimizer.step()
""",
)
