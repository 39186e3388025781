"""Code of PyTorch <= 0.3 passes ``async=True`` to ``.cuda()`` and ``.to()``: a syntax error
since Python 3.7. The statements holding it are read with the name replaced by one of the same
length (engine/old_keywords.py), so that a training loop of 2017 is analysed, the error is
still reported (the file does not run on a current Python), and no fix writes the stand-in."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from torchmode.analysis import analyze
from torchmode.engine import old_keywords
from torchmode.engine.chunks import ChunkCache, parse_chunks
from torchmode.findings import Position

# A 2018-style epoch: the loop never clears the gradients, and the validation pass keeps
# the graph of every batch's loss in its running total.
EPOCH = """\
import torch
from torch.autograd import Variable


def train_epoch(net, loader, optimizer, loss_fn):
    net.train()
    for images, labels in loader:
        images = Variable(images.cuda(async=True))
        labels = Variable(labels.cuda(async=True))
        loss = loss_fn(net(images), labels)
        loss.backward()
        optimizer.step()


def val_epoch(net, loader, loss_fn):
    net.eval()
    running = 0
    with torch.no_grad():
        for images, labels in loader:
            out = net(images.to("cuda", async=True))
            running += loss_fn(out, labels).item()
    return running
"""


def _findings(text: str) -> list[tuple[str, int]]:
    analysis = analyze(text, cache=ChunkCache())
    return [(f.code, f.range.start.line) for f in analysis.findings]


def test_the_loop_holding_async_is_analysed_at_the_same_positions():
    modern = EPOCH.replace("async=", "non_blocking=")
    assert _findings(EPOCH) == [("TM301", 11)]
    # the positions are exact: ``non_blocking`` is longer, so only the lines compare
    assert [line for _, line in _findings(modern)] == [11]
    analysis = analyze(EPOCH, cache=ChunkCache())
    (finding,) = analysis.findings
    assert analysis.source.splitlines()[11][finding.range.start.character :].startswith(
        "optimizer.step()"
    )


def test_the_syntax_error_is_still_reported_and_says_why():
    analysis = analyze(EPOCH, cache=ChunkCache())
    problem = analysis.syntax_error
    assert problem is not None and problem.position == Position(7, 38)
    assert "`async=` does not run on Python 3.7" in problem.message
    assert "non_blocking=" in problem.message


def test_only_async_used_as_a_name_is_replaced():
    text = (
        "async def fetch(session):\n"
        "    async with session as s:\n"
        "        return [x async for x in s]\n"
        "def old(x, async=False):\n"
        "    y = x.cuda(async=async)  # async= in a comment stays\n"
        "    return args.async, 'async=True'\n"
    )
    renamed = old_keywords.substitute(text)
    assert renamed is not None
    assert len(renamed.text) == len(text)
    assert renamed.text.splitlines()[:3] == text.splitlines()[:3]
    assert renamed.text.splitlines()[3] == "def old(x, asyn_=False):"
    assert (
        renamed.text.splitlines()[4] == "    y = x.cuda(asyn_=asyn_)  # async= in a comment stays"
    )
    assert renamed.text.splitlines()[5] == "    return args.asyn_, 'async=True'"
    assert renamed.as_keyword_argument == (True, True, False, False)


def test_the_rest_of_a_file_with_another_error_is_kept():
    text = EPOCH + "\n\ndef report(stats):\n    print 'loss', stats\n"
    parsed = parse_chunks(text, ChunkCache())
    assert parsed.error is not None and parsed.error[1].line == 7  # the first error
    assert sum("def train_epoch" in c.text for c in parsed.chunks) == 1
    assert not any("def report" in c.text for c in parsed.chunks)


# Evaluation inside the training function, without no_grad: its fix wraps the loop in
# ``with torch.no_grad():``, rewriting the lines, so it is offered only where they do not
# hold a replaced ``async``.
RUN = """\
import torch


def run(net, train_loader, val_loader, optimizer, loss_fn, epochs):
    for epoch in range(epochs):
        net.train()
        for images, labels in train_loader:
            optimizer.zero_grad()
            loss_fn(net(images.cuda(async=True)), labels.cuda(async=True)).backward()
            optimizer.step()
        net.eval()
        hits = 0
        for images, labels in val_loader:
            scores = net(IMAGES)
            hits += (scores.argmax(1) == labels).sum().item()
        print(epoch, hits)
