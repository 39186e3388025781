"""`torchmode check --fix --unsafe-fixes` on every rule's invalid examples, through the CLI
(files on disk, fix-all to a fixpoint): the result parses and re-checks clean for that rule."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from torchmode.analysis import RULES

CASES = [
    pytest.param(rule.code, example, id=f"{rule.code}-{i}")
    for rule in RULES.values()
    for i, example in enumerate(rule.invalid)
    if example.fixed is not None
]


@pytest.mark.parametrize(("code", "example"), CASES)
def test_fix_all_repairs_the_example(project, run, code, example):
    path = Path("example.py")
    path.write_text(example.source)
    before, _, err = run("check", "-q", "--min-severity", "hint", "--select", code, "example.py")
    assert (before, err) == (1, "")
    _, _, err = run(
        "check", "--fix", "--unsafe-fixes", "--min-severity", "hint", "--select", code, "example.py"
    )
    assert err == ""
    fixed = path.read_text()
    ast.parse(fixed)
    after, out, _ = run("check", "--min-severity", "hint", "--select", code, "example.py")
    assert after == 0, f"{out}\n--- fixed source ---\n{fixed}"
