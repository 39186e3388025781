"""Models an encoder-decoder with two optimizers where only one is ever zeroed.

Real pattern: sgrvinod/a-PyTorch-Tutorial-to-Image-Captioning train.py uses a
``decoder_optimizer`` and an optional ``encoder_optimizer`` (both zeroed there); variants that
add the second optimizer later often forget its ``zero_grad()``, so the fine-tuned encoder
steps with ever-growing gradients. Reported at the uncleared optimizer's ``step()``.
Original code.
"""

import torch
import torch.nn as nn


def train_epoch(loader, encoder, decoder, criterion, encoder_optimizer, decoder_optimizer, grad_clip=5.0):
    encoder.train()
    decoder.train()
    for imgs, caps, lengths in loader:
        features = encoder(imgs)
        scores = decoder(features, caps[:, :-1])
        loss = criterion(scores.reshape(-1, scores.size(-1)), caps[:, 1:].reshape(-1))
        decoder_optimizer.zero_grad()
        loss.backward()
        nn.utils.clip_grad_norm_(decoder.parameters(), grad_clip)
        nn.utils.clip_grad_norm_(encoder.parameters(), grad_clip)
        decoder_optimizer.step()
        encoder_optimizer.step()  # expect: TM301


def main(encoder, decoder, train_loader, epochs=20, fine_tune_encoder=True):
    criterion = nn.CrossEntropyLoss(ignore_index=0)
    decoder_optimizer = torch.optim.Adam(decoder.parameters(), lr=4e-4)
    encoder.requires_grad_(fine_tune_encoder)
    encoder_optimizer = torch.optim.Adam(encoder.parameters(), lr=1e-4)
    for epoch in range(epochs):
        train_epoch(train_loader, encoder, decoder, criterion, encoder_optimizer, decoder_optimizer)
        torch.save(
            {
                "epoch": epoch,
                "encoder": encoder.state_dict(),
                "decoder": decoder.state_dict(),
                "encoder_optimizer": encoder_optimizer.state_dict(),
                "decoder_optimizer": decoder_optimizer.state_dict(),
            },
            "checkpoint.pth.tar",
        )
