"""Models a Hugging Face ``Trainer`` subclass with a custom ``compute_loss``.

Pattern from many fine-tuning repos (e.g. pufanyi/SC4002-Project src/sc4002/train/trainer.py,
IgoRamli/IndoKEPLER utils/trainer.py): the loss is computed in ``compute_loss`` and the
framework's ``trainer.train()`` / ``trainer.evaluate()`` own backward, zero_grad, step and the
eval/no_grad switching. Original code.
"""

import torch
from torch import nn
from transformers import AutoModelForSequenceClassification, Trainer, TrainingArguments


class WeightedLossTrainer(Trainer):
    def __init__(self, *args, class_weights=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.class_weights = class_weights

    def compute_loss(self, model, inputs, return_outputs=False, num_items_in_batch=None):
        labels = inputs.pop("labels")
        outputs = model(**inputs)
        logits = outputs.get("logits")
        weight = None if self.class_weights is None else self.class_weights.to(logits.device)
        loss_fct = nn.CrossEntropyLoss(weight=weight)
        loss = loss_fct(logits.view(-1, self.model.config.num_labels), labels.view(-1))
        return (loss, outputs) if return_outputs else loss


def compute_metrics(eval_pred):
    logits, labels = eval_pred
    return {"accuracy": float((logits.argmax(-1) == labels).mean())}


def main(train_dataset, eval_dataset, tokenizer):
    model = AutoModelForSequenceClassification.from_pretrained("bert-base-uncased", num_labels=3)
    args = TrainingArguments(
        output_dir="out",
        per_device_train_batch_size=16,
        gradient_accumulation_steps=2,
        eval_strategy="epoch",
        num_train_epochs=3,
        learning_rate=2e-5,
    )
    trainer = WeightedLossTrainer(
        model=model,
        args=args,
        train_dataset=train_dataset,
        eval_dataset=eval_dataset,
        processing_class=tokenizer,
        compute_metrics=compute_metrics,
        class_weights=torch.tensor([1.0, 2.0, 4.0]),
    )
    trainer.train()
    metrics = trainer.evaluate()
    trainer.save_model("out/final")
    return metrics
