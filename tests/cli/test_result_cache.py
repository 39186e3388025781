"""A file's check kept between runs (``.torchmode_cache/*/results``): a second run of an
unchanged project reads it instead of analysing the file again, and no change that could alter
the file's findings lets a kept check through: its own text, a summary it read, a new caller
in another file, the settings. Every run is compared with a run that keeps nothing."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

EVALUATE = """\
import torch


def validate(model, loader):
    correct = 0
    for x, y in loader:
        correct += (model(x).argmax(1) == y).sum().item()
    return correct
"""

MODEL = """\
import torch.nn as nn


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.body = nn.Sequential(nn.Linear(8, 16), nn.Dropout(0.3), nn.Linear(16, 2))

    def forward(self, x):
        return self.body(x)
"""

TRAIN = """\
import torch
import torch.nn as nn

from evaluate import validate
from model import Net


def main(train_loader, val_loader):
    model = Net()
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    for epoch in range(10):
        for x, y in train_loader:
            opt.zero_grad()
            nn.functional.cross_entropy(model(x), y).backward()
            opt.step()
        model.eval()
        print(epoch, validate(model, val_loader))
        model.train()


if __name__ == "__main__":
    main([], [])
"""

Found = list[tuple[str, str, int, tuple[int, ...]]]


@pytest.fixture
def project(tmp_path: Path) -> Path:
    (tmp_path / "pyproject.toml").write_text("[project]\nname = 'p'\n")
    (tmp_path / "evaluate.py").write_text(EVALUATE)
    (tmp_path / "model.py").write_text(MODEL)
    (tmp_path / "train.py").write_text(TRAIN)
    return tmp_path


def _run(root: Path, *options: str) -> Found:
    proc = subprocess.run(
        [sys.executable, "-m", "torchmode", "check", "--format", "json", *options, "."],
        cwd=root,
        capture_output=True,
        text=True,
        env=os.environ.copy(),
    )
    assert proc.returncode in (0, 1), proc.stderr
    return sorted(
        (
            Path(f["filename"]).name,
            f["code"],
            f["location"]["row"],
            tuple(r["location"]["row"] for r in f.get("related", [])),
        )
        for f in json.loads(proc.stdout)
    )


def _check(root: Path, *options: str) -> Found:
    """A run with the project's cache, which must find what a run without one finds."""
    found = _run(root, *options)
    assert found == _run(root, "--no-cache", *options)
    return found


def _kept_checks(root: Path) -> list[Path]:
    return sorted((root / ".torchmode_cache").rglob("results/*/*.json"))


def _doctor(root: Path, summary: str) -> None:
    """Rewrite by hand the text of every kept finding: a run that reads them shows it."""
    for entry in _kept_checks(root):
        data = json.loads(entry.read_text())
        for report in data["result"]["reports"]:
            report["summary"] = summary
        entry.write_text(json.dumps(data))


def _summaries(root: Path, *options: str) -> list[str]:
    proc = subprocess.run(
        [sys.executable, "-m", "torchmode", "check", "--format", "json", *options, "."],
        cwd=root,
        capture_output=True,
        text=True,
    )
    return sorted(f["message"].split(".")[0] for f in json.loads(proc.stdout))


def test_a_second_run_reads_the_kept_checks(project: Path) -> None:
    cold = _check(project)
    assert cold == [("evaluate.py", "TM201", 7, (17,))]
    assert _kept_checks(project)
    _doctor(project, "kept")
    assert _summaries(project) == ["kept"]
    assert _summaries(project, "-j", "2") == ["kept"]
    assert _summaries(project, "--no-cache") != ["kept"]


def test_a_changed_file_is_checked_again(project: Path) -> None:
    _check(project)
    _doctor(project, "kept")
    (project / "evaluate.py").write_text(EVALUATE.replace("correct = 0", "correct = 0  # top-1"))
    assert _summaries(project) != ["kept"]


def test_a_line_added_in_the_calling_file_moves_the_related_place(project: Path) -> None:
    """The call's line is part of ``train.py``'s summary, which ``evaluate.py``'s check read."""
    _check(project)
    (project / "train.py").write_text("# the training script\n" + TRAIN)
    assert _check(project) == [("evaluate.py", "TM201", 7, (18,))]


def test_a_caller_changed_in_another_file_is_seen(project: Path) -> None:
    """``validate()`` runs with gradients on because ``train.py`` calls it so: once the call
    is under ``no_grad()``, the kept check of ``evaluate.py`` no longer holds."""
    _check(project)
    (project / "train.py").write_text(
        TRAIN.replace(
            "        print(epoch, validate(model, val_loader))\n",
            "        with torch.no_grad():\n"
            "            print(epoch, validate(model, val_loader))\n",
        )
    )
    assert _check(project) == []


def test_a_new_caller_is_seen_in_a_new_file_and_in_a_file_that_now_imports(
    project: Path,
) -> None:
    (project / "train.py").unlink()
    assert _check(project) == []  # nothing calls validate(): its model's mode is not known
    (project / "train.py").write_text(TRAIN)
    assert _check(project) == [("evaluate.py", "TM201", 7, (17,))]
    # an existing file that starts to import and call it
    (project / "train.py").write_text(TRAIN.replace("from evaluate import validate\n", ""))
    (project / "launch.py").write_text("import sys\n")
    assert _check(project) == []
    (project / "launch.py").write_text(TRAIN)
    assert _check(project) == [("evaluate.py", "TM201", 7, (17,))]


def test_other_settings_are_another_check(project: Path) -> None:
    _check(project)
    _doctor(project, "kept")
    assert _summaries(project, "--min-severity", "hint") != ["kept"]
    assert _check(project, "--select", "TM1") == []
    (project / "pyproject.toml").write_text(
        "[project]\nname = 'p'\n\n[tool.torchmode]\nignore = ['TM201']\n"
    )
    assert _check(project) == []


def test_runs_that_write_never_read_a_kept_check(project: Path) -> None:
    _check(project)
    for entry in _kept_checks(project):
        data = json.loads(entry.read_text())
        data["result"]["reports"] = []
        entry.write_text(json.dumps(data))
    assert _run(project) == []  # the doctored entries are read...
    proc = subprocess.run(
        [sys.executable, "-m", "torchmode", "check", "--diff", "."],
        cwd=project,
        capture_output=True,
        text=True,
    )
    assert "torch.no_grad()" in proc.stdout  # ...but not by a run that fixes


def test_entries_that_are_not_ours_are_misses(project: Path) -> None:
    _check(project)
    for entry in _kept_checks(project):
        data = json.loads(entry.read_text())
        data["result"]["reports"] = [{"class": "Popen", "args": ["touch", "ran"]}]
        entry.write_text(json.dumps(data))
    (project / ".torchmode_cache").joinpath("junk.json").write_text("{")
    assert _check(project) == [("evaluate.py", "TM201", 7, (17,))]
    assert not (project / "ran").exists()
