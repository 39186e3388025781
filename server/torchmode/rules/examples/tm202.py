"""TM202 examples, modelled on real training and evaluation code (see each comment)."""

from torchmode.rules.base import Invalid
from torchmode.rules.examples import shared

INVALID: tuple[Invalid, ...] = (
    # training step pasted from validation code: forward and loss under no_grad (monodepth2 #24)
    Invalid(
        """\
import torch


def train_epoch(model, loader, criterion, optimizer):
    model.train()
    for inputs, targets in loader:
        with torch.no_grad():
            outputs = model(inputs)
            loss = criterion(outputs, targets)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
""",
        (11,),
    ),
    # arcface-style training loop: features and margin head under no_grad (arcface-pytorch #56)
    Invalid(
        """\
import torch

for epoch in range(max_epoch):
    model.train()
    for data_input, label in trainloader:
        with torch.no_grad():
            feature = model(data_input)
            output = metric_fc(feature, label)
        loss = criterion(output, label)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
""",
        (11,),
    ),
    # a loss helper decorated with `@torch.inference_mode()` for evaluation, reused for training
    Invalid(
        """\
import torch
import torch.nn.functional as F


@torch.inference_mode()
def compute_loss(model, batch):
    logits = model(batch["input_ids"], attention_mask=batch["attention_mask"])
    return F.cross_entropy(logits.view(-1, logits.size(-1)), batch["labels"].view(-1))


model.train()
for batch in train_loader:
    loss = compute_loss(model, batch)
    loss.backward()
    optimizer.step()
    optimizer.zero_grad()
""",
        (14,),
    ),
    # inference script turned into fine-tuning: global `set_grad_enabled(False)` still on
    Invalid(
        """\
import torch

torch.set_grad_enabled(False)
model = build_model(cfg)
model.load_state_dict(torch.load(cfg.weights))

optimizer = torch.optim.AdamW(model.parameters(), lr=1e-5)
model.train()
for images, masks in finetune_loader:
    pred = model(images)
    loss = dice_loss(pred, masks)
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
""",
        (13,),
    ),
    # AMP training step with autocast and no_grad in one `with`, backward through GradScaler
    Invalid(
        """\
import torch

scaler = torch.cuda.amp.GradScaler()
model.train()
for images, targets in loader:
    images, targets = images.cuda(), targets.cuda()
    with torch.autocast("cuda", dtype=torch.float16), torch.no_grad():
        output = model(images)
        loss = criterion(output, targets)
    optimizer.zero_grad(set_to_none=True)
    scaler.scale(loss).backward()
    scaler.step(optimizer)
    scaler.update()
""",
        (11,),
    ),
    # a trainer's step method decorated with `@torch.no_grad()` copied from its eval method
    Invalid(
        """\
import torch


class Trainer:
    def __init__(self, model, optimizer, criterion):
        self.model = model
        self.optimizer = optimizer
        self.criterion = criterion

    @torch.no_grad()
    def evaluate_batch(self, x, y):
        self.model.eval()
        return self.criterion(self.model(x), y).item()

    @torch.no_grad()
    def train_batch(self, x, y):
        self.model.train()
        loss = self.criterion(self.model(x), y)
        self.optimizer.zero_grad()
        loss.backward()
        self.optimizer.step()
        return loss.item()
""",
        (20,),
    ),
    # the whole epoch loop wrapped in `inference_mode()` to make a slow script faster
    Invalid(
        """\
import torch

model.train()
with torch.inference_mode():
    for epoch in range(num_epochs):
        for batch in train_loader:
            inputs, labels = batch["image"].to(device), batch["label"].to(device)
            logits = model(inputs)
            loss = criterion(logits, labels)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
        print(f"epoch {epoch}: {loss.item():.4f}")
""",
        (11,),
    ),
    # distillation: the student's forward put inside the teacher's no_grad block by mistake
    Invalid(
        """\
import torch
import torch.nn.functional as F


def distill_epoch(student, teacher, loader, optimizer, T=4.0):
    teacher.eval()
    student.train()
    for x, y in loader:
        with torch.no_grad():
            t_logits = teacher(x)
            s_logits = student(x)
        kd = F.kl_div(
            F.log_softmax(s_logits / T, dim=-1),
            F.softmax(t_logits / T, dim=-1),
            reduction="batchmean",
        )
        loss = kd * T * T + F.cross_entropy(s_logits, y)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
""",
        (19,),
    ),
    # RL agent class: critic (passed in) evaluated under inference_mode, then a value loss
    Invalid(
        """\
import torch
import torch.nn.functional as F


class Agent:
    def __init__(self, critic, optimizer):
        self.critic = critic
        self.optimizer = optimizer

    def update_critic(self, obs, returns):
        with torch.inference_mode():
            values = self.critic(obs).squeeze(-1)
        value_loss = F.mse_loss(values, returns)
        self.optimizer.zero_grad()
        value_loss.backward()
        self.optimizer.step()
""",
        (15,),
    ),
)

