"""Models an ``accelerate`` training loop: ``accelerator.backward(loss)`` and ``accumulate()``.

Pattern from huggingface/transformers examples/pytorch/*/run_*_no_trainer.py and
huggingface/diffusers examples/text_to_image/train_text_to_image.py: prepare(), a
``with accelerator.accumulate(model)`` block holding backward/step/zero_grad, losses logged via
``.item()`` after gather, evaluation under no_grad with gathered predictions. Original code.
"""

import math

import torch
from accelerate import Accelerator


def main(model, optimizer, lr_scheduler, train_loader, eval_loader, metric, args):
    accelerator = Accelerator(gradient_accumulation_steps=args.gradient_accumulation_steps)
    model, optimizer, train_loader, eval_loader, lr_scheduler = accelerator.prepare(
        model, optimizer, train_loader, eval_loader, lr_scheduler
    )
    steps_per_epoch = math.ceil(len(train_loader) / args.gradient_accumulation_steps)
    global_step = 0
    for epoch in range(args.num_train_epochs):
        model.train()
        train_loss = 0.0
        for batch in train_loader:
            with accelerator.accumulate(model):
                outputs = model(**batch)
                loss = outputs.loss
                avg = accelerator.gather(loss.repeat(args.per_device_batch_size)).mean()
                train_loss += avg.item() / args.gradient_accumulation_steps
                accelerator.backward(loss)
                if accelerator.sync_gradients:
                    accelerator.clip_grad_norm_(model.parameters(), 1.0)
                optimizer.step()
                lr_scheduler.step()
                optimizer.zero_grad()
            if accelerator.sync_gradients:
                global_step += 1
                accelerator.log({"train_loss": train_loss}, step=global_step)
                train_loss = 0.0

        model.eval()
        for batch in eval_loader:
            with torch.no_grad():
                outputs = model(**batch)
            predictions = outputs.logits.argmax(dim=-1)
            predictions, references = accelerator.gather_for_metrics((predictions, batch["labels"]))
            metric.add_batch(predictions=predictions, references=references)
        accelerator.print(f"epoch {epoch} ({steps_per_epoch} steps): {metric.compute()}")

    accelerator.wait_for_everyone()
    unwrapped = accelerator.unwrap_model(model)
    unwrapped.save_pretrained(args.output_dir, save_function=accelerator.save)
