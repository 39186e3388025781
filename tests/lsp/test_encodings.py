"""Positions in every negotiated encoding, on text where code points, UTF-16 and UTF-8
columns all differ: CJK identifiers and comments, emoji strings, tabs, CRLF line endings."""

from __future__ import annotations

from pathlib import Path

import pytest
from torchmode.analysis import analyze

TRICKY = """\
# 情感分类 — 训练时每 N 步验证一次 🧪
import torch
import torch.nn as nn


class 分类器(nn.Module):
\tdef __init__(self):
\t\tsuper().__init__()
\t\tself.层 = nn.Linear(8, 2)
\t\tself.丢弃 = nn.Dropout(0.3)

\tdef forward(self, x):
\t\treturn self.层(self.丢弃(x))


def 训练(loader, dev_loader):
\t模型 = 分类器()
\t优化器 = torch.optim.SGD(模型.parameters(), lr=0.1)
\t模型.train()
\tfor 步, (x, y) in enumerate(loader):
\t\t优化器.zero_grad()
\t\tloss = nn.functional.cross_entropy(模型(x), y)
\t\tloss.backward()
\t\t优化器.step()
\t\tprint("✅ 步骤完成 😀👍🏽", 步); 模型.eval()  # 切换到评估 🔍
\t\twith torch.no_grad():
\t\t\tfor x, y in dev_loader:
\t\t\t\tprint("准确率 📈", (模型(x).argmax(1) == y).float().mean().item())
"""

CASES = [
    ("visual-studio-code", None, "utf-16"),
    ("visual-studio-code", ["utf-32", "utf-16"], "utf-32"),
    ("neovim", None, "utf-8"),
    ("neovim", ["utf-16"], "utf-16"),
]


@pytest.mark.parametrize("line_ending", ["\n", "\r\n"], ids=["lf", "crlf"])
@pytest.mark.parametrize(("client", "offered", "expected"), CASES)
async def test_positions_in_every_encoding(
    starter,
    caps,
    tmp_path: Path,
    client: str,
    offered: list[str] | None,
    expected: str,
    line_ending: str,
) -> None:
    text = TRICKY.replace("\n", line_ending)
    assert [f.code for f in analyze(text).findings].count("TM101") == 1
    session = await starter(client, caps(client, offered) if offered else None)
    assert session.encoding == expected
    uri = (tmp_path / "训练.py").as_uri()
    session.open(uri, text)
    tm101 = next(d for d in await session.diagnostics(uri) if d.code == "TM101")
    expected_start = session.find(uri, "模型.eval()")
    assert tm101.range.start == expected_start
    places = [related.location.range.start for related in tm101.related_information or []]
    # the training step, and the loop whose next iteration trains in eval mode
    assert places == [session.find(uri, "loss.backward()"), session.find(uri, "for 步")]

    hover = await session.hover(uri, session.find(uri, "模型.eval()", delta=len("模型.")))
    assert hover is not None and "eval" in hover

    fixed = await session.fix(uri, tm101)
    compile(fixed, "fixed.py", "exec")
    assert "TM101" not in [d.code for d in await session.diagnostics(uri)]
    assert fixed.startswith(text[: text.index("模型.eval()")])  # nothing before it moved
