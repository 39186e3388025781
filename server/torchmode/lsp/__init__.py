"""The torchmode language server: a thin pygls adapter over ``torchmode.engine``."""
