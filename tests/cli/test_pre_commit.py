"""The pre-commit hook manifest, validated by pre-commit itself, and its entry run as
pre-commit runs it (entry + args + the staged files of the matching types)."""

from __future__ import annotations

import shlex
import shutil
import subprocess
import sys
from pathlib import Path

from identify import identify
from pre_commit.clientlib import load_manifest

ROOT = Path(__file__).resolve().parent.parent.parent
MANIFEST = ROOT / ".pre-commit-hooks.yaml"


def _hook() -> dict:
    [hook] = load_manifest(str(MANIFEST))
    return hook


def test_manifest_is_valid_for_pre_commit():
    hook = _hook()
    assert hook["id"] == "torchmode"
    assert hook["entry"] == "torchmode check"
    assert hook["types_or"] == ["python", "jupyter"]
    assert hook["pass_filenames"] is True
    # Run with no files, `torchmode check` would check the whole directory.
    assert hook["always_run"] is False


def _selected(hook: dict, names: list[str], cwd: Path) -> list[str]:
    return [n for n in names if identify.tags_from_path(str(cwd / n)) & set(hook["types_or"])]


def _run_hook(hook: dict, files: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    command = shlex.split(hook["entry"])
    # The installed console script, or the same entry point through the interpreter.
    executable = shutil.which(command[0])
    prefix = [executable] if executable else [sys.executable, "-m", "torchmode"]
    return subprocess.run(
        [*prefix, *command[1:], *hook["args"], *files],
        cwd=cwd,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_hook_checks_the_staged_python_and_notebook_files(tmp_path):
    shutil.copy(ROOT / "examples" / "train_sst.py", tmp_path / "train.py")
    shutil.copy(ROOT / "examples" / "train_sst.ipynb", tmp_path / "train.ipynb")
    (tmp_path / "clean.py").write_text("model.train()\n")
    (tmp_path / "README.md").write_text("model.eval()\n")
    hook = _hook()
    files = _selected(hook, ["README.md", "clean.py", "train.ipynb", "train.py"], tmp_path)
    assert files == ["clean.py", "train.ipynb", "train.py"]
    done = _run_hook(hook, files, tmp_path)
    assert done.returncode == 1, done.stderr
    assert "train.py:" in done.stdout and "train.ipynb:cell " in done.stdout
    done = _run_hook(hook, ["clean.py"], tmp_path)
    assert (done.returncode, done.stderr) == (0, "")
