"""A real editor end to end: headless Neovim against ``python -m torchmode.lsp``.

Neovim (Debian's 0.7 is enough: ``vim.lsp.start_client`` + ``buf_attach_client``) opens a
copy of the shipped example, receives TM101, hovers, applies the preferred code action and
writes the file; the test checks the file on disk and what Neovim saw.
"""

from __future__ import annotations

import difflib
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = Path(__file__).with_name("neovim_session.lua")
EXAMPLE = ROOT / "examples" / "train_sst.py"

nvim = shutil.which("nvim")
pytestmark = pytest.mark.skipif(nvim is None, reason="Neovim is not installed")


def test_neovim_fixes_the_canonical_example(tmp_path: Path) -> None:
    assert nvim is not None
    source = tmp_path / "train_sst.py"
    shutil.copy(EXAMPLE, source)
    report_path = tmp_path / "report.json"
    env = {
        **os.environ,
        "TORCHMODE_REPORT": str(report_path),
        "TORCHMODE_PYTHON": sys.executable,
        "HOME": str(tmp_path),  # keep Neovim's state files out of the real home
    }
    completed = subprocess.run(
        [nvim, "--headless", "--clean", "-c", f"luafile {SCRIPT}", source.name],
        cwd=tmp_path,
        env=env,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=300,
    )
    report = json.loads(report_path.read_text())
    assert report["ok"], (report, completed.stderr)
    assert completed.returncode == 0

    original = EXAMPLE.read_text()
    assert report["diagnostic"]["line"] == original.splitlines().index("            model.eval()")
    assert report["diagnostic"]["source"] == "torchmode"
    assert "model" in report["diagnostic"]["message"]
    assert report["hover"], "hover gave no text"
    assert "eval" in report["hover"]
    assert "eval mode (set on line" in report["hover"]  # the live state, not only API docs

    fixed = source.read_text()
    diff = difflib.ndiff(original.splitlines(), fixed.splitlines())
    changed = [line for line in diff if line[:2] in ("+ ", "- ")]
    assert [line[2:].strip() for line in changed if line.startswith("+ ")] == ["model.train()"]
    assert all(line.startswith("+ ") for line in changed), changed
    assert report["cleared"], "TM101 was still reported after the fix"
    compile(fixed, str(source), "exec")
