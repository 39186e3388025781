"""Models a wrapper library's ``train()`` that evaluates during training and never switches back.

Real bug: ThilinaRajapakse/simpletransformers issue #739 (classification_model.py called
``model.train()`` once before iterating; with ``evaluate_during_training`` on, ``eval_model``
-> ``evaluate`` called ``model.eval()`` and the model was "not put back into train mode").
The wrapper is not an nn.Module; ``self.model`` is. Reported at the ``self.eval_model(...)``
call. Original code.
"""

import torch
from torch.utils.data import DataLoader, RandomSampler, SequentialSampler


class ClassificationModel:
    def __init__(self, model, args):
        self.model = model
        self.args = args

    def train_model(self, train_dataset, eval_dataset=None):
        global_step, loss = self.train(train_dataset, eval_dataset)
        return global_step, loss

    def train(self, train_dataset, eval_dataset):
        args = self.args
        loader = DataLoader(train_dataset, sampler=RandomSampler(train_dataset), batch_size=args.train_batch_size)
        optimizer = torch.optim.AdamW(self.model.parameters(), lr=args.learning_rate, eps=args.adam_epsilon)
        scheduler = torch.optim.lr_scheduler.LinearLR(optimizer, 1.0, 0.0, total_iters=len(loader) * args.num_train_epochs)
        global_step, tr_loss = 0, 0.0
        self.model.zero_grad()
        self.model.train()
        for _ in range(args.num_train_epochs):
            for step, batch in enumerate(loader):
                inputs = {"input_ids": batch[0], "attention_mask": batch[1], "labels": batch[3]}
                loss = self.model(**inputs)[0]
                if args.gradient_accumulation_steps > 1:
                    loss = loss / args.gradient_accumulation_steps
                loss.backward()
                tr_loss += loss.item()
                if (step + 1) % args.gradient_accumulation_steps == 0:
                    torch.nn.utils.clip_grad_norm_(self.model.parameters(), args.max_grad_norm)
                    optimizer.step()
                    scheduler.step()
                    self.model.zero_grad()
                    global_step += 1
                    if args.evaluate_during_training and global_step % args.evaluate_during_training_steps == 0:
                        results, _ = self.eval_model(eval_dataset)  # expect: TM101
                        print(f"step {global_step}: {results}")
        return global_step, tr_loss / max(global_step, 1)

    def eval_model(self, eval_dataset):
        result, preds = self.evaluate(eval_dataset)
        return result, preds

    def evaluate(self, eval_dataset):
        loader = DataLoader(eval_dataset, sampler=SequentialSampler(eval_dataset), batch_size=self.args.eval_batch_size)
        self.model.eval()
        eval_loss, nb_eval_steps, preds = 0.0, 0, []
        for batch in loader:
            with torch.no_grad():
                outputs = self.model(input_ids=batch[0], attention_mask=batch[1], labels=batch[3])
                tmp_eval_loss, logits = outputs[:2]
                eval_loss += tmp_eval_loss.mean().item()
            nb_eval_steps += 1
            preds.append(logits.argmax(-1))
        return {"eval_loss": eval_loss / max(nb_eval_steps, 1)}, torch.cat(preds)
