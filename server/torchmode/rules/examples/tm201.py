"""TM201 examples, modelled on real training and evaluation code (see each comment)."""

from torchmode.rules.base import Invalid
from torchmode.rules.examples import shared


# a helper not named like an evaluation, called by the epoch loop with the validation loader
_TOP1_FIT = """\
import torch
import torch.nn.functional as F


def top1(net, loader):
    hits = 0
    for images, labels in loader:
        hits += (net(images).argmax(1) == labels).sum().item()
    return hits / len(loader.dataset)


def fit(net, train_loader, val_loader, epochs):
    optimizer = torch.optim.SGD(net.parameters(), lr=0.1, momentum=0.9)
    for epoch in range(epochs):
        net.train()
        for images, labels in train_loader:
            optimizer.zero_grad()
            F.cross_entropy(net(images), labels).backward()
            optimizer.step()
        net.eval()
"""

INVALID: tuple[Invalid, ...] = (
    # captioning validate() with eval() but no no_grad (sgrvinod image-captioning issue #57)
    Invalid(
        """\
import torch
from nltk.translate.bleu_score import corpus_bleu


def validate(val_loader, encoder, decoder, criterion):
    encoder.eval()
    decoder.eval()
    references, hypotheses = [], []
    losses = AverageMeter()
    for imgs, caps, caplens, allcaps in val_loader:
        features = encoder(imgs)
        scores, caps_sorted, decode_lengths, sort_ind = decoder(features, caps, caplens)
        targets = caps_sorted[:, 1:]
        loss = criterion(scores.flatten(0, 1), targets.flatten())
        losses.update(loss.item(), sum(decode_lengths))
        hypotheses.extend(scores.argmax(2).tolist())
        references.extend(allcaps.tolist())
    return corpus_bleu(references, hypotheses), losses.avg
""",
        (11,),
        fix="""\
@@


+@torch.no_grad()
 def validate(val_loader, encoder, decoder, criterion):
     encoder.eval()
""",
    ),
    # trainer class (pytorch-fcn / minGPT style): validate() on `self.model`, restoring train mode
    Invalid(
        """\
import torch


class Trainer:
    def __init__(self, model, optimizer, train_loader, val_loader):
        self.model = model
        self.optimizer = optimizer
        self.train_loader = train_loader
        self.val_loader = val_loader

    def validate(self):
        self.model.eval()
        correct = total = 0
        for images, labels in self.val_loader:
            logits = self.model(images)
            correct += (logits.argmax(1) == labels).sum().item()
            total += labels.numel()
        self.model.train()
        return correct / total
""",
        (15,),
        fix="""\
@@
         self.val_loader = val_loader

+    @torch.no_grad()
     def validate(self):
         self.model.eval()
""",
    ),
    # accelerate script, inline eval loop per epoch (early transformers run_glue_no_trainer)
    Invalid(
        """\
import torch
from accelerate import Accelerator

accelerator = Accelerator()
model, optimizer, train_dataloader, eval_dataloader = accelerator.prepare(
    model, optimizer, train_dataloader, eval_dataloader
)
for epoch in range(num_train_epochs):
    model.train()
    for batch in train_dataloader:
        loss = model(**batch).loss
        accelerator.backward(loss)
        optimizer.step()
        optimizer.zero_grad()
    model.eval()
    for batch in eval_dataloader:
        outputs = model(**batch)
        predictions = outputs.logits.argmax(dim=-1)
        metric.add_batch(predictions=predictions, references=batch["labels"])
    print(epoch, metric.compute())
""",
        (17,),
        fix="""\
@@
         optimizer.zero_grad()
     model.eval()
-    for batch in eval_dataloader:
-        outputs = model(**batch)
-        predictions = outputs.logits.argmax(dim=-1)
-        metric.add_batch(predictions=predictions, references=batch["labels"])
+    with torch.no_grad():
+        for batch in eval_dataloader:
+            outputs = model(**batch)
+            predictions = outputs.logits.argmax(dim=-1)
+            metric.add_batch(predictions=predictions, references=batch["labels"])
     print(epoch, metric.compute())
""",
    ),
    # inference script taking `eval()` for no_grad (pytorch issue #4932, pytorch-mask-rcnn #59)
    Invalid(
        """\
import torch
from torchvision import models

model = models.resnet18(num_classes=10)
model.load_state_dict(torch.load("best.pt", map_location="cpu"))
model.eval()

all_preds = []
for images, _ in test_loader:
    outputs = model(images)
    all_preds.append(outputs.argmax(dim=1))
torch.save(torch.cat(all_preds), "predictions.pt")
""",
        (10,),
        fix="""\
@@

 all_preds = []
-for images, _ in test_loader:
-    outputs = model(images)
-    all_preds.append(outputs.argmax(dim=1))
+with torch.no_grad():
+    for images, _ in test_loader:
+        outputs = model(images)
+        all_preds.append(outputs.argmax(dim=1))
 torch.save(torch.cat(all_preds), "predictions.pt")
""",
    ),
    # DCGAN-style sample grid each epoch, by a helper that switches the generator to eval
    Invalid(
        """\
import torch
from torchvision.utils import save_image


def save_samples(generator, noise, path):
    generator.eval()
    fake = generator(noise)
    save_image(fake, path, nrow=8, normalize=True)
    generator.train()


for epoch in range(num_epochs):
    for real, _ in dataloader:
        d_loss, g_loss = gan_step(generator, discriminator, real)
    save_samples(generator, fixed_noise, f"samples/epoch_{epoch:03d}.png")
""",
        (7,),
        fix="""\
@@
 def save_samples(generator, noise, path):
     generator.eval()
-    fake = generator(noise)
+    with torch.no_grad():
+        fake = generator(noise)
     save_image(fake, path, nrow=8, normalize=True)
     generator.train()
""",
    ),
    # validation helper called from the training loop every N steps; `torch` imported as an alias
    Invalid(
        """\
import torch as T


def evaluate(net, loader, loss_fn):
    net.eval()
    total = 0.0
    for x, y in loader:
        total += loss_fn(net(x), y).item()
    net.train()
    return total / len(loader)


for step, (x, y) in enumerate(train_loader):
    loss = loss_fn(net(x), y)
    opt.zero_grad()
    loss.backward()
    opt.step()
    if step % 1000 == 0:
        print(step, evaluate(net, val_loader, loss_fn))
""",
        (8,),
        fix="""\
@@


+@T.no_grad()
 def evaluate(net, loader, loss_fn):
     net.eval()
""",
    ),
    # mnist-style test(): eval() and a loss sum, no no_grad
    Invalid(
        """\
import torch
import torch.nn.functional as F


def test(model, device, test_loader):
    model.eval()
    test_loss = 0
    correct = 0
    for data, target in test_loader:
        data, target = data.to(device), target.to(device)
        output = model(data)
        test_loss += F.nll_loss(output, target, reduction="sum").item()
        pred = output.argmax(dim=1, keepdim=True)
        correct += pred.eq(target.view_as(pred)).sum().item()
    test_loss /= len(test_loader.dataset)
    print(f"Test: average loss {test_loss:.4f}, accuracy {correct}/{len(test_loader.dataset)}")


for epoch in range(1, epochs + 1):
    train(model, device, train_loader, optimizer, epoch)
    test(model, device, test_loader)
""",
        (11,),
        fix="""\
@@


+@torch.no_grad()
 def test(model, device, test_loader):
     model.eval()
""",
    ),
    # Kaggle fold template valid_fn collecting sigmoid predictions, no no_grad
    Invalid(
        """\
import numpy as np
import torch


def valid_fn(valid_loader, model, criterion, device):
    model.eval()
    preds = []
    losses = AverageMeter()
    for images, labels in valid_loader:
        images, labels = images.to(device), labels.to(device)
        y_preds = model(images)
        loss = criterion(y_preds.view(-1), labels)
        losses.update(loss.item(), labels.size(0))
        preds.append(y_preds.sigmoid().to("cpu").numpy())
    return losses.avg, np.concatenate(preds)
""",
        (11,),
        fix="""\
@@


+@torch.no_grad()
 def valid_fn(valid_loader, model, criterion, device):
     model.eval()
""",
    ),
    # feature extraction for a retrieval gallery; the fix also adds `import torch`
    Invalid(
        """\
import torch.nn.functional as F
from torch.utils.data import DataLoader


def extract_features(model, dataset, device):
    loader = DataLoader(dataset, batch_size=256)
    model.eval()
    feats = []
    for images, _ in loader:
        feats.append(F.normalize(model(images.to(device)), dim=1).cpu())
    return feats
""",
        (10,),
        fix="""\
@@
+import torch
 import torch.nn.functional as F
 from torch.utils.data import DataLoader


+@torch.no_grad()
 def extract_features(model, dataset, device):
     loader = DataLoader(dataset, batch_size=256)
""",
    ),
    # scoring script: `.numpy()` on outputs that require grad raises; no `import torch` yet
    Invalid(
        """\
import numpy as np
import torch.nn as nn

model = nn.Sequential(nn.Linear(8, 8), nn.Dropout(0.1), nn.Linear(8, 1))
model.load_state_dict(state)
model.eval()
scores = []
for batch in batches:
    scores.append(model(batch).numpy())
print(np.mean(scores))
""",
        (9,),
        fix="""\
@@
+import torch
 import numpy as np
 import torch.nn as nn
@@
 model.eval()
 scores = []
-for batch in batches:
-    scores.append(model(batch).numpy())
+with torch.no_grad():
+    for batch in batches:
+        scores.append(model(batch).numpy())
 print(np.mean(scores))
""",
    ),
    # introyt trainingyt: validation after `model.train(False)`, no no_grad (fix wraps that loop)
    Invalid(
        """\
import torch

for epoch in range(EPOCHS):
    model.train(True)
    avg_loss = train_one_epoch(epoch)
    model.train(False)
    running_vloss = 0.0
    for i, vdata in enumerate(validation_loader):
        vinputs, vlabels = vdata
        voutputs = model(vinputs)
        vloss = loss_fn(voutputs, vlabels)
        running_vloss += vloss.item()
    avg_vloss = running_vloss / (i + 1)
    print(f"LOSS train {avg_loss} valid {avg_vloss}")
""",
        (10,),
        fix="""\
@@
     model.train(False)
     running_vloss = 0.0
-    for i, vdata in enumerate(validation_loader):
-        vinputs, vlabels = vdata
-        voutputs = model(vinputs)
-        vloss = loss_fn(voutputs, vlabels)
-        running_vloss += vloss.item()
+    with torch.no_grad():
+        for i, vdata in enumerate(validation_loader):
+            vinputs, vlabels = vdata
+            voutputs = model(vinputs)
+            vloss = loss_fn(voutputs, vlabels)
+            running_vloss += vloss.item()
     avg_vloss = running_vloss / (i + 1)
     print(f"LOSS train {avg_loss} valid {avg_vloss}")
""",
    ),
    # segmentation predict() helper (semseg / mmseg-style) with flip augmentation
    Invalid(
        """\
import torch
import torch.nn.functional as F


def predict(model, image, num_classes):
    model.eval()
    logits = model(image)
    logits = logits + model(torch.flip(image, dims=[3])).flip(3)
    probs = F.softmax(logits, dim=1)
    return probs.argmax(dim=1)
""",
        (7,),
        fix="""\
@@


+@torch.no_grad()
 def predict(model, image, num_classes):
     model.eval()
""",
    ),
    # seq2seq greedy decoding in evaluate() (translation tutorial, without its no_grad)
    Invalid(
        """\
import torch


def evaluate(encoder, decoder, input_tensor, max_length, sos_token, eos_token):
    encoder.eval()
    decoder.eval()
    encoder_outputs, hidden = encoder(input_tensor)
    decoder_input = torch.tensor([[sos_token]])
    decoded = []
    for _ in range(max_length):
        output, hidden = decoder(decoder_input, hidden, encoder_outputs)
        top = output.argmax(-1)
        if top.item() == eos_token:
            break
        decoded.append(top.item())
        decoder_input = top.detach()
    return decoded
""",
        (7,),
        fix="""\
@@


+@torch.no_grad()
 def evaluate(encoder, decoder, input_tensor, max_length, sos_token, eos_token):
     encoder.eval()
""",
    ),
    # the commonest script: main() under the `__main__` guard calls train and validate helpers
    Invalid(
        """\
import torch
import torch.nn as nn
import torch.nn.functional as F


class SmallNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.body = nn.Sequential(nn.Linear(32, 64), nn.ReLU(), nn.Dropout(0.2))
        self.head = nn.Linear(64, 10)

    def forward(self, x):
        return self.head(self.body(x))


def train_epoch(net, loader, opt):
    net.train()
    for x, y in loader:
        opt.zero_grad()
        F.cross_entropy(net(x), y).backward()
        opt.step()


def validate(net, loader):
    net.eval()
    correct = 0
    for x, y in loader:
        correct += (net(x).argmax(1) == y).sum().item()
    return correct


def main():
    net = SmallNet()
    opt = torch.optim.Adam(net.parameters(), lr=1e-3)
    for epoch in range(20):
        train_epoch(net, train_loader, opt)
        print(epoch, validate(net, val_loader))


if __name__ == "__main__":
    main()
""",
        (28,),
        fix="""\
@@


+@torch.no_grad()
 def validate(net, loader):
     net.eval()
""",
    ),
    # a tutorial script: a validation pass over the validation loader in every epoch, then a test pass, with autograd recording
    Invalid(
        shared.TUTORIAL_SCRIPT,
        (32, 39),
        fix="""\
@@
         optimizer.step()
         train_loss += loss.item() * data.size(0)
-    for data, target in valid_loader:
-        output = model(data)
-        loss = criterion(output, target)
-        valid_loss += loss.item() * data.size(0)
+    with torch.no_grad():
+        for data, target in valid_loader:
+            output = model(data)
+            loss = criterion(output, target)
+            valid_loss += loss.item() * data.size(0)
     print(epoch, train_loss, valid_loss)

 test_loss = 0.0
-for data, target in test_loader:
-    output = model(data)
-    loss = criterion(output, target)
-    test_loss += loss.item() * data.size(0)
+with torch.no_grad():
+    for data, target in test_loader:
+        output = model(data)
+        loss = criterion(output, target)
+        test_loss += loss.item() * data.size(0)
""",
    ),
    # a PyTorch 0.3-era test loop: `volatile=True` no longer turns autograd off
    Invalid(
        """\
import torch
from torch.autograd import Variable


def test(model, loader):
    model.eval()
    correct = 0
    for data, target in loader:
        data = Variable(data, volatile=True)
        output = model(data)
        correct += output.max(1)[1].eq(target).sum().item()
    return correct
""",
        (10,),
        fix="""\
@@


+@torch.no_grad()
 def test(model, loader):
     model.eval()
""",
    ),
    # a detector's own inference method from the 0.3 era: it puts itself in eval mode and
    # relied on `volatile=True` for the rest, which has done nothing since 0.4
    Invalid(
        """\
import torch
import torch.nn as nn
from torch.autograd import Variable


class Detector(nn.Module):
    def __init__(self, backbone, head):
        super().__init__()
        self.backbone = backbone
        self.head = head

    def forward(self, x):
        return self.head(self.backbone(x))

    def predict(self, images):
        self.eval()
        boxes = []
        for image in images:
            x = Variable(torch.from_numpy(image)[None], volatile=True)
            boxes.append(self(x).data.cpu().numpy())
        return boxes
""",
        (20,),
        fix="""\
@@
         return self.head(self.backbone(x))
 
+    @torch.no_grad()
     def predict(self, images):
         self.eval()
""",
    ),
    # a trainer class whose train() method shares its name with a variable it stores
    Invalid(
        """\
import torch
import torch.nn as nn


class Trainer:
    def __init__(self, model, train, val):
        self.model = model
        self.train_data = train  # a name handed on, the same as the method's
        self.val_data = val
        self.optimizer = torch.optim.Adam(model.parameters())

    def train(self, epochs):
        for epoch in range(epochs):
            self.model.train()
            for x, y in self.train_data:
                self.optimizer.zero_grad()
                nn.functional.mse_loss(self.model(x), y).backward()
                self.optimizer.step()
            self._validate()

    def _validate(self):
        self.model.eval()
        for x, y in self.val_data:
            print(nn.functional.mse_loss(self.model(x), y).item())


def main(train, val):
    model = nn.Sequential(nn.Linear(4, 4), nn.Dropout(0.1))
    Trainer(model, train=train, val=val).train(10)
""",
        (24,),
        fix="""\
@@
             self._validate()

+    @torch.no_grad()
     def _validate(self):
         self.model.eval()
""",
    ),
    # A GAN vocoder trainer keeping its networks in a dict: the dev loss of each evaluation
    # step is computed with gradients on, and every batch's graph is built for nothing.
    Invalid(
        """\
import torch
from torch import nn


class VocoderTrainer:
    def __init__(self, model, optimizer, loaders):
        self.model = model  # {"generator": ..., "discriminator": ...}
        self.optimizer = optimizer
        self.loaders = loaders

    def _train_step(self, mel, wav):
        fake = self.model["generator"](mel)
        loss = nn.functional.l1_loss(fake, wav)
        self.optimizer["generator"].zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(self.model["generator"].parameters(), 10.0)
        self.optimizer["generator"].step()

    def _eval_step(self, mel, wav):
        fake = self.model["generator"](mel)
        return nn.functional.l1_loss(fake, wav).item()

    def _eval_epoch(self):
        for name in self.model.keys():
            self.model[name].eval()
        losses = [self._eval_step(mel, wav) for mel, wav in self.loaders["dev"]]
        for name in self.model.keys():
            self.model[name].train()
        return sum(losses) / len(losses)

    def run(self):
        for step, (mel, wav) in enumerate(self.loaders["train"]):
            self._train_step(mel, wav)
            if step % 1000 == 0:
                print(self._eval_epoch())
""",
        (20,),
        fix="""\
@@
         self.optimizer["generator"].step()
 
+    @torch.no_grad()
     def _eval_step(self, mel, wav):
         fake = self.model["generator"](mel)
""",
    ),
    # one function for both phases, its steps under `if training:`; called with training=False
    # it only evaluates, and the fix keeps the gradients the training call needs
    Invalid(
        """\
import torch
import torch.nn.functional as F


def run_epoch(model, loader, optimizer, training):
    model.train(training)
    total = 0.0
    for x, y in loader:
        loss = F.cross_entropy(model(x), y)
        if training:
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
        total += loss.item()
    return total / len(loader)


def fit(model, optimizer, train_loader, val_loader, epochs):
    for epoch in range(epochs):
        run_epoch(model, train_loader, optimizer, training=True)
        print(epoch, run_epoch(model, val_loader, optimizer, training=False))
""",
        (9,),
        fix="""\
@@
     for x, y in loader:
-        loss = F.cross_entropy(model(x), y)
+        with torch.set_grad_enabled(training):
+            loss = F.cross_entropy(model(x), y)
         if training:
""",
    ),
    # an actor-critic's rollout from the PyTorch 0.3 era: the policy's own sampling method is
    # given `volatile=True` observations so that collecting experience builds no graph; since
    # 0.4 every step records one (the update recomputes what it needs with gradients)
    Invalid(
        """\
import gym
import torch
import torch.nn as nn
from torch.autograd import Variable


class ActorCritic(nn.Module):
    def __init__(self, n_obs, n_actions):
        super().__init__()
        self.body = nn.Sequential(nn.Linear(n_obs, 64), nn.Tanh())
        self.pi = nn.Linear(64, n_actions)
        self.v = nn.Linear(64, 1)

    def forward(self, obs):
        h = self.body(obs)
        return self.pi(h), self.v(h)

    def sample(self, obs):
        logits, value = self(obs)
        return torch.distributions.Categorical(logits=logits).sample(), value

    def log_probs(self, obs, actions):
        logits, value = self(obs)
        return torch.distributions.Categorical(logits=logits).log_prob(actions), value


def main():
    env = gym.make("CartPole-v1")
    policy = ActorCritic(4, 2)
    optimizer = torch.optim.RMSprop(policy.parameters(), lr=7e-4)
    obs = torch.from_numpy(env.reset()).float()
    for update in range(1000):
        observations, actions, rewards = [], [], []
        for step in range(5):
            action, _ = policy.sample(Variable(obs[None], volatile=True))
            observations.append(obs)
            actions.append(action.data)
            obs, reward, done, _ = env.step(action.data[0])
            obs = torch.from_numpy(env.reset() if done else obs).float()
            rewards.append(reward)
        returns = torch.tensor(rewards).flip(0).cumsum(0).flip(0)
        log_probs, values = policy.log_probs(torch.stack(observations), torch.cat(actions))
        advantage = returns - values.squeeze(1)
        loss = -(log_probs * advantage.detach()).mean() + advantage.pow(2).mean()
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()


if __name__ == "__main__":
    main()
""",
        (35,),
        fix="""\
@@
         for step in range(5):
-            action, _ = policy.sample(Variable(obs[None], volatile=True))
+            with torch.no_grad():
+                action, _ = policy.sample(Variable(obs[None], volatile=True))
             observations.append(obs)
""",
    ),
    # a segmentation network switched to eval mode every 100 iterations to score one batch
    # drawn from the test loader with next(); nothing of it is backpropagated, yet autograd
    # records its graph
    Invalid(
        """\
import torch
import torch.nn as nn


def train(seg, criterion, train_loader, test_loader, epochs, device="cuda"):
    opt = torch.optim.Adam(seg.parameters(), lr=2e-4)
    for epoch in range(epochs):
        for i, (img, mask) in enumerate(train_loader):
            seg.train()
            loss = criterion(seg(img.to(device)), mask.to(device))
            opt.zero_grad()
            loss.backward()
            opt.step()
            if i % 100 == 0:
                seg.eval()
                img_t, mask_t = next(iter(test_loader))
                out = seg(img_t.to(device))
                print(epoch, i, criterion(out, mask_t.to(device)).item())
""",
        lines=(17,),
        fix="""\
@@
             opt.step()
-            if i % 100 == 0:
-                seg.eval()
-                img_t, mask_t = next(iter(test_loader))
-                out = seg(img_t.to(device))
-                print(epoch, i, criterion(out, mask_t.to(device)).item())
+            with torch.no_grad():
+                if i % 100 == 0:
+                    seg.eval()
+                    img_t, mask_t = next(iter(test_loader))
+                    out = seg(img_t.to(device))
+                    print(epoch, i, criterion(out, mask_t.to(device)).item())
""",
    ),
    # a training function with its own validation loop after each epoch, called from main()
    # under the __main__ guard (prototypical-networks style): the callee tells its evaluation
    # from its training itself, so the caller need not name it an evaluation
    Invalid(
        """\
import torch
from torch import nn


def fit(opt, episodes, net, optimizer, val_episodes=None):
    history = []
    for epoch in range(opt.epochs):
        net.train()
        for support, query in episodes:
            optimizer.zero_grad()
            loss = episode_loss(net(support), net(query))
            loss.backward()
            optimizer.step()
        if val_episodes is None:
            continue
        net.eval()
        for support, query in iter(val_episodes):
            scores = episode_loss(net(support), net(query))
            history.append(scores.item())
    return history


def main():
    net = nn.Sequential(nn.Conv2d(1, 64, 3), nn.BatchNorm2d(64), nn.ReLU(), nn.Flatten())
    optimizer = torch.optim.Adam(net.parameters(), lr=1e-3)
    fit(opt=options, episodes=train_episodes, val_episodes=val_episodes, net=net,
        optimizer=optimizer)


if __name__ == "__main__":
    main()
""",
        (18,),
        fix="""\
@@
         net.eval()
-        for support, query in iter(val_episodes):
-            scores = episode_loss(net(support), net(query))
-            history.append(scores.item())
+        with torch.no_grad():
+            for support, query in iter(val_episodes):
+                scores = episode_loss(net(support), net(query))
+                history.append(scores.item())
     return history
""",
    ),
    # full-batch node classification (GCN/GAT tutorial style): a test function at the end of
    # the script switches the model to eval mode itself, then runs it with gradients on; the
    # module-level call after the training loop does not have to say it evaluates
    Invalid(
        """\
import torch
import torch.nn.functional as F

model = GraphNet(n_features, 16, n_classes, dropout=0.5)
optimizer = torch.optim.Adam(model.parameters(), lr=0.01, weight_decay=5e-4)


def train_epoch():
    model.train()
    optimizer.zero_grad()
    out = model(features, adjacency)
    F.nll_loss(out[train_idx], labels[train_idx]).backward()
    optimizer.step()


def report_test():
    model.eval()
    out = model(features, adjacency)
    print(F.nll_loss(out[test_idx], labels[test_idx]).item())


for epoch in range(200):
    train_epoch()
report_test()
""",
        (18,),
        fix="""\
@@
 def report_test():
     model.eval()
-    out = model(features, adjacency)
+    with torch.no_grad():
+        out = model(features, adjacency)
     print(F.nll_loss(out[test_idx], labels[test_idx]).item())
""",
    ),
    # a forward helper that branches on the module's own mode; the evaluation branch,
    # taken after the caller's eval(), records graphs (dense retriever dev-set accuracy)
    Invalid(
        """\
import torch


def biencoder_pass(biencoder, batch):
    if biencoder.training:
        q, p = biencoder(batch["query"], batch["passage"])
    else:
        q, p = biencoder(batch["query"], batch["passage"])
    scores = q @ p.t()
    return scores.argmax(1).eq(batch["target"]).sum().item()


def run_dev(biencoder, dev_batches):
    biencoder.eval()
    correct = 0
    for batch in dev_batches:
        correct += biencoder_pass(biencoder, batch)
    biencoder.train()
    return correct
""",
        (8,),
        fix="""\
@@
         q, p = biencoder(batch["query"], batch["passage"])
     else:
-        q, p = biencoder(batch["query"], batch["passage"])
+        with torch.no_grad():
+            q, p = biencoder(batch["query"], batch["passage"])
     scores = q @ p.t()
""",
    ),
    # a helper not named like an evaluation, handed the validation loader from the epoch
    # loop: it runs the model on that data to evaluate, with gradients on
    Invalid(
        _TOP1_FIT + "        print(epoch, top1(net, val_loader))\n",
        (8,),
        fix="""\
@@
 
 
+@torch.no_grad()
 def top1(net, loader):
     hits = 0
""",
    ),
    # One epoch function for both phases, its step under `if not cross_valid:`: the call with
    # `cross_valid=True` only evaluates, with gradients on
    Invalid(
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
        (23,),
        fix="""\
@@
         for mixture, sources in loader:
-            loss = (self.model(mixture) - sources).abs().mean()
+            with torch.set_grad_enabled(not cross_valid):
+                loss = (self.model(mixture) - sources).abs().mean()
             if not cross_valid:
""",
    ),
)

