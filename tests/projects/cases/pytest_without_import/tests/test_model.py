# collected by pytest from its file name; nothing here imports pytest
import torch

from retrieval.model import DualEncoder


def test_logits_are_square():
    model = DualEncoder()
    model.eval()
    logits = model(torch.randn(3, 16), torch.randn(3, 8))
    assert logits.shape == (3, 3)


def test_dropout_off_in_eval():
    model = DualEncoder()
    model.eval()
    images, texts = torch.randn(2, 16), torch.randn(2, 8)
    assert torch.equal(model(images, texts), model(images, texts))
