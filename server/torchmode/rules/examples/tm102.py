"""TM102 examples, modelled on real evaluation code.

Invalid: forward passes that evaluate (under ``no_grad``/``inference_mode``, or in an evaluation
function) while the model is still in train mode. Valid: the look-alikes — framework hooks,
forwards that feed a later backward, sampling inside a GAN loop, models whose mode does not
matter or is set elsewhere.
"""

from torchmode.rules.base import Invalid
from torchmode.rules.examples import shared

_LOADED_TAGGER = """\
import torch
import torch.nn as nn


class Tagger(nn.Module):
    def __init__(self, vocab, tags):
        super().__init__()
        self.embed = nn.Embedding(vocab, 128)
        self.drop = nn.Dropout(0.3)
        self.out = nn.Linear(128, tags)

    def forward(self, tokens):
        return self.out(self.drop(self.embed(tokens)))


def load_tagger(path, vocab, tags):
    tagger = Tagger(vocab, tags)
    tagger.load_state_dict(torch.load(path, map_location="cpu"))
    return tagger


def tag_corpus(path, sentences, vocab, tags):
    tagger = load_tagger(path, vocab, tags)
    predictions = []
    with torch.no_grad():
        for tokens in sentences:
            predictions.append(tagger(tokens).argmax(-1))
    return predictions
"""

