import torch

from model import Classifier


def test_output_shape():
    model = Classifier()
    model.eval()
    out = model(torch.randn(4, 16))
    assert out.shape == (4, 3)


def test_scores_are_finite():
    model = Classifier()
    model.eval()
    for _ in range(3):
        assert torch.isfinite(model(torch.randn(2, 16))).all()
