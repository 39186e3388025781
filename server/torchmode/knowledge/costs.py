"""What the mistakes cost, as measured (design.md §3a), for rule docs and hover to quote.

These figures come from one GPU run (NVIDIA H200, PyTorch 2.11, random weights); the truth
tests re-establish their CPU-sized counterparts (the direction and the mechanism, not the
GPU numbers). Quote them with their setting, never as a general law.
"""

from __future__ import annotations

from dataclasses import dataclass

SETTING = "H200, PyTorch 2.11"


@dataclass(frozen=True, slots=True)
class Measurement:
    codes: tuple[str, ...]  # the rules whose cost this shows
    case: str
    with_mistake: str
    without: str
    note: str  # one quotable sentence, without the setting

    def sentence(self) -> str:
        return f"{self.note} ({SETTING})."


MEASUREMENTS: tuple[Measurement, ...] = (
    Measurement(
        codes=("TM201",),
        case="ResNet-50 evaluation, batch 256, 224x224",
        with_mistake="40.7 GiB peak",
        without="2.49 GiB peak (no_grad and inference_mode alike); same speed",
        note="Evaluating ResNet-50 without `no_grad` peaked at 40.7 GiB instead of 2.49 GiB, "
        "16 times the memory at the same speed",
    ),
    Measurement(
        codes=("TM201",),
        case="BERT-base evaluation, batch 64, 512 tokens",
        with_mistake="36.5 GiB peak",
        without="1.03 GiB peak",
        note="Evaluating BERT-base without `no_grad` peaked at 36.5 GiB instead of 1.03 GiB",
    ),
    Measurement(
        codes=("TM204", "TM201"),
        case="ResNet-50 evaluation loop without no_grad, `total = total + loss`, batch 32",
        with_mistake="+2.57 GiB per batch: 25.8 GiB after 10 batches, 103 GiB after 40",
        without="flat 2.57 GiB with `loss.item()`",
        note="Summing `total = total + loss` in a ResNet-50 evaluation loop without `no_grad` "
        "added 2.57 GiB per batch (103 GiB after 40 batches) instead of staying flat at "
        "2.57 GiB with `loss.item()`",
    ),
    Measurement(
        codes=("TM204",),
        case="loss tensor summed over 200 training steps, after `backward()`",
        with_mistake="GPU memory flat (+32 MiB constant); a 200-node autograd chain",
        without="flat, no chain",
        note="Summing the loss tensor over 200 training steps (after `backward()`) kept memory "
        "flat but built a 200-node autograd chain",
    ),
    Measurement(
        codes=("TM101", "TM102"),
        case="Linear-BatchNorm-Dropout model, same input",
        with_mistake="train-mode output differs from eval-mode output by 177 % (relative "
        "norm); two train-mode calls differ from each other",
        without="eval-mode calls identical",
        note="On the same input, a Linear-BatchNorm-Dropout model's train-mode output "
        "differed from its eval-mode output by 177 % (relative norm), and two train-mode "
        "calls differed from each other",
    ),
)

_PRIMARY: dict[str, Measurement] = {}
for _measurement in MEASUREMENTS:
    for _code in _measurement.codes:
        _PRIMARY.setdefault(_code, _measurement)


def cost_note(code: str) -> str:
    """One sentence stating the measured cost of the mistake rule ``code`` finds, e.g.
    ``cost_note("TM201")``; "" for rules that were not measured (TM103, TM202, TM203 crash
    at once instead; TM301, TM302 change what is learned, not memory)."""
    measurement = _PRIMARY.get(code.upper())
    if measurement is None:
        return ""
    return measurement.sentence()
