"""``--diff`` prints what ``--fix`` writes, in a form ``patch`` applies byte for byte:
CRLF line ends, a BOM, form feeds and a last line without a line end (fake engine)."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

pytestmark = [
    pytest.mark.usefixtures("fake_engine"),
    pytest.mark.skipif(shutil.which("patch") is None, reason="needs patch (apt-get install patch)"),
]

TRAINING = (
    "for batch in loader:\n"
    "    loss = model(batch).sum()\n"
    "    loss.backward()\n"
    "    model.eval()\n"
    "    validate(model)\n"
)

VARIANTS = {
    "lf": TRAINING.encode(),
    "crlf": TRAINING.replace("\n", "\r\n").encode(),
    "bom": b"\xef\xbb\xbf" + TRAINING.encode(),
    "bom-crlf": b"\xef\xbb\xbf" + TRAINING.replace("\n", "\r\n").encode(),
    "bom-in-the-hunk": b"\xef\xbb\xbfmodel.eval()\nvalidate(model)\n",
    "no-final-newline": TRAINING[:-1].encode(),
    "crlf-no-final-newline": TRAINING[:-1].replace("\n", "\r\n").encode(),
    # after the fix: the fake engine numbers lines as str.splitlines does, at form feeds too
    "form-feed": (TRAINING + "\x0c\n# page two\x0c still a comment\n").encode(),
}


def _patch(directory: Path, diff: str) -> None:
    """Apply ``diff`` in ``directory`` exactly (no fuzz, no offset tolerance needed)."""
    completed = subprocess.run(
        ["patch", "-p1", "--fuzz=0", "--no-backup-if-mismatch", "--batch"],
        cwd=directory,
        input=diff.encode(),
        capture_output=True,
        check=False,
    )
    assert completed.returncode == 0, completed.stdout.decode() + completed.stderr.decode()


def _fix_and_diff(project: Path, run, files: dict[str, bytes]) -> tuple[str, dict[str, bytes]]:
    """(the --diff output for ``files``, the bytes --fix writes for each)."""
    for name, data in files.items():
        (project / name).write_bytes(data)
    code, diff, _ = run("check", "--diff", *files)
    assert code == 1
    assert all((project / name).read_bytes() == data for name, data in files.items())
    assert run("check", "--fix", *files)[0] == 0
    fixed = {name: (project / name).read_bytes() for name in files}
    assert fixed != files
    for name, data in files.items():
        (project / name).write_bytes(data)
    return diff, fixed


@pytest.mark.parametrize("variant", VARIANTS)
def test_patch_applies_the_diff_and_gives_what_fix_writes(project, run, variant):
    diff, fixed = _fix_and_diff(project, run, {"train.py": VARIANTS[variant]})
    _patch(project, diff)
    assert (project / "train.py").read_bytes() == fixed["train.py"]


def test_a_diff_of_several_files_applies_as_one(project, run):
    files = {"a.py": VARIANTS["crlf-no-final-newline"], "b.py": VARIANTS["bom"]}
    diff, fixed = _fix_and_diff(project, run, files)
    assert "\n--- a/b.py\n" in diff
    _patch(project, diff)
    assert {name: (project / name).read_bytes() for name in files} == fixed


def test_a_notebook_diff_applies_cell_by_cell(project, run, tmp_path):
    """A cell's last line has no line end: marked, so the next cell's header starts a line
    of its own, and each cell's part applies to that cell's text."""
    cells = ["loss.backward()\nmodel.eval()\nvalidate(model)", "x = 1\n", "model.eval()\r\nrun()"]
    document = {
        "cells": [{"cell_type": "code", "metadata": {}, "outputs": [], "source": c} for c in cells],
        "metadata": {},
        "nbformat": 4,
        "nbformat_minor": 5,
    }
    (project / "nb.ipynb").write_text(json.dumps(document))
    code, diff, _ = run("check", "--diff", "nb.ipynb")
    assert code == 1
    parts = diff.split("--- a/nb.ipynb:cell ")
    assert parts[0] == ""
    assert [part.split("\n", 1)[0] for part in parts[1:]] == ["1", "3"]
    assert diff.endswith("\n")
    assert run("check", "--fix", "nb.ipynb")[0] == 0
    fixed = [c["source"] for c in json.loads((project / "nb.ipynb").read_text())["cells"]]
    for part in parts[1:]:
        number, body = part.split("\n", 1)
        cell = tmp_path / f"cell{number}"
        cell.mkdir()
        (cell / "cell").write_bytes(cells[int(number) - 1].encode())
        body = body.replace(f"+++ b/nb.ipynb:cell {number}", "+++ b/cell", 1)
        _patch(cell, f"--- a/cell\n{body}")
        assert (cell / "cell").read_bytes() == fixed[int(number) - 1].encode()
