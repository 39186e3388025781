"""The ``torchmode`` command line: check, fix, list and explain rules."""