INVALID = (
    # a sampling notebook: a DCGAN generator is built, its trained weights are loaded and it
    # draws a grid of images from noise; nothing else in the file trains or marks evaluation
    # (no no_grad, no eval()), and its BatchNorm normalises with the noise batch's statistics
    Invalid(
        """\
import torch
import torch.nn as nn
import matplotlib.pyplot as plt


class Generator(nn.Module):
    def __init__(self, nz=100):
        super().__init__()
        self.main = nn.Sequential(
            nn.ConvTranspose2d(nz, 128, 7, 1, 0), nn.BatchNorm2d(128), nn.ReLU(True),
            nn.ConvTranspose2d(128, 1, 4, 4, 0), nn.Tanh(),
        )

    def forward(self, z):
        return self.main(z)


netG = Generator()
netG.load_state_dict(torch.load("weights/netG_epoch_24.pth", map_location="cpu"))
noise = torch.randn(16, 100, 1, 1)
samples = netG(noise).detach().numpy()
for i in range(16):
    plt.subplot(4, 4, i + 1)
    plt.imshow(samples[i, 0], cmap="gray")
plt.savefig("grid.png")
""",
        lines=(21,),
        fix="""\
@@
 noise = torch.randn(16, 100, 1, 1)
+netG.eval()
 samples = netG(noise).detach().numpy()
""",
    ),
    # a sampling script: the generator's trained weights are loaded, then it draws images from
    # noise with its BatchNorm still in train mode (batch statistics of the noise batch)
    Invalid(
        """\
import torch
import torch.nn as nn
from torchvision.utils import save_image


class Generator(nn.Module):
    def __init__(self, z_dim=100):
        super().__init__()
        self.net = nn.Sequential(
            nn.Linear(z_dim, 256), nn.BatchNorm1d(256), nn.ReLU(), nn.Linear(256, 784), nn.Tanh()
        )

    def forward(self, z):
        return self.net(z).view(-1, 1, 28, 28)


def sample(path, count=64):
    generator = Generator()
    generator.load_state_dict(torch.load(path))
    z = torch.randn(count, 100)
    with torch.no_grad():
        images = generator(z)
    save_image(images, "samples.png")
""",
        lines=(22,),
        fix="""\
@@
     generator.load_state_dict(torch.load(path))
     z = torch.randn(count, 100)
+    generator.eval()
     with torch.no_grad():
         images = generator(z)
""",
    ),
    # pytorch/examples mnist layout with the `model.eval()` missing from `test()`: `train()`
    # switches to train mode every epoch and the test accuracy is measured with Dropout active.
    Invalid(
        """\
import torch
import torch.nn.functional as F


def train(model, loader, optimizer):
    model.train()
    for data, target in loader:
        optimizer.zero_grad()
        loss = F.cross_entropy(model(data), target)
        loss.backward()
        optimizer.step()


def test(model, loader):
    correct = 0
    with torch.no_grad():
        for data, target in loader:
            pred = model(data).argmax(dim=1)
            correct += pred.eq(target).sum().item()
    return correct / len(loader.dataset)


for epoch in range(1, epochs + 1):
    train(model, train_loader, optimizer)
    print(f"epoch {epoch}: test accuracy {test(model, test_loader):.3f}")
""",
        (18,),
        fix="""\
@@
 def test(model, loader):
+    model.eval()
     correct = 0
     with torch.no_grad():
         for data, target in loader:
""",
    ),
    # Trainer class whose `@torch.no_grad()` `evaluate()` forgets `self.model.eval()`.
    Invalid(
        """\
import torch


class Trainer:
    def __init__(self, model, optimizer, criterion):
        self.model = model
        self.optimizer = optimizer
        self.criterion = criterion

    def train_epoch(self, loader):
        self.model.train()
        for x, y in loader:
            self.optimizer.zero_grad()
            loss = self.criterion(self.model(x), y)
            loss.backward()
            self.optimizer.step()

    @torch.no_grad()
    def evaluate(self, loader):
        losses = [self.criterion(self.model(x), y).item() for x, y in loader]
        return sum(losses) / len(losses)

    def fit(self, train_loader, val_loader, epochs):
        for epoch in range(epochs):
            self.train_epoch(train_loader)
            val_loss = self.evaluate(val_loader)
            print(f"epoch {epoch}: val loss {val_loss:.4f}")
""",
        (20,),
        fix="""\
@@
     @torch.no_grad()
     def evaluate(self, loader):
+        self.model.eval()
         losses = [self.criterion(self.model(x), y).item() for x, y in loader]
         return sum(losses) / len(losses)
""",
    ),
    # Inference script: a model class with Dropout is built, its weights loaded, and it predicts
    # without `eval()`.
    Invalid(
        """\
import torch
from torch import nn


class SentimentNet(nn.Module):
    def __init__(self, vocab_size, dim=128):
        super().__init__()
        self.embed = nn.EmbeddingBag(vocab_size, dim)
        self.dropout = nn.Dropout(0.5)
        self.fc = nn.Linear(dim, 2)

    def forward(self, tokens, offsets):
        return self.fc(self.dropout(self.embed(tokens, offsets)))


model = SentimentNet(len(vocab))
model.load_state_dict(torch.load("sentiment.pt"))
with torch.no_grad():
    for tokens, offsets in test_loader:
        print(model(tokens, offsets).argmax(1).tolist())
""",
        (20,),
        fix="""\
@@
 model = SentimentNet(len(vocab))
 model.load_state_dict(torch.load("sentiment.pt"))
+model.eval()
 with torch.no_grad():
     for tokens, offsets in test_loader:
""",
    ),
    # Image classification with a pretrained torchvision ResNet-50 and no `model.eval()`
    # (pytorch/vision issue #386): BatchNorm uses the single image's statistics.
    Invalid(
        """\
import torch
import torchvision
from PIL import Image

weights = torchvision.models.ResNet50_Weights.IMAGENET1K_V2
model = torchvision.models.resnet50(weights=weights)
preprocess = weights.transforms()
img = preprocess(Image.open("dog.jpg")).unsqueeze(0)
with torch.inference_mode():
    probs = model(img).softmax(dim=1)
top5 = probs.topk(5)
for score, idx in zip(top5.values[0], top5.indices[0]):
    print(weights.meta["categories"][idx], f"{score.item():.3f}")
""",
        (10,),
        fix="""\
@@
 preprocess = weights.transforms()
 img = preprocess(Image.open("dog.jpg")).unsqueeze(0)
+model.eval()
 with torch.inference_mode():
     probs = model(img).softmax(dim=1)
""",
    ),
    # Kaggle-style script: after training, a `@torch.no_grad()` `predict()` helper makes the
    # submission with the model still in train mode.
    Invalid(
        """\
import torch


@torch.no_grad()
def predict(model, loader):
    return torch.cat([model(x).softmax(-1) for x, _ in loader])


model.train()
for epoch in range(epochs):
    for x, y in train_loader:
        optimizer.zero_grad()
        criterion(model(x), y).backward()
        optimizer.step()

probs = predict(model, test_loader)
submission["label"] = probs.argmax(1).tolist()
submission.to_csv("submission.csv", index=False)
""",
        (6,),
        fix="""\
@@
 @torch.no_grad()
 def predict(model, loader):
+    model.eval()
     return torch.cat([model(x).softmax(-1) for x, _ in loader])

""",
    ),
    # seq2seq tutorial: the greedy `evaluate()` runs under `no_grad` but the decoder's Dropout
    # is still active (only the decoder has a mode-dependent layer).
    Invalid(
        """\
import torch
from torch import nn


class DecoderRNN(nn.Module):
    def __init__(self, hidden_size, output_size, dropout_p=0.1):
        super().__init__()
        self.embedding = nn.Embedding(output_size, hidden_size)
        self.dropout = nn.Dropout(dropout_p)
        self.gru = nn.GRU(hidden_size, hidden_size, batch_first=True)
        self.out = nn.Linear(hidden_size, output_size)

    def forward(self, encoder_outputs, encoder_hidden):
        x = self.dropout(self.embedding(encoder_outputs))
        output, hidden = self.gru(x, encoder_hidden)
        return self.out(output), hidden


def evaluate(encoder, decoder, sentence):
    with torch.no_grad():
        input_tensor = tensor_from_sentence(input_lang, sentence)
        encoder_outputs, encoder_hidden = encoder(input_tensor)
        decoder_outputs, _ = decoder(encoder_outputs, encoder_hidden)
        return decoder_outputs.argmax(-1).squeeze()


decoder = DecoderRNN(hidden_size, output_lang.n_words)
print(evaluate(encoder, decoder, "je suis content"))
""",
        (23,),
        fix="""\
@@

 def evaluate(encoder, decoder, sentence):
+    decoder.eval()
     with torch.no_grad():
         input_tensor = tensor_from_sentence(input_lang, sentence)
""",
    ),
    # Segmentation script: `model.train()` once before the epoch loop, end-of-epoch validation
    # under `no_grad` without `eval()` (the fix must also switch back before the next epoch).
    Invalid(
        """\
import torch

model.train()
for epoch in range(num_epochs):
    for images, masks in train_loader:
        optimizer.zero_grad()
        loss = dice_loss(model(images), masks)
        loss.backward()
        optimizer.step()
    val_dice = 0.0
    with torch.no_grad():
        for images, masks in val_loader:
            val_dice += dice_coeff(model(images).sigmoid() > 0.5, masks).item()
    scheduler.step(val_dice)
""",
        (13,),
        fix="""\
@@
         optimizer.step()
     val_dice = 0.0
+    model.eval()
     with torch.no_grad():
         for images, masks in val_loader:
             val_dice += dice_coeff(model(images).sigmoid() > 0.5, masks).item()
+    model.train()
     scheduler.step(val_dice)
""",
    ),
    # A `validate()` helper with neither `eval()` nor `no_grad` (known by its name), called after
    # each training epoch.
    Invalid(
        """\
import torch


def validate(model, loader, criterion):
    total = 0.0
    for x, y in loader:
        total += criterion(model(x), y).item()
    return total / len(loader)


for epoch in range(epochs):
    model.train()
    for x, y in train_loader:
        optimizer.zero_grad()
        criterion(model(x), y).backward()
        optimizer.step()
    print(epoch, validate(model, val_loader, criterion))
""",
        (7,),
        fix="""\
@@
 def validate(model, loader, criterion):
+    model.eval()
     total = 0.0
     for x, y in loader:
         total += criterion(model(x), y).item()
""",
    ),
    # Kaggle inference notebook: a timm EfficientNet rebuilt, fold weights loaded, flip-TTA
    # predictions made without `model.eval()`.
    Invalid(
        """\
import timm
import torch

model = timm.create_model("tf_efficientnet_b4_ns", pretrained=False, num_classes=5)
model.load_state_dict(torch.load("fold0_best.pth", map_location="cpu"))
model.to(device)
preds = []
with torch.no_grad():
    for images in test_loader:
        logits = model(images.to(device)) + model(images.flip(-1).to(device))
        preds.append(logits.softmax(1).cpu())
submission["label"] = torch.cat(preds).argmax(1).numpy()
""",
        (10,),
        fix="""\
@@
 model.to(device)
 preds = []
+model.eval()
 with torch.no_grad():
     for images in test_loader:
""",
    ),
    # Evaluation in a generator function (`yield` per batch), consumed with `list(...)` after
    # training.
    Invalid(
        """\
import torch


def predict_batches(model, loader):
    with torch.no_grad():
        for x, _ in loader:
            yield model(x).softmax(-1)


for epoch in range(epochs):
    model.train()
    for x, y in train_loader:
        optimizer.zero_grad()
        criterion(model(x), y).backward()
        optimizer.step()

probs = torch.cat(list(predict_batches(model, test_loader)))
""",
        (7,),
        fix="""\
@@

 def predict_batches(model, loader):
+    model.eval()
     with torch.no_grad():
         for x, _ in loader:
""",
    ),
    # The most common layout: `model.train()` at the top of each epoch, the final test after the
    # epoch loop without `model.eval()`.
    Invalid(
        """\
import torch


def fit_and_test(model, optimizer, train_loader, test_loader, epochs):
    for epoch in range(epochs):
        model.train()
        for x, y in train_loader:
            optimizer.zero_grad()
            criterion(model(x), y).backward()
            optimizer.step()
    correct = 0
    with torch.no_grad():
        for x, y in test_loader:
            correct += (model(x).argmax(1) == y).sum().item()
    return correct / len(test_loader.dataset)
""",
        (14,),
        fix="""\
@@
             optimizer.step()
     correct = 0
+    model.eval()
     with torch.no_grad():
         for x, y in test_loader:
""",
    ),
    # End-of-epoch validation with checkpointing, no `model.eval()`; the next epoch's
    # `model.train()` already switches back, so the fix adds `eval()` only.
    Invalid(
        """\
import torch

for epoch in range(num_epochs):
    model.train()
    for x, y in train_loader:
        optimizer.zero_grad()
        loss = criterion(model(x), y)
        loss.backward()
        optimizer.step()
    val_loss = 0.0
    with torch.no_grad():
        for x, y in val_loader:
            val_loss += criterion(model(x), y).item()
    if val_loss < best_val_loss:
        best_val_loss = val_loss
        torch.save(model.state_dict(), "best.pt")
""",
        (13,),
        fix="""\
@@
         optimizer.step()
     val_loss = 0.0
+    model.eval()
     with torch.no_grad():
         for x, y in val_loader:
""",
    ),
    # Hugging Face `run_glue_no_trainer` layout with the evaluation's `model.eval()` forgotten.
    Invalid(
        """\
import torch

for epoch in range(args.num_train_epochs):
    model.train()
    for step, batch in enumerate(train_dataloader):
        outputs = model(**batch)
        accelerator.backward(outputs.loss)
        optimizer.step()
        lr_scheduler.step()
        optimizer.zero_grad()
    for batch in eval_dataloader:
        with torch.no_grad():
            outputs = model(**batch)
        predictions, references = accelerator.gather_for_metrics(
            (outputs.logits.argmax(dim=-1), batch["labels"])
        )
        metric.add_batch(predictions=predictions, references=references)
    accelerator.print(f"epoch {epoch}:", metric.compute())
""",
        (13,),
        fix="""\
@@
         lr_scheduler.step()
         optimizer.zero_grad()
+    model.eval()
     for batch in eval_dataloader:
         with torch.no_grad():
""",
    ),
    # Validation every `eval_steps` inside the batch loop under `no_grad` but in train mode; the
    # fix must also switch back, since the only `train()` is before the epoch loop.
    Invalid(
        """\
import torch

model.train()
for epoch in range(epochs):
    for step, (src, tgt) in enumerate(train_loader):
        optimizer.zero_grad()
        loss = criterion(model(src), tgt)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        if step % args.eval_steps == 0:
            with torch.no_grad():
                dev_loss = sum(criterion(model(s), t).item() for s, t in dev_loader)
            logger.info("step %d: dev loss %.3f", step, dev_loss / len(dev_loader))
""",
        (13,),
        fix="""\
@@
         optimizer.step()
         if step % args.eval_steps == 0:
+            model.eval()
             with torch.no_grad():
                 dev_loss = sum(criterion(model(s), t).item() for s, t in dev_loader)
+            model.train()
             logger.info("step %d: dev loss %.3f", step, dev_loss / len(dev_loader))
""",
    ),
    # The same validation in a helper called mid-epoch: the fix brackets the call, since an
    # `eval()` inside the helper would leak into the rest of the epoch.
    Invalid(
        """\
import torch


def evaluate(model, loader):
    with torch.no_grad():
        return sum(criterion(model(s), t).item() for s, t in loader) / len(loader)


model.train()
for epoch in range(epochs):
    for step, (src, tgt) in enumerate(train_loader):
        optimizer.zero_grad()
        loss = criterion(model(src), tgt)
        loss.backward()
        optimizer.step()
        if step % args.eval_steps == 0:
            logger.info("step %d: dev loss %.3f", step, evaluate(model, dev_loader))
""",
        (6,),
        fix="""\
@@
         optimizer.step()
         if step % args.eval_steps == 0:
+            model.eval()
             logger.info("step %d: dev loss %.3f", step, evaluate(model, dev_loader))
+            model.train()
""",
    ),
    # Time-series notebook: train an LSTM with inter-layer dropout, then plot the test prediction
    # made in train mode.
    Invalid(
        """\
import torch
from torch import nn


class LSTMForecaster(nn.Module):
    def __init__(self, n_features, hidden=64):
        super().__init__()
        self.lstm = nn.LSTM(n_features, hidden, num_layers=2, dropout=0.2, batch_first=True)
        self.head = nn.Linear(hidden, 1)

    def forward(self, x):
        out, _ = self.lstm(x)
        return self.head(out[:, -1])


model = LSTMForecaster(n_features=X_train.shape[-1])
optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
for epoch in range(200):
    optimizer.zero_grad()
    loss = nn.functional.mse_loss(model(X_train), y_train)
    loss.backward()
    optimizer.step()

with torch.no_grad():
    y_pred = model(X_test).squeeze(-1)
plt.plot(y_test.numpy(), label="true")
plt.plot(y_pred.numpy(), label="predicted")
""",
        (25,),
        fix="""\
@@
     optimizer.step()

+model.eval()
 with torch.no_grad():
     y_pred = model(X_test).squeeze(-1)
""",
    ),
    # detectron2-style predictor class without the `eval()` its `DefaultPredictor` has: the model
    # is built in `__init__` and predicts in `__call__` in train mode.
    Invalid(
        """\
import torch
import torchvision


class Predictor:
    def __init__(self, cfg, weights_path):
        self.model = torchvision.models.segmentation.deeplabv3_resnet50(num_classes=21)
        self.model.load_state_dict(torch.load(weights_path, map_location="cpu"))
        self.transform = build_transform(cfg)

    def __call__(self, image):
        with torch.no_grad():
            inputs = self.transform(image).unsqueeze(0)
            return self.model(inputs)["out"][0]


predictor = Predictor(cfg, "model_final.pth")
masks = [predictor(img).argmax(0) for img in images]
""",
        (14,),
        fix="""\
@@

     def __call__(self, image):
+        self.model.eval()
         with torch.no_grad():
             inputs = self.transform(image).unsqueeze(0)
""",
    ),
    # Segmentation script with a `Validator` object called after every epoch; its `__call__`
    # runs under `no_grad` but never switches the model to eval.
    Invalid(
        """\
import torch


class Validator:
    def __init__(self, loader, metric):
        self.loader = loader
        self.metric = metric

    @torch.no_grad()
    def __call__(self, model):
        self.metric.reset()
        for images, masks in self.loader:
            self.metric.update(model(images).argmax(1), masks)
        return self.metric.compute()


validator = Validator(val_loader, MeanIoU(num_classes=21))
for epoch in range(epochs):
    model.train()
    for images, masks in train_loader:
        optimizer.zero_grad()
        criterion(model(images), masks).backward()
        optimizer.step()
    miou = validator(model)
""",
        (13,),
        fix="""\
@@
     def __call__(self, model):
+        model.eval()
         self.metric.reset()
         for images, masks in self.loader:
             self.metric.update(model(images).argmax(1), masks)
""",
    ),
    # a tutorial script: a validation pass over the validation loader in every epoch and a test pass, with Dropout on
    Invalid(
        shared.TUTORIAL_SCRIPT,
        (32, 39),
        fix="""\
@@
         optimizer.step()
         train_loss += loss.item() * data.size(0)
+    model.eval()
     for data, target in valid_loader:
         output = model(data)
         loss = criterion(output, target)
         valid_loss += loss.item() * data.size(0)
+    model.train()
     print(epoch, train_loss, valid_loss)

 test_loss = 0.0
+model.eval()
 for data, target in test_loader:
     output = model(data)
""",
    ),
    # A tabular synthesizer's fit()/sample() protocol: a benchmark harness calls fit(), which
    # builds and trains the generator, then sample(); nothing ever switches it to eval mode.
    Invalid(
        """\
import torch
from torch import nn


class Generator(nn.Module):
    def __init__(self, dim):
        super().__init__()
        self.body = nn.Sequential(nn.Linear(dim, dim), nn.BatchNorm1d(dim), nn.ReLU())

    def forward(self, z):
        return self.body(z)


class Synthesizer:
    def fit(self, rows, epochs=300):
        self.generator = Generator(rows.shape[1])
        opt = torch.optim.Adam(self.generator.parameters(), lr=2e-4)
        for _ in range(epochs):
            for batch in rows.split(500):
                fake = self.generator(torch.randn(len(batch), rows.shape[1]))
                loss = (fake.mean(0) - batch.mean(0)).pow(2).sum()
                opt.zero_grad()
                loss.backward()
                opt.step()

    def sample(self, n):
        chunks = []
        for _ in range(n // 500 + 1):
            chunks.append(self.generator(torch.randn(500, 16)).detach())
        return torch.cat(chunks)[:n]
""",
        (29,),
        fix="""\
@@
     def sample(self, n):
+        self.generator.eval()
         chunks = []
""",
    ),
    # A course helper that trains a model for a few epochs and then scores it on the
    # validation loader, in the same mode: whatever mode the caller set, one of the two is wrong.
    Invalid(
        """\
import torch
import torch.nn.functional as F


def fit_and_score(model, train_loader, valid_loader, epochs=2):
    opt = torch.optim.SGD(model.parameters(), lr=0.01)
    for _ in range(epochs):
        for x, y in train_loader:
            opt.zero_grad()
            F.cross_entropy(model(x), y).backward()
            opt.step()
    correct = 0
    with torch.no_grad():
        for x, y in valid_loader:
            correct += (model(x).argmax(1) == y).sum().item()
    return correct
""",
        (15,),
        fix="""\
@@
     correct = 0
+    model.eval()
     with torch.no_grad():
""",
    ),
    # A classifier that builds its network with a helper of its own and predicts with it after
    # training: the helper returns a new module, which starts in train mode.
    Invalid(
        """\
import torch
from torch import nn


class Classifier:
    def build_graph(self):
        return nn.Sequential(nn.Linear(300, 50), nn.Dropout(0.5), nn.Linear(50, 3))

    def fit(self, X, y):
        self.model = self.build_graph()
        opt = torch.optim.Adam(self.model.parameters())
        for _ in range(10):
            opt.zero_grad()
            nn.functional.cross_entropy(self.model(X), y).backward()
            opt.step()
        return self

    def predict_proba(self, X):
        with torch.no_grad():
            return self.model(X).softmax(-1)
""",
        (20,),
        fix="""\
@@
     def predict_proba(self, X):
+        self.model.eval()
         with torch.no_grad():
""",
    ),
    # A fine-tuning loop whose per-epoch check decodes with `generate()`: Hugging Face's
    # generate() runs the model's forward passes in the mode the model is in (it turns
    # gradients off, never Dropout), so the check samples with Dropout active.
    Invalid(
        """\
import torch
from transformers import AutoModelForSeq2SeqLM


def decode_dev(model, loader, tokenizer):
    texts = []
    for batch in loader:
        ids = model.generate(batch["input_ids"], max_new_tokens=32)
        texts += tokenizer.batch_decode(ids, skip_special_tokens=True)
    return texts


def fine_tune(model, loader, dev_loader, tokenizer, epochs):
    optimizer = torch.optim.AdamW(model.parameters(), lr=3e-5)
    model.train()
    for epoch in range(epochs):
        for batch in loader:
            loss = model(**batch).loss
            loss.backward()
            optimizer.step()
            optimizer.zero_grad()
        print(decode_dev(model, dev_loader, tokenizer)[:3])


model = AutoModelForSeq2SeqLM.from_pretrained("t5-small")
fine_tune(model, train_loader, dev_loader, tokenizer, 3)
""",
        (8,),
        fix="""\
@@
             optimizer.step()
             optimizer.zero_grad()
+        model.eval()
         print(decode_dev(model, dev_loader, tokenizer)[:3])
+        model.train()
""",
    ),
    # A config-driven trainer: the optimizer class is picked by name from torch.optim, and every
    # 500 steps the validation loss is taken in the mode the model trains in.
    Invalid(
        """\
import torch
import torch.nn.functional as F


def fit(model, config, train_batches, val_batches):
    options = dict(config["optimizer"])
    optimizer = getattr(torch.optim, options.pop("name"))(model.parameters(), **options)
    for step, (x, y) in enumerate(train_batches):
        optimizer.zero_grad()
        F.cross_entropy(model(x), y).backward()
        optimizer.step()
        if step % 500 == 0:
            with torch.no_grad():
                val_loss = sum(F.cross_entropy(model(vx), vy).item() for vx, vy in val_batches)
            print(step, val_loss / len(val_batches))
    return model
""",
        (14,),
        fix="""\
@@
         if step % 500 == 0:
+            model.eval()
             with torch.no_grad():
                 val_loss = sum(F.cross_entropy(model(vx), vy).item() for vx, vy in val_batches)
+            model.train()
             print(step, val_loss / len(val_batches))
""",
    ),
    # A library module: its training function puts the model it is given in train mode and
    # returns it so; its test function, which nothing in the project calls, never switches.
    Invalid(
        """\
import torch.nn.functional as F


def train_model(model, loader, optimizer, epochs=10):
    for _ in range(epochs):
        model.train()
        for x, y in loader:
            optimizer.zero_grad()
            F.cross_entropy(model(x), y).backward()
            optimizer.step()
    return model


def compute_test_accuracy(model, loader):
    hits, seen = 0, 0
    for x, y in loader:
        hits += (model(x).argmax(1) == y).sum().item()
        seen += len(y)
    return hits / seen
""",
        (17,),
        fix="""\
@@
 def compute_test_accuracy(model, loader):
+    model.eval()
     hits, seen = 0, 0
""",
    ),
    # step functions built by factories (the "make_train_step" pattern of PyTorch courses): the
    # validation step a factory returns runs the model where the training step left it
    Invalid(
        shared.step_factories(train_switch="net.train()"),
        (19,),
        fix="""\
@@
     def val_step(inputs, targets):
+        net.eval()
         return criterion(net(inputs), targets).item()
""",
    ),
    # the same with the factories as methods and the steps kept on the instance
    Invalid(
        """\
import torch


class Experiment:
    def __init__(self, model, loss_fn, optimizer):
        self.model = model
        self.loss_fn = loss_fn
        self.optimizer = optimizer
        self.train_step = self._train_step_fn()
        self.eval_step = self._eval_step_fn()

    def _train_step_fn(self):
        def run(x, y):
            self.model.train()
            loss = self.loss_fn(self.model(x), y)
            loss.backward()
            self.optimizer.step()
            self.optimizer.zero_grad()
            return loss.item()

        return run

    def _eval_step_fn(self):
        def run(x, y):
            return self.loss_fn(self.model(x), y).item()

        return run

    def fit(self, epochs, train_loader, val_loader):
        for _ in range(epochs):
            train_losses = [self.train_step(x, y) for x, y in train_loader]
            with torch.no_grad():
                val_losses = [self.eval_step(x, y) for x, y in val_loader]
""",
        (25,),
        fix="""\
@@
         def run(x, y):
+            self.model.eval()
             return self.loss_fn(self.model(x), y).item()
""",
    ),
    # a point-cloud classifier trained batch by batch; every 20 iterations one batch is drawn
    # from the validation loader with next() and classified, its BatchNorm and Dropout still in
    # train mode (the no_grad alone does not switch them)
    Invalid(
        """\
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader


class PointClassifier(nn.Module):
    def __init__(self, classes=10):
        super().__init__()
        self.conv = nn.Sequential(nn.Conv1d(3, 64, 1), nn.BatchNorm1d(64), nn.ReLU())
        self.head = nn.Sequential(nn.Linear(64, 32), nn.Dropout(0.3), nn.Linear(32, classes))

    def forward(self, pts):
        feats = self.conv(pts).max(dim=2)[0]
        return F.log_softmax(self.head(feats), dim=1)


def main(train_set, valid_set, epochs=50):
    train_loader = DataLoader(train_set, batch_size=32, shuffle=True)
    valid_loader = DataLoader(valid_set, batch_size=32, shuffle=True)
    model = PointClassifier().cuda()
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    for epoch in range(epochs):
        for it, (pts, labels) in enumerate(train_loader):
            pts, labels = pts.transpose(2, 1).cuda(), labels.cuda()
            opt.zero_grad()
            loss = F.nll_loss(model(pts), labels)
            loss.backward()
            opt.step()
            if it % 20 == 0:
                _, (pts, labels) = next(enumerate(valid_loader))
                pts, labels = pts.transpose(2, 1).cuda(), labels.cuda()
                with torch.no_grad():
                    pred = model(pts)
                hits = pred.argmax(1).eq(labels).sum().item()
                print(f"epoch {epoch} it {it}: valid accuracy {hits / len(labels):.3f}")
""",
        lines=(34,),
        fix="""\
@@
             opt.step()
+            model.eval()
             if it % 20 == 0:
@@
                 print(f"epoch {epoch} it {it}: valid accuracy {hits / len(labels):.3f}")
+            model.train()
""",
    ),
    # the same in a script, through an iterator of the test loader made before training: the
    # test loss printed every 50 steps is measured with BatchNorm in train mode
    Invalid(
        """\
import torch
import torch.nn as nn
import torch.nn.functional as F

net = nn.Sequential(nn.Linear(20, 64), nn.BatchNorm1d(64), nn.ReLU(), nn.Linear(64, 5))
optimizer = torch.optim.SGD(net.parameters(), lr=0.01, momentum=0.9)
batches = iter(testloader)

for epoch in range(30):
    for step, (feats, target) in enumerate(trainloader):
        optimizer.zero_grad()
        loss = F.cross_entropy(net(feats), target)
        loss.backward()
        optimizer.step()
        if step % 50 == 49:
            feats, target = next(batches)
            test_loss = F.cross_entropy(net(feats), target)
            print(f"[{epoch}, {step}] train {loss.item():.3f} test {test_loss.item():.3f}")
""",
        lines=(17,),
        fix="""\
@@
         optimizer.step()
+        net.eval()
         if step % 50 == 49:
@@
             print(f"[{epoch}, {step}] train {loss.item():.3f} test {test_loss.item():.3f}")
+        net.train()
""",
    ),
    # a notebook trains two survival models one after the other, reusing `optimizer`: the
    # second optimizer's steps do not train the first model, tested in between
    Invalid(
        """\
import torch
import torch.nn as nn


class RiskNet(nn.Module):
    def __init__(self, n_features, n_out):
        super().__init__()
        self.body = nn.Sequential(
            nn.Linear(n_features, 32), nn.BatchNorm1d(32), nn.ReLU(), nn.Linear(32, n_out)
        )

    def forward(self, x):
        return self.body(x)


cox_model = RiskNet(12, 1)
optimizer = torch.optim.Adam(cox_model.parameters(), lr=1e-2)
for epoch in range(20):
    for x, event, time in train_loader:
        optimizer.zero_grad()
        cox_loss(cox_model(x), event, time).backward()
        optimizer.step()

with torch.no_grad():
    log_hazards = cox_model(x_test)

weibull_model = RiskNet(12, 2)
optimizer = torch.optim.Adam(weibull_model.parameters(), lr=1e-2)
for epoch in range(20):
    for x, event, time in train_loader:
        optimizer.zero_grad()
        weibull_loss(weibull_model(x), event, time).backward()
        optimizer.step()

weibull_model.eval()
with torch.no_grad():
    log_params = weibull_model(x_test)
""",
        (25,),
        fix="""\
@@
         optimizer.step()
 
+cox_model.eval()
 with torch.no_grad():
     log_hazards = cox_model(x_test)
""",
    ),
    # A loader builds the tagger, loads its weights and returns it, never switched: the
    # tagging loop runs it with Dropout active.
    Invalid(
        _LOADED_TAGGER,
        (27,),
        fix="""\
@@
     predictions = []
+    tagger.eval()
     with torch.no_grad():
""",
    ),
    # the same kind of model file, but its __main__ loads the trained checkpoint and predicts
    # a mask for one image, which it prints: the prediction is made with Dropout active and
    # BatchNorm using the batch's statistics
    Invalid(
        """\
import torch
import torch.nn as nn


class TinySeg(nn.Module):
    def __init__(self, classes=21):
        super().__init__()
        self.body = nn.Sequential(nn.Conv2d(3, 16, 3, padding=1), nn.BatchNorm2d(16), nn.ReLU())
        self.head = nn.Sequential(nn.Dropout2d(0.1), nn.Conv2d(16, classes, 1))

    def forward(self, x):
        return self.head(self.body(x))


def tiny_seg_voc(pretrained=False, root="~/.cache/models"):
    net = TinySeg(classes=21)
    if pretrained:
        net.load_state_dict(torch.load(f"{root}/tiny_seg_voc.pth", map_location="cpu"))
    return net


if __name__ == "__main__":
    image = torch.rand(1, 3, 128, 128)
    net = tiny_seg_voc(pretrained=True)
    with torch.no_grad():
        mask = net(image)
    print(mask.argmax(1).unique())
""",
        (26,),
        fix="""\
@@
     net = tiny_seg_voc(pretrained=True)
+    net.eval()
     with torch.no_grad():
         mask = net(image)
""",
    ),
    # a multimodal trainer whose validation loop was copied from its training loop, train()
    # before every forward included: eval() is called before the loop, then undone each batch
    Invalid(
        """\
import torch
import torch.nn as nn


class Fusion(nn.Module):
    def __init__(self, dims=(20, 30), classes=3):
        super().__init__()
        self.encoders = nn.ModuleList([nn.Linear(d, 32) for d in dims])
        self.drop = nn.Dropout(0.2)
        self.head = nn.Linear(32 * len(dims), classes)

    def forward(self, parts):
        joined = torch.cat([enc(p) for enc, p in zip(self.encoders, parts)], dim=-1)
        return self.head(self.drop(joined))


def fit(model, train_loader, valid_loader, epochs=20):
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    for epoch in range(epochs):
        model.train()
        for *parts, label in train_loader:
            opt.zero_grad()
            model.train()
            loss = nn.functional.cross_entropy(model(parts), label)
            loss.backward()
            opt.step()
        model.eval()
        correct = 0
        with torch.no_grad():
            for *parts, label in valid_loader:
                model.train()
                correct += (model(parts).argmax(1) == label).sum().item()
        print(epoch, correct)
""",
        (32,),
        fix="""\
@@
             for *parts, label in valid_loader:
-                model.train()
+                model.eval()
                 correct += (model(parts).argmax(1) == label).sum().item()
""",
    ),
    # a language model validated every N steps inside its training loop on batches drawn
    # there, under no_grad but with Dropout still on
    Invalid(
        """\
import torch
import torch.nn as nn
import torch.nn.functional as F


class TinyLM(nn.Module):
    def __init__(self, vocab=256, width=64):
        super().__init__()
        self.embed = nn.Embedding(vocab, width)
        self.drop = nn.Dropout(0.1)
        self.out = nn.Linear(width, vocab)

    def forward(self, tokens):
        return self.out(self.drop(self.embed(tokens)))


def train(get_batch, steps, eval_every=100, eval_iters=20):
    model = TinyLM()
    opt = torch.optim.AdamW(model.parameters(), lr=3e-4)
    model.train()
    for step in range(steps):
        x, y = get_batch("train")
        loss = F.cross_entropy(model(x).flatten(0, 1), y.flatten())
        opt.zero_grad()
        loss.backward()
        opt.step()
        if step % eval_every == 0:
            losses = []
            with torch.no_grad():
                for _ in range(eval_iters):
                    vx, vy = get_batch("val")
                    losses.append(F.cross_entropy(model(vx).flatten(0, 1), vy.flatten()).item())
            print(step, sum(losses) / len(losses))
""",
        (32,),
        fix="""\
@@
         if step % eval_every == 0:
             losses = []
+            model.eval()
             with torch.no_grad():
                 for _ in range(eval_iters):
                     vx, vy = get_batch("val")
                     losses.append(F.cross_entropy(model(vx).flatten(0, 1), vy.flatten()).item())
+            model.train()
             print(step, sum(losses) / len(losses))
""",
    ),
)

