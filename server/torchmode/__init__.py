"""torchmode: finds the PyTorch mistakes that silently ruin training runs."""

__version__ = "0.1.0"
