"""Fix-all: ``fixing.fix_source`` and ``torchmode check --fix / --diff`` (fake engine)."""

from __future__ import annotations

import os
import stat

import pytest
import torchmode.analysis.driver
from torchmode.analysis import Analysis, compatible_fixes, fix_source
from torchmode.findings import Finding, Fix, Position, Range, Severity, TextEdit
from torchmode.fixing import line_offsets, offset_of, position_at

pytestmark = pytest.mark.usefixtures("fake_engine")


@pytest.mark.parametrize(
    "text",
    ["a\nbb\n\nccc", "a\r\nbb\r\rccc\n", "x = '多'\ny = '🙂'\n", "", "\n\n"],
    ids=["lf", "mixed", "wide", "empty", "blank"],
)
def test_position_at_inverts_offset_of(text: str) -> None:
    offsets = line_offsets(text)
    for offset in range(len(text) + 1):
        if text[offset - 1 : offset + 1] == "\r\n":
            continue  # between the two characters of one line end: no position of its own
        position = position_at(text, offset)
        assert isinstance(position, Position)
        assert offset_of(offsets, text, position) == offset, (offset, position)


def test_fix_source_applies_safe_fixes_to_a_fixpoint(training, fixed_training):
    outcome = fix_source(training + "model.eval()\n")
    assert outcome.source == fixed_training + "model.eval()\nmodel.train()\n"
    assert outcome.applied == 2
    assert outcome.remaining == []


def test_fix_source_skips_unsafe_fixes_unless_asked():
    source = "loss = step()\ntotal += loss\n"
    outcome = fix_source(source)
    assert (outcome.source, outcome.applied, [f.code for f in outcome.remaining]) == (
        source,
        0,
        ["TM204"],
    )
    outcome = fix_source(source, unsafe=True)
    assert outcome.source == "loss = step()\ntotal += loss.item()\n"
    assert outcome.remaining == []


def test_fix_source_leaves_text_with_syntax_errors_alone():
    source = "model.eval()\ndef broken(:\n"
    outcome = fix_source(source)
    assert (outcome.source, outcome.applied) == (source, 0)


def _finding(range_: Range, new_text: str) -> Finding:
    fix = Fix("replace", (TextEdit(range_, new_text),))
    return Finding("TM101", "m", range_, Severity.WARNING, fix_builder=lambda: (fix,))


def test_overlapping_fixes_wait_for_the_next_round():
    first = _finding(Range.of(0, 0, 0, 5), "a")
    overlapping = _finding(Range.of(0, 3, 0, 8), "b")
    separate = _finding(Range.of(1, 0, 1, 2), "c")
    same_point_a = _finding(Range.of(2, 0, 2, 0), "d")
    same_point_b = _finding(Range.of(2, 0, 2, 0), "e")
    chosen = compatible_fixes(
        [separate, overlapping, first, same_point_a, same_point_b], unsafe=False
    )
    assert [f.edits[0].new_text for f in chosen] == ["a", "c", "d"]


def test_insertions_at_one_point_of_one_fix_apply_in_its_order(monkeypatch):
    point = Range.of(0, 0, 0, 0)
    fix = Fix("two", (TextEdit(point, "import torch\n"), TextEdit(point, "@torch.no_grad()\n")))
    finding = Finding(
        "TM201", "m", Range.of(0, 0, 0, 3), Severity.WARNING, fix_builder=lambda: (fix,)
    )

    def analyse(source, settings):
        return Analysis(source, findings=[] if "no_grad" in source else [finding])

    monkeypatch.setattr(torchmode.analysis.driver, "analyze", analyse)
    outcome = fix_source("def evaluate(model):\n    return model(x)\n")
    assert outcome.source.startswith("import torch\n@torch.no_grad()\ndef evaluate")


def test_a_round_that_breaks_the_code_is_dropped(monkeypatch):
    def breaking(source, settings):
        if source.startswith("ok"):
            return Analysis(source)
        bad = _finding(Range.of(0, 0, 0, 0), "def (:\n")
        good = _finding(Range.of(0, 0, 0, 0), "ok = 1\n")
        return Analysis(source, findings=[bad if "second" in source else good])

    monkeypatch.setattr(torchmode.analysis.driver, "analyze", breaking)
    # Round 1 would prepend a syntax error: nothing is applied.
    assert fix_source("second = 1\n").source == "second = 1\n"
    assert fix_source("first = 1\n").source == "ok = 1\nfirst = 1\n"


def test_a_fix_that_does_not_remove_its_finding_is_dropped(monkeypatch):
    def flipping(source, settings):
        new = "b = 1\n" if source == "a = 1\n" else "a = 1\n"
        return Analysis(source, findings=[_finding(Range.of(0, 0, 1, 0), new)])

    monkeypatch.setattr(torchmode.analysis.driver, "analyze", flipping)
    outcome = fix_source("a = 1\n", max_rounds=10)
    assert (outcome.source, outcome.applied) == ("a = 1\n", 0)


