"""TM103 examples."""

from torchmode.rules.base import Invalid

INVALID = (
    Invalid(
        "import torch\n\ndef evaluate(model, loader):\n    model.eval\n    with torch.no_grad():\n        return [model(x) for x in loader]\n",
        (4,),
        "import torch\n\ndef evaluate(model, loader):\n    model.eval()\n    with torch.no_grad():\n        return [model(x) for x in loader]\n",
    ),
)
VALID = (
    "def evaluate(model, loader):\n    model.eval()\n    return [model(x) for x in loader]\n",
)
