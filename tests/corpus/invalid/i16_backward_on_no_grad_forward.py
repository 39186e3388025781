"""Models a forward pass wrapped in ``torch.no_grad()`` "to save memory" and then backpropagated.

Real pattern: the PyTorch forum staple "RuntimeError: element 0 of tensors does not require
grad and does not have a grad_fn" — here an AMP + no_grad block placed around the whole
student forward of a fine-tuning step instead of only around the frozen encoder. Reported at
``backward()``. Original code.
"""

import torch
import torch.nn as nn


class Captioner(nn.Module):
    def __init__(self, vocab: int = 30522, dim: int = 512) -> None:
        super().__init__()
        self.image_encoder = nn.Sequential(nn.Conv2d(3, dim, 16, 16), nn.Flatten(2))
        self.text_decoder = nn.TransformerDecoder(nn.TransformerDecoderLayer(dim, 8, batch_first=True), 2)
        self.embed = nn.Embedding(vocab, dim)
        self.lm_head = nn.Linear(dim, vocab)

    def forward(self, images, tokens):
        memory = self.image_encoder(images).transpose(1, 2)
        hidden = self.text_decoder(self.embed(tokens), memory)
        return self.lm_head(hidden)


def train(model, loader, epochs=5, lr=1e-4, device="cuda"):
    model.to(device)
    model.image_encoder.requires_grad_(False)
    optimizer = torch.optim.AdamW((p for p in model.parameters() if p.requires_grad), lr=lr)
    criterion = nn.CrossEntropyLoss(ignore_index=0)
    for epoch in range(epochs):
        model.train()
        for images, tokens in loader:
            images, tokens = images.to(device), tokens.to(device)
            with torch.no_grad(), torch.autocast("cuda", dtype=torch.bfloat16):
                logits = model(images, tokens[:, :-1])
                loss = criterion(logits.flatten(0, 1), tokens[:, 1:].flatten())
            optimizer.zero_grad()
            loss.backward()  # expect: TM202
            optimizer.step()
        print(f"epoch {epoch}: loss {loss.item():.4f}")
