"""TM101 examples, modelled on real training scripts."""

from torchmode.rules.base import Invalid

CANONICAL = """\
for epoch in range(1, args.epochs + 1):
    model.train()
    for batch_idx, batch in enumerate(train_loader):
        optimizer.zero_grad()
        loss = criterion(model(batch.text), batch.label)
        loss.backward()
        optimizer.step()
        model.eval()
        if iterations % args.dev_every == 0:
            with torch.no_grad():
                for dev_batch in dev_loader:
                    answer = model(dev_batch.text)
"""

CANONICAL_FIXED = """\
for epoch in range(1, args.epochs + 1):
    model.train()
    for batch_idx, batch in enumerate(train_loader):
        optimizer.zero_grad()
        loss = criterion(model(batch.text), batch.label)
        loss.backward()
        optimizer.step()
        model.eval()
        if iterations % args.dev_every == 0:
            with torch.no_grad():
                for dev_batch in dev_loader:
                    answer = model(dev_batch.text)
        model.train()
"""

INVALID = (
    Invalid("import torch\n" + CANONICAL, (9,), "import torch\n" + CANONICAL_FIXED),
)

VALID = (
    """\
import torch

for epoch in range(epochs):
    model.train()
    for x, y in loader:
        optimizer.zero_grad()
        loss = criterion(model(x), y)
        loss.backward()
        optimizer.step()
    model.eval()
    with torch.no_grad():
        for x, y in val_loader:
            out = model(x)
""",
)
