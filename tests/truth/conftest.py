"""Truth tests: small real-PyTorch programs proving what torchmode claims (CPU only)."""

from __future__ import annotations

import pytest
import torch

# the programs are tiny: one thread is faster and does not fight the rest of the suite for cores
torch.set_num_threads(1)


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "claim(*ids): the test proves these ids of torchmode.knowledge.claims.CLAIMS"
    )


@pytest.fixture(autouse=True)
def _deterministic_torch() -> None:
    # every truth test starts from the same random state with autograd on, whatever ran before
    torch.manual_seed(0)
    torch.set_grad_enabled(True)


class SavedTensorMeter:
    """Counts the bytes autograd currently keeps saved for backward (activations, inputs,
    weights), through the public ``saved_tensors_hooks`` API. The pack hook keeps a detached
    view so that the meter itself creates no reference cycle through ``grad_fn``."""

    def __init__(self) -> None:
        self.live_bytes = 0
        self.packed = 0

    def recording(self) -> torch.autograd.graph.saved_tensors_hooks:
        meter = self

        class Saved:
            def __init__(self, tensor: torch.Tensor) -> None:
                self.tensor = tensor.detach()
                self.size = tensor.numel() * tensor.element_size()
                meter.live_bytes += self.size
                meter.packed += 1

            def __del__(self) -> None:
                meter.live_bytes -= self.size

        return torch.autograd.graph.saved_tensors_hooks(Saved, lambda saved: saved.tensor)


@pytest.fixture
def meter() -> SavedTensorMeter:
    return SavedTensorMeter()
