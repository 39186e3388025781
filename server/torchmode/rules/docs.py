"""The rule reference (docs/rules.md), generated from the rules themselves.

Regenerate with ``python -m torchmode.rules.docs > docs/rules.md``; a test keeps it in sync.
"""

from __future__ import annotations

from torchmode.rules import RULES


def _demote(markdown: str) -> str:
    """Rule docs use ``##`` headings; inside the reference they sit one level lower."""
    return "\n".join(
        "#" + line if line.startswith("## ") else line for line in markdown.splitlines()
    )


def render_all() -> str:
    parts = [
        "# torchmode rules",
        "",
        "Generated from the rules' own docs (`python -m torchmode.rules.docs`). Every rule's",
        "valid and invalid examples run in the test suite.",
        "",
        "| code | name | default severity | finds |",
        "|---|---|---|---|",
    ]
    for rule in RULES.values():
        parts.append(
            f"| [{rule.code}](#{rule.anchor}) | `{rule.name}` | {rule.default_severity.value} "
            f"| {rule.summary} |"
        )
    for rule in RULES.values():
        parts += ["", f"## {rule.code} {rule.name}", "", _demote(rule.docs.strip())]
        if rule.invalid:
            parts += ["", "### Reported", "", "```python", rule.invalid[0].source.rstrip(), "```"]
    return "\n".join(parts) + "\n"


if __name__ == "__main__":
    print(render_all(), end="")
