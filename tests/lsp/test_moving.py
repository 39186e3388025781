"""Findings of an older text moved to where their lines are in a newer one (moving.py)."""

from __future__ import annotations

from torchmode.findings import Finding, Position, Range, Related, Severity
from torchmode.lsp.moving import LineMap

OLD = "a\nb\nmodel.eval()\nloss.backward()\nc\n"


def finding(line: int, message: str = "", related: tuple[Related, ...] = ()) -> Finding:
    return Finding("TM101", message, Range.of(line, 0, line, 12), Severity.WARNING, related=related)


def test_the_same_text_keeps_everything() -> None:
    lines = LineMap.between(OLD, OLD.replace("\n", "\r\n"))
    kept = finding(2)
    assert lines.findings((kept,)) == (kept,)


def test_lines_inserted_above_move_the_finding_and_the_lines_its_message_names() -> None:
    lines = LineMap.between(OLD, "# new\n# lines\n" + OLD)
    related = (Related(Range.of(3, 0, 3, 15), "trains here, line 4"),)
    [moved] = lines.findings((finding(2, "`loss.backward()` on line 4 trains it", related),))
    assert moved.range == Range.of(4, 0, 4, 12)
    assert moved.message == "`loss.backward()` on line 6 trains it"
    assert moved.related[0].range.start == Position(5, 0)
    assert moved.related[0].message == "trains here, line 6"


def test_a_finding_on_an_edited_line_or_naming_one_is_dropped() -> None:
    edited = OLD.replace("model.eval()", "model.eval()  # typed")
    lines = LineMap.between(OLD, edited)
    assert lines.findings((finding(2),)) == ()
    naming = LineMap.between(OLD, OLD.replace("loss.backward()", "loss.backward(); x"))
    assert naming.findings((finding(2, "on line 4"),)) == ()
    [kept] = naming.findings((finding(2, "on line 5"),))
    assert kept.message == "on line 5"


def test_edits_above_and_below_drop_what_lies_between() -> None:
    lines = LineMap.between(OLD, "x\n" + OLD + "y\n")
    assert lines.findings((finding(2),)) == ()
    spanning = Finding("TM101", "", Range.of(0, 0, 4, 1), Severity.WARNING)
    assert LineMap.between(OLD, OLD.replace("b\n", "b2\n")).findings((spanning,)) == ()


def test_a_related_place_on_an_edited_line_is_left_out() -> None:
    lines = LineMap.between(OLD, OLD.replace("c\n", "c2\n"))
    related = (Related(Range.of(4, 0, 4, 1), "here"), Related(Range.of(3, 0, 3, 1), "there"))
    [moved] = lines.findings((finding(2, related=related),))
    assert [r.message for r in moved.related] == ["there"]
