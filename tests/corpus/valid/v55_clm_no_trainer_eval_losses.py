"""Models the causal-LM ``accelerate`` script: no_grad around the forward only, losses gathered after it.

Pattern from huggingface/transformers examples/pytorch/language-modeling/run_clm_no_trainer.py:
the evaluation wraps only ``outputs = model(**batch)`` in ``torch.no_grad()``, reads
``loss = outputs.loss`` outside the block and appends
``accelerator.gather_for_metrics(loss.repeat(bs))`` to a list that is concatenated for the
perplexity; training tracks ``total_loss += loss.detach().float()`` when logging is on.
Original code.
"""

import math

import torch
from accelerate import Accelerator


def evaluate(model, eval_dataloader, accelerator, per_device_eval_batch_size):
    model.eval()
    losses = []
    for step, batch in enumerate(eval_dataloader):
        with torch.no_grad():
            outputs = model(**batch)
        loss = outputs.loss
        losses.append(accelerator.gather_for_metrics(loss.repeat(per_device_eval_batch_size)))
    losses = torch.cat(losses)
    try:
        eval_loss = torch.mean(losses)
        perplexity = math.exp(eval_loss)
    except OverflowError:
        eval_loss, perplexity = torch.mean(losses), float("inf")
    return perplexity, eval_loss


def train(model, optimizer, lr_scheduler, train_dataloader, eval_dataloader, args):
    accelerator = Accelerator(gradient_accumulation_steps=args.gradient_accumulation_steps)
    model, optimizer, train_dataloader, eval_dataloader, lr_scheduler = accelerator.prepare(
        model, optimizer, train_dataloader, eval_dataloader, lr_scheduler
    )
    completed_steps = 0
    for epoch in range(args.num_train_epochs):
        model.train()
        total_loss = 0
        for step, batch in enumerate(train_dataloader):
            with accelerator.accumulate(model):
                outputs = model(**batch)
                loss = outputs.loss
                if args.with_tracking:
                    total_loss += loss.detach().float()
                accelerator.backward(loss)
                optimizer.step()
                lr_scheduler.step()
                optimizer.zero_grad()
            if accelerator.sync_gradients:
                completed_steps += 1
            if completed_steps >= args.max_train_steps:
                break
        perplexity, eval_loss = evaluate(model, eval_dataloader, accelerator, args.per_device_eval_batch_size)
        accelerator.print(f"epoch {epoch}: perplexity {perplexity} eval_loss {eval_loss}")
        if args.with_tracking:
            accelerator.log({"train_loss": total_loss.item() / len(train_dataloader), "perplexity": perplexity})
        accelerator.save_state(f"epoch_{epoch}")
