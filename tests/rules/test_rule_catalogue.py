"""The rule catalogue is found, not listed: every ``tmNNN_*.py`` module of torchmode.rules is a
rule, each defines RULE and check, and codes and names are unique and in code order."""

from __future__ import annotations

import ast
import importlib
from pathlib import Path

import torchmode.rules as rules_package
from torchmode.analysis import RULES
from torchmode.rules import RULE_MODULE, RULES_BY_NAME, checks
from torchmode.rules.base import Rule

PACKAGE = Path(rules_package.__file__).parent
FILES = sorted(PACKAGE.glob("*.py"))
RULE_FILES = [path for path in FILES if RULE_MODULE.fullmatch(path.stem)]


def test_every_rule_module_is_in_the_catalogue() -> None:
    assert RULE_FILES  # the pattern matches the rules there are
    codes = []
    for path in RULE_FILES:
        module = importlib.import_module(f"torchmode.rules.{path.stem}")
        assert isinstance(module.RULE, Rule), path.name
        assert callable(module.check), path.name
        assert module.RULE.code == path.stem[:5].upper(), path.name
        assert RULES[module.RULE.code] is module.RULE
        assert checks()[module.RULE.code] is module.check
        codes.append(module.RULE.code)
    assert list(RULES) == codes == sorted(set(codes))  # unique, in code order
    assert list(checks()) == codes


def test_rule_names_are_unique() -> None:
    assert len(RULES_BY_NAME) == len(RULES)
    for rule in RULES.values():
        assert RULES_BY_NAME[rule.name] is rule


def test_no_rule_hides_in_a_module_the_catalogue_does_not_find() -> None:
    """A module that defines a top-level RULE but is named otherwise (``tm401.py``,
    ``TM401_x.py``) would silently never run."""
    for path in FILES:
        tree = ast.parse(path.read_text(encoding="utf-8"))
        defines_rule = any(
            isinstance(node, ast.Assign | ast.AnnAssign)
            and any(
                isinstance(target, ast.Name) and target.id == "RULE"
                for target in (node.targets if isinstance(node, ast.Assign) else [node.target])
            )
            for node in tree.body
        )
        assert defines_rule == (path in RULE_FILES), path.name


def test_every_rule_has_its_examples_module() -> None:
    examples = PACKAGE / "examples"
    for code in RULES:
        assert (examples / f"{code.lower()}.py").is_file(), code
