"""What torchmode knows about PyTorch, kept apart from the code that uses it.

Every statement here is checked against real PyTorch by ``tests/truth`` (the server and CLI
never import torch; these modules do not either):

- ``claims``: proven one-sentence facts and the hover texts built from them;
- ``layers``: which ``torch.nn`` layers behave differently in train and eval mode;
- ``costs``: measured memory/accuracy costs of the mistakes, quotable by rule docs.
"""