VALID: tuple[str, ...] = (
    # REINFORCE: the log-probabilities of the sampled actions are the loss, so the rollout
    # needs its graph (no `volatile` says otherwise)
    """\
import gym
import torch
import torch.nn as nn


class Policy(nn.Module):
    def __init__(self):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(4, 64), nn.ReLU(), nn.Linear(64, 2))

    def forward(self, obs):
        return self.net(obs)

    def sample(self, obs):
        dist = torch.distributions.Categorical(logits=self(obs))
        action = dist.sample()
        return action, dist.log_prob(action)


def main():
    env = gym.make("CartPole-v1")
    policy = Policy()
    optimizer = torch.optim.Adam(policy.parameters(), lr=1e-2)
    for episode in range(500):
        obs, done, log_probs, rewards = env.reset(), False, [], []
        while not done:
            action, log_prob = policy.sample(torch.from_numpy(obs).float())
            obs, reward, done, _ = env.step(action.item())
            log_probs.append(log_prob)
            rewards.append(reward)
        returns = torch.tensor(rewards).flip(0).cumsum(0).flip(0)
        loss = -(torch.stack(log_probs) * returns).sum()
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()


if __name__ == "__main__":
    main()
""",
    # ported to 0.4 halfway: `volatile` is still there, but the rollout step is under no_grad
    """\
import torch
import torch.nn as nn
from torch.autograd import Variable


class QNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(8, 128), nn.ReLU(), nn.Linear(128, 4))

    def forward(self, obs):
        return self.net(obs)

    def greedy(self, obs):
        return self(obs).max(1)[1]


def play(env, episodes):
    qnet = QNet()
    qnet.load_state_dict(torch.load("qnet.pt"))
    for episode in range(episodes):
        obs, done = env.reset(), False
        while not done:
            with torch.no_grad():
                action = qnet.greedy(Variable(torch.from_numpy(obs)[None], volatile=True))
            obs, _, done, _ = env.step(action.item())
""",
    # a model's own inference method without `volatile`: whether it runs under no_grad is its
    # callers' business (they are not in sight)
    """\
import torch
import torch.nn as nn


class Detector(nn.Module):
    def __init__(self, backbone, head):
        super().__init__()
        self.backbone = backbone
        self.head = head

    def forward(self, x):
        return self.head(self.backbone(x))

    def predict(self, images):
        self.eval()
        return [self(torch.from_numpy(image)[None]) for image in images]
""",
    # an embedding table built from pretrained vectors is frozen by default
    """\
import torch
import torch.nn as nn


def nearest_words(vectors, queries, k=5):
    # pretrained word vectors, frozen: looking them up records nothing
    embed = nn.Embedding.from_pretrained(vectors)
    embed.eval()
    found = embed(queries) @ vectors.T
    return found.topk(k).indices
""",
    # step functions made by factories and handed to a batch helper; the caller turns
    # gradients off around the validation pass (a course's trainer, before it becomes a class)
    """\
import torch
import torch.nn as nn


def make_train_step_fn(model, loss_fn, optimizer):
    def perform_train_step_fn(x, y):
        model.train()
        loss = loss_fn(model(x), y)
        loss.backward()
        optimizer.step()
        optimizer.zero_grad()
        return loss.item()
    return perform_train_step_fn


def make_val_step_fn(model, loss_fn):
    def perform_val_step_fn(x, y):
        model.eval()
        loss = loss_fn(model(x), y)
        return loss.item()
    return perform_val_step_fn


def mini_batch(loader, step_fn):
    return [step_fn(x, y) for x, y in loader]


model = nn.Sequential(nn.Linear(4, 8), nn.Dropout(0.2), nn.Linear(8, 1))
optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
loss_fn = nn.MSELoss()
train_step_fn = make_train_step_fn(model, loss_fn, optimizer)
val_step_fn = make_val_step_fn(model, loss_fn)
for epoch in range(100):
    losses = mini_batch(train_loader, train_step_fn)
    with torch.no_grad():
        val_losses = mini_batch(val_loader, val_step_fn)
""",
    # `torch` comes from a star import of a project module (a segmentation trainer)
    """\
# the trainer module star-imports a model module of the project, which imports torch
from modeling.segnet import *


class Trainer:
    def __init__(self, args):
        self.model = SegNet(args.classes)
        self.optimizer = torch.optim.SGD(self.model.parameters(), lr=args.lr)

    def training(self, loader):
        self.model.train()
        for image, target in loader:
            self.optimizer.zero_grad()
            loss = self.criterion(self.model(image), target)
            loss.backward()
            self.optimizer.step()

    def validation(self, loader):
        self.model.eval()
        for image, target in loader:
            with torch.no_grad():
                output = self.model(image)
            self.evaluator.add_batch(target, output.argmax(1))


def main(args):
    trainer = Trainer(args)
    for epoch in range(args.epochs):
        trainer.training(args.train_loader)
        trainer.validation(args.val_loader)


if __name__ == "__main__":
    main(parse_args())
""",
    # evaluation decorated with `@torch.no_grad()` (nanoGPT estimate_loss, DAB-DETR evaluate)
    """\
import torch


@torch.no_grad()
def estimate_loss(model, get_batch, eval_iters):
    out = {}
    model.eval()
    for split in ["train", "val"]:
        losses = torch.zeros(eval_iters)
        for k in range(eval_iters):
            x, y = get_batch(split)
            _, loss = model(x, y)
            losses[k] = loss.item()
        out[split] = losses.mean()
    model.train()
    return out
""",
    # no_grad at the call site of the evaluation helper (pytorch/examples vae style)
    """\
import torch


def evaluate(model, loader, criterion):
    model.eval()
    total = 0.0
    for x, y in loader:
        total += criterion(model(x), y).item()
    return total / len(loader)


for epoch in range(epochs):
    train_one_epoch(model, train_loader, optimizer, criterion)
    with torch.no_grad():
        val_loss = evaluate(model, val_loader, criterion)
    model.train()
    print(epoch, val_loss)
""",
    # `torch.inference_mode()` around the evaluation loop (pytorch/vision references classification)
    """\
import torch


def evaluate(model, criterion, data_loader, device):
    model.eval()
    metric_logger = MetricLogger()
    with torch.inference_mode():
        for image, target in data_loader:
            image, target = image.to(device), target.to(device)
            output = model(image)
            loss = criterion(output, target)
            acc1, acc5 = accuracy(output, target, topk=(1, 5))
            metric_logger.update(loss=loss.item(), acc1=acc1.item(), acc5=acc5.item())
    return metric_logger.acc1.global_avg
""",
    # `set_grad_enabled(phase == 'train')` in the transfer-learning tutorial's phase loop
    """\
import torch

for epoch in range(num_epochs):
    for phase in ["train", "val"]:
        if phase == "train":
            model.train()
        else:
            model.eval()
        running_corrects = 0
        for inputs, labels in dataloaders[phase]:
            optimizer.zero_grad()
            with torch.set_grad_enabled(phase == "train"):
                outputs = model(inputs)
                loss = criterion(outputs, labels)
                if phase == "train":
                    loss.backward()
                    optimizer.step()
            running_corrects += torch.sum(outputs.argmax(1) == labels.data)
""",
    # shared run_epoch choosing `enable_grad()` or `no_grad()` at run time
    """\
import torch


def run_epoch(model, loader, criterion, optimizer=None):
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


train_loss = run_epoch(model, train_loader, criterion, optimizer)
val_loss = run_epoch(model, val_loader, criterion)
""",
    # test-time adaptation (Tent): grad globally off, `enable_grad()` only around the update
    """\
import torch

torch.set_grad_enabled(False)
model.train()
model.requires_grad_(False)
for m in model.modules():
    if isinstance(m, torch.nn.BatchNorm2d):
        m.requires_grad_(True)
for x, _ in test_loader:
    with torch.enable_grad():
        logits = model(x)
        entropy = -(logits.softmax(1) * logits.log_softmax(1)).sum(1).mean()
        optimizer.zero_grad()
        entropy.backward()
        optimizer.step()
    results.append(logits.argmax(1))
""",
    # Lightning validation/test/predict steps: the Trainer runs them under no_grad and eval()
    """\
import lightning as L
import torch.nn.functional as F


class LitClassifier(L.LightningModule):
    def __init__(self, backbone):
        super().__init__()
        self.backbone = backbone

    def training_step(self, batch, batch_idx):
        x, y = batch
        return F.cross_entropy(self.backbone(x), y)

    def validation_step(self, batch, batch_idx):
        x, y = batch
        logits = self.backbone(x)
        self.log("val_loss", F.cross_entropy(logits, y))

    def test_step(self, batch, batch_idx):
        x, y = batch
        self.log("test_acc", (self.backbone(x).argmax(1) == y).float().mean())

    def predict_step(self, batch, batch_idx):
        return self.backbone(batch[0]).softmax(-1)
""",
    # REINFORCE select_action: the forward feeds the later policy-gradient backward (reinforce.py)
    """\
import torch
from torch.distributions import Categorical


def select_action(policy, state):
    state = torch.from_numpy(state).float().unsqueeze(0)
    probs = policy(state)
    m = Categorical(probs)
    action = m.sample()
    policy.saved_log_probs.append(m.log_prob(action))
    return action.item()


def finish_episode(policy, optimizer, returns):
    policy_loss = torch.cat([-lp * r for lp, r in zip(policy.saved_log_probs, returns)]).sum()
    optimizer.zero_grad()
    policy_loss.backward()
    optimizer.step()
    del policy.saved_log_probs[:]
""",
    # knowledge distillation: the frozen teacher (eval + requires_grad_(False)) records no graph
    """\
import torch.nn.functional as F

teacher.eval()
teacher.requires_grad_(False)
student.train()
for x, y in train_loader:
    soft = F.softmax(teacher(x) / T, dim=-1)
    logits = student(x)
    loss = F.kl_div(F.log_softmax(logits / T, dim=-1), soft, reduction="batchmean") * T * T
    loss = loss + F.cross_entropy(logits, y)
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
""",
    # adversarial evaluation (FGSM): eval mode, but gradients w.r.t. the input are needed
    """\
import torch
import torch.nn.functional as F


def fgsm_accuracy(model, loader, eps):
    model.eval()
    correct = 0
    for x, y in loader:
        x = x.clone().requires_grad_(True)
        loss = F.cross_entropy(model(x), y)
        grad, = torch.autograd.grad(loss, x)
        x_adv = (x + eps * grad.sign()).clamp(0, 1)
        with torch.no_grad():
            correct += (model(x_adv).argmax(1) == y).sum().item()
    return correct / len(loader.dataset)
""",
    # predictor class (detectron2 DefaultPredictor): eval() in __init__, inference_mode on __call__
    """\
import torch


class Predictor:
    def __init__(self, model, weights):
        self.model = model
        self.model.load_state_dict(torch.load(weights, map_location="cpu"))
        self.model.eval()

    @torch.inference_mode()
    def __call__(self, image):
        inputs = self.preprocess(image)
        return self.model(inputs)[0]

    def preprocess(self, image):
        return torch.as_tensor(image).permute(2, 0, 1).float()[None] / 255
""",
    # `from torch import no_grad` and `set_grad_enabled(False)` inside the evaluation function
    """\
import torch
from torch import no_grad


def validate(model, loader):
    model.eval()
    torch.set_grad_enabled(False)
    losses = [criterion(model(x), y).item() for x, y in loader]
    torch.set_grad_enabled(True)
    model.train()
    return sum(losses) / len(losses)


def test(model, loader):
    model.eval()
    with no_grad():
        return sum((model(x).argmax(1) == y).sum().item() for x, y in loader)
""",
    # DQN (pytorch/tutorials reinforcement_q_learning): target-network values are detached
    """\
import torch
import torch.nn.functional as F


def optimize_model(policy_net, target_net, optimizer, batch, gamma):
    state, action, reward, next_state, done = batch
    q = policy_net(state).gather(1, action)
    next_q = target_net(next_state).max(1).values.detach()
    expected = reward + gamma * next_q * (1 - done)
    loss = F.smooth_l1_loss(q, expected.unsqueeze(1))
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()


target_net.eval()
for step in range(num_steps):
    optimize_model(policy_net, target_net, optimizer, memory.sample(), 0.99)
""",
    # HF `Trainer` subclass: `compute_loss` runs inside the Trainer's own training/eval loops
    """\
import torch
from transformers import Trainer


class WeightedTrainer(Trainer):
    def compute_loss(self, model, inputs, return_outputs=False, **kwargs):
        labels = inputs.pop("labels")
        outputs = model(**inputs)
        loss = torch.nn.functional.cross_entropy(
            outputs.logits, labels, weight=self.class_weights
        )
        return (loss, outputs) if return_outputs else loss

    def evaluate_on(self, dataset):
        self.model.eval()
        return self.predict(dataset).metrics
""",
    # MAML meta-test (MAML-Pytorch): inner steps need autograd.grad, query pass under no_grad
    """\
import torch
import torch.nn.functional as F
from torch.func import functional_call


def meta_test(net, tasks, inner_lr, inner_steps):
    net.eval()
    accs = []
    for x_spt, y_spt, x_qry, y_qry in tasks:
        params = dict(net.named_parameters())
        for _ in range(inner_steps):
            loss = F.cross_entropy(functional_call(net, params, (x_spt,)), y_spt)
            grads = torch.autograd.grad(loss, list(params.values()))
            params = {n: p - inner_lr * g for (n, p), g in zip(params.items(), grads)}
        with torch.no_grad():
            logits = functional_call(net, params, (x_qry,))
            accs.append((logits.argmax(1) == y_qry).float().mean().item())
    return sum(accs) / len(accs)
""",
    # EMA weights (timm ModelEmaV2 style): no_grad update, EMA evaluated under no_grad
    """\
import copy

import torch


class EMA:
    def __init__(self, model, decay=0.999):
        self.module = copy.deepcopy(model).eval()
        self.decay = decay

    @torch.no_grad()
    def update(self, model):
        for e, p in zip(self.module.parameters(), model.parameters()):
            e.mul_(self.decay).add_(p.detach(), alpha=1 - self.decay)


ema = EMA(model)
for x, y in train_loader:
    loss = criterion(model(x), y)
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    ema.update(model)
with torch.no_grad():
    val_acc = sum((ema.module(x).argmax(1) == y).sum().item() for x, y in val_loader)
""",
    # no_grad around the forward only, post-processing outside it (HF-style evaluation of logits)
    """\
import torch


def validate(model, loader, device):
    model.eval()
    scores = []
    for batch in loader:
        batch = {k: v.to(device) for k, v in batch.items()}
        with torch.no_grad():
            outputs = model(**batch)
        scores.append(outputs.logits.softmax(-1)[:, 1].cpu())
    model.train()
    return torch.cat(scores)
""",
    # summarisation eval: HF `generate()` is already decorated with no_grad by transformers
    """\
import evaluate
import torch

rouge = evaluate.load("rouge")
model.eval()
for batch in eval_loader:
    generated = model.generate(
        input_ids=batch["input_ids"].to(device),
        attention_mask=batch["attention_mask"].to(device),
        max_new_tokens=64,
        num_beams=4,
    )
    texts = tokenizer.batch_decode(generated, skip_special_tokens=True)
    rouge.add_batch(predictions=texts, references=batch["references"])
print(rouge.compute())
""",
    # pytest unit tests of a model's forward (tests/ folders of model repos): not evaluation loops
    """\
import pytest
import torch

from mypkg.models import ResNetClassifier


@pytest.mark.parametrize("batch", [1, 4])
def test_output_shape(batch):
    model = ResNetClassifier(num_classes=10)
    out = model(torch.randn(batch, 3, 32, 32))
    assert out.shape == (batch, 10)


def test_eval_is_deterministic():
    model = ResNetClassifier(num_classes=10).eval()
    x = torch.randn(2, 3, 32, 32)
    assert torch.equal(model(x), model(x))
""",
    # separate evaluation script: grad switched off globally before anything runs
    """\
import argparse

import torch

torch.set_grad_enabled(False)


def evaluate(model, loader):
    model.eval()
    correct = 0
    for images, labels in loader:
        correct += (model(images).argmax(1) == labels).sum().item()
    return correct / len(loader.dataset)


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("checkpoint")
    args = parser.parse_args()
    model = torch.load(args.checkpoint, weights_only=False)
    print(f"accuracy: {evaluate(model, build_test_loader()):.4f}")
""",
    # evaluation script whose `main()` is decorated with `@torch.inference_mode()`
    """\
import torch


def run_eval(model, loader, metric):
    model.eval()
    for batch in loader:
        logits = model(batch["pixel_values"])
        metric.update(logits.argmax(-1), batch["labels"])
    return metric.compute()


@torch.inference_mode()
def main(cfg):
    model = build_model(cfg)
    model.load_state_dict(torch.load(cfg.weights, map_location="cpu"))
    print(run_eval(model, build_loader(cfg), build_metric(cfg)))


if __name__ == "__main__":
    main(load_config())
""",
    # a frozen teacher choosing actions to fill a replay buffer: each step's graph goes with
    # the step (the actions are numbers), and this is experience collection, not evaluation
    """\
import numpy as np
import torch

teacher = torch.load("teacher.pt")
teacher.eval()
obs, _ = envs.reset(seed=1)
for global_step in range(100_000):
    if np.random.rand() < 0.05:
        actions = envs.action_space.sample()
    else:
        q_values = teacher(torch.as_tensor(obs, dtype=torch.float32))
        actions = q_values.argmax(dim=1).numpy()
    next_obs, rewards, terminations, truncations, infos = envs.step(actions)
    replay_buffer.add(obs, next_obs, actions, rewards, terminations)
    obs = next_obs
""",
    # the same, in a test() the file runs under __main__
    shared.MODEL_FILE_SHAPE_TEST,
    # a model file's shape check: one forward on random input to print the output size
    """\
import torch
from torch import nn


class TinySeg(nn.Module):
    def __init__(self):
        super().__init__()
        self.body = nn.Sequential(nn.Conv2d(3, 8, 3, padding=1), nn.BatchNorm2d(8))

    def forward(self, x):
        return self.body(x)


if __name__ == "__main__":
    model = TinySeg()
    model.eval()
    image = torch.rand(1, 3, 513, 513)
    output = model(image)
    print(output.size())
""",
    # a distillation script probes the teacher's and the student's feature shapes with one
    # forward each on random input, before building the modules that match them
    """\
import torch
from torch import nn

from models import build_student, load_teacher

teacher = load_teacher("teacher.pth", num_classes=100)
student = build_student("resnet8x4", num_classes=100)
probe = torch.randn(2, 3, 32, 32)
teacher.eval()
student.eval()
feats_t, _ = teacher(probe, is_feat=True)
feats_s, _ = student(probe, is_feat=True)
adapters = nn.ModuleList(nn.Conv2d(s.shape[1], t.shape[1], 1) for s, t in zip(feats_s, feats_t))
""",
    # a tutorial showing what BatchNorm does to raw features: `affine=False` leaves it without
    # parameters, so running it with gradients on records nothing (the data needs none)
    """\
import torch
from torch import nn

standardize = nn.BatchNorm1d(num_features=3, affine=False)
batches = [torch.randn(32, 3) * 4 + 2 for _ in range(5)]
for batch in batches:
    standardize(batch)
print(standardize.running_mean, standardize.running_var)

standardize.eval()
with_running_stats = standardize(batches[0])
print(with_running_stats.mean(0), with_running_stats.std(0))
""",
    # the loss on a validation batch drawn with next() is differentiated on purpose
    # (gradient alignment with torch.autograd.grad)
    """\
import torch
import torch.nn.functional as F


def fit(net, train_loader, val_loader, steps):
    # gradient alignment: the loss on a validation batch is differentiated on purpose
    params = [p for p in net.parameters() if p.requires_grad]
    opt = torch.optim.SGD(params, lr=0.05)
    val_iter = iter(val_loader)
    for step, (x, y) in enumerate(train_loader):
        if step % 10 == 0:
            xv, yv = next(val_iter)
            val_loss = F.cross_entropy(net(xv), yv)
        else:
            val_loss = F.cross_entropy(net(x), y)
        val_grads = torch.autograd.grad(val_loss, params)
        loss = F.cross_entropy(net(x), y)
        opt.zero_grad()
        loss.backward()
        for p, g in zip(params, val_grads):
            p.grad.add_(g, alpha=0.1)
        opt.step()
""",
    # the test loop measures how steep the classifier is around each input: the images are
    # made to require gradients, and a criterion module differentiates the loss with respect
    # to them, so the evaluation needs autograd on
    """\
import torch
import torch.nn as nn
import torch.nn.functional as F


class SmallNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.body = nn.Sequential(nn.Linear(784, 256), nn.ReLU(), nn.Dropout(0.3), nn.Linear(256, 10))

    def forward(self, x):
        return self.body(x.flatten(1))


class InputGradNorm(nn.Module):
    # how steep the classifier is around each input (Sobolev-style smoothness)

    def forward(self, logits, labels, images):
        loss = F.cross_entropy(logits, labels)
        (grad,) = torch.autograd.grad(loss, images, create_graph=self.training)
        return grad.flatten(1).norm(dim=1).mean()


def evaluate(model, smooth, loader):
    model.eval()
    correct, smoothness = 0, 0.0
    for images, labels in loader:
        # the input gradient is part of what is measured: autograd stays on for it
        images.requires_grad = True
        logits = model(images)
        smoothness += smooth(logits, labels, images).item()
        correct += (logits.argmax(1) == labels).sum().item()
    return correct / len(loader.dataset), smoothness / len(loader)


def train(model, loader, optimizer):
    model.train()
    for images, labels in loader:
        loss = F.cross_entropy(model(images), labels)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()


model = SmallNet()
smooth = InputGradNorm()
optimizer = torch.optim.Adam(model.parameters())
for epoch in range(5):
    train(model, train_loader, optimizer)
    print(evaluate(model, smooth, test_loader))
""",
    # the forward with gradients on runs only under ``if model.training:``; the caller's
    # eval() sends its dev-set pass down the no_grad branch (DPR _do_biencoder_fwd_pass)
    """\
import torch


def biencoder_pass(biencoder, batch):
    if biencoder.training:
        q, p = biencoder(batch["query"], batch["passage"])
    else:
        with torch.no_grad():
            q, p = biencoder(batch["query"], batch["passage"])
    scores = q @ p.t()
    return scores.argmax(1).eq(batch["target"]).sum().item()


def run_dev(biencoder, dev_batches):
    biencoder.eval()
    correct = 0
    for batch in dev_batches:
        correct += biencoder_pass(biencoder, batch)
    biencoder.train()
    return correct


def fit(biencoder, batches, optimizer):
    biencoder.train()
    for batch in batches:
        optimizer.zero_grad()
        q, p = biencoder(batch["query"], batch["passage"])
        loss = torch.nn.functional.cross_entropy(q @ p.t(), batch["target"])
        loss.backward()
        optimizer.step()
""",
    # the same helper called under no_grad from the epoch loop
    _TOP1_FIT
    + """\
        with torch.no_grad():
            print(epoch, top1(net, val_loader))
""",
    # a lab's self-test of a decoder, run once on zeros to check shapes
    shared.LAB_SHAPE_SELF_TEST,
    # a tutorial walks random noise through transposed convolutions one at a time, printing
    # the size after each
    """\
import torch
from torch import nn


def test_upsampling():
    to_map = nn.Linear(16, 4 * 7 * 7)
    up1 = nn.ConvTranspose2d(4, 4, kernel_size=4, stride=2, padding=1)
    up2 = nn.ConvTranspose2d(4, 1, kernel_size=4, stride=2, padding=1)
    z = torch.randn(8, 16)
    h = to_map(z).view(-1, 4, 7, 7)
    print(h.shape)
    h = up1(h)
    print(h.shape)
    h = up2(h)
    print(h.shape)


test_upsampling()
""",
    # a generator's self-test: once on given noise, once told only how many samples to draw
    # (it makes up its own noise), checking the image size each time
    """\
import torch
from torch import nn


class Generator(nn.Module):
    def __init__(self, latent=32):
        super().__init__()
        self.latent = latent
        self.net = nn.Sequential(nn.Linear(latent, 256), nn.BatchNorm1d(256), nn.ReLU(),
                                 nn.Linear(256, 28 * 28), nn.Tanh())

    def forward(self, z=None, n=None):
        if z is None:
            z = torch.randn(n, self.latent)
        return self.net(z).view(-1, 1, 28, 28)


def test_generator():
    gen = Generator()
    images = gen(torch.randn(16, 32), None)
    assert images.shape == (16, 1, 28, 28)
    images = gen(None, 9)
    assert images.shape == (9, 1, 28, 28)


if __name__ == "__main__":
    test_generator()
""",
    # a lab exports its trained network to ONNX; inference runs the exported file through
    # onnxruntime in a plain wrapper class, also named `model` (eval() is a no-op there)
    """\
import sys

import numpy as np
import onnxruntime as ort
import torch
from torch import nn


class OnnxRunner:
    def __init__(self, path):
        self.session = ort.InferenceSession(path, providers=["CPUExecutionProvider"])

    def eval(self):
        pass

    def __call__(self, batch):
        name = self.session.get_inputs()[0].name
        return self.session.run(None, {name: batch.numpy()})[0]


def train(loader, epochs):
    model = nn.Sequential(nn.Conv2d(3, 16, 3, padding=1), nn.BatchNorm2d(16), nn.ReLU(),
                          nn.Conv2d(16, 4, 1))
    optimizer = torch.optim.Adam(model.parameters())
    for _ in range(epochs):
        for images, masks in loader:
            optimizer.zero_grad()
            loss = nn.functional.cross_entropy(model(images), masks)
            loss.backward()
            optimizer.step()
    model.eval()
    torch.onnx.export(model, torch.zeros(1, 3, 64, 64), "seg.onnx")


def infer(path, images):
    model = OnnxRunner(path)
    model.eval()
    scores = model(images)
    return np.argmax(scores, axis=1)


if __name__ == "__main__":
    infer(sys.argv[1], torch.load(sys.argv[2]))
""",
    # a LoRA demo that renders images with a diffusers pipeline: the pipeline is not an
    # nn.Module, and its __call__ already runs under torch.no_grad()
    """\
import torch
from diffusers import StableDiffusionPipeline

pipe = StableDiffusionPipeline.from_pretrained("some/sd-checkpoint", torch_dtype=torch.float16)
pipe.to("cuda")
adapter = load_lora(pipe.unet, "style.safetensors")

torch.manual_seed(0)
before = pipe("a lighthouse at dusk", num_inference_steps=30).images[0]
adapter.merge(scale=0.8)
torch.manual_seed(0)
after = pipe("a lighthouse at dusk", num_inference_steps=30).images[0]
before.save("before.png")
after.save("after.png")
""",
    # a Kaggle solution's engine.py: train/validation loops split out of a notebook, without
    # the notebook's `import torch`; `torch.no_grad()` can only be the package's
    """\
from tqdm import tqdm


def fit(model, optimizer, criterion, train_loader, valid_loader, epochs, device):
    for epoch in range(epochs):
        model.train()
        for images, labels in tqdm(train_loader):
            optimizer.zero_grad()
            loss = criterion(model(images.to(device)), labels.to(device))
            loss.backward()
            optimizer.step()
        model.eval()
        total = 0.0
        with torch.no_grad():
            for images, labels in valid_loader:
                logits = model(images.to(device))
                total += criterion(logits, labels.to(device)).item()
        print(f"epoch {epoch}: valid loss {total / len(valid_loader):.4f}")
""",
    # a soft actor-critic agent whose helper named ``evaluate`` samples an action and its
    # log-probability for the policy loss: the caller backpropagates what it returns
    """\
import torch
from torch import nn
from torch.distributions import Normal


class Policy(nn.Module):
    def __init__(self, obs_dim, act_dim):
        super().__init__()
        self.body = nn.Sequential(nn.Linear(obs_dim, 128), nn.ReLU())
        self.mean = nn.Linear(128, act_dim)
        self.log_std = nn.Linear(128, act_dim)

    def forward(self, obs):
        h = self.body(obs)
        return self.mean(h), self.log_std(h).clamp(-20, 2)


class Agent:
    def __init__(self, obs_dim, act_dim, critic):
        self.policy = Policy(obs_dim, act_dim)
        self.critic = critic
        self.policy_opt = torch.optim.Adam(self.policy.parameters(), lr=3e-4)

    def evaluate(self, obs):
        mean, log_std = self.policy(obs)
        dist = Normal(mean, log_std.exp())
        raw = dist.rsample()
        action = torch.tanh(raw)
        log_prob = dist.log_prob(raw) - torch.log(1 - action.pow(2) + 1e-6)
        return action, log_prob.sum(-1, keepdim=True)

    def update(self, buffer, steps):
        for _ in range(steps):
            obs = buffer.sample(256)
            new_action, log_prob = self.evaluate(obs)
            q = self.critic(obs, new_action)
            policy_loss = (0.2 * log_prob - q).mean()
            self.policy_opt.zero_grad()
            policy_loss.backward()
            self.policy_opt.step()


def run(env, agent, buffer, episodes):
    for _ in range(episodes):
        obs, done = env.reset(), False
        while not done:
            with torch.no_grad():
                action, _ = agent.evaluate(torch.as_tensor(obs, dtype=torch.float32))
            next_obs, reward, done, _ = env.step(action.numpy())
            buffer.push(obs, action, reward, next_obs, done)
            obs = next_obs
        agent.update(buffer, 50)
""",
)
