"""Models a custom fine-tuning loop that never calls ``model.train()`` after ``from_pretrained()``.

Real bug: huggingface/transformers PR #1703 ("Add model.train() line to ReadMe training
example"): ``from_pretrained`` returns the model in eval mode ("To train the model, you should
first set it back in training mode with model.train()", from_pretrained docs), so a loop without
``model.train()`` fine-tunes with dropout disabled. Reported at the call that leaves the model
in eval mode. Original code.
"""

import torch
from torch.utils.data import DataLoader
from transformers import AutoModelForSequenceClassification, get_linear_schedule_with_warmup


def fine_tune(train_dataset, eval_dataset, collate_fn, epochs=3, lr=2e-5, device="cuda"):
    model = AutoModelForSequenceClassification.from_pretrained("bert-base-uncased", num_labels=2)  # expect: TM101
    model.to(device)
    train_loader = DataLoader(train_dataset, batch_size=32, shuffle=True, collate_fn=collate_fn)
    eval_loader = DataLoader(eval_dataset, batch_size=64, collate_fn=collate_fn)
    optimizer = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=0.01)
    total_steps = epochs * len(train_loader)
    scheduler = get_linear_schedule_with_warmup(optimizer, int(0.1 * total_steps), total_steps)

    for epoch in range(epochs):
        for batch in train_loader:
            batch = {k: v.to(device) for k, v in batch.items()}
            loss = model(**batch).loss
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            optimizer.step()
            scheduler.step()
            optimizer.zero_grad()

        correct = total = 0
        with torch.no_grad():
            for batch in eval_loader:
                batch = {k: v.to(device) for k, v in batch.items()}
                predictions = model(**batch).logits.argmax(-1)
                correct += (predictions == batch["labels"]).sum().item()
                total += batch["labels"].numel()
        print(f"epoch {epoch}: accuracy {correct / total:.4f}")
    model.save_pretrained("finetuned")
    return model
