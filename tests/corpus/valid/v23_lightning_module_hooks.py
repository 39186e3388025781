"""Models a LightningModule with automatic optimisation: the framework owns modes and grads.

Pattern from Lightning projects such as SebastianGonzalez2000/LightningHydraBareBones
src/models/lit_module.py and the Lightning docs: ``training_step`` returns the loss (Lightning
calls zero_grad/backward/step), ``validation_step``/``test_step``/``predict_step`` run with
eval mode and no_grad already set by the Trainer. Original code.
"""

import lightning as L
import torch
import torch.nn.functional as F
from torch import nn


class LitClassifier(L.LightningModule):
    def __init__(self, num_classes: int = 10, lr: float = 1e-3) -> None:
        super().__init__()
        self.save_hyperparameters()
        self.backbone = nn.Sequential(
            nn.Conv2d(3, 32, 3, padding=1), nn.BatchNorm2d(32), nn.ReLU(),
            nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Dropout(0.2),
        )
        self.head = nn.Linear(32, num_classes)

    def forward(self, x):
        return self.head(self.backbone(x))

    def training_step(self, batch, batch_idx):
        x, y = batch
        logits = self(x)
        loss = F.cross_entropy(logits, y)
        self.log("train_loss", loss, prog_bar=True)
        return loss

    def validation_step(self, batch, batch_idx):
        x, y = batch
        logits = self(x)
        self.log("val_loss", F.cross_entropy(logits, y))
        self.log("val_acc", (logits.argmax(1) == y).float().mean())

    def test_step(self, batch, batch_idx):
        x, y = batch
        logits = self.forward(x)
        self.log("test_acc", (logits.argmax(1) == y).float().mean())

    def predict_step(self, batch, batch_idx, dataloader_idx=0):
        x, _ = batch
        return self(x).softmax(-1)

    def configure_optimizers(self):
        optimizer = torch.optim.AdamW(self.parameters(), lr=self.hparams.lr)
        scheduler = torch.optim.lr_scheduler.OneCycleLR(optimizer, self.hparams.lr, total_steps=10_000)
        return {"optimizer": optimizer, "lr_scheduler": scheduler}


def main(datamodule):
    model = LitClassifier()
    trainer = L.Trainer(max_epochs=20, accelerator="auto", gradient_clip_val=1.0)
    trainer.fit(model, datamodule=datamodule)
    trainer.test(model, datamodule=datamodule)
    return trainer.predict(model, datamodule=datamodule)
