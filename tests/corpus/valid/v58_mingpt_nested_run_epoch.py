"""Models the early minGPT trainer: a nested ``run_epoch(split)`` closure inside ``Trainer.train()``.

Pattern from karpathy/minGPT's early mingpt/trainer.py and its many derivatives (a code search
for ``is_train = split == 'train'`` finds them): ``model.train(is_train)``, the loader chosen by
split, ``with torch.set_grad_enabled(is_train)`` around the forward, ``losses.append(loss.item())``,
``model.zero_grad(); loss.backward(); clip; optimizer.step()`` only when training, learning-rate
decay by tokens seen, and ``run_epoch('test')`` after every ``run_epoch('train')``. The second
class follows the current karpathy/minGPT mingpt/trainer.py ``run()``: an endless iterator,
``logits, self.loss = model(x, y)``, ``model.zero_grad(set_to_none=True)`` clearing the
parameters of the optimizer that ``model.configure_optimizers(config)`` built. Original code.
"""

import math

import numpy as np
import torch
from torch.utils.data import DataLoader


class Trainer:
    def __init__(self, model, train_dataset, test_dataset, config):
        self.model = model
        self.train_dataset = train_dataset
        self.test_dataset = test_dataset
        self.config = config
        self.tokens = 0

    def save_checkpoint(self):
        raw_model = self.model.module if hasattr(self.model, "module") else self.model
        torch.save(raw_model.state_dict(), self.config.ckpt_path)

    def train(self):
        model, config = self.model, self.config
        raw_model = model.module if hasattr(model, "module") else model
        optimizer = raw_model.configure_optimizers(config)

        def run_epoch(split):
            is_train = split == "train"
            model.train(is_train)
            data = self.train_dataset if is_train else self.test_dataset
            loader = DataLoader(data, shuffle=True, pin_memory=True, batch_size=config.batch_size)
            losses = []
            for x, y in loader:
                with torch.set_grad_enabled(is_train):
                    logits, loss = model(x, y)
                    loss = loss.mean()
                    losses.append(loss.item())
                if is_train:
                    model.zero_grad()
                    loss.backward()
                    torch.nn.utils.clip_grad_norm_(model.parameters(), config.grad_norm_clip)
                    optimizer.step()
                    self.tokens += (y >= 0).sum()
                    progress = float(self.tokens - config.warmup_tokens) / max(1, config.final_tokens - config.warmup_tokens)
                    lr_mult = max(0.1, 0.5 * (1.0 + math.cos(math.pi * progress)))
                    for group in optimizer.param_groups:
                        group["lr"] = config.learning_rate * lr_mult
            if not is_train:
                return float(np.mean(losses))
            return None

        best_loss = float("inf")
        for epoch in range(config.max_epochs):
            run_epoch("train")
            if self.test_dataset is not None:
                test_loss = run_epoch("test")
                if test_loss < best_loss:
                    best_loss = test_loss
                    self.save_checkpoint()


class IterationTrainer:
    def __init__(self, config, model, train_dataset):
        self.config = config
        self.model = model
        self.train_dataset = train_dataset
        self.iter_num = 0

    def run(self):
        model, config = self.model, self.config
        optimizer = model.configure_optimizers(config)
        loader = DataLoader(self.train_dataset, shuffle=True, batch_size=config.batch_size)
        model.train()
        data_iter = iter(loader)
        while self.iter_num < config.max_iters:
            try:
                x, y = next(data_iter)
            except StopIteration:
                data_iter = iter(loader)
                x, y = next(data_iter)
            logits, self.loss = model(x, y)
            model.zero_grad(set_to_none=True)
            self.loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), config.grad_norm_clip)
            optimizer.step()
            self.iter_num += 1
