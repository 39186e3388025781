"""docs/rules.md is generated from the rules and must match them."""

from pathlib import Path

from torchmode.analysis import RULES
from torchmode.rules.docs import render_all

DOCS = Path(__file__).parent.parent.parent / "docs" / "rules.md"


def test_rules_reference_is_up_to_date() -> None:
    assert DOCS.read_text() == render_all(), "run: python -m torchmode.rules.docs > docs/rules.md"


def test_every_rule_url_points_at_its_section() -> None:
    text = DOCS.read_text()
    for rule in RULES.values():
        assert f"## {rule.code} {rule.name}" in text
        assert rule.url.endswith("docs/rules.md#" + rule.anchor)
