from .convtasnet import ConvTasNet

__all__ = ["ConvTasNet"]