def test_one_rule_per_round_most_severe_first(monkeypatch):
    # TM103 (an error) turns `model.eval` into a call; once it has, TM102 (a warning) no
    # longer applies. Applying both in one round would insert a second `model.eval()`.
    def analyse(source, settings):
        findings = []
        if source.startswith("model.eval\n"):
            add_call = Fix("add ()", (TextEdit(Range.of(0, 10, 0, 10), "()"),))
            findings.append(
                Finding(
                    "TM103",
                    "no call",
                    Range.of(0, 0, 0, 10),
                    Severity.ERROR,
                    fix_builder=lambda: (add_call,),
                )
            )
        if "model.eval()" not in source:
            insert = Fix("insert", (TextEdit(Range.of(1, 0, 1, 0), "model.eval()\n"),))
            findings.append(
                Finding(
                    "TM102",
                    "train mode",
                    Range.of(1, 0, 1, 3),
                    Severity.WARNING,
                    fix_builder=lambda: (insert,),
                )
            )
        return Analysis(source, findings=findings)

    monkeypatch.setattr(torchmode.analysis.driver, "analyze", analyse)
    outcome = fix_source("model.eval\nout = model(x)\n")
    assert outcome.source == "model.eval()\nout = model(x)\n"
    assert (outcome.applied, outcome.remaining) == (1, [])


def test_cli_fix_writes_file_and_reports_remaining(project, run, training, fixed_training):
    path = project / "train.py"
    path.write_text(training + "total = 0\ntotal += loss\n")
    os.chmod(path, 0o640)
    code, out, _ = run("check", "--fix", "train.py")
    assert path.read_text() == fixed_training + "total = 0\ntotal += loss\n"
    assert stat.S_IMODE(path.stat().st_mode) == 0o640
    assert code == 1  # TM204 remains: its fix is unsafe
    assert out.splitlines() == [
        "train.py:9:10: TM204 `loss` is accumulated with its autograd graph",
        "Fixed 1 problem. Found 1 problem in 1 file checked (1 more with --fix --unsafe-fixes).",
    ]
    code, out, _ = run("check", "--fix", "--unsafe-fixes", "train.py")
    assert code == 0
    assert path.read_text().endswith("total += loss.item()\n")
    assert out == "Fixed 1 problem. All checks passed (1 file checked).\n"
    assert sorted(p.name for p in project.iterdir()) == ["pyproject.toml", "train.py"]


def test_cli_fix_keeps_crlf_line_endings(project, run, training, fixed_training):
    path = project / "train.py"
    path.write_bytes(training.replace("\n", "\r\n").encode())
    assert run("check", "--fix", "train.py")[0] == 0
    assert path.read_bytes() == fixed_training.replace("\n", "\r\n").encode()


def test_cli_fix_keeps_a_pep263_encoding(project, run, training, fixed_training):
    path = project / "train.py"
    header = "# -*- coding: latin-1 -*-\n# Schätzung\n"
    path.write_bytes((header + training).encode("latin-1"))
    assert run("check", "--fix", "train.py")[0] == 0
    assert path.read_bytes() == (header + fixed_training).encode("latin-1")


def test_cli_fix_keeps_a_utf8_bom(project, run, training, fixed_training):
    path = project / "train.py"
    path.write_bytes(b"\xef\xbb\xbf" + training.encode())
    assert run("check", "--fix", "train.py")[0] == 0
    assert path.read_bytes() == b"\xef\xbb\xbf" + fixed_training.encode()


def test_cli_fix_never_touches_a_file_with_a_syntax_error(project, run, training):
    path = project / "train.py"
    path.write_text(training + "def broken(:\n")
    before = path.stat().st_mtime_ns
    code, _, err = run("check", "--fix", "train.py")
    assert code == 2
    assert err == "train.py:7:12: syntax error: invalid syntax\n"
    assert path.read_text() == training + "def broken(:\n"
    assert path.stat().st_mtime_ns == before


def test_cli_diff_prints_and_writes_nothing(project, run, training):
    path = project / "train.py"
    path.write_text(training)
    code, out, err = run("check", "--diff", "train.py")
    assert code == 1
    assert path.read_text() == training
    assert out.splitlines() == [
        "--- a/train.py",
        "+++ b/train.py",
        "@@ -3,4 +3,5 @@",
        "     loss.backward()",
        "     optimizer.step()",
        "     model.eval()",
        "+    model.train()",
        "     validate(model)",
    ]
    assert err == "Would fix 1 problem in 1 file.\n"


def test_cli_diff_exits_zero_without_changes(project, run):
    (project / "ok.py").write_text("model.train()\n")
    assert run("check", "--diff", "ok.py")[:2] == (0, "")
