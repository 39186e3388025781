"""Models a captioning validate() that switches to eval but records autograd graphs.

Real bug: sgrvinod/a-PyTorch-Tutorial-to-Image-Captioning train.py validate() (issue #57:
"CUDA error: out of memory" only when validate() runs; fixed by wrapping it in no_grad) and
hszhao/semseg tool/train.py validate() (issue #60). Reported at the first forward call that
records gradients. Original code.
"""

import torch
from torch.nn.utils.rnn import pack_padded_sequence


def validate(val_loader, encoder, decoder, criterion, alpha_c=1.0, device="cuda"):
    decoder.eval()
    encoder.eval()
    losses, hypotheses = [], []
    for imgs, caps, caplens, _ in val_loader:
        imgs, caps, caplens = imgs.to(device), caps.to(device), caplens.to(device)
        imgs = encoder(imgs)  # expect: TM201
        scores, caps_sorted, decode_lengths, alphas, _ = decoder(imgs, caps, caplens)
        targets = caps_sorted[:, 1:]
        scores_copy = scores.clone()
        packed_scores = pack_padded_sequence(scores, decode_lengths, batch_first=True).data
        packed_targets = pack_padded_sequence(targets, decode_lengths, batch_first=True).data
        loss = criterion(packed_scores, packed_targets)
        loss += alpha_c * ((1.0 - alphas.sum(dim=1)) ** 2).mean()
        losses.append(loss.item())
        _, preds = torch.max(scores_copy, dim=2)
        hypotheses.extend(p[:n] for p, n in zip(preds.tolist(), decode_lengths))
    print(f"validation loss {sum(losses) / len(losses):.3f}")
    return hypotheses


def train_epoch(train_loader, encoder, decoder, criterion, decoder_optimizer, device="cuda"):
    decoder.train()
    encoder.train()
    for imgs, caps, caplens in train_loader:
        imgs = encoder(imgs.to(device))
        scores, caps_sorted, decode_lengths, _, _ = decoder(imgs, caps.to(device), caplens.to(device))
        targets = caps_sorted[:, 1:]
        scores = pack_padded_sequence(scores, decode_lengths, batch_first=True).data
        targets = pack_padded_sequence(targets, decode_lengths, batch_first=True).data
        loss = criterion(scores, targets)
        decoder_optimizer.zero_grad()
        loss.backward()
        decoder_optimizer.step()


def main(encoder, decoder, criterion, decoder_optimizer, train_loader, val_loader, epochs=120):
    for _ in range(epochs):
        train_epoch(train_loader, encoder, decoder, criterion, decoder_optimizer)
        validate(val_loader, encoder, decoder, criterion)
