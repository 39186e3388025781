"""Models gradient accumulation with ``step()`` / ``zero_grad()`` under ``if (step + 1) % k == 0``.

Pattern from huggingface/transformers examples/pytorch/text-classification/run_glue_no_trainer.py
(early versions): the loss is divided by the accumulation steps, backward every batch, the
optimizer steps and clears gradients only every k batches; evaluation under no_grad.
Original code.
"""

import torch


def train(model, optimizer, lr_scheduler, train_loader, eval_loader, metric, args):
    completed_steps = 0
    for epoch in range(args.num_train_epochs):
        model.train()
        for step, batch in enumerate(train_loader):
            outputs = model(**batch)
            loss = outputs.loss / args.gradient_accumulation_steps
            loss.backward()
            if (step + 1) % args.gradient_accumulation_steps == 0 or step == len(train_loader) - 1:
                torch.nn.utils.clip_grad_norm_(model.parameters(), args.max_grad_norm)
                optimizer.step()
                lr_scheduler.step()
                optimizer.zero_grad()
                completed_steps += 1
            if completed_steps >= args.max_train_steps:
                break

        model.eval()
        for batch in eval_loader:
            with torch.no_grad():
                outputs = model(**batch)
            predictions = outputs.logits.argmax(dim=-1)
            metric.add_batch(predictions=predictions, references=batch["labels"])
        print(f"epoch {epoch}: {metric.compute()}")
    return completed_steps


def main(model, train_loader, eval_loader, metric, args):
    no_decay = ("bias", "LayerNorm.weight")
    groups = [
        {
            "params": [p for n, p in model.named_parameters() if not any(k in n for k in no_decay)],
            "weight_decay": args.weight_decay,
        },
        {
            "params": [p for n, p in model.named_parameters() if any(k in n for k in no_decay)],
            "weight_decay": 0.0,
        },
    ]
    optimizer = torch.optim.AdamW(groups, lr=args.learning_rate)
    scheduler = torch.optim.lr_scheduler.LinearLR(optimizer, 1.0, 0.0, args.max_train_steps)
    optimizer.zero_grad()
    return train(model, optimizer, scheduler, train_loader, eval_loader, metric, args)
