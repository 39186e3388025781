"""The CLI and the server read code; they never import, run or evaluate it, and settings
cannot make them. Every file here would leave a marker file behind if anything ran it."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from lsp_wire import Wire

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = (ROOT / "examples" / "train_sst.py").read_text(encoding="utf-8")


def side_effect(name: str) -> str:
    return f"import pathlib; pathlib.Path({str(name)!r}).write_text('ran')\n"


@pytest.fixture
def trap(tmp_path: Path) -> Path:
    """A project whose every Python file, if imported or run, writes a marker file."""
    marker = str(tmp_path / "PWNED")
    effect = side_effect(marker)
    (tmp_path / "train.py").write_text(effect + "from helpers import validate\n" + EXAMPLE)
    (tmp_path / "helpers.py").write_text(effect + "def validate(model):\n    model.eval()\n")
    (tmp_path / "__init__.py").write_text(effect)
    (tmp_path / "conftest.py").write_text(effect)
    (tmp_path / "setup.py").write_text(effect)
    # Modules that shadow the ones torchmode itself imports, should anything put the
    # project directory first on sys.path.
    for shadow in ("libcst", "pathspec", "pygls", "lsprotocol", "tomllib", "torch"):
        (tmp_path / f"{shadow}.py").write_text(effect)
    cells = [
        {"cell_type": "code", "metadata": {}, "outputs": [], "execution_count": None, "source": s}
        for s in [f"!touch {marker}\n", f"%run train.py\nimport os; os.system('touch {marker}')\n"]
    ]
    notebook = {"cells": cells, "metadata": {}, "nbformat": 4, "nbformat_minor": 5}
    (tmp_path / "nb.ipynb").write_text(json.dumps(notebook))
    evil = f"__import__('os').system('touch {marker}')"
    (tmp_path / "pyproject.toml").write_text(
        f'[tool.torchmode]\nfix-no-grad-with = "{evil}"\nselect = ["{evil}"]\n'
    )
    return tmp_path


def console_script() -> str:
    command = shutil.which("torchmode")
    assert command, "the torchmode console script is installed by pip install -e ."
    return command


def run_cli(
    *args: str, cwd: Path, command: list[str] | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*(command or [console_script()]), *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=300,
        stdin=subprocess.DEVNULL,
    )


def test_the_cli_runs_nothing(trap: Path) -> None:
    refused = run_cli("check", "train.py", cwd=trap)
    assert refused.returncode == 2 and "pyproject.toml" in refused.stderr
    (trap / "pyproject.toml").unlink()
    for args in (
        ["check", "."],
        ["check", "--diff", "."],
        ["check", "--fix", "--unsafe-fixes", "."],
    ):
        done = run_cli(*args, cwd=trap)
        assert "Traceback" not in done.stderr, done.stderr
        assert not (trap / "PWNED").exists(), f"torchmode {' '.join(args)} ran user code"
    assert "model.train()" in (trap / "train.py").read_text()  # --fix did its job


def test_the_server_runs_nothing(trap: Path) -> None:
    check_server(trap, [console_script(), "lsp"])


def test_python_m_in_the_project_directory_runs_nothing(trap: Path) -> None:
    # `python -m` puts the working directory first on sys.path, where this project has its
    # own libcst.py, torch.py... Editors often start servers in the workspace folder.
    (trap / "pyproject.toml").unlink()
    run_cli("check", ".", cwd=trap, command=[sys.executable, "-m", "torchmode"])
    assert not (trap / "PWNED").exists(), "python -m torchmode check ran user code"
    check_server(trap, [sys.executable, "-m", "torchmode.lsp"])


def check_server(trap: Path, command: list[str]) -> None:
    wire = Wire(cwd=trap, command=command)
    try:
        evil = f"__import__('os').system('touch {trap / 'PWNED'}')"
        wire.initialize(["utf-16"], {"fixNoGradWith": evil, "select": [evil], "severity": {}})
        for path in trap.glob("*.py"):
            wire.open(path.as_uri(), path.read_text())
            wire.published(path.as_uri(), 1)
        uri = (trap / "train.py").as_uri()
        line = EXAMPLE.splitlines().index("            model.eval()") + 2
        here = {"line": line, "character": 20}
        wire.request("textDocument/hover", {"textDocument": {"uri": uri}, "position": here})
        actions = wire.request(
            "textDocument/codeAction",
            {
                "textDocument": {"uri": uri},
                "range": {"start": here, "end": here},
                "context": {"diagnostics": [], "only": ["source.fixAll.torchmode"]},
            },
        )
        for action in actions.get("result") or []:
            wire.request("codeAction/resolve", action)
        assert wire.alive()
    finally:
        assert wire.stop() == 0, wire.log()
    assert not (trap / "PWNED").exists(), "the server ran user code"
