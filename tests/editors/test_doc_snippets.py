"""The editor set-up snippets of docs/editors.md, run as a new user would paste them.

Neovim 0.7's ``vim.lsp.start_client`` form runs wherever Neovim is installed (CI installs
Debian's 0.7); the ``vim.lsp.start`` form (Neovim 0.8+) and the ``vim.lsp.config`` form
(Neovim 0.11+) where the ``nvim`` on the PATH is new enough; the Emacs eglot snippet where
Emacs with eglot is (``apt-get install emacs-nox elpa-eglot``). Each must bring the canonical
example's TM101 into the editor. docs/editors.md says which of them CI runs.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
EDITORS_DOC = (ROOT / "docs" / "editors.md").read_text(encoding="utf-8")
EXAMPLE = ROOT / "examples" / "train_sst.py"


def snippet(language: str, marker: str) -> str:
    blocks = re.findall(rf"```{language}\n(.*?)```", EDITORS_DOC, re.S)
    chosen = [b for b in blocks if marker in b]
    assert len(chosen) == 1, f"docs/editors.md should have one {language} block with {marker!r}"
    return chosen[0]


def _nvim_version() -> tuple[int, int]:
    """(major, minor) of the ``nvim`` on the PATH, (0, 0) when there is none."""
    if shutil.which("nvim") is None:
        return (0, 0)
    first = subprocess.run(
        ["nvim", "--version"], capture_output=True, text=True, stdin=subprocess.DEVNULL
    ).stdout.partition("\n")[0]
    found = re.search(r"v(\d+)\.(\d+)", first)
    return (int(found[1]), int(found[2])) if found else (0, 0)


nvim_version = _nvim_version()


def user_environment(home: Path) -> dict[str, str]:
    """A fresh home, and `torchmode` on the PATH as `pip install` puts it there."""
    scripts = Path(sys.executable).parent
    path = f"{scripts}{os.pathsep}{os.environ.get('PATH', '')}"
    return {**os.environ, "HOME": str(home), "PATH": path}


CHECK_LUA = """\
vim.wait(60000, function() return #vim.diagnostic.get(0) > 0 end, 50)
local seen = {}
for _, d in ipairs(vim.diagnostic.get(0)) do
  table.insert(seen, { line = d.lnum, message = d.message })
end
local file = assert(io.open(os.getenv("TORCHMODE_REPORT"), "w"))
file:write(vim.fn.json_encode(seen))
file:close()
vim.cmd("qa!")
"""


@pytest.mark.parametrize(
    ("marker", "needs"),
    [
        ("vim.lsp.start_client", (0, 7)),
        ("vim.lsp.start({", (0, 8)),
        ("vim.lsp.config(", (0, 11)),
    ],
    ids=["neovim-0.7", "neovim-0.8-lsp-start", "neovim-0.11-lsp-config"],
)
def test_neovim_snippet(tmp_path: Path, marker: str, needs: tuple[int, int]) -> None:
    if nvim_version < needs:
        pytest.skip(f"needs Neovim {needs[0]}.{needs[1]}+ on the PATH (found {nvim_version})")
    if shutil.which("torchmode", path=user_environment(tmp_path)["PATH"]) is None:
        pytest.skip("the torchmode command is not installed (pip install -e .)")
    (tmp_path / "init.lua").write_text(snippet("lua", marker))
    (tmp_path / "check.lua").write_text(CHECK_LUA)
    shutil.copy(EXAMPLE, tmp_path / "train_sst.py")
    report = tmp_path / "report.json"
    subprocess.run(
        ["nvim", "--headless", "-u", "init.lua", "-c", "luafile check.lua", "train_sst.py"],
        cwd=tmp_path,
        env={**user_environment(tmp_path), "TORCHMODE_REPORT": str(report)},
        stdin=subprocess.DEVNULL,
        capture_output=True,
        timeout=300,
        check=True,
    )
    seen = json.loads(report.read_text())
    eval_line = EXAMPLE.read_text().splitlines().index("            model.eval()")
    assert [d["line"] for d in seen] == [eval_line], seen


CHECK_EL = """\
(package-initialize)
(load-file "snippet.el")
(find-file "train_sst.py")
(run-hooks 'post-command-hook)  ; eglot-ensure connects from the command loop
(let ((deadline (+ (float-time) 60)))
  (while (and (< (float-time) deadline) (null (flymake-diagnostics)))
    (accept-process-output nil 0.1)))
(let ((found (mapcar (lambda (d)
                       (format "%d %s\\n" (line-number-at-pos (flymake-diagnostic-beg d))
                               (flymake-diagnostic-text d)))
                     (flymake-diagnostics))))
  (with-temp-file "report.txt" (apply #'insert found)))
(kill-emacs 0)
"""


def _has_eglot() -> bool:
    if shutil.which("emacs") is None:
        return False
    probe = subprocess.run(
        ["emacs", "--batch", "--eval", "(progn (package-initialize) (require 'eglot))"],
        capture_output=True,
        stdin=subprocess.DEVNULL,
        timeout=120,
    )
    return probe.returncode == 0


@pytest.mark.skipif(not _has_eglot(), reason="Emacs with eglot is not installed")
def test_emacs_eglot_snippet(tmp_path: Path) -> None:
    (tmp_path / "snippet.el").write_text(snippet("elisp", "eglot-server-programs"))
    (tmp_path / "check.el").write_text(CHECK_EL)
    shutil.copy(EXAMPLE, tmp_path / "train_sst.py")
    subprocess.run(
        ["emacs", "--batch", "-l", "check.el"],
        cwd=tmp_path,
        env=user_environment(tmp_path),
        stdin=subprocess.DEVNULL,
        capture_output=True,
        timeout=300,
        check=True,
    )
    lines = (tmp_path / "report.txt").read_text().splitlines()
    eval_line = EXAMPLE.read_text().splitlines().index("            model.eval()") + 1
    assert len(lines) == 1 and lines[0].startswith(f"{eval_line} "), lines
    assert "TM101" in lines[0]
