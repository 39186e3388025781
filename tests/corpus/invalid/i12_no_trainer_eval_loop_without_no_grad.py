"""Models an ``accelerate`` fine-tuning script whose evaluation loop forgot ``torch.no_grad()``.

Real pattern: the first versions of huggingface/transformers
examples/pytorch/text-classification/run_glue_no_trainer.py evaluated with ``model.eval()``
and a bare ``outputs = model(**batch)`` (no_grad was added later). Reported at the forward call
of the evaluation loop. Original code.
"""

import torch
from accelerate import Accelerator
from transformers import AutoModelForSequenceClassification, get_scheduler


def main(train_dataloader, eval_dataloader, metric, args):
    accelerator = Accelerator()
    model = AutoModelForSequenceClassification.from_pretrained(args.model_name, num_labels=args.num_labels)
    optimizer = torch.optim.AdamW(model.parameters(), lr=args.learning_rate)
    model, optimizer, train_dataloader, eval_dataloader = accelerator.prepare(
        model, optimizer, train_dataloader, eval_dataloader
    )
    lr_scheduler = get_scheduler(
        "linear", optimizer=optimizer, num_warmup_steps=0, num_training_steps=args.max_train_steps
    )
    completed_steps = 0
    for epoch in range(args.num_train_epochs):
        model.train()
        for step, batch in enumerate(train_dataloader):
            outputs = model(**batch)
            loss = outputs.loss / args.gradient_accumulation_steps
            accelerator.backward(loss)
            if step % args.gradient_accumulation_steps == 0 or step == len(train_dataloader) - 1:
                optimizer.step()
                lr_scheduler.step()
                optimizer.zero_grad()
                completed_steps += 1
            if completed_steps >= args.max_train_steps:
                break

        model.eval()
        for step, batch in enumerate(eval_dataloader):
            outputs = model(**batch)  # expect: TM201
            predictions = outputs.logits.argmax(dim=-1)
            metric.add_batch(
                predictions=accelerator.gather(predictions),
                references=accelerator.gather(batch["labels"]),
            )
        eval_metric = metric.compute()
        accelerator.print(f"epoch {epoch}: {eval_metric}")

    accelerator.wait_for_everyone()
    accelerator.unwrap_model(model).save_pretrained(args.output_dir, save_function=accelerator.save)
