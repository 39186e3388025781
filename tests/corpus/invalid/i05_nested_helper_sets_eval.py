"""Models a validation path two calls deep: ``self._validate()`` -> ``predict(model, ...)`` -> eval().

Real bug: joeynmt/joeynmt issue #184 (training.py calls ``self._validate``, which calls the
``prediction`` helper that sets ``model.eval()``; training resumes in eval mode until the next
epoch). Reported at the call in the training loop. Original code.
"""

import torch


def predict(model, loader, max_output_length=100):
    model.eval()
    hypotheses = []
    with torch.no_grad():
        for batch in loader:
            output = model.generate(batch["src"], max_length=max_output_length)
            hypotheses.extend(output.tolist())
    return hypotheses


class TrainManager:
    def __init__(self, model, optimizer, loss_fn, config):
        self.model = model
        self.optimizer = optimizer
        self.loss_fn = loss_fn
        self.validation_freq = config.get("validation_freq", 1000)
        self.epochs = config.get("epochs", 100)
        self.stats_steps = 0

    def _validate(self, valid_loader):
        hypotheses = predict(self.model, valid_loader)
        score = sum(len(h) for h in hypotheses) / max(len(hypotheses), 1)
        print(f"step {self.stats_steps}: mean hypothesis length {score:.1f}")
        return score

    def _train_step(self, batch):
        logits = self.model(batch["src"], batch["trg_input"])
        loss = self.loss_fn(logits.flatten(0, 1), batch["trg"].flatten())
        loss.backward()
        return loss.item()

    def train_and_validate(self, train_loader, valid_loader):
        for epoch in range(self.epochs):
            self.model.train()
            for batch in train_loader:
                self.optimizer.zero_grad()
                loss = self._train_step(batch)
                self.optimizer.step()
                self.stats_steps += 1
                if self.stats_steps % self.validation_freq == 0:
                    self._validate(valid_loader)  # expect: TM101
            print(f"epoch {epoch} last loss {loss:.3f}")