"""


def _wrap_fixes(text: str) -> list[str]:
    analysis = analyze(text, cache=ChunkCache())
    (finding,) = analysis.findings
    assert finding.code == "TM201"
    return [edit.new_text for fix in finding.fixes for edit in fix.edits]


def test_no_fix_writes_the_stand_in():
    (new_text,) = _wrap_fixes(RUN.replace("IMAGES", "images.cuda(non_blocking=True)"))
    assert "with torch.no_grad():" in new_text
    assert _wrap_fixes(RUN.replace("IMAGES", "images.cuda(async=True)")) == []


def test_a_fix_elsewhere_is_built_from_the_code_as_written():
    (new_text,) = _wrap_fixes(RUN.replace("IMAGES", "images.cuda()"))
    assert "scores = net(images.cuda())" in new_text
    assert old_keywords.SUBSTITUTE not in new_text


def _check(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "torchmode", "check", *args],
        cwd=tmp_path,
        capture_output=True,
        text=True,
    )


def test_cli_reports_the_finding_and_the_keyword_and_leaves_the_file_alone(tmp_path):
    path = tmp_path / "train.py"
    path.write_text(EPOCH)
    proc = _check(tmp_path, "--format", "json", "train.py")
    assert proc.returncode == 2
    assert "8:39" in proc.stderr and "non_blocking=" in proc.stderr
    assert [e["code"] for e in json.loads(proc.stdout)] == ["TM301"]
    proc = _check(tmp_path, "--fix", "--unsafe-fixes", "train.py")
    assert path.read_text() == EPOCH


def test_a_notebook_cell_with_async_is_analysed(tmp_path):
    cells = [
        {"cell_type": "code", "metadata": {}, "outputs": [], "execution_count": None,
         "source": ["import torch\n"]},
        {"cell_type": "code", "metadata": {}, "outputs": [], "execution_count": None,
         "source": EPOCH.splitlines(keepends=True)[3:]},
    ]  # fmt: skip
    notebook = {"cells": cells, "metadata": {}, "nbformat": 4, "nbformat_minor": 5}
    (tmp_path / "old.ipynb").write_text(json.dumps(notebook))
    proc = _check(tmp_path, "--format", "json", "old.ipynb")
    assert proc.returncode == 2
    assert "cell 2:5:39" in proc.stderr
    assert [(e["code"], e["cell"]) for e in json.loads(proc.stdout)] == [("TM301", 2)]


# Two files: epochs.py is old (``async=True``) but parses whole once renamed, so main.py reads
# its functions' summary: val_epoch() leaves the network in eval mode, and the next epoch's
# train_epoch() trains it so (main.py switches to train mode once, before the loop).
EPOCHS = """\
# One training epoch and one validation pass, written for PyTorch 0.4 on Python 3.6:
# the copies to the GPU still use the `async=True` of PyTorch 0.3.

import torch


def train_epoch(net, loader, optimizer, criterion):
    for step, (clips, labels) in enumerate(loader):
        clips = clips.cuda(async=True)
        labels = labels.cuda(async=True)
        optimizer.zero_grad()
        loss = criterion(net(clips), labels)
        loss.backward()
        optimizer.step()
        if step % 100 == 0:
            print("step", step, loss.item())


def val_epoch(net, loader, criterion):
    net.eval()
    total, count = 0.0, 0
    with torch.no_grad():
        for clips, labels in loader:
            clips = clips.cuda(async=True)
            total += criterion(net(clips), labels.cuda(async=True)).item()
            count += 1
    return total / max(count, 1)
"""

MAIN = """\
# Action recognition on video clips: the epochs live in epochs.py.

import torch
import torch.nn as nn
from epochs import train_epoch, val_epoch


def build(num_classes):
    return nn.Sequential(
        nn.Conv3d(3, 16, 3), nn.BatchNorm3d(16), nn.ReLU(), nn.Dropout(0.3),
        nn.AdaptiveAvgPool3d(1), nn.Flatten(), nn.Linear(16, num_classes),
    )  # fmt: skip


def main(train_loader, val_loader, epochs=30):
    net = build(101).cuda()
    optimizer = torch.optim.SGD(net.parameters(), lr=0.1, momentum=0.9)
    criterion = nn.CrossEntropyLoss()
    net.train()
    for epoch in range(epochs):
        train_epoch(net, train_loader, optimizer, criterion)
        loss = val_epoch(net, val_loader, criterion)
        print("epoch", epoch, "validation loss", loss)
        torch.save(net.state_dict(), "net.pth")
"""


def test_a_file_that_parses_once_renamed_gives_its_summary_to_its_importers(tmp_path):
    (tmp_path / "epochs.py").write_text(EPOCHS)
    (tmp_path / "main.py").write_text(MAIN)
    proc = _check(tmp_path, "--format", "json", "main.py")
    assert proc.returncode == 1, proc.stderr
    (finding,) = json.loads(proc.stdout)
    assert (finding["code"], finding["location"]["row"]) == ("TM101", 22)
    assert "after `val_epoch(...)` on line 22" in finding["message"]
    proc = _check(tmp_path, "--format", "json", ".")
    assert proc.returncode == 2 and "epochs.py:9:28" in proc.stderr
    assert [(e["code"], e["location"]["row"]) for e in json.loads(proc.stdout)] == [("TM101", 22)]
