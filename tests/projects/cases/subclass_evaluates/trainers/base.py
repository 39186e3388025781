"""The loop every experiment shares; how a model is scored is each experiment's own."""

import torch


class BaseTrainer:
    def __init__(self, model, optimizer, loss_fn, loaders, epochs=10):
        self.model = model
        self.optimizer = optimizer
        self.loss_fn = loss_fn
        self.train_loader, self.val_loader, self.test_loader = loaders
        self.epochs = epochs
        self.best = 0.0

    def fit(self):
        for epoch in range(self.epochs):
            self.model.train()
            for images, masks in self.train_loader:
                self.optimizer.zero_grad()
                loss = self.loss_fn(self.model(images), masks)
                loss.backward()
                self.optimizer.step()
            self.model.eval()
            with torch.no_grad():
                score = self.evaluate(self.val_loader)
            if score > self.best:
                self.best = score
                torch.save(self.model.state_dict(), "best.pt")

    def test(self):
        self.model.load_state_dict(torch.load("best.pt"))
        self.model.eval()
        score = self.evaluate(self.test_loader)
        print(f"test score {score:.3f}")
        return score

    def evaluate(self, loader):
        raise NotImplementedError("each experiment scores its own way")
