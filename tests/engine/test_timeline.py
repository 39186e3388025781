"""The mode timeline (analysis/timeline.py): where its labels go, what they say, and that no
label is definite where a path contradicts it."""

from __future__ import annotations

import textwrap

import pytest
from torchmode.analysis import Hint, analyze
from torchmode.analysis.timeline import mode_label
from torchmode.engine.values import Mode, ModeVal
from torchmode.findings import Position

HELPERS = """\
import torch
import torch.nn as nn


def restoring(model, batch):
    was_training = model.training
    model.eval()
    out = model(batch)
    model.train(was_training)
    return out


def maybe(model, flag):
    if flag:
        model.eval()


def either(model, flag):
    if flag:
        model.eval()
    else:
        model.train()


def freeze():
    torch.set_grad_enabled(False)


@torch.inference_mode()
def predict(model, x):
    return model(x)


def main(loader, flag):
    model = nn.Sequential(nn.Dropout())
    restoring(model, 1)
    maybe(model, flag)
    either(model, flag)
    freeze()
    for x in loader:
        y = model(x)
    with torch.inference_mode():
        model(1)
"""


def hints_of(source: str) -> list[Hint]:
    return analyze(textwrap.dedent(source)).timeline()


def after(source: str, code: str, nth: int = 0) -> Position:
    """The code-point position just after the nth occurrence of ``code``."""
    index = -1
    for _ in range(nth + 1):
        index = source.index(code, index + 1)
    before = source[: index + len(code)].split("\n")
    return Position(len(before) - 1, len(before[-1]))


def by_position(hints: list[Hint]) -> dict[Position, Hint]:
    found = {hint.position: hint for hint in hints}
    assert len(found) == len(hints), "one hint per position"
    return found


def test_what_each_call_leaves() -> None:
    found = by_position(hints_of(HELPERS))
    # maybe() switches on one path: the model is then in train mode (built) or eval mode
    maybe = found[after(HELPERS, "maybe(model, flag)", 1)]
    assert (maybe.label, maybe.kind) == ("model: train|eval", "call")
    assert maybe.tooltip == (
        "`model`: built in train mode on line 35 by `nn.Sequential(nn.Dropout())`",
        "`model`: set to eval on line 15 by `model.eval()`, "
        "through `maybe(model, flag)` on line 37",
    )
    # a helper that puts the mode back, or leaves it as undecided as it found it: nothing
    assert after(HELPERS, "restoring(model, 1)") not in found
    assert after(HELPERS, "either(model, flag)", 1) not in found
    # a helper that turns gradients off for good
    freeze = found[after(HELPERS, "freeze()", 1)]
    assert freeze.label == "no_grad"
    assert freeze.tooltip == (
        "gradients off: `torch.set_grad_enabled(False)` on line 26, through `freeze()` on line 39",
    )


def test_loop_heads_and_forwards() -> None:
    found = by_position(hints_of(HELPERS))
    head = found[after(HELPERS, "for x in loader:")]
    assert (head.label, head.kind, head.title) == (
        "model: train|eval",
        "loop",
        "At the start of each iteration",
    )
    # the loop head said the model's modes: the forward below says the grad mode only
    assert found[after(HELPERS, "y = model(x)")].label == "no_grad"
    inside = found[after(HELPERS, "model(1)")]
    assert inside.label == "model: train|eval, inference_mode"
    assert inside.tooltip[-1] == "gradients off: `torch.inference_mode()` on line 42"
    # a forward right after model.eval() in the helper: in eval mode, where it matters
    assert found[after(HELPERS, "out = model(batch)")].label == "model: eval"
    # predict(): the model is as the caller gave it; only the decorator's grad mode is known
    assert found[after(HELPERS, "return model(x)")].label == "inference_mode"
    # never after what a line says by itself
    lines = {hint.position.line for hint in found.values()}
    assert not lines & {6, 8, 14, 19, 21, 25}


def test_sparse_on_training_code() -> None:
    source = """\
    import torch


    def train(model, loader, optimizer):
        model.train()
        for x, y in loader:
            optimizer.zero_grad()
            loss = torch.nn.functional.mse_loss(model(x), y)
            loss.backward()
            optimizer.step()
    """
    (head,) = hints_of(source)  # a training forward in train mode says nothing
    assert (head.label, head.kind) == ("model: train", "loop")
    assert head.position == after(textwrap.dedent(source), "for x, y in loader:")


def test_no_label_where_the_mode_is_not_known() -> None:
    source = """\
    import torch


    def loop(model, loader, flag):
        for x in loader:
            model(x)
            if flag:
                model.eval()


    def free(model, loader):
        with torch.no_grad():
            for x in loader:
                model(x)
    """
    # loop(): as given on the first iteration, eval or as given later: neither is a label
    # free(): the grad mode is known, the model's mode is the caller's
    assert [hint.label for hint in hints_of(source)] == ["no_grad"]


def test_the_loop_header_end() -> None:
    source = """\
    import torch
    model = torch.nn.Linear(1, 1)
    model.eval()
    for x in (
        loader
    ) :  # the epochs
        model(x)
    """
    (head,) = hints_of(source)  # the forward would repeat the loop head
    assert head.position == Position(5, 3)  # after the colon of a header on three lines
    assert head.label == "model: eval"


def test_labels() -> None:
    train, evaluate = ModeVal(Mode.TRAIN), ModeVal(Mode.EVAL)
    assert mode_label(frozenset({train})) == "train"
    assert mode_label(frozenset({evaluate})) == "eval"
    assert mode_label(frozenset({evaluate, train})) == "train|eval"
    for unsure in (Mode.INPUT, Mode.UNKNOWN):
        assert mode_label(frozenset({evaluate, ModeVal(unsure)})) is None
        assert mode_label(frozenset({ModeVal(unsure)})) is None
    assert mode_label(frozenset()) is None


@pytest.mark.parametrize("source", ["", "x = 1\n", "def f(:\n    model.eval()\n"])
def test_nothing_to_say(source: str) -> None:
    assert hints_of(source) == []


def test_lines_asked_for_give_the_hints_of_the_statements_on_them() -> None:
    # an editor asks for the visible lines only: the statements there are labelled, the same
    # as in the whole file's timeline, and the others are not computed
    script = textwrap.dedent(
        """\
        import torch
        import torch.nn as nn


        def validate(model, loader):
            model.eval()
            with torch.no_grad():
                for x, y in loader:
                    model(x)


        def fit(loader, val_loader):
            model = nn.Sequential(nn.Linear(4, 4), nn.Dropout(0.5))
            opt = torch.optim.SGD(model.parameters(), lr=0.1)
            for epoch in range(3):
                for x, y in loader:
                    opt.zero_grad()
                    model(x).sum().backward()
                    opt.step()
                validate(model, val_loader)
        """
    )
    whole = analyze(script).timeline()
    in_validate = [h for h in whole if h.position.line < 10]
    in_fit = [h for h in whole if h.position.line >= 11]
    assert in_validate and in_fit
    assert analyze(script).timeline((4, 9)) == in_validate
    assert analyze(script).timeline((13, 13)) == in_fit  # a line inside fit(): all of fit()
    both = analyze(script)
    assert both.timeline((4, 9)) == in_validate
    assert both.timeline() == whole  # the rest computed when asked for
