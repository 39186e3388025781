"""Minimal reproductions of the bugs the fuzzers found, each named after what went wrong.

Each is a strict xfail while its bug is open: once fixed, the test passes, strict turns that
into a failure, and the marker (and its KNOWN_GAPS entry in fuzz_invariants.py) goes.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from fuzz_invariants import check_program
from torchmode.analysis import Analysis, analyze
from torchmode.engine.chunks import ChunkCache
from torchmode.findings import Position, Range
from torchmode.fixing import apply_edits


def _without_known_gaps(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("fuzz_invariants.KNOWN_GAPS", {})


def _fixed(analysis: Analysis, code: str, text: str) -> str:
    """The text after the only fix of the only ``code`` finding (check_program has checked
    that the fix removes its finding)."""
    (finding,) = [f for f in analysis.findings if f.code == code]
    (fix,) = finding.fixes
    return apply_edits(text, fix.edits)


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


def test_train_after_evaluation_on_every_path(monkeypatch) -> None:
    _without_known_gaps(monkeypatch)
    text = (
        "optimizer = optim.SGD(model.parameters(), lr=0.1)\n"
        "for i, batch in enumerate(loader):\n"
        "    model.eval()\n"
        "    if i % 2:\n"
        "        continue\n"
        "    model = torch.compile(model)\n"
        "optimizer.step()\n"
    )
    # the continue skips the end of the loop body: after the loop, before the step
    assert _fixed(check_program(text), "TM101", text) == text.replace(
        "optimizer.step()", "model.train()\noptimizer.step()"
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


def test_train_at_the_start_of_an_iteration_that_steps_before_and_after_eval(monkeypatch) -> None:
    _without_known_gaps(monkeypatch)
    # no single place for train() works here (one step before the eval, one after): no fix
    analysis = check_program(
        "optimizer = optim.SGD(model.parameters(), lr=0.1)\n"
        "for batch in loader:\n"
        "    scaler.step(optimizer)\n"
        "    model.eval()\n"
        "    optimizer.step()\n"
    )
    (finding,) = analysis.findings
    assert finding.code == "TM101"
    assert finding.fixable
    assert finding.fixes == ()


# Fixes that left their finding (found by a long fuzz run). Where no placement of
# the fix removes the finding, no fix is offered: check_program checks every fix offered.


def test_train_at_the_start_of_an_inner_iteration_of_a_nested_loop(monkeypatch) -> None:
    _without_known_gaps(monkeypatch)
    check_program(
        "optimizer = optim.SGD(model.parameters(), lr=0.1)\n"
        "for batch in loader:\n"
        "    optimizer.step()\n"
        "    for batch in loader:\n"
        "        model.eval()\n"
        "        optimizer.step()\n"
    )


def test_train_with_mode_argument_between_two_steps(monkeypatch) -> None:
    _without_known_gaps(monkeypatch)
    check_program(
        "optimizer = optim.SGD(model.parameters(), lr=0.1)\n"
        "while i < 10:\n"
        "    optimizer.step()\n"
        "    model.train(mode=was_training)\n"
        "    optimizer.step()\n"
    )


def test_train_after_an_eval_in_both_branches(monkeypatch) -> None:
    _without_known_gaps(monkeypatch)
    text = (
        "def validate(model):\n"
        "    if i % 10 == 0:\n"
        "        if i % 2:\n"
        "            model.eval()\n"
        "        else:\n"
        "            model.train(False)\n"
        "        scaler.step(optimizer)\n"
        "    optimizer = optim.SGD(model.parameters(), lr=0.1)\n"
    )
    analysis = check_program(text)
    fixed = {apply_edits(text, f.fixes[0].edits) for f in analysis.findings if f.code == "TM101"}
    # both findings (one per branch) get the same place: after the `if`, before the step
    assert fixed == {
        text.replace(
            "        scaler.step(optimizer)",
            "        model.train()\n        scaler.step(optimizer)",
        )
    }


def test_train_between_two_calls_of_a_helper_that_evaluates(monkeypatch) -> None:
    _without_known_gaps(monkeypatch)
    text = (
        "def train_step(model, optimizer, batch):\n"
        "    scaler.step(optimizer)\n"
        "    model.eval(True)\n"
        "optimizer = optim.SGD(model.parameters(), lr=0.1)\n"
        "train_step(model, optimizer, batch)\n"
        "train_step(model, optimizer, batch)\n"
    )
    assert _fixed(check_program(text), "TM101", text).endswith(
        "train_step(model, optimizer, batch)\nmodel.train()\ntrain_step(model, optimizer, batch)\n"
    )


def test_eval_before_a_forward_that_follows_a_helper_restoring_train_mode(monkeypatch) -> None:
    _without_known_gaps(monkeypatch)
    text = (
        "def validate(model):\n"
        "\tmodel.eval(); out = model(batch); model.train()\n"
        "def evaluate(model, loader):\n"
        "\ttry:\n"
        "\t\tmetrics = {'loss': loss, '\u00df': 1}  # noqa: TM204\n"
        "\tfinally:\n"
        "\t\t\twith torch.no_grad():\n"
        "\t\t\t\tvalidate(model)\n"
        "\t\t\t\tout = model(batch)\n"
    )
    assert _fixed(check_program(text), "TM102", text).endswith(
        "\t\t\t\tvalidate(model)\n\t\t\t\tmodel.eval()\n\t\t\t\tout = model(batch)\n"
    )


def test_form_feed_before_an_indented_statement_keeps_hover_and_findings_in_place() -> None:
    text = (Path(__file__).parents[2] / "examples" / "train_sst.py").read_text(encoding="utf-8")
    lines = text.split("\n")
    line = next(i for i, t in enumerate(lines) if t.strip() == "model.eval()")
    column = lines[line].index("model.eval")
    lines[line] = "\x0c" + lines[line]
    plain, fed = check_program(text), check_program("\n".join(lines))
    assert [f.range for f in fed.findings] == [
        Range.of(line, column + 1, line, column + len("model.eval()") + 1)
    ]
    here = Position(line, column + len("model.e"))
    assert fed.hover(Position(line, here.character + 1)) == plain.hover(here) is not None


def test_train_mode_origin_named_in_source_order() -> None:
    """TM102's message named whichever train() origin a set yielded first: the order of a set
    of origins hashed by node identity, which differs between two parses of the same text."""
    text = (
        "import torch\n"
        "import torch.nn as nn\n"
        "class Net(nn.Module):\n"
        "  def forward(self, x):\n"
        "    return self.layer(x)\n"
        "def train_step(model, optimizer, batch):\n"
        "  x = model(batch).detach()\n"
        "  model.train()\n"
        "model = Net()\n"
        "criterion = nn.CrossEntropyLoss()\n"
        "losses = []\n"
        "i = 0\n"
        "was_training = True\n"
        "scaler = GradScaler()\n"
        "if i % 2:\n"
        "  try:\n"
        "    x = model(batch).detach()\n"
        "    model = torch.compile(model)\n"
        "    scaler.step(optimizer)\n"
        "  finally:\n"
        "    losses.append(loss)\n"
        "    model.train()\n"
        "    evaluate(model, loader)\n"
        "    if was_training: model.train()\n"
        "else:\n"
        "  with torch.no_grad:\n"
        "    loss.backward()\n"
        "    for i, batch in enumerate(loader):\n"
        "      total += loss\n"
        "      if i % 2:\n"
        "        pass\n"
        "      else:\n"
        "        torch.set_grad_enabled(False)\n"
        "        if i > 3: break\n"
        "        else:\n"
        "          losses.append(loss.detach())\n"
        "          train_step(model, optimizer, batch)\n"
        "          losses.append(loss)\n"
        "        optimizer.zero_grad()\n"
        "      pass\n"
        "    scaler.step(optimizer)\n"
        "  was_training = model.training\n"
        "model.train()\n"
        "metrics = {'loss': loss, 'ß': 1}  # noqa: TM204\n"
        "loss = loss / 4\n"
    )
    for _ in range(3):
        check_program(text, fixes=False)


def test_identical_top_level_statements_each_get_their_findings() -> None:
    text = "model.eval\nmodel.eval\n"
    assert [(f.code, f.range.start.line) for f in analyze(text).findings] == [
        ("TM103", 0),
        ("TM103", 1),
    ]


def test_fix_all_of_two_identical_blocks_is_idempotent() -> None:
    block = (
        "try:\n"
        "    scaler.step(optimizer)\n"
        "    model.eval(False)\n"
        "finally:\n"
        "    model.eval\n"
        "    pass\n"
        "    model.train(False)\n"
    )
    check_program("optimizer = optim.SGD(model.parameters(), lr=0.1)\n" + block + block)


def test_the_train_call_a_tm102_message_names_does_not_depend_on_memory_addresses() -> None:
    text = (
        "import torch\n"
        "def validate(model):\n"
        "    with torch.enable_grad():\n"
        "        model.train()\n"
        "    if was_training: model.train()\n"
        "def main(loader, target):\n"
        "    validate(model)\n"
        "    torch.set_grad_enabled(False)\n"
        "    loss = criterion(model(batch))\n"
    )
    # Each analysis names line 4 or line 5 about half of the time: 20 agree by chance ~1e-6.
    assert _one_outcome_in_twenty(text)


def test_two_tm101_at_one_call_come_in_a_stable_order() -> None:
    text = (
        "def evaluate(model):\n"
        "    model.train(False)\n"
        "    if a:\n"
        "        model.eval()\n"
        "optimizer = optim.SGD(model.parameters(), lr=0.1)\n"
        "evaluate(model)\n"
        "optimizer.step()\n"
    )
    # Each analysis lists them one way or the other about half of the time: 20 agree by
    # chance ~1e-6.
    assert _one_outcome_in_twenty(text)


def _one_outcome_in_twenty(text: str) -> bool:
    """Twenty fresh analyses of ``text`` give the same messages in the same order."""
    messages = {
        tuple(f.message for f in analyze(text, cache=ChunkCache()).findings) for _ in range(20)
    }
    return len(messages) == 1
