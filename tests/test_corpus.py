"""Precision corpus: realistic training and evaluation code modelled on public projects.

Every file under ``tests/corpus/valid`` is correct code that must produce no finding at all;
every file under ``tests/corpus/invalid`` carries ``# expect: TM101`` (or ``# expect: TM101,
TM201``) comments on the exact lines where torchmode must report, and nothing else may be
reported. Hint-severity findings are notes, not reports, and are not counted.
``tests/corpus/PATTERNS.md`` lists the public code each pattern was modelled on.
"""

from __future__ import annotations

import ast
import io
import re
import tokenize
from pathlib import Path

import pytest
from torchmode.analysis import RULES, analyze
from torchmode.findings import Severity
from torchmode.settings import Settings

# the markers say what the rules find at every level, the ones off by default included
ALL_LEVELS = Settings(min_severity=Severity.HINT)

CORPUS = Path(__file__).parent / "corpus"
VALID = sorted((CORPUS / "valid").glob("*.py"))
INVALID = sorted((CORPUS / "invalid").glob("*.py"))
ALL = VALID + INVALID

EXPECT_MARKER = re.compile(r"#\s*expect:\s*(?P<codes>[A-Z0-9 ,]+?)\s*$")
CODE = re.compile(r"^TM\d{3}$")


def corpus_id(path: Path) -> str:
    return f"{path.parent.name}/{path.name}"


def expected_findings(source: str) -> set[tuple[int, str]]:
    """(1-based line, code) for every ``# expect:`` comment; comments only, never strings."""
    expected: set[tuple[int, str]] = set()
    for token in tokenize.generate_tokens(io.StringIO(source).readline):
        if token.type != tokenize.COMMENT:
            continue
        match = EXPECT_MARKER.search(token.string)
        if match is None:
            continue
        for code in (part.strip() for part in match["codes"].split(",")):
            if not CODE.match(code):
                raise ValueError(f"line {token.start[0]}: malformed expect marker {token.string!r}")
            expected.add((token.start[0], code))
    return expected


def reported_findings(source: str) -> dict[tuple[int, str], str]:
    """(1-based line, code) of every finding, mapped to its message."""
    analysis = analyze(source, ALL_LEVELS)
    assert analysis.syntax_error is None, analysis.syntax_error
    # hints ("this model has no mode-dependent layers, so nothing changes today") are notes
    return {
        (finding.range.start.line + 1, finding.code): finding.message
        for finding in analysis.findings
        if finding.severity is not Severity.HINT
    }


def describe(findings: set[tuple[int, str]], lines: list[str], messages: dict | None = None) -> str:
    described = []
    for line, code in sorted(findings):
        described.append(f"  line {line}: {code}   | {lines[line - 1].strip()}")
        if messages and (line, code) in messages:
            described.append(f"      {messages[(line, code)]}")
    return "\n".join(described)


@pytest.mark.parametrize("path", ALL, ids=corpus_id)
def test_findings_match_expect_markers(path: Path) -> None:
    source = path.read_text(encoding="utf-8")
    lines = source.splitlines()
    expected = expected_findings(source)
    messages = reported_findings(source)
    reported = set(messages)
    missing = expected - reported
    unexpected = reported - expected
    assert not missing and not unexpected, (
        f"{corpus_id(path)}\nmissing (expected, not reported):\n{describe(missing, lines)}"
        f"\nunexpected (reported, not expected):\n{describe(unexpected, lines, messages)}"
    )


@pytest.mark.parametrize("path", ALL, ids=corpus_id)
def test_corpus_file_is_well_formed(path: Path) -> None:
    source = path.read_text(encoding="utf-8")
    tree = ast.parse(source, filename=str(path))
    docstring = ast.get_docstring(tree)
    assert docstring and "Models" in docstring, "header docstring must say which pattern it models"
    line_count = len(source.splitlines())
    assert 40 <= line_count <= 200, f"{line_count} lines; corpus files are 40-200 lines"
    expected = expected_findings(source)
    if path.parent.name == "valid":
        assert not expected, "valid files carry no expect markers"
    else:
        assert expected, "invalid files mark at least one expected finding"
        assert {code for _, code in expected} <= set(RULES), "unknown rule code in marker"


def test_corpus_is_large_enough() -> None:
    assert len(VALID) >= 35
    assert len(INVALID) >= 25
    covered = {code for path in INVALID for _, code in expected_findings(path.read_text("utf-8"))}
    assert covered == set(RULES), f"rules without an invalid corpus file: {set(RULES) - covered}"


def test_every_corpus_file_is_catalogued() -> None:
    # PATTERNS.md steers the engine's design, so every file must be tied to its sources there.
    catalogue = (CORPUS / "PATTERNS.md").read_text(encoding="utf-8")
    missing = [corpus_id(path) for path in ALL if f"`{path.name.split('_')[0]}`" not in catalogue]
    assert not missing, f"corpus files not cited in PATTERNS.md: {missing}"


def test_expect_markers_are_read_from_comments_only() -> None:
    source = 'x = "# expect: TM101"\nmodel.eval()  # expect: TM101, TM201\n'
    assert expected_findings(source) == {(2, "TM101"), (2, "TM201")}
    with pytest.raises(ValueError):
        expected_findings("model.eval()  # expect: TM1O1\n")
