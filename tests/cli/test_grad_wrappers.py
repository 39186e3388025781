"""A project's own wrappers of the grad mode, recognised by their bodies (not their names), in
the same file and imported from another file: decorators that run the function they wrap
without gradients, and ``@contextmanager`` helpers whose ``with`` block runs in the state at
their ``yield``."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

TOOLS = """\
import contextlib
import functools
import time

import torch


def no_grad_when_possible():
    def wrap(fn):
        @functools.wraps(fn)
        def inner(*args, **kwargs):
            with torch.inference_mode():
                return fn(*args, **kwargs)

        return inner

    return wrap


def timed(fn):
    @functools.wraps(fn)
    def inner(*args, **kwargs):
        start = time.time()
        out = fn(*args, **kwargs)
        print(time.time() - start)
        return out

    return inner


@contextlib.contextmanager
def inference_context(model):
    was_training = model.training
    model.eval()
    with torch.no_grad():
        yield
    model.train(was_training)


@contextlib.contextmanager
def evaluating(model):
    model.eval()
    yield
"""

TRAIN = """\
import torch
import torch.nn as nn

{imports}


def train_epoch(model, loader, optimizer):
    for x, y in loader:
        optimizer.zero_grad()
        nn.functional.cross_entropy(model(x), y).backward()
        optimizer.step()


{evaluation}


def main(train_loader, val_loader):
    model = nn.Sequential(nn.Linear(8, 16), nn.Dropout(0.3), nn.Linear(16, 2))
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    for epoch in range(10):
        model.train()
        train_epoch(model, train_loader, optimizer)
        print(epoch, validate(model, val_loader))


if __name__ == "__main__":
    main([], [])
"""

DECORATED = """\
@{decorator}
def validate(model, loader):
    model.eval()
    return [model(x) for x, _ in loader]
"""

WITH_BLOCK = """\
def validate(model, loader):
    with {helper}(model):
        outputs = [model(x) for x, _ in loader]
    return outputs
"""

RESUMING = """\
def main(train_loader, val_loader):
    model = nn.Sequential(nn.Linear(8, 16), nn.Dropout(0.3), nn.Linear(16, 2))
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    model.train()
    for epoch in range(10):
        train_epoch(model, train_loader, optimizer)
        with {helper}(model):
            print(epoch, [model(x) for x, _ in val_loader])
"""


def _check(root: Path) -> list[tuple[str, int]]:
    proc = subprocess.run(
        [sys.executable, "-m", "torchmode", "check", "--format", "json", "--exit-zero", "."],
        cwd=root,
        capture_output=True,
        text=True,
        check=True,
    )
    return sorted((f["code"], f["location"]["row"]) for f in json.loads(proc.stdout))


def _project(root: Path, evaluation: str, *, same_file: bool, main: str | None = None) -> None:
    (root / "pyproject.toml").write_text("[project]\nname = 'p'\n")
    names = "no_grad_when_possible, timed, inference_context, evaluating"
    if same_file:
        body = TOOLS + "\n\n" + TRAIN.format(imports="", evaluation=evaluation)
    else:
        (root / "utils").mkdir()
        (root / "utils" / "__init__.py").write_text("")
        (root / "utils" / "torch_tools.py").write_text(TOOLS)
        imports = f"from utils.torch_tools import {names}"
        body = TRAIN.format(imports=imports, evaluation=evaluation)
    if main is not None:
        start = body.index("def main(")
        end = body.index("\n\nif __name__")
        body = body[:start] + main + body[end:]
    (root / "train.py").write_text(body)


@pytest.fixture(params=[True, False], ids=["same-file", "imported"])
def same_file(request: pytest.FixtureRequest) -> bool:
    return bool(request.param)


def test_a_decorator_that_runs_the_function_under_inference_mode(tmp_path, same_file):
    _project(tmp_path, DECORATED.format(decorator="no_grad_when_possible()"), same_file=same_file)
    assert _check(tmp_path) == []


def test_a_decorator_that_does_not_touch_the_grad_mode(tmp_path, same_file):
    _project(tmp_path, DECORATED.format(decorator="timed"), same_file=same_file)
    assert [code for code, _ in _check(tmp_path)] == ["TM201"]


def test_a_context_manager_that_evaluates_without_gradients_and_restores(tmp_path, same_file):
    _project(tmp_path, WITH_BLOCK.format(helper="inference_context"), same_file=same_file)
    assert _check(tmp_path) == []


def test_a_context_manager_that_only_switches_to_eval(tmp_path, same_file):
    # eval() without no_grad: the evaluation records graphs (TM201); train() at the top of
    # each epoch undoes the eval
    _project(tmp_path, WITH_BLOCK.format(helper="evaluating"), same_file=same_file)
    assert [code for code, _ in _check(tmp_path)] == ["TM201"]


def test_training_resumes_after_a_restoring_block(tmp_path, same_file):
    main = RESUMING.format(helper="inference_context")
    _project(
        tmp_path, WITH_BLOCK.format(helper="inference_context"), same_file=same_file, main=main
    )
    assert _check(tmp_path) == []


def test_training_resumes_in_eval_mode_after_a_block_that_does_not_restore(tmp_path, same_file):
    main = RESUMING.format(helper="evaluating")
    _project(
        tmp_path, WITH_BLOCK.format(helper="inference_context"), same_file=same_file, main=main
    )
    assert "TM101" in [code for code, _ in _check(tmp_path)]
