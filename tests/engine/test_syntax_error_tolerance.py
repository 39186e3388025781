"""A statement Python rejects costs only itself: the other top-level statements are analysed,
and the syntax error is reported once (real projects keep Python 2 helpers and notebook cells
of shell commands beside their training code)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from torchmode.analysis import analyze
from torchmode.engine.chunks import ChunkCache, parse_chunks

TRAINING = """\
import torch
import torch.nn as nn

net = nn.Sequential(nn.Linear(4, 4), nn.Dropout(0.5))
opt = torch.optim.SGD(net.parameters(), lr=0.1)
for epoch in range(3):
    for x, y in loader:
        opt.zero_grad()
        nn.functional.mse_loss(net(x), y).backward()
        opt.step()
    net.eval()
"""

PY2_HELPER = """\


def report(stats):
    print "accuracy", stats
"""


def test_a_python_2_function_leaves_the_rest_analysed():
    text = TRAINING + PY2_HELPER + "\n\ndef later():\n    return 1\n"
    analysis = analyze(text, cache=ChunkCache())
    assert analysis.syntax_error is not None
    assert analysis.syntax_error.message.startswith("syntax error: Missing parentheses")
    assert analysis.syntax_error.position.line == 14
    assert [(f.code, f.range.start.line) for f in analysis.findings] == [("TM101", 10)]


def test_the_same_findings_with_the_error_above_them():
    prefix = "def report(stats):\n    print 'accuracy', stats\n\n\n"
    clean = analyze(TRAINING, cache=ChunkCache())
    broken = analyze(prefix + TRAINING, cache=ChunkCache())
    assert broken.syntax_error is not None
    assert [(f.code, f.range.start.line) for f in broken.findings] == [
        (f.code, f.range.start.line + 4) for f in clean.findings
    ]


def test_every_statement_holding_an_error_is_left_out_and_the_others_kept():
    text = "x = 1\n\ndef a():\n    exec 'x'\n\ny = 2\n\ndef b():\n    print 'b'\n\nz = 3\n"
    parsed = parse_chunks(text, ChunkCache())
    assert parsed.error is not None and parsed.error[1].line == 3
    assert [c.text.split("\n")[0] for c in parsed.chunks] == ["x = 1", "y = 2", "z = 3"]


def test_an_unclosed_bracket_keeps_what_comes_before_it():
    text = TRAINING + "\nresult = compute(\n    1,\n"
    analysis = analyze(text, cache=ChunkCache())
    assert analysis.syntax_error is not None
    assert [f.code for f in analysis.findings] == ["TM101"]


def _check(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "torchmode", "check", *args],
        cwd=tmp_path,
        capture_output=True,
        text=True,
    )


def test_cli_reports_the_findings_and_the_error_and_fixes_nothing(tmp_path):
    path = tmp_path / "train.py"
    path.write_text(TRAINING + PY2_HELPER)
    proc = _check(tmp_path, "--format", "json", "train.py")
    assert proc.returncode == 2
    assert proc.stderr.count("syntax error") == 1
    (entry,) = json.loads(proc.stdout)
    assert entry["code"] == "TM101" and entry["fix"] is None
    proc = _check(tmp_path, "--fix", "train.py")
    assert proc.returncode == 2
    assert path.read_text() == TRAINING + PY2_HELPER
    assert "1 file with a syntax error checked in part" in proc.stdout
    assert "fixable" not in proc.stdout


def test_a_notebook_cell_of_shell_commands_costs_only_itself(tmp_path):
    cells = [
        {"cell_type": "code", "metadata": {}, "outputs": [], "execution_count": None,
         "source": ["ls -l data/\n"]},
        {"cell_type": "code", "metadata": {}, "outputs": [], "execution_count": None,
         "source": TRAINING.splitlines(keepends=True)},
    ]  # fmt: skip
    notebook = {"cells": cells, "metadata": {}, "nbformat": 4, "nbformat_minor": 5}
    (tmp_path / "train.ipynb").write_text(json.dumps(notebook))
    proc = _check(tmp_path, "--format", "json", "train.ipynb")
    assert proc.returncode == 2
    assert "cell 1" in proc.stderr
    assert [(e["code"], e["cell"]) for e in json.loads(proc.stdout)] == [("TM101", 2)]


def test_a_file_skipped_for_its_size_is_not_checked_in_part(tmp_path):
    # a limit (an expression too deep to analyse in reasonable time) is not a syntax error:
    # nothing of that file was analysed
    (tmp_path / "deep.py").write_text("import torch\nmodel.eval()\nx = " + "a." * 3000 + "b\n")
    (tmp_path / "train.py").write_text(TRAINING + PY2_HELPER)
    proc = _check(tmp_path, "deep.py", "train.py")
    assert proc.returncode == 2
    assert "skipped this file" in proc.stderr
    assert proc.stdout.rstrip().endswith(
        "Found 1 problem in 1 file checked. 1 file could not be checked. "
        "1 file with a syntax error checked in part (see above)."
    )
