"""Positions from one statement's code (positions.unit_positions) equal those from the whole
top-level statement's code, for every node the flow places (the nodes findings point at)."""

from __future__ import annotations

from pathlib import Path

import pytest
from torchmode.engine import analyze
from torchmode.engine.chunks import ChunkCache
from torchmode.engine.positions import compute_positions

ROOT = Path(__file__).resolve().parents[2]
FILES = sorted((ROOT / "tests" / "corpus").rglob("*.py")) + sorted((ROOT / "examples").glob("*.py"))

TRICKY = {
    "tabs-and-crlf": (
        "class Trainer:\r\n"
        "\tdef fit(self, loader):\r\n"
        "\t\tfor batch in loader:\r\n"
        "\t\t\tloss = self.model(batch)  # comment\r\n"
        "\t\t\tloss.backward(); self.optimizer.step()\r\n"
        "\t\t\tself.model.eval()\r\n"
    ),
    "decorators-and-continuations": (
        "import torch\n"
        "class Runner:\n"
        "    @torch.no_grad()\n"
        "    @staticmethod\n"
        "    def evaluate(\n"
        "        model,\n"
        "        loader,\n"
        "    ):\n"
        "        # leading comment\n"
        "\n"
        "        for batch in (\n"
        "            loader\n"
        "        ):\n"
        "            out = model(\n"
        "                batch,\n"
        "            )\n"
        "        model.train()\n"
    ),
    "branches-and-handlers": (
        "def train(model, optimizer, loader, flag):\n"
        "    for i, batch in enumerate(loader):\n"
        "        if flag:\n"
        "            model.eval()\n"
        "        elif i % 2:\n"
        "            model.train()\n"
        "        else:\n"
        "            pass\n"
        "        try:\n"
        "            loss = model(batch)\n"
        "        except RuntimeError:\n"
        "            continue\n"
        "        finally:\n"
        "            total = total + loss\n"
        "        with torch.autocast('cuda'):\n"
        "            loss.backward()\n"
        "        optimizer.step()\n"
        "    else:\n"
        "        model.eval()\n"
    ),
    "wide-characters": (
        "def 训练(model, loader, optimizer):  # 模型 🚀\n"
        "    for batch in loader:\n"
        "        loss = model(batch); loss.backward()  # 损失 ✅\n"
        "        optimizer.step(); model.eval()\n"
    ),
}


def _texts() -> list[tuple[str, str]]:
    out = [(path.name, path.read_text(encoding="utf-8")) for path in FILES]
    return out + sorted(TRICKY.items())


@pytest.mark.parametrize(("name", "text"), _texts(), ids=[name for name, _ in _texts()])
def test_statement_positions_equal_whole_chunk_positions(name: str, text: str) -> None:
    analysis = analyze(text, cache=ChunkCache())
    context = analysis.context
    if context is None:
        return
    compared = 0
    for node_id, chain in context.flow.chains.items():
        placed = context.flow.places.get(node_id)
        if placed is None:
            continue
        node, chunk = placed
        assert chunk.cache is not None
        unit = chunk.cache.unit_positions(chunk.module, chunk.text, chain)
        if unit is None or node not in unit:
            continue
        whole = compute_positions(chunk.module, chunk.text)
        assert unit[node] == whole[node], (name, type(node).__name__)
        compared += 1
    assert compared or not context.flow.chains
