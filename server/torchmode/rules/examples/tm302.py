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
        """\
import torch
import torch.nn as nn


def train(model, loader, epochs=5, lr=1e-3):
    criterion = nn.CrossEntropyLoss()
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    for epoch in range(epochs):
        for images, labels in loader:
            loss = criterion(model(images), labels)
            optimizer.zero_grad()
            loss.backward()
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
            self.optimizer.zero_grad()
            loss.backward()
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
        """\
import torch

scaler = torch.amp.GradScaler("cuda")
for epoch in range(epochs):
    model.train()
    for x, y in train_loader:
        x, y = x.cuda(non_blocking=True), y.cuda(non_blocking=True)
        with torch.autocast("cuda", dtype=torch.float16):
            loss = criterion(model(x), y)
        optimizer.zero_grad(set_to_none=True)
        scaler.scale(loss).backward()
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
    optimizer.zero_grad()
    policy_loss.backward()
    optimizer.step()
    del policy.rewards[:], policy.saved_log_probs[:]
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
        self.optimizer.zero_grad()
        loss.backward()
        self.optimizer.step()
        return loss.item()
""",
    ),
)

VALID: tuple[str, ...] = (
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
)
