"""A function's entry read through its callers' own callers in other files: ``score()`` in
``infer.py`` runs a model as its caller ``validate()`` (``valid.py``) was entered, and how that
was entered ``run.py`` says."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

INFER = """\
def score(net, batches):
    net.eval()
    return [net(x).sum().item() for x in batches]
"""

VALID = """\
{decorator}def validate(net, batches):
    return sum(score(net, batches))
"""

RUN = """\
import torch
import torch.nn as nn

from valid import validate


def main():
    net = nn.Sequential(nn.Linear(4, 4), nn.Dropout(0.1))
{call}


if __name__ == "__main__":
    main()
"""

NO_GRAD = "    with torch.no_grad():\n        print(validate(net, []))"
GRAD_ON = "    print(validate(net, []))"


def _project(root: Path, call: str, decorator: str = "", infer_import: str = "") -> None:
    files = {
        "infer.py": INFER,
        "valid.py": "from infer import score\n"
        + infer_import
        + "\n\n"
        + VALID.format(decorator=decorator),
        "run.py": RUN.format(call=call),
    }
    for name, text in files.items():
        (root / name).write_text(text)


def _tm201(root: Path) -> list[str]:
    proc = subprocess.run(
        [sys.executable, "-m", "torchmode", "check", "--no-cache", "--format", "json", "."],
        cwd=root,
        capture_output=True,
        text=True,
    )
    assert proc.returncode in (0, 1), proc.stderr
    return [
        str(f["message"])
        for f in json.loads(proc.stdout)
        if f["code"] == "TM201" and Path(str(f["filename"])).name == "infer.py"
    ]


def test_gradients_turned_off_two_files_up_reach_the_function(tmp_path):
    _project(tmp_path, NO_GRAD)
    assert _tm201(tmp_path) == []


def test_gradients_left_on_two_files_up_name_the_call_that_brings_them(tmp_path):
    _project(tmp_path, GRAD_ON)
    (message,) = _tm201(tmp_path)
    assert "called from valid.py:5 with gradients on" in message


def test_a_middle_function_wrapped_by_a_decorator_is_not_read_through(tmp_path):
    # what the decorator does to the grad mode is not known: ``score()`` stays as entered
    _project(tmp_path, NO_GRAD, decorator="@register\n", infer_import="from hooks import register")
    (tmp_path / "hooks.py").write_text("def register(fn):\n    return fn\n")
    (message,) = _tm201(tmp_path)
    assert "called from" not in message


def test_files_calling_each_other_in_a_cycle_end(tmp_path):
    # valid.validate() is called by run.main() and by ping.bounce(), which valid.py's own
    # importer ping.py also calls back through: the cycle leaves the entry as it was
    _project(tmp_path, NO_GRAD)
    (tmp_path / "ping.py").write_text(
        "from valid import validate\n\n\ndef bounce(net, batches):\n"
        "    return validate(net, batches)\n"
    )
    (tmp_path / "valid.py").write_text(
        "from infer import score\n\n\ndef validate(net, batches):\n"
        "    from ping import bounce\n\n"
        "    if not batches:\n        return bounce(net, [[1]])\n"
        "    return sum(score(net, batches))\n"
    )
    (message,) = _tm201(tmp_path)
    assert "called from" not in message


def test_an_entry_point_nobody_calls_runs_with_gradients_on(tmp_path):
    """``main()`` of ``run.py`` is not called in the project (a launcher or a shell runs it): it
    runs with gradients on, so the call that brings them to ``score()`` is named."""
    _project(tmp_path, GRAD_ON)
    run = tmp_path / "run.py"
    run.write_text(run.read_text().split("\n\nif __name__")[0] + "\n")
    (message,) = _tm201(tmp_path)
    assert "called from valid.py:5 with gradients on" in message


def test_an_entry_point_is_not_assumed_where_a_notebook_may_call_it(tmp_path):
    """A notebook that names ``main`` may call it under ``no_grad()``: not known, not named."""
    _project(tmp_path, GRAD_ON)
    run = tmp_path / "run.py"
    run.write_text(run.read_text().split("\n\nif __name__")[0] + "\n")
    notebook = {
        "cells": [
            {
                "cell_type": "code",
                "metadata": {},
                "outputs": [],
                "execution_count": None,
                "source": [
                    "import torch\n",
                    "from run import main\n",
                    "with torch.no_grad():\n",
                    "    main()\n",
                ],
            }
        ],
        "metadata": {},
        "nbformat": 4,
        "nbformat_minor": 5,
    }
    (tmp_path / "explore.ipynb").write_text(json.dumps(notebook))
    (message,) = _tm201(tmp_path)
    assert "called from" not in message
