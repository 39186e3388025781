"""Every rule's own examples, through one generic runner: invalid ones are reported on the
expected lines and fixed as their diff hunks say; valid ones (the look-alikes) are not reported."""

from __future__ import annotations

import pytest
from torchmode.analysis import RULES, analyze
from torchmode.findings import Severity
from torchmode.fixing import apply_edits, compiles
from torchmode.rules.base import Invalid, Rule, diff_hunks
from torchmode.settings import Settings

# the examples show what a rule finds at every level, hints included
ALL_LEVELS = Settings(min_severity=Severity.HINT)

INVALID = [
    pytest.param(rule, example, id=f"{rule.code}-invalid-{i}")
    for rule in RULES.values()
    for i, example in enumerate(rule.invalid)
]
VALID = [
    pytest.param(rule, source, id=f"{rule.code}-valid-{i}")
    for rule in RULES.values()
    for i, source in enumerate(rule.valid)
]


def _lines(source: str, code: str) -> list[int]:
    return sorted(
        f.range.start.line + 1 for f in analyze(source, ALL_LEVELS).findings if f.code == code
    )


def _fix(source: str, code: str, unsafe: bool) -> str:
    """Apply this rule's preferred fixes until it reports nothing more (or nothing changes)."""
    for _ in range(5):
        findings = [f for f in analyze(source, ALL_LEVELS).findings if f.code == code]
        edits = []
        for finding in findings:
            allowed = [fix for fix in finding.fixes if fix.safe or unsafe]
            preferred = next((f for f in allowed if f.preferred), allowed[0] if allowed else None)
            if preferred is not None:
                edits.extend(preferred.edits)
                break  # one fix per round: the next analysis sees its effect
        if not edits:
            return source
        source = apply_edits(source, edits)
    return source


@pytest.mark.parametrize(("rule", "example"), INVALID)
def test_invalid_example_is_reported_and_fixed(rule: Rule, example: Invalid) -> None:
    assert _lines(example.source, rule.code) == sorted(example.lines)
    # On a difference the message shows the hunks of what the fix did: checked by eye, they can
    # be pasted as the example's `fix=`.
    if example.fixed is None:
        offered = any(
            f.fixable and f.fixes
            for f in analyze(example.source, ALL_LEVELS).findings
            if f.code == rule.code
        )
        if offered:
            fixed = _fix(example.source, rule.code, unsafe=True)
            hunks = diff_hunks(example.source, fixed) if fixed != example.source else "(none)"
            pytest.fail(f"a fix is offered, which the example does not expect; its hunks:\n{hunks}")
        return
    fixed = _fix(example.source, rule.code, example.unsafe)
    assert fixed == example.fixed, f"the fix's hunks:\n{diff_hunks(example.source, fixed)}"
    assert compiles(fixed)
    assert _lines(fixed, rule.code) == []


@pytest.mark.parametrize(("rule", "source"), VALID)
def test_valid_example_is_not_reported(rule: Rule, source: str) -> None:
    findings = analyze(source, ALL_LEVELS).findings
    assert [
        (f.range.start.line + 1, f.code, f.message)
        for f in findings
        if f.code == rule.code and f.severity is not Severity.HINT
    ] == []


@pytest.mark.parametrize("rule", list(RULES.values()), ids=list(RULES))
def test_rule_is_documented_with_enough_examples(rule: Rule) -> None:
    for heading in ("## What it does", "## Why is this bad?", "## Example", "## Use instead"):
        assert heading in rule.docs, heading
    assert len(rule.invalid) >= 5
    assert len(rule.valid) >= 8
    assert rule.url.endswith(rule.anchor)
