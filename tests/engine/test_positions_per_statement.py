"""Positions from one statement's code (positions.unit_positions) equal those from the whole
top-level statement's code, for every node the flow places (the nodes findings point at)."""

from __future__ import annotations

from pathlib import Path

import libcst as cst
import pytest
from libcst.metadata import CodeRange
from torchmode.analysis import analyze
from torchmode.engine.blocks import synthetic_owner
from torchmode.engine.chunks import Chunk, ChunkCache
from torchmode.engine.positions import compute_positions
from torchmode.engine.statements import StatementIndex
from torchmode.findings import Position, Range

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
    "nested-classes": (
        "import torch\n"
        "def make():\n"
        "    class Runner:\n"
        "        def fit(self, model, loader, optimizer):\n"
        "            for batch in loader:\n"
        "                model.eval()\n"
        "                loss = model(batch)\n"
        "                loss.backward()\n"
        "                optimizer.step()\n"
        "    return Runner\n"
        "class TestTraining:\n"
        "    class Helper:\n"
        "        def run(self, model, loader, optimizer):\n"
        "            for batch in loader:\n"
        "                with torch.no_grad():\n"
        "                    out = model(batch)\n"
        "                loss = model(batch); loss.backward(); optimizer.step()\n"
        "                model.eval()\n"
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
        if unit is None or node not in unit.nodes:
            continue
        whole = compute_positions(chunk.module, chunk.text)
        assert unit.nodes[node] == whole[node], (name, type(node).__name__)
        compared += 1
    assert compared or not context.flow.chains


@pytest.mark.parametrize(("name", "text"), _texts(), ids=[name for name, _ in _texts()])
def test_fix_placement_positions_equal_whole_chunk_positions(name: str, text: str) -> None:
    """Where fixes insert code (StatementIndex: every statement's start and range, every
    expression it owns) from one statement's code equals the whole chunk's."""
    analysis = analyze(text, cache=ChunkCache())
    if analysis.context is None:
        return
    from_units = 0
    for chunk in analysis.context.chunks:
        index = StatementIndex(chunk)
        whole = compute_positions(chunk.module, chunk.text)

        def expected(
            node: cst.CSTNode,
            chunk: Chunk = chunk,
            whole: dict[cst.CSTNode, CodeRange] = whole,
        ) -> Range:
            r = whole[synthetic_owner(node)]
            return Range(
                Position(r.start.line - 1 + chunk.start_line, r.start.column),
                Position(r.end.line - 1 + chunk.start_line, r.end.column),
            )

        statements = _statements(index)
        units = 0
        for stmt in statements:
            assert index.start_of(stmt) == expected(stmt).start, (name, type(stmt).__name__)
            if isinstance(stmt, cst.SimpleStatementLine):
                assert index.range_of(stmt) == expected(stmt), (name, type(stmt).__name__)
            assert chunk.cache is not None
            units += (
                chunk.cache.unit_positions(chunk.module, chunk.text, index.chain_of(stmt))
                is not None
            )
        for node in _owned(statements):
            assert index.range_of(node) == expected(node), (name, type(node).__name__)
        if units == len(statements):
            assert chunk._positions is None  # nothing above needed the whole chunk's code
        for stmt in statements:  # a compound statement's end needs the whole chunk's code
            assert index.range_of(stmt) == expected(stmt), (name, type(stmt).__name__)
        from_units += units
    assert from_units or not analysis.context.chunks


def _statements(index: StatementIndex) -> list[cst.CSTNode]:
    found: dict[int, cst.CSTNode] = {}
    for block in index.block.values():
        for stmt in block:
            found[id(stmt)] = stmt
    return list(found.values())


def _owned(statements: list[cst.CSTNode]) -> list[cst.CSTNode]:
    nodes: list[cst.CSTNode] = []
    for stmt in statements:
        if isinstance(stmt, cst.SimpleStatementLine):
            nodes.extend(stmt.body)
    return nodes
