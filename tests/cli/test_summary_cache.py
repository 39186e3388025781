"""The summaries of other files kept between runs (``.torchmode_cache``): a second run reads
them instead of analysing those files again, gives the same findings, and never trusts an entry
whose file, or a file it read, has changed since."""

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
    model.eval()
    correct = 0
    with torch.no_grad():
        for x, y in loader:
            correct += (model(x).argmax(1) == y).sum().item()
    return correct
"""

RESTORED = EVALUATE.replace("    return correct\n", "    model.train()\n    return correct\n")

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
        print(epoch, validate(model, val_loader))


if __name__ == "__main__":
    main([], [])
"""


@pytest.fixture
def project(tmp_path: Path) -> Path:
    (tmp_path / "pyproject.toml").write_text("[project]\nname = 'p'\n")
    (tmp_path / "evaluate.py").write_text(EVALUATE)
    (tmp_path / "model.py").write_text(MODEL)
    (tmp_path / "train.py").write_text(TRAIN)
    return tmp_path


def _check(root: Path, *options: str, env: dict[str, str] | None = None) -> list[tuple[str, int]]:
    """A fresh process each time, as runs are: nothing is remembered but what is on disk."""
    proc = subprocess.run(
        [sys.executable, "-m", "torchmode", "check", "--format", "json", *options, "."],
        cwd=root,
        capture_output=True,
        text=True,
        env={**os.environ, **(env or {})},
    )
    assert proc.returncode in (0, 1), proc.stderr
    found = json.loads(proc.stdout)
    return sorted((Path(f["filename"]).name + ":" + f["code"], f["location"]["row"]) for f in found)


def _entries(folder: Path) -> list[Path]:
    return sorted(folder.rglob("summaries/*/*.json"))


def _entry_of(folder: Path, source: Path) -> Path:
    for entry in _entries(folder):
        if json.loads(entry.read_text())["path"] == str(source.resolve()):
            return entry
    raise AssertionError(f"no entry for {source}")


def _forget_functions(cache: Path, source: Path) -> None:
    """Empty by hand what the kept summary of ``source`` says of its functions."""
    entry = _entry_of(cache, source)
    data = json.loads(entry.read_text())
    data["summary"]["fields"]["functions"] = {"dict": []}
    data.pop("own")  # the digest of the summary as it was kept: computed again when absent
    entry.write_text(json.dumps(data))


def test_a_second_run_reads_the_kept_summaries_and_finds_the_same(project: Path) -> None:
    cold = _check(project)
    assert cold == [("train.py:TM101", 16)]  # validate() leaves the model in eval mode
    cache = project / ".torchmode_cache"
    assert (
        (cache / "CACHEDIR.TAG")
        .read_text()
        .startswith("Signature: 8a477f597d28d172789f06886806bc55")
    )
    assert (cache / ".gitignore").read_text() == "*\n"
    assert _entry_of(cache, project / "evaluate.py")
    assert _check(project) == cold
    assert _check(project, "-j", "2") == cold


def test_the_kept_summary_is_what_the_second_run_reads(project: Path) -> None:
    """Proof that the entry is read: one emptied by hand (the same content digest) takes the
    finding away; once the file itself changes, the entry is not trusted any more."""
    _check(project)
    _forget_functions(project / ".torchmode_cache", project / "evaluate.py")
    assert _check(project) == []
    (project / "evaluate.py").write_text(EVALUATE + "\n# edited\n")
    assert _check(project) == [("train.py:TM101", 16)]


def test_an_added_file_may_change_where_imports_resolve(project: Path) -> None:
    """``from evaluate import validate`` could now mean a new ``evaluate/`` package, or a
    package's module could now shadow a top-level one: every entry is recomputed."""
    _check(project)
    _forget_functions(project / ".torchmode_cache", project / "evaluate.py")
    assert _check(project) == []
    (project / "notes.py").write_text("x = 1\n")
    assert _check(project) == [("train.py:TM101", 16)]


