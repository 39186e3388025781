"""Minimal reproductions of the bugs the fuzzers found (gaps/hardening.md#N).

Each is a strict xfail while its bug is open: once fixed, the test passes, strict turns that
into a failure, and the marker (and its KNOWN_GAPS entry in fuzz_invariants.py) goes.
"""

from __future__ import annotations

import pytest
from fuzz_invariants import check_program
from torchmode.findings import Range
from torchmode.fixing import apply_edits


def _without_known_gaps(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("fuzz_invariants.KNOWN_GAPS", {})


def test_train_inserted_before_an_eval_in_the_same_iteration(monkeypatch) -> None:
    _without_known_gaps(monkeypatch)
    check_program(
        "optimizer = optim.SGD(model.parameters(), lr=0.1)\n"
        "for batch in loader:\n"
        "    model.eval()\n"
        "    scaler.step(optimizer)\n"
    )


def test_zero_grad_fix_with_a_step_before_the_loop(monkeypatch) -> None:
    _without_known_gaps(monkeypatch)
    check_program(
        "optimizer.step()\nfor batch in loader:\n    optimizer.step()\n    loss.backward()\n"
    )


def test_zero_grad_after_a_conditional_second_step(monkeypatch) -> None:
    _without_known_gaps(monkeypatch)
    check_program(
        "for epoch in range(3):\n"
        "    if i % 10 == 0:\n"
        "        optimizer.step()\n"
        "    loss.backward()\n"
        "    optimizer.step()\n"
    )


def test_wrap_in_no_grad_keeps_tab_indentation(monkeypatch) -> None:
    _without_known_gaps(monkeypatch)
    check_program(
        "import torch\nfor batch in loader:\n\t\tmodel.eval(); out = model(batch); model.train()\n"
    )


def test_no_tm201_fix_that_grad_reenabled_inside_defeats(monkeypatch) -> None:
    _without_known_gaps(monkeypatch)
    check_program(
        "import torch\n"
        "def evaluate(model, loader):\n"
        "    torch.set_grad_enabled(True)\n"
        "    model.eval(); out = model(batch); model.train()\n"
    )


@pytest.mark.xfail(strict=True, reason="gaps/hardening.md#6")
def test_train_after_evaluation_on_every_path(monkeypatch) -> None:
    _without_known_gaps(monkeypatch)
    check_program(
        "optimizer = optim.SGD(model.parameters(), lr=0.1)\n"
        "for i, batch in enumerate(loader):\n"
        "    model.eval()\n"
        "    if i % 2:\n"
        "        continue\n"
        "    model = torch.compile(model)\n"
        "optimizer.step()\n"
    )


def test_decorator_fix_in_a_file_without_import_torch(monkeypatch) -> None:
    _without_known_gaps(monkeypatch)
    check_program("def evaluate(model, loader):\n    model.eval()\n    out = model(batch)\n")


def test_findings_of_a_self_calling_function_do_not_depend_on_the_cache() -> None:
    text = (
        "def train_step(model, optimizer, batch):\n"
        "    for batch in loader:\n"
        "        try:\n"
        "            try:\n"
        "                model.train(mode=was_training)\n"
        "                loss = criterion(model(batch))\n"
        "                total = total + loss\n"
        "            finally:\n"
        "                torch.set_grad_enabled(False)\n"
        "        finally:\n"
        "            train_step(model, optimizer, batch)\n"
        "    if i % 10 == 0:\n"
        "        optimizer.step()\n"
    )
    check_program(text, fixes=False)  # a cold cache first: the first analysis is the cold one
    check_program(text, fixes=False)


@pytest.mark.xfail(strict=True, reason="gaps/hardening.md#15")
def test_zero_grad_after_an_outer_step_of_an_optimizer_also_stepped_inside(monkeypatch) -> None:
    _without_known_gaps(monkeypatch)
    check_program(
        "for batch in loader:\n"
        "    for batch in loader:\n"
        "        scaler.scale(loss).backward()\n"
        "        scaler.step(optimizer)\n"
        "    optimizer.step()\n"
    )


def test_form_feed_in_the_indentation() -> None:
    # libcst's code generation drops a form feed from the indentation: columns are realigned
    text = "\x0cmodel.eval\n"
    (finding,) = check_program(text).findings
    assert (finding.code, finding.range) == ("TM103", Range.of(0, 1, 0, 11))
    assert apply_edits(text, finding.fixes[0].edits) == "\x0cmodel.eval()\n"


def test_form_feed_repeated_by_libcst_on_the_next_lines_of_a_block() -> None:
    text = "if x:\n\x0c  y = 1\n  model.eval\n\x0c  z = 2\n"
    (finding,) = check_program(text).findings
    assert finding.range == Range.of(2, 2, 2, 12)


@pytest.mark.xfail(strict=True, reason="gaps/hardening.md#18")
def test_train_at_the_start_of_an_iteration_that_steps_before_and_after_eval(monkeypatch) -> None:
    _without_known_gaps(monkeypatch)
    check_program(
        "optimizer = optim.SGD(model.parameters(), lr=0.1)\n"
        "for batch in loader:\n"
        "    scaler.step(optimizer)\n"
        "    model.eval()\n"
        "    optimizer.step()\n"
    )
