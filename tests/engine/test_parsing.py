"""Parsing without libcst's per-node validation gives libcst's own trees and errors, and
leaves libcst validating as before once the parse is over."""

from __future__ import annotations

import itertools
import threading
from pathlib import Path

import libcst as cst
import pytest
from libcst._nodes.base import CSTNode
from torchmode.engine import parsing
from torchmode.engine.chunks import _boundaries, _shallow, _too_deep, split_lines

ROOT = Path(__file__).resolve().parents[2]
SOURCES = (
    sorted((ROOT / "tests" / "corpus").rglob("*.py"))
    + sorted((ROOT / "examples").glob("*.py"))
    + sorted((ROOT / "server" / "torchmode" / "engine").glob("*.py"))
)
BROKEN = [
    "def f(:\n    pass\n",
    "for x in y:\nprint(x)\n",
    "x = (1,\n",
    "    indented = 1\n",
    "class :\n    pass\n",
    "f(**)\n",
]


def _pieces(text: str) -> list[str]:
    """The whole text, each top-level statement, and top-level statements cut in half (the
    wrong splits the chunker tries before merging)."""
    lines = split_lines(text)
    starts = [*_boundaries(lines), len(lines)]
    pieces = [text]
    for a, b in itertools.pairwise(starts):
        pieces.append("".join(lines[a:b]))
        if b - a > 2:
            pieces.append("".join(lines[a : (a + b) // 2]))
    return pieces


def _outcome(parse: object, text: str) -> tuple[str, str]:
    try:
        module = parse(text)  # type: ignore[operator]
    except cst.ParserSyntaxError as error:
        return ("error", str(error))
    return ("tree", repr(module))


def test_the_installed_libcst_is_parsed_without_validation() -> None:
    # if a libcst release changes the hook, parsing falls back to the validating parser and
    # this says so (the speed-up is gone, nothing else changes)
    assert parsing.ENABLED


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: str(p.relative_to(ROOT)))
def test_same_trees_and_errors_as_libcst(path: Path) -> None:
    for piece in _pieces(path.read_text(encoding="utf-8")):
        assert _outcome(parsing.parse_module, piece) == _outcome(cst.parse_module, piece)


@pytest.mark.parametrize("text", BROKEN)
def test_same_errors_as_libcst(text: str) -> None:
    ours = _outcome(parsing.parse_module, text)
    assert ours[0] == "error"
    assert ours == _outcome(cst.parse_module, text)


def test_the_installed_libcst_gets_lean_constructors() -> None:
    # as above: a libcst whose node classes are not plain slotted dataclasses keeps its own
    classes = {cls for cls, _, _ in parsing._INITS}
    assert {cst.Name, cst.Call, cst.Attribute, cst.SimpleStatementLine} <= classes


def _own_constructors_in_place() -> bool:
    return all(cls.__dict__["__init__"] is own for cls, own, _ in parsing._INITS)


def test_lean_constructors_build_the_same_nodes() -> None:
    # positional and keyword arguments, defaults and default factories, as the parser and the
    # fixes call them
    def build() -> list[cst.CSTNode]:
        return [
            cst.Name("model"),
            cst.Name(value="x", lpar=[cst.LeftParen()], rpar=[cst.RightParen()]),
            cst.Comma(),
            cst.Arg(cst.Integer("1"), keyword=cst.Name("dim")),
            cst.Call(cst.Attribute(cst.Name("model"), cst.Name("eval"))),
        ]

    own = build()
    with parsing.unvalidated():
        assert not _own_constructors_in_place()
        lean = build()
    assert [repr(n) for n in lean] == [repr(n) for n in own]
    assert all(a.deep_equals(b) for a, b in zip(lean, own, strict=True))


def test_validation_is_back_after_a_parse_and_after_a_failed_one() -> None:
    parsing.parse_module("x = 1\n")
    with pytest.raises(cst.ParserSyntaxError):
        parsing.parse_module("def f(:\n")
    assert CSTNode.__dict__["__post_init__"] is parsing._VALIDATING_HOOK
    assert _own_constructors_in_place()
    with pytest.raises(cst.CSTValidationError):
        cst.Name("")  # a hand-built invalid node is still refused


def test_concurrent_parses_restore_validation() -> None:
    text = (ROOT / "examples").glob("*.py").__next__().read_text(encoding="utf-8")
    errors: list[BaseException] = []

    def work() -> None:
        try:
            for _ in range(20):
                assert parsing.parse_module(text).code == text
        except BaseException as error:
            errors.append(error)

    threads = [threading.Thread(target=work) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert CSTNode.__dict__["__post_init__"] is parsing._VALIDATING_HOOK
    assert _own_constructors_in_place()
    with pytest.raises(cst.CSTValidationError):
        cst.Name("")


@pytest.mark.parametrize(
    ("text", "shallow"),
    [
        ("x = [" + ", ".join(["(1, 2)"] * 500) + "]\n", True),  # many brackets, depth 2
        ("y = " + "f(" * 99 + ")" * 99 + "\n", True),
        ("y = " + "f(" * 100 + ")" * 100 + "\n", False),
        ("y = " + "[{(" * 40 + ")}]" * 40 + "\n", False),  # kinds mixed: 120 deep
        # brackets in a string pairing with code brackets cannot hide the depth
        ("y = " + "(" * 120 + '")))"' + ")" * 120 + "\n", False),
        ('s = "' + "(" * 300 + '"\n', False),  # unmatched: counted as possible depth
    ],
    ids=["wide", "99-deep", "100-deep", "mixed-120-deep", "strays", "unmatched"],
)
def test_bracket_depth_bound(text: str, shallow: bool) -> None:
    assert _shallow(text) is shallow


def test_deep_texts_still_go_to_pythons_parser() -> None:
    assert _too_deep("x = " + "f(" * 2000 + ")" * 2000 + "\n")
    assert _too_deep("x = " + "-" * 5000 + "1\n")
    assert not _too_deep("x = [" + ", ".join(["(1, 2)"] * 500) + "]\n")
    assert not _too_deep("y = " + "f(" * 150 + ")" * 150 + "\n")  # Python accepts 150 deep
