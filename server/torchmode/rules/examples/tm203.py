"""TM203 examples."""

from torchmode.rules.base import Invalid

INVALID = (
    Invalid(
        "import torch\n\nwith torch.no_grad:\n    preds = model(x)\n",
        (3,),
        "import torch\n\nwith torch.no_grad():\n    preds = model(x)\n",
    ),
)
VALID = (
    "import torch\n\nwith torch.no_grad():\n    preds = model(x)\n",
)