VALID = (
    # a character-level language model whose GRU takes its layer count from a parameter and
    # no dropout (0 by default): nothing in it depends on the mode, so sampling text between
    # training steps without eval() changes nothing
    """\
import torch
import torch.nn as nn


class CharModel(nn.Module):
    def __init__(self, vocab, hidden, layers=1):
        super().__init__()
        self.embed = nn.Embedding(vocab, hidden)
        self.rnn = nn.GRU(hidden, hidden, layers)
        self.head = nn.Linear(hidden, vocab)

    def forward(self, token, state):
        out, state = self.rnn(self.embed(token).view(1, 1, -1), state)
        return self.head(out.view(1, -1)), state


def sample(model, start, length=80):
    state = torch.zeros(model.rnn.num_layers, 1, model.rnn.hidden_size)
    token, text = start, []
    with torch.no_grad():
        for _ in range(length):
            logits, state = model(token, state)
            token = torch.multinomial(logits.softmax(-1).view(-1), 1)
            text.append(int(token))
    return text


model = CharModel(96, 128, layers=2)
optimizer = torch.optim.Adam(model.parameters(), lr=3e-3)
for step in range(2000):
    inputs, targets = random_chunk()
    state = torch.zeros(2, 1, 128)
    optimizer.zero_grad()
    loss = 0.0
    for t in range(len(inputs)):
        logits, state = model(inputs[t], state)
        loss = loss + nn.functional.cross_entropy(logits, targets[t].view(1))
    loss.backward()
    optimizer.step()
    if step % 100 == 0:
        print(sample(model, inputs[0]))
""",
    # a tutorial notebook shows that a two-layer GRU is two one-layer GRUs: the single layers
    # get the stacked one's weights copied in (no trained checkpoint is read) and are run once
    # to compare outputs; there is nothing to evaluate
    """\
import torch
import torch.nn as nn

stacked = nn.GRU(input_size=3, hidden_size=4, num_layers=2, dropout=0.2, batch_first=True)
weights = stacked.state_dict()
first = nn.GRU(input_size=3, hidden_size=4, batch_first=True)
second = nn.GRU(input_size=4, hidden_size=4, batch_first=True)
first.load_state_dict({k[:-1] + "0": v for k, v in weights.items() if k.endswith("l0")})
second.load_state_dict({k[:-1] + "0": v for k, v in weights.items() if k.endswith("l1")})
seq = torch.randn(1, 5, 3)
mid, _ = first(seq)
out, _ = second(mid)
print(out)
""",
    # the generator is switched in the statement that builds it: eval() returns the module, so
    # `netG` holds it in eval mode (also through `.to(device)` before it)
    """\
import torch
import torch.nn as nn


class Generator(nn.Module):
    def __init__(self, nz=64):
        super().__init__()
        self.main = nn.Sequential(nn.Linear(nz, 256), nn.BatchNorm1d(256), nn.ReLU(), nn.Linear(256, 784))

    def forward(self, z):
        return self.main(z).view(-1, 1, 28, 28)


device = "cuda" if torch.cuda.is_available() else "cpu"
netG = Generator().to(device).eval()
netG.load_state_dict(torch.load("netG.pth", map_location=device))
with torch.no_grad():
    images = netG(torch.randn(32, 64, device=device))
torch.save(images.cpu(), "samples.pt")
""",
    # Monte-Carlo dropout: the trained classifier is loaded and put in train mode on purpose,
    # so that each of the repeated forward passes samples a different dropout mask
    """\
import torch
import torch.nn as nn


class Classifier(nn.Module):
    def __init__(self):
        super().__init__()
        self.body = nn.Sequential(nn.Linear(64, 128), nn.ReLU(), nn.Dropout(0.5), nn.Linear(128, 3))

    def forward(self, x):
        return self.body(x)


clf = Classifier()
clf.load_state_dict(torch.load("clf.pt"))
clf.train()
x = torch.load("features.pt")
with torch.no_grad():
    draws = torch.stack([clf(x).softmax(-1) for _ in range(30)])
print(draws.mean(0), draws.std(0))
""",
    # fine-tuning from a checkpoint: the loaded weights are trained further in this script, so
    # the forward passes are training, not inference
    """\
import torch
import torch.nn as nn

net = nn.Sequential(nn.Linear(20, 64), nn.BatchNorm1d(64), nn.ReLU(), nn.Linear(64, 2))
net.load_state_dict(torch.load("pretrained.pt"))
opt = torch.optim.SGD(net.parameters(), lr=1e-3)
for x, y in loader:
    loss = nn.functional.cross_entropy(net(x), y)
    opt.zero_grad()
    loss.backward()
    opt.step()
""",
    # step factories whose validation step switches to eval mode and whose training step
    # switches back
    shared.step_factories(train_switch="net.train()", val_switch="net.eval()"),
    # a NoisyNet target network: its own layers add noise in train mode, on purpose
    """\
import torch
import torch.nn as nn
import torch.nn.functional as F


class NoisyLinear(nn.Module):
    def __init__(self, n_in, n_out, sigma=0.5):
        super().__init__()
        self.mu = nn.Linear(n_in, n_out)
        self.sigma = sigma

    def forward(self, x):
        out = self.mu(x)
        if self.training:
            out = out + self.sigma * torch.randn_like(out)
        return out


class QNetwork(nn.Module):
    def __init__(self, n_obs, n_actions):
        super().__init__()
        self.body = nn.Sequential(nn.Linear(n_obs, 64), nn.ReLU())
        self.head = NoisyLinear(64, n_actions)

    def forward(self, x):
        return self.head(self.body(x))


q_net = QNetwork(8, 4)
target_net = QNetwork(8, 4)
target_net.load_state_dict(q_net.state_dict())
optimizer = torch.optim.Adam(q_net.parameters(), lr=1e-4)
for step in range(100_000):
    obs, actions, rewards, next_obs, dones = buffer.sample(32)
    with torch.no_grad():
        # noisy exploration needs the target network in train mode too
        target = rewards + 0.99 * target_net(next_obs).max(1).values * (1 - dones)
    q = q_net(obs).gather(1, actions.unsqueeze(1)).squeeze(1)
    loss = F.smooth_l1_loss(q, target)
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
""",
    # Lightning: `validation_step`, `test_step`, `predict_step` — the Trainer switches modes.
    """\
import lightning as L
import torch
import torch.nn.functional as F


class LitClassifier(L.LightningModule):
    def __init__(self, backbone, num_classes):
        super().__init__()
        self.backbone = backbone
        self.head = torch.nn.Linear(backbone.out_features, num_classes)

    def forward(self, x):
        return self.head(self.backbone(x))

    def training_step(self, batch, batch_idx):
        x, y = batch
        return F.cross_entropy(self(x), y)

    def validation_step(self, batch, batch_idx):
        x, y = batch
        self.log("val_acc", (self(x).argmax(1) == y).float().mean())

    def test_step(self, batch, batch_idx):
        x, y = batch
        self.log("test_acc", (self(x).argmax(1) == y).float().mean())

    def predict_step(self, batch, batch_idx):
        return self(batch[0]).softmax(-1)
""",
    # Hugging Face `Trainer` subclass: `prediction_step` runs under `no_grad`; the Trainer calls
    # `model.eval()` before it.
    """\
import torch
from transformers import Trainer


class WeightedLossTrainer(Trainer):
    def compute_loss(self, model, inputs, return_outputs=False, **kwargs):
        labels = inputs.pop("labels")
        outputs = model(**inputs)
        loss = torch.nn.functional.cross_entropy(outputs.logits, labels, weight=self.class_weights)
        return (loss, outputs) if return_outputs else loss

    def prediction_step(self, model, inputs, prediction_loss_only, ignore_keys=None):
        with torch.no_grad():
            outputs = model(**inputs)
        return (None, outputs.logits, inputs.get("labels"))


trainer = WeightedLossTrainer(model=model, args=training_args, train_dataset=train_ds)
trainer.train()
metrics = trainer.evaluate(eval_dataset=val_ds)
""",
    # REINFORCE: `select_action()` forwards the policy in train mode on purpose — the saved
    # log-probabilities are backpropagated in `finish_episode()`.
    """\
import torch
from torch.distributions import Categorical


def select_action(state):
    probs = policy(torch.from_numpy(state).float().unsqueeze(0))
    m = Categorical(probs)
    action = m.sample()
    policy.saved_log_probs.append(m.log_prob(action))
    return action.item()


for i_episode in range(1, 1000):
    state, ep_reward = env.reset(), 0
    for t in range(1, 10000):
        action = select_action(state)
        state, reward, done, _ = env.step(action)
        policy.rewards.append(reward)
        if done:
            break
    finish_episode()
""",
    # CleanRL DQN: greedy action selection under `no_grad` inside the online training loop.
    """\
import random

import torch

q_network.train()
for global_step in range(total_timesteps):
    epsilon = linear_schedule(start_e, end_e, exploration_steps, global_step)
    if random.random() < epsilon:
        action = envs.action_space.sample()
    else:
        with torch.no_grad():
            action = q_network(torch.Tensor(obs)).argmax(dim=1).cpu().numpy()
    next_obs, rewards, dones, infos = envs.step(action)
    rb.add(obs, next_obs, action, rewards, dones, infos)
    obs = next_obs
    if global_step > learning_starts:
        data = rb.sample(batch_size)
        with torch.no_grad():
            target_max = target_network(data.next_observations).max(1).values
            td_target = data.rewards.flatten() + gamma * target_max
        loss = F.mse_loss(td_target, q_network(data.observations).gather(1, data.actions).squeeze())
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
""",
    # Test-time adaptation (TENT): the model is kept in train mode on purpose so BatchNorm uses
    # the test batch's statistics, and it is trained on its own predictions' entropy.
    """\
import torch
from torch import nn


def configure_model(model):
    # test-time adaptation: BatchNorm must normalise with the test batch's statistics
    model.train()
    model.requires_grad_(False)
    for m in model.modules():
        if isinstance(m, nn.BatchNorm2d):
            m.requires_grad_(True)
            m.track_running_stats = False
            m.running_mean = None
            m.running_var = None
    return model


model = configure_model(model)
optimizer = torch.optim.SGD([p for p in model.parameters() if p.requires_grad], lr=2.5e-4)
for x in test_stream:
    outputs = model(x)
    loss = -(outputs.softmax(1) * outputs.log_softmax(1)).sum(1).mean()
    loss.backward()
    optimizer.step()
    optimizer.zero_grad()
    predictions.append(outputs.argmax(1).detach())
""",
    # time_sequence_prediction: LSTMCell + Linear (no mode-dependent layer) predicts under
    # `no_grad` between LBFGS steps without `eval()`; at most a hint.
    """\
import torch
from torch import nn


class Sequence(nn.Module):
    def __init__(self):
        super().__init__()
        self.lstm1 = nn.LSTMCell(1, 51)
        self.linear = nn.Linear(51, 1)

    def forward(self, x, future=0):
        h = c = torch.zeros(x.size(0), 51, dtype=x.dtype)
        outputs = []
        for t in range(x.size(1) + future):
            h, c = self.lstm1(x[:, t : t + 1] if t < x.size(1) else outputs[-1], (h, c))
            outputs.append(self.linear(h))
        return torch.cat(outputs, dim=1)


seq = Sequence()
optimizer = torch.optim.LBFGS(seq.parameters(), lr=0.8)
for i in range(15):

    def closure():
        optimizer.zero_grad()
        loss = criterion(seq(inputs), target)
        loss.backward()
        return loss

    optimizer.step(closure)
    with torch.no_grad():
        pred = seq(test_input, future=1000)
        print("test loss:", criterion(pred[:, :-1000], test_target).item())
""",
    # DCGAN tutorial: periodic sample grid from fixed noise under `no_grad` inside the GAN
    # training loop.
    """\
import torch
import torchvision.utils as vutils

fixed_noise = torch.randn(64, nz, 1, 1, device=device)
for epoch in range(num_epochs):
    for i, (real, _) in enumerate(dataloader):
        netD.zero_grad()
        fake = netG(torch.randn(real.size(0), nz, 1, 1, device=device))
        errD = criterion(netD(real), ones) + criterion(netD(fake.detach()), zeros)
        errD.backward()
        optimizerD.step()
        netG.zero_grad()
        errG = criterion(netD(fake), ones)
        errG.backward()
        optimizerG.step()
        if iters % 500 == 0:
            with torch.no_grad():
                fake = netG(fixed_noise).detach().cpu()
            img_list.append(vutils.make_grid(fake, padding=2, normalize=True))
        iters += 1
""",
    # EMA shadow made with `copy.deepcopy(model).eval()` and evaluated every epoch.
    """\
import copy

import torch

ema_model = copy.deepcopy(model).eval()
for epoch in range(epochs):
    model.train()
    for x, y in train_loader:
        optimizer.zero_grad()
        criterion(model(x), y).backward()
        optimizer.step()
        with torch.no_grad():
            for e, p in zip(ema_model.parameters(), model.parameters()):
                e.lerp_(p, 1 - decay)
    with torch.no_grad():
        ema_acc = sum((ema_model(x).argmax(1) == y).sum().item() for x, y in val_loader)
    print(f"epoch {epoch}: EMA accuracy {ema_acc / len(val_set):.4f}")
""",
    # Hugging Face inference: `from_pretrained()` already returns the model in eval mode.
    """\
import torch
from transformers import AutoModelForSequenceClassification, AutoTokenizer

name = "distilbert-base-uncased-finetuned-sst-2-english"
tokenizer = AutoTokenizer.from_pretrained(name)
model = AutoModelForSequenceClassification.from_pretrained(name)
inputs = tokenizer(texts, padding=True, truncation=True, return_tensors="pt")
with torch.no_grad():
    logits = model(**inputs).logits
labels = [model.config.id2label[i] for i in logits.argmax(-1).tolist()]
""",
    # Monte Carlo dropout: `model.eval()`, then only the Dropout submodules back to train mode.
    """\
import torch


def enable_dropout(model):
    for m in model.modules():
        if m.__class__.__name__.startswith("Dropout"):
            m.train()


def mc_dropout_predict(model, x, n_samples=20):
    model.eval()
    enable_dropout(model)
    with torch.no_grad():
        samples = torch.stack([model(x).softmax(-1) for _ in range(n_samples)])
    return samples.mean(0), samples.var(0)


mean, var = mc_dropout_predict(model, test_x)
""",
    # The caller switches: `model.eval()` before calling a `test()` that does not switch itself.
    """\
import torch


def test(model, loader):
    correct = 0
    with torch.no_grad():
        for x, y in loader:
            correct += (model(x).argmax(1) == y).sum().item()
    return correct / len(loader.dataset)


for epoch in range(epochs):
    model.train()
    for x, y in train_loader:
        optimizer.zero_grad()
        criterion(model(x), y).backward()
        optimizer.step()
    model.eval()
    print(f"epoch {epoch}: accuracy {test(model, test_loader):.3f}")
""",
    # detectron2 `DefaultPredictor`: `eval()` once in `__init__`, predictions under `no_grad` in
    # `__call__`.
    """\
import torch


class DefaultPredictor:
    def __init__(self, cfg):
        self.model = build_model(cfg)
        self.model.eval()
        checkpointer = DetectionCheckpointer(self.model)
        checkpointer.load(cfg.MODEL.WEIGHTS)
        self.aug = ResizeShortestEdge(cfg.INPUT.MIN_SIZE_TEST, cfg.INPUT.MAX_SIZE_TEST)

    def __call__(self, original_image):
        with torch.no_grad():
            height, width = original_image.shape[:2]
            image = self.aug.get_transform(original_image).apply_image(original_image)
            image = torch.as_tensor(image.astype("float32").transpose(2, 0, 1))
            return self.model([{"image": image, "height": height, "width": width}])[0]


predictor = DefaultPredictor(cfg)
outputs = predictor(im)
""",
    # PyTorch-intro loop: `model.train(False)` as the switch to evaluation.
    """\
import torch

for epoch in range(EPOCHS):
    model.train(True)
    avg_loss = train_one_epoch(epoch, writer)
    model.train(False)
    running_vloss = 0.0
    with torch.no_grad():
        for vinputs, vlabels in validation_loader:
            running_vloss += loss_fn(model(vinputs), vlabels).item()
    avg_vloss = running_vloss / len(validation_loader)
    writer.add_scalars("loss", {"train": avg_loss, "valid": avg_vloss}, epoch + 1)
    if avg_vloss < best_vloss:
        best_vloss = avg_vloss
        torch.save(model.state_dict(), f"model_{epoch}")
""",
    # Transfer-learning tutorial: `model.train(phase == "train")` and
    # `set_grad_enabled(phase == "train")` in one loop over phases.
    """\
import torch

for epoch in range(num_epochs):
    for phase in ["train", "val"]:
        model.train(phase == "train")
        running_corrects = 0
        for inputs, labels in dataloaders[phase]:
            optimizer.zero_grad()
            with torch.set_grad_enabled(phase == "train"):
                outputs = model(inputs)
                loss = criterion(outputs, labels)
                if phase == "train":
                    loss.backward()
                    optimizer.step()
            running_corrects += (outputs.argmax(1) == labels).sum().item()
        print(f"{phase} acc: {running_corrects / dataset_sizes[phase]:.4f}")
""",
    # Fixed feature extractor: the frozen backbone is put in eval once and its features computed
    # under `no_grad` while the classifier trains.
    """\
import torch
import torchvision

backbone = torchvision.models.resnet50(weights="IMAGENET1K_V2")
backbone.fc = torch.nn.Identity()
backbone.eval()
classifier = torch.nn.Linear(2048, num_classes)
optimizer = torch.optim.Adam(classifier.parameters(), lr=1e-3)
for epoch in range(epochs):
    for images, labels in train_loader:
        with torch.no_grad():
            feats = backbone(images)
        loss = torch.nn.functional.cross_entropy(classifier(feats), labels)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
""",
    # Stable-Baselines3 PPO: the policy's mode is set through `set_training_mode()`, not
    # `eval()`/`train()`; rollouts are collected under `no_grad`.
    """\
import torch


class PPO(OnPolicyAlgorithm):
    def train(self):
        self.policy.set_training_mode(True)
        for rollout_data in self.rollout_buffer.get(self.batch_size):
            values, log_prob, entropy = self.policy.evaluate_actions(
                rollout_data.observations, rollout_data.actions
            )
            loss = self.compute_ppo_loss(values, log_prob, entropy, rollout_data)
            self.policy.optimizer.zero_grad()
            loss.backward()
            self.policy.optimizer.step()

    def collect_rollouts(self, env, rollout_buffer, n_rollout_steps):
        self.policy.set_training_mode(False)
        for _ in range(n_rollout_steps):
            with torch.no_grad():
                actions, values, log_probs = self.policy(obs_as_tensor(self._last_obs, self.device))
            self._last_obs, rewards, dones, infos = env.step(actions.cpu().numpy())
            rollout_buffer.add(self._last_obs, actions, rewards, dones, values, log_probs)
""",
    # Knowledge distillation: the teacher is loaded and put in eval; its soft targets are computed
    # under `no_grad` while the student trains.
    """\
import torch
import torch.nn.functional as F

teacher.load_state_dict(torch.load("teacher.pt"))
teacher.eval()
student.train()
for epoch in range(epochs):
    for x, y in train_loader:
        with torch.no_grad():
            soft_targets = F.softmax(teacher(x) / T, dim=-1)
        logits = student(x)
        loss = F.cross_entropy(logits, y) + T * T * F.kl_div(
            F.log_softmax(logits / T, dim=-1), soft_targets, reduction="batchmean"
        )
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
""",
    # `run_validation()` brackets an `@torch.no_grad()` `evaluate()` with `model.eval()` and
    # `model.train()`: the switch is one call up.
    """\
import torch


@torch.no_grad()
def evaluate(model, loader):
    return sum((model(x).argmax(1) == y).sum().item() for x, y in loader)


def run_validation(model, loader):
    model.eval()
    acc = evaluate(model, loader)
    model.train()
    return acc


model.train()
for epoch in range(epochs):
    for x, y in train_loader:
        optimizer.zero_grad()
        criterion(model(x), y).backward()
        optimizer.step()
    run_validation(model, val_loader)
""",
    # MoCo: the momentum key encoder runs under `no_grad` in train mode on purpose (its BatchNorm
    # follows the query encoder's) inside the model's own `forward`.
    """\
import copy

import torch
from torch import nn


class MoCo(nn.Module):
    def __init__(self, base_encoder, dim=128, m=0.999, T=0.07):
        super().__init__()
        self.m, self.T = m, T
        self.encoder_q = base_encoder(num_classes=dim)
        self.encoder_k = copy.deepcopy(self.encoder_q)
        self.encoder_k.requires_grad_(False)

    @torch.no_grad()
    def _momentum_update_key_encoder(self):
        for param_q, param_k in zip(self.encoder_q.parameters(), self.encoder_k.parameters()):
            param_k.data = param_k.data * self.m + param_q.data * (1.0 - self.m)

    def forward(self, im_q, im_k):
        q = nn.functional.normalize(self.encoder_q(im_q), dim=1)
        with torch.no_grad():
            self._momentum_update_key_encoder()
            k = nn.functional.normalize(self.encoder_k(im_k), dim=1)
        logits = torch.einsum("nc,nc->n", q, k).unsqueeze(-1) / self.T
        return logits
""",
    # Inference script: `model.eval()`, then the model is re-bound to `torch.compile(model)` and
    # `DataParallel(model)`, which keep its mode.
    """\
import torch

model = build_model(cfg)
model.load_state_dict(torch.load(cfg.checkpoint, map_location="cuda"))
model.eval()
model = torch.compile(model, mode="reduce-overhead")
if torch.cuda.device_count() > 1:
    model = torch.nn.DataParallel(model)
with torch.inference_mode(), torch.autocast("cuda", dtype=torch.float16):
    for batch in test_loader:
        logits = model(batch["pixel_values"].cuda())
        writer.write(batch["ids"], logits.argmax(-1).tolist())
""",
    # A separate evaluation script for the mnist CNN: weights loaded, `model.eval()`, test loop.
    """\
import torch
from torch import nn


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Sequential(nn.Conv2d(1, 32, 3), nn.BatchNorm2d(32), nn.ReLU())
        self.fc = nn.Linear(32 * 26 * 26, 10)

    def forward(self, x):
        return self.fc(self.conv(x).flatten(1))


model = Net()
model.load_state_dict(torch.load("mnist_cnn.pt"))
model.eval()
with torch.no_grad():
    for data, target in test_loader:
        pred = model(data).argmax(dim=1)
        correct += pred.eq(target).sum().item()
""",
    # DDP script that switches the wrapped module (`model.module.eval()`) and evaluates through the
    # wrapper.
    """\
import torch
from torch.nn.parallel import DistributedDataParallel as DDP

model = DDP(net.to(rank), device_ids=[rank])
for epoch in range(epochs):
    model.train()
    for x, y in train_loader:
        optimizer.zero_grad()
        criterion(model(x), y).backward()
        optimizer.step()
    model.module.eval()
    with torch.no_grad():
        val_loss = sum(criterion(model(x), y).item() for x, y in val_loader)
""",
    # pytest unit tests of a freshly built model's output shape and gradients (not an evaluation).
    """\
import pytest
import torch
from torch import nn


class TinyNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.body = nn.Sequential(nn.Linear(16, 32), nn.BatchNorm1d(32), nn.Dropout(0.1))
        self.head = nn.Linear(32, 4)

    def forward(self, x):
        return self.head(self.body(x))


@pytest.mark.parametrize("batch", [2, 8])
def test_output_shape(batch):
    model = TinyNet()
    with torch.no_grad():
        out = model(torch.randn(batch, 16))
    assert out.shape == (batch, 4)


def test_backward_populates_grads():
    model = TinyNet()
    model(torch.randn(4, 16)).sum().backward()
    assert all(p.grad is not None for p in model.parameters())
""",
    # Precise-BN / SWA `update_bn`: forwards in train mode under `no_grad` on purpose, to recompute
    # BatchNorm statistics; the caller evaluates in eval mode afterwards.
    """\
import torch
from torch import nn


def recompute_bn_stats(model, loader, num_batches=200):
    momenta = {}
    for m in model.modules():
        if isinstance(m, nn.modules.batchnorm._BatchNorm):
            m.reset_running_stats()
            momenta[m] = m.momentum
            m.momentum = None  # cumulative average over the batches below
    was_training = model.training
    model.train()
    with torch.no_grad():
        for i, (images, _) in enumerate(loader):
            if i == num_batches:
                break
            model(images)
    for m, momentum in momenta.items():
        m.momentum = momentum
    model.train(was_training)


recompute_bn_stats(swa_model, train_loader)
swa_model.eval()
with torch.no_grad():
    acc = sum((swa_model(x).argmax(1) == y).sum().item() for x, y in test_loader)
""",
    # pytorch/examples VAE: `no_grad` at the call site around `test()` (which switches to eval) and
    # the sample decoding that follows it.
    """\
import torch


def train(epoch):
    model.train()
    for data, _ in train_loader:
        optimizer.zero_grad()
        recon_batch, mu, logvar = model(data)
        loss = loss_function(recon_batch, data, mu, logvar)
        loss.backward()
        optimizer.step()


def test(epoch):
    model.eval()
    test_loss = 0.0
    for data, _ in test_loader:
        recon_batch, mu, logvar = model(data)
        test_loss += loss_function(recon_batch, data, mu, logvar).item()
    return test_loss / len(test_loader.dataset)


for epoch in range(1, args.epochs + 1):
    train(epoch)
    with torch.no_grad():
        print(f"epoch {epoch}: test loss {test(epoch):.4f}")
        sample = model.decode(torch.randn(64, 20)).cpu()
    save_image(sample.view(64, 1, 28, 28), f"results/sample_{epoch}.png")
""",
    # FixMatch-style semi-supervised step: pseudo-labels from the weakly augmented batch under
    # `no_grad`, in train mode on purpose, inside the training loop.
    """\
import torch
import torch.nn.functional as F

model.train()
for step in range(total_steps):
    x_l, y_l = next(labeled_iter)
    (u_weak, u_strong), _ = next(unlabeled_iter)
    with torch.no_grad():
        probs = torch.softmax(model(u_weak), dim=-1)
        max_probs, pseudo_labels = probs.max(dim=-1)
        mask = max_probs.ge(threshold).float()
    loss_x = F.cross_entropy(model(x_l), y_l)
    loss_u = (F.cross_entropy(model(u_strong), pseudo_labels, reduction="none") * mask).mean()
    loss = loss_x + lambda_u * loss_u
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    ema.update(model)
""",
    # Frozen text encoder that switches itself to eval in `__init__` (and pins it by overriding
    # `train()`); its no-grad conditioning forward in the UNet's training loop is not in train mode.
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
    # fit()/sample() where sample() switches to eval mode itself
    """\
import torch
from torch import nn


class Synthesizer:
    def fit(self, rows):
        self.generator = nn.Sequential(nn.Linear(16, 16), nn.BatchNorm1d(16))
        opt = torch.optim.Adam(self.generator.parameters())
        for batch in rows.split(500):
            loss = self.generator(torch.randn(len(batch), 16)).pow(2).mean()
            opt.zero_grad()
            loss.backward()
            opt.step()

    def sample(self, n):
        self.generator.eval()
        with torch.no_grad():
            return self.generator(torch.randn(n, 16))
""",
    # a DQN agent: the target network is built here and never trained by any method (only the
    # online network is), so its mode on entry to learn() is not the class's to decide
    """\
import torch
from torch import nn


class Agent:
    def __init__(self):
        self.online = nn.Sequential(nn.Linear(4, 64), nn.Dropout(0.1), nn.Linear(64, 2))
        self.target = nn.Sequential(nn.Linear(4, 64), nn.Dropout(0.1), nn.Linear(64, 2))
        self.opt = torch.optim.Adam(self.online.parameters())

    def act(self, state):
        with torch.no_grad():
            return self.target(state).argmax(-1)

    def learn(self, s, a, r, s2):
        q = self.online(s).gather(1, a)
        loss = (q - r).pow(2).mean()
        self.opt.zero_grad()
        loss.backward()
        self.opt.step()
""",
    # the same config-driven trainer, switching around its validation
    """\
import torch
import torch.nn.functional as F


def fit(model, config, train_batches, val_batches):
    options = dict(config["optimizer"])
    optimizer = getattr(torch.optim, options.pop("name"))(model.parameters(), **options)
    for step, (x, y) in enumerate(train_batches):
        model.train()
        optimizer.zero_grad()
        F.cross_entropy(model(x), y).backward()
        optimizer.step()
        if step % 500 == 0:
            model.eval()
            with torch.no_grad():
                val_loss = sum(F.cross_entropy(model(vx), vy).item() for vx, vy in val_batches)
            print(step, val_loss / len(val_batches))
    return model
""",
    # the same library whose training function leaves the mode to its caller
    """\
import torch.nn.functional as F


def train_model(model, loader, optimizer, epochs=10):
    for _ in range(epochs):
        for x, y in loader:
            optimizer.zero_grad()
            F.cross_entropy(model(x), y).backward()
            optimizer.step()
    return model


def compute_test_accuracy(model, loader):
    hits, seen = 0, 0
    for x, y in loader:
        hits += (model(x).argmax(1) == y).sum().item()
        seen += len(y)
    return hits / seen
""",
    # the library's own loop switches to eval mode before calling its test function
    """\
import torch.nn.functional as F


def train_one_epoch(model, loader, optimizer):
    model.train()
    for x, y in loader:
        optimizer.zero_grad()
        F.cross_entropy(model(x), y).backward()
        optimizer.step()


def compute_test_accuracy(model, loader):
    hits, seen = 0, 0
    for x, y in loader:
        hits += (model(x).argmax(1) == y).sum().item()
        seen += len(y)
    return hits / seen


def fit(model, loader, val_loader, optimizer, epochs):
    for epoch in range(epochs):
        train_one_epoch(model, loader, optimizer)
        model.eval()
        print(epoch, compute_test_accuracy(model, val_loader))
""",
    # trained, then switched by the project's own method (which calls eval() on its parts)
    """\
import torch
import torch.nn.functional as F


def fit_and_score(net, train_loader, valid_loader):
    opt = torch.optim.SGD(net.parameters(), lr=0.01)
    for x, y in train_loader:
        opt.zero_grad()
        F.cross_entropy(net(x), y).backward()
        opt.step()
    net.to_eval()
    with torch.no_grad():
        return sum((net(x).argmax(1) == y).sum().item() for x, y in valid_loader)
""",
    # reinforcement learning: the Q-network chooses actions and computes its targets under
    # no_grad inside the iteration that trains it; train mode there is the algorithm's own
    """\
import torch
from torch import nn

q_network = nn.Sequential(nn.Linear(8, 64), nn.LayerNorm(64), nn.ReLU(), nn.Linear(64, 4))
optimizer = torch.optim.Adam(q_network.parameters(), lr=2.5e-4)
obs = torch.as_tensor(envs.reset()[0], dtype=torch.float32)
for iteration in range(1000):
    for step in range(128):
        with torch.no_grad():
            q_values = q_network(obs)
        actions = q_values.argmax(dim=1)
        next_obs, reward, terminated, truncated, info = envs.step(actions.numpy())
        buffer.add(obs, actions, reward)
        obs = torch.as_tensor(next_obs, dtype=torch.float32)
    with torch.no_grad():
        targets = []
        for t in reversed(range(128)):
            targets.append(buffer.reward[t] + 0.99 * q_network(buffer.obs[t]).max(-1).values)
    loss = (q_network(buffer.all_obs()).max(-1).values - torch.stack(targets)).pow(2).mean()
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
""",
    shared.MODEL_FILE_SHAPE_TEST,
    # the project's own loss module (a criterion, not a model) used in the validation pass
    """\
import torch
from torch import nn


class DiceLoss(nn.Module):
    def forward(self, pred, target):
        inter = (pred.sigmoid() * target).sum()
        return 1 - 2 * inter / (pred.sigmoid().sum() + target.sum() + 1e-6)


def validate(model, loader):
    criterion = DiceLoss()
    model.eval()
    total = 0.0
    with torch.no_grad():
        for image, mask in loader:
            total += criterion(model(image), mask).item()
    return total / len(loader)
""",
    # generate() after eval(), and a generate() method of the file's own model class, which
    # switches the model itself: followed, not taken for Hugging Face's
    """\
import torch
from torch import nn


class TinyLM(nn.Module):
    def __init__(self, vocab, dim):
        super().__init__()
        self.embed = nn.Embedding(vocab, dim)
        self.drop = nn.Dropout(0.1)
        self.head = nn.Linear(dim, vocab)

    def forward(self, ids):
        return self.head(self.drop(self.embed(ids)))

    @torch.no_grad()
    def generate(self, ids, steps):
        was_training = self.training
        self.eval()
        for _ in range(steps):
            ids = torch.cat([ids, self(ids)[:, -1].argmax(-1, keepdim=True)], 1)
        self.train(was_training)
        return ids


def sample_each_epoch(lm, loader, optimizer, prompt, epochs):
    lm.train()
    for epoch in range(epochs):
        for ids in loader:
            loss = nn.functional.cross_entropy(lm(ids[:, :-1]).transpose(1, 2), ids[:, 1:])
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
        print(lm.generate(prompt, 20))


def decode_dev(model, loader):
    model.eval()
    return [model.generate(batch["input_ids"], max_new_tokens=32) for batch in loader]
""",
    # an RL fine-tuning step: the rollout's generate() feeds the update of the same iteration
    """\
import torch


def ppo_epoch(policy, queries, reward_fn, optimizer):
    policy.train()
    for query in queries:
        response = policy.generate(query, do_sample=True, max_new_tokens=24)
        reward = reward_fn(query, response)
        logits = policy(torch.cat([query, response], 1)).logits
        loss = -(reward * logits.log_softmax(-1).amax(-1).mean())
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
""",
    # networks kept in a dict, switched together by a loop over its keys or its values
    """\
import torch


class Trainer:
    def __init__(self, model, optimizer, loader):
        self.model = model
        self.optimizer = optimizer
        self.loader = loader

    def _train_step(self, batch):
        self.model["generator"].train()
        y_ = self.model["generator"](batch)
        loss = y_.mean()
        self.optimizer["generator"].zero_grad()
        loss.backward()
        self.optimizer["generator"].step()

    @torch.no_grad()
    def _eval_epoch(self):
        for key in self.model.keys():
            self.model[key].eval()
        for batch in self.loader["dev"]:
            self.model["generator"](batch).mean().item()

    @torch.no_grad()
    def _eval_values(self):
        for net in self.model.values():
            net.eval()
        for batch in self.loader["dev"]:
            self.model["generator"](batch).mean().item()

    def run(self):
        for batch in self.loader["train"]:
            self._train_step(batch)
            self._eval_epoch()
            self._eval_values()
""",
    # a validation batch drawn with next() that is part of the training loss on purpose
    # (validation-guided training), and a training batch drawn with next() to print its loss
    """\
import torch
import torch.nn as nn
import torch.nn.functional as F


def fit(net, train_loader, val_loader, steps=1000, meta_weight=0.1):
    # validation-guided training: a query batch from the validation split is part of the
    # loss every other step, on purpose (its gradient is used)
    opt = torch.optim.SGD(net.parameters(), lr=0.01)
    train_iter = iter(train_loader)
    for step in range(steps):
        x, y = next(train_iter)
        if step % 2 == 0:
            xq, yq = next(iter(val_loader))
            query_loss = F.cross_entropy(net(xq), yq)
        else:
            query_loss = torch.zeros(())
        loss = F.cross_entropy(net(x), y) + meta_weight * query_loss
        opt.zero_grad()
        loss.backward()
        opt.step()
        if step % 100 == 0:
            # a look at a training batch, not an evaluation
            xb, yb = next(train_iter)
            print(step, F.cross_entropy(net(xb), yb).item())
""",
    # a shape probe on a training batch, a decoded noise image, and a validation batch drawn
    # with next() and classified the right way (eval() and no_grad around it)
    """\
import torch
import torch.nn as nn
import torch.nn.functional as F
from torchvision.utils import save_image


def run(model, train_loader, test_loader, epochs):
    opt = torch.optim.Adam(model.parameters())
    xb, _ = next(iter(train_loader))
    print("output shape", model(xb).shape)  # a shape probe on a training batch
    for epoch in range(epochs):
        for i, (x, y) in enumerate(train_loader):
            model.train()
            loss = F.cross_entropy(model(x), y)
            opt.zero_grad()
            loss.backward()
            opt.step()
            if i % 200 == 0:
                save_image(model.decoder(torch.randn(16, 32)), f"dec_{epoch}_{i}.png")
                model.eval()
                xt, yt = next(iter(test_loader))
                with torch.no_grad():
                    acc = (model(xt).argmax(1) == yt).float().mean().item()
                print(epoch, i, acc)
""",
    # the same loader, switching the tagger to eval mode before returning it
    _LOADED_TAGGER.replace("    return tagger\n", "    tagger.eval()\n    return tagger\n"),
    # a loader returning a Hugging Face model from from_pretrained(), which is in eval mode
    """\
import torch
from transformers import AutoModelForTokenClassification


def load_tagger(name):
    model = AutoModelForTokenClassification.from_pretrained(name)
    return model.to("cuda")


def tag_corpus(name, batches):
    tagger = load_tagger(name)
    predictions = []
    with torch.no_grad():
        for batch in batches:
            predictions.append(tagger(**batch).logits.argmax(-1))
    return predictions
""",
    # contrastive training with gradient accumulation: features cached under no_grad inside
    # the step function, whose optimizer comes from a state object built elsewhere
    """\
from dataclasses import dataclass

import torch
import torch.nn as nn


class ContrastiveTask(nn.Module):
    # holds the trained encoder and its loss, so trainers handle one object

    encoder: nn.Module

    def __init__(self, encoder, loss_fn):
        super().__init__()
        self.encoder = encoder
        self.loss_fn = loss_fn

    def loss(self, embeddings):
        return self.loss_fn(embeddings)


@dataclass
class TrainState:
    wrapper: ContrastiveTask
    optimizer: torch.optim.Optimizer
    scaler: object = None


def backward(loss, scaler):
    if scaler is not None:
        scaler.scale(loss).backward()
    else:
        loss.backward()


def finish_step(wrapper, optimizer, scaler):
    if scaler is not None:
        scaler.unscale_(optimizer)
        torch.nn.utils.clip_grad_norm_(wrapper.encoder.parameters(), 1.0)
        scaler.step(optimizer)
        scaler.update()
    else:
        optimizer.step()


def accumulating_step(wrapper, batch, cached, optimizer, scaler, accum):
    # contrastive accumulation: embed without grad first, to use as negatives later
    with torch.no_grad():
        cached.append(wrapper.encoder(batch))
    if len(cached) < accum:
        return None
    optimizer.zero_grad()
    for j in range(accum):
        emb = wrapper.encoder(batch)
        loss = wrapper.loss(torch.cat(cached[:j] + [emb] + cached[j + 1 :]))
        backward(loss, scaler)
    finish_step(wrapper, optimizer, scaler)
    cached.clear()
    return loss.item()


def train_epoch(state, loader, accum):
    wrapper = state.wrapper
    optimizer = state.optimizer
    scaler = state.scaler
    wrapper.train()
    cached = []
    for batch in loader:
        accumulating_step(wrapper, batch, cached, optimizer, scaler, accum)
""",
    # `Net(...).eval()` switched as it is built, then `.cuda()` rebinding it: evaluated in eval mode
    """\
import argparse

import torch
from torch import nn


class Upsampler(nn.Module):
    def __init__(self, scale):
        super().__init__()
        self.body = nn.Sequential(nn.Conv2d(3, 64, 3, padding=1), nn.BatchNorm2d(64), nn.PReLU())
        self.tail = nn.Sequential(nn.Conv2d(64, 3 * scale**2, 3, padding=1), nn.PixelShuffle(scale))

    def forward(self, x):
        return self.tail(self.body(x))


parser = argparse.ArgumentParser()
parser.add_argument("--scale", type=int, default=4)
parser.add_argument("--weights", default="upsampler.pth")
args = parser.parse_args()

# switched to eval mode as it is built, moved to the GPU afterwards
net = Upsampler(args.scale).eval()
if torch.cuda.is_available():
    net = net.cuda()
net.load_state_dict(torch.load(args.weights))

scores = []
with torch.no_grad():
    for low, high in torch.load("benchmark.pt"):
        restored = net(low)
        scores.append(((restored - high) ** 2).mean().item())
print(sum(scores) / len(scores))
""",
    # a helper named like inference (`predict_motion()`) runs a network for the batch helper whose returned loss the epoch loop backpropagates: a training forward
    """\
import torch
from torch import nn


class DepthTrainer:
    def __init__(self, opt):
        self.opt = opt
        self.nets = {}
        self.nets["depth"] = nn.Sequential(nn.Conv2d(3, 16, 3, padding=1), nn.BatchNorm2d(16))
        self.nets["motion_encoder"] = nn.Sequential(
            nn.Conv2d(6, 16, 3, padding=1), nn.BatchNorm2d(16)
        )
        self.nets["motion"] = nn.Conv2d(16, 6, 1)
        params = []
        for net in self.nets.values():
            params += list(net.parameters())
        self.optimizer = torch.optim.Adam(params, lr=1e-4)

    def set_train(self):
        for net in self.nets.values():
            net.train()

    def set_eval(self):
        for net in self.nets.values():
            net.eval()

    def fit_epoch(self, loader):
        self.set_train()
        for batch in loader:
            outputs, losses = self.run_batch(batch)
            self.optimizer.zero_grad()
            losses["total"].backward()
            self.optimizer.step()

    def run_batch(self, batch):
        outputs = {"depth": self.nets["depth"](batch["frame"])}
        # the relative camera motion, computed by a helper named like inference
        outputs.update(self.predict_motion(batch))
        losses = {"total": (outputs["depth"] - outputs["motion"]).abs().mean()}
        return outputs, losses

    def predict_motion(self, batch):
        pair = torch.cat([batch["frame"], batch["next"]], 1)
        features = self.nets["motion_encoder"](pair)
        return {"motion": self.nets["motion"](features)}

    def validate(self, batch):
        self.set_eval()
        with torch.no_grad():
            _, losses = self.run_batch(batch)
        self.set_train()
        return losses["total"].item()
""",
    # a segmentation model's file: its factory can load a checkpoint (`pretrained=True`), and
    # the file ends with a self-test under __main__ that builds the model with the defaults and
    # runs it once on a random batch, keeping the output in a name nothing reads: nothing is
    # evaluated, whatever weights the factory may have put in
    """\
import torch
import torch.nn as nn


class TinySeg(nn.Module):
    def __init__(self, classes=21):
        super().__init__()
        self.body = nn.Sequential(nn.Conv2d(3, 16, 3, padding=1), nn.BatchNorm2d(16), nn.ReLU())
        self.head = nn.Sequential(nn.Dropout2d(0.1), nn.Conv2d(16, classes, 1))

    def forward(self, x):
        return self.head(self.body(x))


def tiny_seg_voc(pretrained=False, root="~/.cache/models"):
    net = TinySeg(classes=21)
    if pretrained:
        net.load_state_dict(torch.load(f"{root}/tiny_seg_voc.pth", map_location="cpu"))
    return net


if __name__ == "__main__":
    batch = torch.randn(2, 3, 128, 128)
    net = tiny_seg_voc()
    logits = net(batch)
""",
    # the same model file, its self-test now loading the pretrained weights and printing the
    # output size: only the shape of the output is read, so no value is evaluated
    """\
import torch
import torch.nn as nn


class TinySeg(nn.Module):
    def __init__(self, classes=21):
        super().__init__()
        self.body = nn.Sequential(nn.Conv2d(3, 16, 3, padding=1), nn.BatchNorm2d(16), nn.ReLU())
        self.head = nn.Sequential(nn.Dropout2d(0.1), nn.Conv2d(16, classes, 1))

    def forward(self, x):
        return self.head(self.body(x))


def tiny_seg_voc(pretrained=False, root="~/.cache/models"):
    net = TinySeg(classes=21)
    if pretrained:
        net.load_state_dict(torch.load(f"{root}/tiny_seg_voc.pth", map_location="cpu"))
    return net


if __name__ == "__main__":
    net = tiny_seg_voc(pretrained=True)
    probe = torch.ones(1, 3, 256, 256)
    logits = net(probe)
    print(logits.shape)
""",
    # a lab's self-test of a decoder, built right there and run once on zeros to check shapes
    shared.LAB_SHAPE_SELF_TEST,
    # a regression notebook trains a small dropout network, plots its eval-mode curve, then
    # switches dropout back on right before many forward passes to draw an uncertainty band
    """\
import torch
from torch import nn

xs = torch.linspace(-4, 4, 40).view(-1, 1)
ys = xs.sin() * 3
net = nn.Sequential(nn.Linear(1, 32), nn.ReLU(), nn.Dropout(0.1), nn.Linear(32, 1))
opt = torch.optim.Adam(net.parameters(), lr=1e-2)
for it in range(500):
    opt.zero_grad()
    loss = nn.functional.mse_loss(net(xs), ys)
    loss.backward()
    opt.step()

grid = torch.linspace(-8, 8, 400).view(-1, 1)
net.eval()
with torch.no_grad():
    curve = net(grid)

net.train()
with torch.no_grad():
    draws = torch.stack([net(grid) for _ in range(50)])
band = draws.mean(0), draws.std(0)
""",
    # a book chapter's notebook: the attention block takes its dropout rate as an argument and
    # this demo passes 0.0, so running it without eval() gives the same outputs
    """\
import torch
from torch import nn


class MaskedSelfAttention(nn.Module):
    def __init__(self, d_in, d_out, max_len, drop_rate, bias=False):
        super().__init__()
        self.query = nn.Linear(d_in, d_out, bias=bias)
        self.key = nn.Linear(d_in, d_out, bias=bias)
        self.value = nn.Linear(d_in, d_out, bias=bias)
        self.drop = nn.Dropout(drop_rate)
        self.register_buffer("mask", torch.triu(torch.ones(max_len, max_len), diagonal=1))

    def forward(self, x):
        n = x.shape[1]
        scores = self.query(x) @ self.key(x).transpose(1, 2)
        scores = scores.masked_fill(self.mask.bool()[:n, :n], float("-inf"))
        weights = self.drop(torch.softmax(scores / self.key.out_features**0.5, dim=-1))
        return weights @ self.value(x)


tokens = torch.rand(2, 6, 3)
attention = MaskedSelfAttention(3, 2, 6, 0.0)
with torch.no_grad():
    print(attention(tokens))
""",
    # sub-networks of a TTS model in a dict switched all at once by a list comprehension
    # (StyleTTS2 train_second.py)
    """\
import torch
import torch.nn.functional as F

from nets import build_acoustic_nets


def run(config, train_loader, val_loader, epochs):
    nets = build_acoustic_nets(config)  # a Munch: nets.decoder is nets["decoder"]
    params = [p for net in nets.values() for p in net.parameters()]
    optimizer = torch.optim.AdamW(params, lr=1e-4)
    for epoch in range(epochs):
        _ = [nets[name].eval() for name in nets]
        nets.text_encoder.train()  # the pitch extractor and aligner stay frozen
        nets.decoder.train()
        for text, mel in train_loader:
            hidden = nets.text_encoder(text)
            loss = F.l1_loss(nets.decoder(hidden), mel)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
        _ = [nets[name].eval() for name in nets]
        with torch.no_grad():
            total = 0.0
            for text, mel in val_loader:
                hidden = nets.text_encoder(text)
                total += F.l1_loss(nets.decoder(hidden), mel).item()
        print(epoch, total / len(val_loader))
""",
    # uncertainty-aware mean teacher: the EMA teacher, in train mode on purpose, draws several
    # noisy predictions of the step's unlabeled batch to weigh the consistency loss
    """\
import torch
import torch.nn as nn
import torch.nn.functional as F


class SegNet(nn.Module):
    def __init__(self, classes=2):
        super().__init__()
        self.body = nn.Sequential(
            nn.Conv2d(1, 16, 3, padding=1), nn.BatchNorm2d(16), nn.ReLU(), nn.Dropout2d(0.2)
        )
        self.head = nn.Conv2d(16, classes, 1)

    def forward(self, x):
        return self.head(self.body(x))


def ema_update(student, teacher, decay):
    with torch.no_grad():
        for t, s in zip(teacher.parameters(), student.parameters()):
            t.mul_(decay).add_(s, alpha=1 - decay)


def train(loader, draws=4):
    student, teacher = SegNet(), SegNet()
    student.train()
    teacher.train()
    opt = torch.optim.SGD(student.parameters(), lr=0.01, momentum=0.9)
    for images, masks, unlabeled in loader:
        logits = student(torch.cat([images, unlabeled]))
        samples = []
        for _ in range(draws):
            noisy = unlabeled + 0.1 * torch.randn_like(unlabeled)
            with torch.no_grad():
                samples.append(torch.softmax(teacher(noisy), dim=1))
        mean = torch.stack(samples).mean(0)
        certain = (-(mean * torch.log(mean + 1e-6)).sum(1, keepdim=True) < 0.5).float()
        student_probs = torch.softmax(logits[len(images) :], dim=1)
        consistency = ((student_probs - mean) ** 2 * certain).mean()
        loss = F.cross_entropy(logits[: len(images)], masks) + 0.1 * consistency
        opt.zero_grad()
        loss.backward()
        opt.step()
        ema_update(student, teacher, 0.99)
""",
    # FixMatch with an EMA teacher making the pseudo-labels: the loop puts both models in eval
    # mode to validate and back in train mode, the mode the teacher labels in
    """\
import torch
import torch.nn as nn
import torch.nn.functional as F


def build(classes=10):
    return nn.Sequential(
        nn.Conv2d(3, 32, 3, padding=1), nn.BatchNorm2d(32), nn.ReLU(),
        nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Dropout(0.3), nn.Linear(32, classes),
    )


def ema_update(student, teacher, decay):
    with torch.no_grad():
        for t, s in zip(teacher.parameters(), student.parameters()):
            t.mul_(decay).add_(s, alpha=1 - decay)


def accuracy(net, loader):
    hits = total = 0
    for images, labels in loader:
        hits += (net(images).argmax(1) == labels).sum().item()
        total += len(labels)
    return hits / total


def train(loader, val_loader, epochs, threshold=0.95):
    model, ema_model = build(), build()
    opt = torch.optim.SGD(model.parameters(), lr=0.03, momentum=0.9, nesterov=True)
    model.train()
    for epoch in range(epochs):
        for weak, strong, images, labels in loader:
            sup = F.cross_entropy(model(images), labels)
            with torch.no_grad():
                probs = torch.softmax(ema_model(weak), dim=1)
                confidence, pseudo = probs.max(1)
            unsup = (F.cross_entropy(model(strong), pseudo, reduction="none") * (confidence > threshold)).mean()
            opt.zero_grad()
            (sup + unsup).backward()
            opt.step()
            ema_update(model, ema_model, 0.999)
        model.eval()
        ema_model.eval()
        with torch.no_grad():
            print(epoch, accuracy(model, val_loader), accuracy(ema_model, val_loader))
        model.train()
        ema_model.train()
""",
)