def test_a_changed_file_is_summarised_again(project: Path) -> None:
    assert _check(project) == [("train.py:TM101", 16)]
    (project / "evaluate.py").write_text(RESTORED)
    assert _check(project) == []
    (project / "evaluate.py").write_text(EVALUATE)
    assert _check(project) == [("train.py:TM101", 16)]


def test_an_entry_is_not_trusted_once_a_file_it_read_changed(project: Path) -> None:
    """``train.py``'s summary holds what it knows of ``Net`` (from ``model.py``): a Net without
    Dropout makes the same evaluation a hint, which the default level does not show."""
    assert _check(project, "--min-severity", "hint") == [("train.py:TM101", 16)]
    plain = MODEL.replace("nn.Dropout(0.3), ", "")
    (project / "model.py").write_text(plain)
    uncached = _check(project, "--min-severity", "hint", "--no-cache")
    assert _check(project, "--min-severity", "hint") == uncached


def test_entries_that_are_not_ours_are_misses_and_run_nothing(project: Path) -> None:
    _check(project)
    marker = project / "ran"
    for entry in _entries(project / ".torchmode_cache"):
        data = json.loads(entry.read_text())
        # a class outside the summary's own, and a pickle-like payload: neither is built
        data["summary"] = {
            "class": "Popen",
            "fields": {"args": {"tuple": ["touch", str(marker)]}},
        }
        entry.write_text(json.dumps(data))
    (project / ".torchmode_cache" / "junk.json").write_text("{")
    assert _check(project) == [("train.py:TM101", 16)]
    assert not marker.exists()


def test_no_cache_keeps_nothing_and_cache_dir_moves_it(project: Path, tmp_path_factory) -> None:
    assert _check(project, "--no-cache") == [("train.py:TM101", 16)]
    assert not (project / ".torchmode_cache").exists()
    elsewhere = tmp_path_factory.mktemp("cache")
    assert _check(project, "--cache-dir", str(elsewhere)) == [("train.py:TM101", 16)]
    assert not (project / ".torchmode_cache").exists()
    assert _entries(elsewhere)
    other = tmp_path_factory.mktemp("env-cache")
    assert _check(project, env={"TORCHMODE_CACHE_DIR": str(other)}) == [("train.py:TM101", 16)]
    assert _entries(other)


def test_a_cache_that_cannot_be_written_is_done_without(project: Path) -> None:
    """A read-only checkout, a full disk: the run goes on and finds the same."""
    blocked = project / "not-a-folder"
    blocked.write_text("")
    assert _check(project, "--cache-dir", str(blocked)) == [("train.py:TM101", 16)]
    assert blocked.read_text() == ""


METRICS = """\
def accuracy(logits, y):
    return (logits.argmax(1) == y).float().mean().item()
"""

EVALUATE_WITH_METRICS = EVALUATE.replace(
    "import torch\n", "import torch\n\nfrom metrics import accuracy\n"
)


def test_an_entry_holds_while_what_it_read_summarises_the_same(project: Path) -> None:
    """``evaluate.py`` reads ``metrics.py``: an edit there that leaves its summary as it was (a
    comment) keeps ``evaluate.py``'s entry, one that changes it (a function that now switches
    a model it is given to eval mode) does not."""
    (project / "metrics.py").write_text(METRICS)
    (project / "evaluate.py").write_text(EVALUATE_WITH_METRICS)
    assert _check(project) == [("train.py:TM101", 16)]
    _forget_functions(project / ".torchmode_cache", project / "evaluate.py")
    assert _check(project) == []
    (project / "metrics.py").write_text(METRICS + "\n# the mean over the batch\n")
    assert _check(project) == []  # the entry still holds
    (project / "metrics.py").write_text(
        METRICS + "\n\ndef freeze(model):\n    model.eval()\n    return model\n"
    )
    assert _check(project) == [("train.py:TM101", 16)]