VALID: tuple[str, ...] = (
    shared.TRAIN_OR_EVALUATE,
    # MoCo (moco builder.py): keys under no_grad, logits mix them with the trainable queries
    """\
import torch
import torch.nn.functional as F


class MoCo(torch.nn.Module):
    def __init__(self, encoder_q, encoder_k, m=0.999, T=0.07):
        super().__init__()
        self.encoder_q, self.encoder_k, self.m, self.T = encoder_q, encoder_k, m, T

    @torch.no_grad()
    def _momentum_update_key_encoder(self):
        for q, k in zip(self.encoder_q.parameters(), self.encoder_k.parameters()):
            k.data = k.data * self.m + q.data * (1.0 - self.m)

    def forward(self, im_q, im_k):
        q = F.normalize(self.encoder_q(im_q), dim=1)
        with torch.no_grad():
            self._momentum_update_key_encoder()
            k = F.normalize(self.encoder_k(im_k), dim=1)
        return (q * k).sum(1, keepdim=True) / self.T


for im_q, im_k in loader:
    logits = moco(im_q, im_k)
    loss = -logits.mean()
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
""",
    # knowledge distillation (pytorch/tutorials): teacher under no_grad, student outside it
    """\
import torch
import torch.nn.functional as F

teacher.eval()
student.train()
for inputs, labels in train_loader:
    optimizer.zero_grad()
    with torch.no_grad():
        teacher_logits = teacher(inputs)
    student_logits = student(inputs)
    soft_targets = F.softmax(teacher_logits / T, dim=-1)
    soft_prob = F.log_softmax(student_logits / T, dim=-1)
    distill = torch.sum(soft_targets * (soft_targets.log() - soft_prob)) / soft_prob.size(0)
    loss = 0.25 * distill * T**2 + 0.75 * F.cross_entropy(student_logits, labels)
    loss.backward()
    optimizer.step()
""",
    # DQN target computed under no_grad, Q-values of the policy network with grad
    """\
import torch
import torch.nn.functional as F

for step in range(total_steps):
    obs, actions, rewards, next_obs, dones = replay_buffer.sample(batch_size)
    with torch.no_grad():
        target_max = target_network(next_obs).max(dim=1).values
        td_target = rewards + gamma * target_max * (1 - dones)
    old_val = q_network(obs).gather(1, actions).squeeze()
    loss = F.mse_loss(td_target, old_val)
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
""",
    # PPO (cleanrl-style): rollout under no_grad, the update recomputes log-probs with grad
    """\
import torch

for update in range(num_updates):
    for step in range(num_steps):
        with torch.no_grad():
            action, logprob, _, value = agent.get_action_and_value(next_obs)
        logprobs[step] = logprob
        next_obs, reward, done, info = envs.step(action.cpu().numpy())
    for epoch in range(update_epochs):
        _, newlogprob, entropy, newvalue = agent.get_action_and_value(b_obs, b_actions)
        ratio = (newlogprob - b_logprobs).exp()
        pg_loss = torch.max(-b_advantages * ratio, -b_advantages * ratio.clamp(0.8, 1.2)).mean()
        loss = pg_loss - 0.01 * entropy.mean() + 0.5 * ((newvalue - b_returns) ** 2).mean()
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
""",
    # DCGAN discriminator step on `fake.detach()`, generator step on the same fake
    """\
import torch

for real, _ in dataloader:
    noise = torch.randn(real.size(0), nz, 1, 1)
    fake = netG(noise)
    netD.zero_grad()
    errD = criterion(netD(real), ones) + criterion(netD(fake.detach()), zeros)
    errD.backward()
    optimizerD.step()
    netG.zero_grad()
    errG = criterion(netD(fake), ones)
    errG.backward()
    optimizerG.step()
""",
    # FixMatch-style pseudo-labels under no_grad, loss on the strongly augmented forward
    """\
import torch
import torch.nn.functional as F


def train_step(model, optimizer, x_l, y_l, x_weak, x_strong, threshold=0.95):
    with torch.no_grad():
        probs = F.softmax(model(x_weak), dim=-1)
        confidence, pseudo = probs.max(dim=-1)
        mask = (confidence >= threshold).float()
    sup = F.cross_entropy(model(x_l), y_l)
    unsup = (F.cross_entropy(model(x_strong), pseudo, reduction="none") * mask).mean()
    loss = sup + unsup
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
""",
    # PGD adversarial training: the perturbation is created under no_grad, then `requires_grad_()`
    """\
import torch
import torch.nn.functional as F


def pgd_attack(model, x, y, eps, alpha, steps):
    with torch.no_grad():
        delta = torch.empty_like(x).uniform_(-eps, eps)
    delta.requires_grad_(True)
    for _ in range(steps):
        loss = F.cross_entropy(model(x + delta), y)
        loss.backward()
        with torch.no_grad():
            delta += alpha * delta.grad.sign()
            delta.clamp_(-eps, eps)
        delta.grad.zero_()
    return delta.detach()
""",
    # grad globally off for a test-time loop, `enable_grad()` around the adaptation step
    """\
import torch

torch.set_grad_enabled(False)
for x, _ in stream:
    with torch.enable_grad():
        logits = model(x)
        loss = -(logits.softmax(1) * logits.log_softmax(1)).sum(1).mean()
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    predictions.append(model(x).argmax(1))
""",
    # `loss` rebound by the training step after a no_grad validation used the same name
    """\
import torch

for epoch in range(epochs):
    model.eval()
    with torch.no_grad():
        for x, y in val_loader:
            loss = criterion(model(x), y)
            val_meter.update(loss.item())
    model.train()
    for x, y in train_loader:
        loss = criterion(model(x), y)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
""",
    # accuracy bookkeeping under no_grad after the backward (MAML meta.py-style)
    """\
import torch
import torch.nn.functional as F

for x, y in train_loader:
    logits = model(x)
    loss = F.cross_entropy(logits, y)
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    with torch.no_grad():
        pred = F.softmax(logits, dim=1).argmax(dim=1)
        correct = torch.eq(pred, y).sum().item()
""",
    # transfer-learning tutorial: `set_grad_enabled(phase == 'train')`, backward in train only
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
    # BYOL / mean-teacher step: target projections under no_grad, online predictions with grad
    """\
import torch
import torch.nn.functional as F


def byol_loss(p, z):
    return 2 - 2 * F.cosine_similarity(p, z, dim=-1).mean()


for view1, view2 in loader:
    with torch.no_grad():
        target1 = target_net(view1)
        target2 = target_net(view2)
    pred1 = predictor(online_net(view1))
    pred2 = predictor(online_net(view2))
    loss = byol_loss(pred1, target2) + byol_loss(pred2, target1)
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    ema_update(target_net, online_net, tau)
""",
    # Lightning manual optimisation (GAN): fakes under no_grad for the D step, `manual_backward`
    """\
import lightning as L
import torch
import torch.nn.functional as F


class GAN(L.LightningModule):
    def __init__(self, generator, discriminator, latent_dim=100):
        super().__init__()
        self.generator = generator
        self.discriminator = discriminator
        self.latent_dim = latent_dim
        self.automatic_optimization = False

    def training_step(self, batch, batch_idx):
        opt_g, opt_d = self.optimizers()
        real, _ = batch
        z = torch.randn(real.size(0), self.latent_dim, device=self.device)
        with torch.no_grad():
            fake = self.generator(z)
        real_logits = self.discriminator(real)
        fake_logits = self.discriminator(fake)
        d_loss = F.softplus(-real_logits).mean() + F.softplus(fake_logits).mean()
        opt_d.zero_grad()
        self.manual_backward(d_loss)
        opt_d.step()
        g_loss = F.softplus(-self.discriminator(self.generator(z))).mean()
        opt_g.zero_grad()
        self.manual_backward(g_loss)
        opt_g.step()
""",
    # DPO-style step with accelerate: frozen reference model under no_grad, `accelerator.backward`
    """\
import torch
import torch.nn.functional as F


def sequence_logps(model, batch):
    logits = model(batch["input_ids"], attention_mask=batch["attention_mask"]).logits
    logps = torch.gather(logits.log_softmax(-1), 2, batch["labels"].unsqueeze(-1)).squeeze(-1)
    return (logps * batch["loss_mask"]).sum(-1)


for batch in train_dataloader:
    with torch.no_grad():
        ref_chosen = sequence_logps(ref_model, batch["chosen"])
        ref_rejected = sequence_logps(ref_model, batch["rejected"])
    policy_chosen = sequence_logps(policy, batch["chosen"])
    policy_rejected = sequence_logps(policy, batch["rejected"])
    margin = (policy_chosen - ref_chosen) - (policy_rejected - ref_rejected)
    loss = -F.logsigmoid(beta * margin).mean()
    accelerator.backward(loss)
    optimizer.step()
    optimizer.zero_grad()
""",
    # input preprocessing under no_grad (frozen feature normaliser), the model trained on top
    """\
import torch

for waveforms, labels in loader:
    with torch.no_grad():
        features = feature_extractor(waveforms)
        features = (features - mean) / std
    logits = classifier(features)
    loss = criterion(logits, labels)
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
""",
    # the loss built under `enable_grad()` nested inside a no_grad block (meta-learning inner step)
    """\
import torch

with torch.no_grad():
    support_feats = backbone(x_support)
    with torch.enable_grad():
        logits = head(support_feats)
        loss = criterion(logits, y_support)
        loss.backward()
    head_optimizer.step()
""",
)
