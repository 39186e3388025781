"""Hover: what the PyTorch call does, and the live state of the model at that line."""

from __future__ import annotations

from pathlib import Path

from torchmode.analysis import RULES

# (text to hover, characters into it, words the hover must contain)
PLACES = [
    ("model.train()", len("model.t"), ["train", "`model`"]),
    ("optimizer.zero_grad()", len("optimizer.z"), ["zero_grad", "`optimizer`"]),
    ("loss.backward()", len("loss.b"), ["backward", "`model`"]),
    ("optimizer.step()", len("optimizer.s"), ["step", "`optimizer`"]),
    ("model.eval()", len("model.e"), ["eval", "`model`"]),
    ("torch.no_grad()", len("torch.n"), ["no_grad"]),
]


async def test_hover_on_pytorch_calls(session, tmp_path: Path, example_text: str) -> None:
    uri = (tmp_path / "train_sst.py").as_uri()
    session.open(uri, example_text)
    for needle, delta, words in PLACES:
        hover = await session.hover(uri, session.find(uri, needle, delta=delta))
        assert hover is not None, needle
        for word in words:
            assert word in hover, (needle, word, hover)
        assert len(hover.splitlines()) <= 15 + 2, (needle, hover)  # ≤ 15 lines (and rules)


async def test_hover_shows_the_live_mode(session, tmp_path: Path, example_text: str) -> None:
    """At the training step the model may still be in eval mode from the previous
    iteration's `model.eval()`: the hover says where each mode was set."""
    uri = (tmp_path / "train_sst.py").as_uri()
    session.open(uri, example_text)
    hover = await session.hover(uri, session.find(uri, "loss.backward()", delta=len("loss.b")))
    assert hover is not None
    eval_line = example_text.splitlines().index("            model.eval()") + 1
    assert "eval" in hover and str(eval_line) in hover, hover


async def test_hover_on_a_noqa_code_shows_the_rule(
    session, tmp_path: Path, example_text: str
) -> None:
    uri = (tmp_path / "train_sst.py").as_uri()
    text = example_text.replace("model.eval()\n", "model.eval()  # noqa: TM101\n", 1)
    session.open(uri, text)
    at = session.find(uri, "# noqa: TM101", delta=len("# noqa: TM1"))
    hover = await session.hover(uri, at)
    assert hover is not None
    assert RULES["TM101"].name in hover


async def test_no_hover_elsewhere(session, tmp_path: Path, example_text: str) -> None:
    uri = (tmp_path / "train_sst.py").as_uri()
    session.open(uri, example_text)
    for needle in ("argparse.ArgumentParser", "iterations += 1", "Sentiment"):
        assert await session.hover(uri, session.find(uri, needle, delta=2)) is None, needle
